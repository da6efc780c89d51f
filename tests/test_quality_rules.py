"""The rules beyond the paper: the defects the review of the default run found (issue 11),
and no false rejection on the paper's 175 seed tasks and 252 user-oriented instructions."""

import pytest

from distilabel_selfinstruct import InstanceFilter, InstructionFilter
from distilabel_selfinstruct.quality_rules import instruction_problem
from tests.conftest import read_jsonl


@pytest.fixture(scope="module")
def human_instructions(shared):
    seeds = read_jsonl(shared / "data/self_instruct/seed_tasks.jsonl")
    users = read_jsonl(shared / "data/self_instruct/user_oriented_instructions.jsonl")
    assert (len(seeds), len(users)) == (175, 252)
    return [task["instruction"] for task in seeds + users]


@pytest.mark.parametrize(
    ("instruction", "rule"),
    [
        ("Give two reasons for your choice.", "missing_context"),
        ("Explain the answer as in question 9.", "missing_context"),
        ("Summarize the passage above in one sentence.", "missing_context"),
        ("Write your answer on a piece of paper.", "physical_action"),
        ("Write your name on the back of a piece of paper and send it to a friend.",
         "physical_action"),
        ("Write a poem in three lines, and recite it in front of your class.", "physical_action"),
        ("Who are your best friends?", "about_the_model"),
        ("Make a list of 20 items that are in your house.", "about_the_model"),
        ("Give two reasons to learn a second language.", None),
        ("Summarize the passage below in one sentence.", None),  # the input follows
        ("Write a letter to your future self.", None),
    ],
)  # fmt: skip
def test_instruction_rules(instruction, rule):
    problem = instruction_problem(instruction)
    assert (problem[0] if problem else None) == rule


def test_no_human_instruction_is_rejected(human_instructions):
    step = InstructionFilter(min_words=1)
    rejected = {text: step.rejection_reason(text) for text in human_instructions}
    beyond = {text: reason for text, reason in rejected.items()
              if reason and reason[0] in ("missing_context", "physical_action", "about_the_model")}  # fmt: skip
    assert beyond == {}


def test_paper_rules_only_switches_the_instruction_rules_off():
    assert InstructionFilter().rejection_reason("Who are your best friends now?")[0] == (
        "about_the_model"
    )
    assert (
        InstructionFilter(beyond_paper=False).rejection_reason("Who are your best friends now?")
        is None
    )


def _clean(step, instances, instruction="Do the task."):
    step.load()
    kept, rejected = step._clean({"instruction": instruction, "instances": instances})
    return kept, sorted(record["rejected_by"] for record in rejected)


@pytest.mark.parametrize(
    ("instances", "kept", "rules"),
    [
        # an output equal to its input after a leading `Field:` label
        ([{"input": "Sentence: The cat sat.", "output": "The cat sat."}], 0,
         ["output_repeats_input"]),
        # an output copied from the instance prompt's worked examples
        ([{"input": "", "output": "A tabby who napped in the sun / thought chasing a mouse was no fun."}],
         0, ["copied_from_prompt"]),
        # an input copied from them
        ([{"input": "Sentence: The quick brown fox jumps over the lazy dog.", "output": "quick"}],
         0, ["copied_from_prompt"]),
        # different outputs for the same empty input: the first stays
        ([{"input": "", "output": "10 years old"}, {"input": "", "output": "Not 10 years old"}],
         1, ["conflicting_empty_input"]),
        # a generation that loops: the third and later copies
        ([{"input": "x", "output": "A"}] * 4, 1,
         ["duplicate_instance", "runaway_repetition", "runaway_repetition"]),
        # labels are short: never copies
        ([{"input": "Review: Great fun.", "output": "Positive"}], 1, []),
    ],
)  # fmt: skip
def test_instance_rules(instances, kept, rules):
    kept_instances, rejected = _clean(InstanceFilter(), instances)
    assert (len(kept_instances), rejected) == (kept, rules)


def test_paper_rules_only_switches_the_instance_rules_off():
    instances = [{"input": "Sentence: The cat sat.", "output": "The cat sat."},
                 {"input": "", "output": "a"}, {"input": "", "output": "b"}]  # fmt: skip
    kept, rejected = _clean(InstanceFilter(beyond_paper=False), instances)
    assert (len(kept), rejected) == (3, [])
