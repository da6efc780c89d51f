import pytest

from distilabel_selfinstruct import InstanceFilter, InstructionFilter


@pytest.fixture
def instruction_filter():
    step = InstructionFilter()
    step.load()
    return step


@pytest.mark.parametrize(
    ("instruction", "rule"),
    [
        ("Name three rivers.", "too_short"),
        ("Name three big rivers.", None),
        (" ".join(["word"] * 151), "too_long"),
        (" ".join(["word"] * 150), None),
        ("Describe the Image in detail please.", "blocked_keyword"),
        ("Plot the data points on paper.", "blocked_keyword"),
        ("Go to the store and buy milk.", "blocked_keyword"),
        ("Explain the plotting conventions of novels.", None),  # whole words only
        ("Summarize the profile of this person.", None),
        ("Write a program that adds two numbers.", "blocked_prefix"),
        ("write a program that adds two numbers.", None),  # the prefix is case-sensitive
        ("- List three kinds of apples.", "leading_punctuation"),
        ('"Quote" the sentence back to me.', "leading_punctuation"),
        ("¿Cuál es la capital de Francia hoy?", "non_ascii_start"),
        ("Élaborez un plan de voyage simple.", "non_ascii_start"),
    ],
)
def test_each_rule(instruction_filter, instruction, rule):
    reason = instruction_filter.rejection_reason(instruction)
    assert (reason[0] if reason else None) == rule


def test_rules_are_configurable():
    step = InstructionFilter(
        min_words=1, max_words=5, blocked_keywords=["video"], blocked_prefixes=[],
        drop_leading_punctuation=False, drop_non_ascii_start=False,
    )  # fmt: skip
    assert step.rejection_reason("Hi.") is None
    assert step.rejection_reason("Draw a picture.") is None
    assert step.rejection_reason("Watch the video now.")[0] == "blocked_keyword"
    assert step.rejection_reason("one two three four five six")[0] == "too_long"
    assert step.rejection_reason("¿Qué?") is None


def test_process_keeps_rows_and_counts_rejections(instruction_filter):
    rows = [
        {"instruction": text}
        for text in ("Draw a cat please.", "Name three big rivers.", "Hi there.")
    ]
    kept = next(instruction_filter.process(rows))
    assert kept == [{"instruction": "Name three big rivers."}]
    assert instruction_filter.rejection_counts == {"blocked_keyword": 1, "too_short": 1}


@pytest.fixture
def instance_filter():
    step = InstanceFilter(max_instances=2)
    step.load()
    return step


def test_instance_rules(instance_filter):
    row = {
        "instruction": "Give the capital city.",
        "instances": [
            {"input": "France", "output": "Paris"},
            {"input": "Peru", "output": "Peru"},
            {"input": "Chile", "output": ""},
            {"input": "Country:", "output": "Lima"},
            {"input": "Japan", "output": "Capital:"},
            {"input": "France", "output": "Paris"},
        ],
    }
    [kept] = next(instance_filter.process([row]))
    assert kept["instances"] == [{"input": "France", "output": "Paris"}]
    assert instance_filter.rejection_counts == {
        "input_equals_output": 1, "empty_output": 1, "ends_with_colon": 2, "duplicate_instance": 1,
    }  # fmt: skip


@pytest.mark.parametrize(("beyond_paper", "kept_outputs"), [(False, 2), (True, 1)])
def test_conflicting_outputs_drop_the_whole_task_and_empty_inputs_may_repeat_in_the_paper(
    beyond_paper, kept_outputs
):
    instance_filter = InstanceFilter(beyond_paper=beyond_paper)
    instance_filter.load()
    conflict = {"instruction": "t1", "instances": [
        {"input": "x", "output": "1"}, {"input": "x", "output": "2"}]}  # fmt: skip
    empty_inputs = {"instruction": "t2", "instances": [
        {"input": "", "output": "a poem"}, {"input": "", "output": "another poem"}]}  # fmt: skip
    kept = next(instance_filter.process([conflict, empty_inputs]))
    assert [row["instruction"] for row in kept] == ["t2"]
    assert len(kept[0]["instances"]) == kept_outputs
    expected = {"conflicting_outputs": 2, "no_valid_instances": 1}
    if beyond_paper:
        expected["conflicting_empty_input"] = 1
    assert instance_filter.rejection_counts == expected


def test_at_most_max_instances_reproducibly(instance_filter):
    row = {
        "instruction": "t",
        "instances": [{"input": str(i), "output": f"o{i}"} for i in range(6)],
    }
    first = next(instance_filter.process([row]))[0]["instances"]
    again = next(instance_filter.process([row]))[0]["instances"]
    assert len(first) == 2 and first == again
    assert instance_filter.rejection_counts["over_max_instances"] == 8
