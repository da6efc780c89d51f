import pytest

from distilabel_selfinstruct import (
    ClassificationIdentification,
    InstanceGeneration,
    LlamaCppCompletionLLM,
)
from distilabel_selfinstruct.steps.classification import parse_yes_no
from distilabel_selfinstruct.steps.instances import parse_input_first, parse_output_first


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(" Yes", True), ("yes.", True), ("YES", True), (" yes, it is", True), ("Y", True),
     ("True", True), (" No", False), ("no\n", False), ("NO!", False), ("Not really", False),
     ("false", False)],
)  # fmt: skip
def test_yes_no_variants(answer, expected):
    assert parse_yes_no(answer) == (expected, None)


@pytest.mark.parametrize(("answer", "reason"), [
    (" Maybe", "unparseable answer: 'Maybe'"), ("  ", "empty answer"), ("", "empty answer"),
    (None, "the model returned no text")])  # fmt: skip
def test_unparseable_answers_give_none_and_a_reason(answer, reason):
    assert parse_yes_no(answer) == (None, reason)


def test_recorded_classification_answers(recorded):
    task = ClassificationIdentification(llm=LlamaCppCompletionLLM())
    for record in recorded["classification"]:
        output = task.format_output(record["generation"], record["row"])
        assert output["is_classification"] in (True, False), record
        assert output["classification_error"] is None
        assert record["prompt"].endswith(f"Task: {record['row']['instruction']}\nClassification:")


def test_classification_defaults():
    kwargs = ClassificationIdentification(llm=LlamaCppCompletionLLM()).llm.generation_kwargs
    assert kwargs["temperature"] == 0.0 and kwargs["max_new_tokens"] == 3
    assert kwargs["stop"] == ["\n", "Task"]


def test_recorded_instance_generations(recorded):
    task = InstanceGeneration(llm=LlamaCppCompletionLLM())
    for record in recorded["instances"]:
        classification = record["row"]["is_classification"]
        truncated = record["output_tokens"] >= record["generation_kwargs"]["max_new_tokens"]
        assert ("Class label:" in record["prompt"]) == classification
        task._truncated = truncated
        instances = task.format_output(record["generation"], record["row"])["instances"]
        parse = parse_output_first if classification else parse_input_first
        complete = parse(record["generation"])
        assert instances == (complete[:-1] if truncated else complete)
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


def test_instance_defaults_follow_max_instances():
    task = InstanceGeneration(llm=LlamaCppCompletionLLM(), max_instances=3)
    kwargs = task.llm.generation_kwargs
    assert kwargs["stop"] == ["Example 4", "Task:"] and kwargs["max_new_tokens"] == 350
    assert kwargs["temperature"] == 0.0 and kwargs["presence_penalty"] == 1.5
