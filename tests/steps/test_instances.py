"""`InstanceGeneration`: parsing recorded generations of the embedded model and hand-made
edge cases, input-first and output-first, and the prompts' layout.
"""

import pytest

from distilabel_selfinstruct import InstanceGeneration, LlamaCppCompletionLLM
from distilabel_selfinstruct.prompts import render_prompt
from distilabel_selfinstruct.steps.instances import parse_input_first, parse_output_first


def test_recorded_instance_generations(recorded):
    task = InstanceGeneration(llm=LlamaCppCompletionLLM())
    for record in recorded["instances"]:
        classification = record["row"]["is_classification"]
        truncated = record["output_tokens"] >= record["generation_kwargs"]["max_new_tokens"]
        assert ("Class label:" in record["prompt"]) == classification
        parsed = task.parse_generation(record["generation"], record["row"], truncated)
        instances = parsed["instances"]
        parse = parse_output_first if classification else parse_input_first
        complete = parse(record["generation"])
        assert instances == complete if not truncated else instances == complete[: len(instances)]
        assert len(instances) >= len(complete) - 1
        for instance in complete:
            assert set(instance) == {"input", "output"} and instance["output"]
            assert instance["output"] in record["generation"]
            assert "Output:" not in instance["input"] and "Class label" not in instance["output"]
    assert any(
        r["output_tokens"] >= r["generation_kwargs"]["max_new_tokens"]
        for r in recorded["instances"]
    )


@pytest.mark.parametrize(
    ("generation", "expected"),
    [
        ("Example 1\nInput: a\nOutput: b\nExample 2\nOutput: c",
         [{"input": "a", "output": "b"}, {"input": "", "output": "c"}]),
        ("Example 1\nSentence: The cat sat.\nOutput: cat\nInput: ignored",
         [{"input": "Sentence: The cat sat.", "output": "cat"}]),
        ("Example 1\nInput: no output here\nExample 2\nInput: x\nOutput: y",
         [{"input": "x", "output": "y"}]),
        ("Output: A calm poem.\n", [{"input": "", "output": "A calm poem."}]),
        ("Input: 3\nOutput: 9", [{"input": "3", "output": "9"}]),
        ("Just some text without any marker.", []),
        (None, []),
    ],
)  # fmt: skip
def test_input_first_edge_cases(generation, expected):
    assert parse_input_first(generation) == expected


@pytest.mark.parametrize(
    ("generation", "expected"),
    [
        ("Class label: Yes\nSentence: ok\nClass label: No\nSentence: bad",
         [{"input": "Sentence: ok", "output": "Yes"}, {"input": "Sentence: bad", "output": "No"}]),
        ("\nClass label: Mammal\nClass label: Reptile\n",
         [{"input": "", "output": "Mammal"}, {"input": "", "output": "Reptile"}]),
        ("Class label: \nClass label: B", [{"input": "", "output": "B"}]),
        ("no labels at all", []),
    ],
)  # fmt: skip
def test_output_first_edge_cases(generation, expected):
    assert parse_output_first(generation) == expected


def test_truncation_drops_the_last_instance():
    text = "Example 1\nInput: a\nOutput: b\nExample 2\nInput: c\nOutput: d is cut"
    assert parse_input_first(text, truncated=True) == [{"input": "a", "output": "b"}]
    assert parse_output_first("Class label: A\nx\nClass label: B\ny", truncated=True) == [
        {"input": "x", "output": "A"}
    ]


# Regression tests: the parser defects found by the review of the default run (issue 11).
def test_a_cut_generation_keeps_the_complete_instance_before_the_cut_one():
    cut = "Example 1\nInput: 2 + 2\nOutput: 4\nExample 2\nInput: 3 +"
    assert parse_input_first(cut, truncated=True) == [{"input": "2 + 2", "output": "4"}]
    cut = "Class label: Even\nNumber: 4\nClass label: Odd\nNumber: 7\nClass label: Od"
    assert parse_output_first(cut, truncated=True) == [
        {"input": "Number: 4", "output": "Even"},
        {"input": "Number: 7", "output": "Odd"},
    ]


def test_numbered_input_and_output_fields_are_read():
    text = "Example 1\nInput 1: 12 apples\nOutput 1: twelve apples\nExample 2\nInput 2: 3\nOutput 2: three"
    assert parse_input_first(text) == [
        {"input": "12 apples", "output": "twelve apples"},
        {"input": "3", "output": "three"},
    ]


def test_example_markers_with_a_full_stop_leave_no_stray_punctuation():
    assert parse_input_first("Example 1.\nInput: cat\nOutput: cats") == [
        {"input": "cat", "output": "cats"}
    ]


def test_a_second_output_line_is_not_part_of_the_output():
    text = "Example 1\nInput: 9\nOutput: 3\nOutput: 3.0"
    assert parse_input_first(text) == [{"input": "9", "output": "3"}]


@pytest.mark.parametrize("template", ["instance_input_first", "instance_output_first"])
def test_instance_prompts_end_with_a_new_line_after_the_task(template):
    """The model starts its answer on a fresh line instead of continuing the task's text."""
    assert render_prompt(template, instruction="Give the plural.").endswith(
        "Task: Give the plural.\n"
    )


def test_instance_defaults_follow_max_instances():
    task = InstanceGeneration(llm=LlamaCppCompletionLLM(), max_instances=3)
    kwargs = task.llm.generation_kwargs
    assert kwargs["stop"] == ["Example 4", "Task:"] and kwargs["max_new_tokens"] == 350
    assert kwargs["temperature"] == 0.0 and kwargs["presence_penalty"] == 1.5


def test_a_generation_without_any_output_line_gives_input_free_outputs():
    """What the embedded model writes for tasks that need no input (seen in the default
    run): `Example k` then the answer under a label, or bare, and never `Output:`."""
    story = "Example 1\nStory: Mia found a key.\nExample 2\nStory: The tide came in.\n\n"
    assert parse_input_first(story) == [
        {"input": "", "output": "Mia found a key."},
        {"input": "", "output": "The tide came in."},
    ]
    two_fields = "Example 1\nAdvantages: It is quick.\nDisadvantages: It is loud.\n\n"
    assert parse_input_first(two_fields) == [
        {"input": "", "output": "Advantages: It is quick.\nDisadvantages: It is loud."}
    ]
    assert parse_input_first("Example 1\nPets make people happy.") == [
        {"input": "", "output": "Pets make people happy."}
    ]
    assert parse_input_first(story, unmarked_outputs=False) == []  # the paper's parser


def test_a_piece_without_output_beside_complete_instances_is_still_skipped():
    text = "Example 1\nInput: 4\nOutput: 16\nExample 2\nInput: 5\n"
    assert parse_input_first(text) == [{"input": "4", "output": "16"}]
