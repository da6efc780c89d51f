"""The dataset statistics (the paper's Table 1), the verb/object rule and the figures."""

from collections import Counter

import pytest
from datasets import Dataset, DatasetDict
from distilabel.distiset import Distiset

from distilabel_selfinstruct.publishing.figures import (
    plot_lengths,
    plot_similarity_to_seeds,
    plot_verbs,
    similarity_to_seeds,
)
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
        [{"instruction": "Name three rivers.", "is_classification": False},
         {"instruction": "Is this review positive or negative?", "is_classification": True},
         {"instruction": "Say hi.", "is_classification": None}],
        [{"input": "", "output": "Nile, Amazon, Danube."},
         {"input": "Great food and friendly staff.", "output": "Positive"},
         {"input": "  ", "output": "Hi there!"}],
    )  # fmt: skip
    assert dataset_statistics(distiset) == {
        "instructions": 3,
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


def test_similarity_to_seeds_is_exact_rouge(shared):
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    seeds = ["Tell me a joke.", "Translate the sentence into French.", "Add two numbers."]
    texts = ["Tell me a joke about cats.", "Translate this sentence to German.", "Sing."]
    expected = [max(scorer.score(seed, text)["rougeL"].fmeasure for seed in seeds)
                for text in texts]  # fmt: skip
    assert similarity_to_seeds(texts, seeds) == expected


def test_figures_are_png_files(tmp_path):
    paths = [
        plot_similarity_to_seeds([0.1, 0.5, 0.69], 0.7, tmp_path / "a.png"),
        plot_lengths([5, 8], [3], [1, 20], tmp_path / "b.png"),
        plot_verbs(Counter({("write", "story"): 3, ("give", None): 1}), tmp_path / "c.png"),
        plot_verbs(Counter(), tmp_path / "d.png"),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
