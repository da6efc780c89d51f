"""The dataset statistics (the paper's Table 1) and the verb/object rule."""

from collections import Counter

import pytest
from datasets import Dataset, DatasetDict
from distilabel.distiset import Distiset

from distilabel_selfinstruct.publishing.statistics import (
    dataset_statistics,
    leading_verb_object,
    verb_object_counts,
)


def _distiset(instructions, instances):
    return Distiset({
        "instructions": DatasetDict({"train": Dataset.from_list(instructions)}),
        "instances": DatasetDict({"train": Dataset.from_list(instances)}),
    })  # fmt: skip


def test_table_1_counts_and_averages():
    distiset = _distiset(
        [{"instruction": "Name three rivers.", "is_classification": False, "num_instances": 1},
         {"instruction": "Is this review positive or negative?", "is_classification": True,
          "num_instances": 2},
         {"instruction": "Say hi.", "is_classification": None, "num_instances": 0}],
        [{"input": "", "output": "Nile, Amazon, Danube."},
         {"input": "Great food and friendly staff.", "output": "Positive"},
         {"input": "  ", "output": "Hi there!"}],
    )  # fmt: skip
    assert dataset_statistics(distiset) == {
        "instructions": 3,
        "instructions_without_instances": 1,
        "classification": 1,
        "non_classification": 2,
        "instances": 3,
        "instances_empty_input": 2,
        "avg_words_instruction": pytest.approx((3 + 6 + 2) / 3),
        "avg_words_input": 5.0,
        "avg_words_output": pytest.approx((3 + 1 + 2) / 3),
    }


def test_leading_verbs_and_objects_of_the_paper_user_instructions(shared):
    """On the 252 user-oriented instructions of the paper: most open with a verb, and the
    most common verbs are the ones an instruction set is expected to use.
    """
    import json

    lines = (shared / "data/self_instruct/user_oriented_instructions.jsonl").read_text()
    instructions = [json.loads(line)["instruction"] for line in lines.splitlines() if line]
    counts = verb_object_counts(instructions)
    verbs = Counter()
    for (verb, _), count in counts.items():
        verbs[verb] += count
    assert sum(counts.values()) >= len(instructions) // 2
    assert {"write", "give", "make"} <= {verb for verb, _ in verbs.most_common(15)}
    assert leading_verb_object("Make a list of five fruits.") == ("make", "fruits")
    assert leading_verb_object("Given a sentence, fix its grammar.") is None
