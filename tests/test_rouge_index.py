import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from distilabel_selfinstruct import RougeLIndex
from distilabel_selfinstruct.rouge_index import rouge_l_fmeasure, tokenize
from tests.conftest import read_jsonl

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def reference(candidate: str, pool_text: str) -> float:
    """The paper's call: the candidate as target, the pool instruction as prediction."""
    return SCORER.score(candidate, pool_text)["rougeL"].fmeasure


def brute_force_most_similar(candidate, pool):
    scores = [reference(candidate, text) for text in pool]
    if not scores:
        return 0.0, None
    best = max(scores)
    return best, scores.index(best)


def brute_force_filter(pool, candidates, threshold=0.7):
    pool, decisions = list(pool), []
    for candidate in candidates:
        keep = brute_force_most_similar(candidate, pool)[0] <= threshold
        if keep:
            pool.append(candidate)
        decisions.append(keep)
    return decisions


def test_recorded_ensemble_instruct_scores_are_reproduced_exactly(shared):
    """All 2,030 `most_similar` values stored with the 203 proposed instructions."""
    checked = 0
    for name in ("openei.io_instructions.jsonl", "openei.o_instructions.jsonl"):
        for record in read_jsonl(shared / "data/ensemble_instruct" / name):
            pool = list(record["most_similar"])
            index = RougeLIndex(pool)
            expected = list(record["most_similar"].values())
            best, position = index.most_similar(record["instruction"])
            assert best == max(expected)
            assert position == expected.index(max(expected))
            for text, score in record["most_similar"].items():
                assert rouge_l_fmeasure(record["instruction"], text) == score
                assert RougeLIndex([text]).most_similar(record["instruction"])[0] == score
                checked += 1
    assert checked == 2030


def test_user_oriented_instructions_against_the_175_seeds(shared, paper_seed_tasks):
    seeds = [task["instruction"] for task in paper_seed_tasks]
    index = RougeLIndex(seeds)
    for record in read_jsonl(shared / "data/self_instruct/user_oriented_instructions.jsonl"):
        assert index.most_similar(record["instruction"]) == brute_force_most_similar(
            record["instruction"], seeds
        )


words = st.sampled_from(
    "the a of give write list three short story about dog cat tell me if sentence is "
    "positive negative classify translate into english summarize article explain why".split()
)
sentences = st.lists(words, min_size=0, max_size=14).map(" ".join)


@st.composite
def near_duplicate_stream(draw):
    """A pool and a candidate stream full of near-duplicates (edits of earlier texts)."""
    pool = draw(st.lists(sentences, min_size=0, max_size=8))
    stream = []
    for _ in range(draw(st.integers(1, 25))):
        earlier = pool + stream
        if earlier and draw(st.booleans()):
            tokens = draw(st.sampled_from(earlier)).split()
            for _ in range(draw(st.integers(0, 3))):
                operation = draw(st.sampled_from(["drop", "insert", "swap"]))
                if operation == "drop" and tokens:
                    tokens.pop(draw(st.integers(0, len(tokens) - 1)))
                elif operation == "insert":
                    tokens.insert(draw(st.integers(0, len(tokens))), draw(words))
                elif tokens:
                    tokens[draw(st.integers(0, len(tokens) - 1))] = draw(words)
            stream.append(" ".join(tokens).capitalize() + draw(st.sampled_from(["", ".", "?"])))
        else:
            stream.append(draw(sentences))
    threshold = draw(st.sampled_from([0.5, 0.7, 0.8]))
    return pool, stream, threshold


@settings(max_examples=200, deadline=None)
@given(near_duplicate_stream())
def test_decisions_and_scores_equal_brute_force(case):
    pool, stream, threshold = case
    index = RougeLIndex(pool, threshold=threshold)
    reference_pool = list(pool)
    for candidate in stream:
        assert index.most_similar(candidate) == brute_force_most_similar(candidate, reference_pool)
        if index.is_novel(candidate):
            index.add(candidate)
            reference_pool.append(candidate)
    assert RougeLIndex(pool, threshold=threshold).filter(stream) == brute_force_filter(
        pool, stream, threshold
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(words, min_size=60, max_size=90), st.lists(words, min_size=1, max_size=90))
def test_texts_longer_than_one_machine_word(long_a, other):
    """Candidates and pool items over 64 tokens take the arbitrary-length path."""
    a, b = " ".join(long_a), " ".join(other)
    index = RougeLIndex([b, a])
    assert index.most_similar(a) == brute_force_most_similar(a, [b, a])
    assert index.most_similar(b) == brute_force_most_similar(b, [b, a])


def test_ties_resolve_to_the_first_position_and_empty_cases():
    assert RougeLIndex().most_similar("anything") == (0.0, None)
    index = RougeLIndex(["tell me a joke", "a joke tell me", "tell me a joke"])
    assert index.most_similar("tell me a joke") == (1.0, 0)
    assert index.most_similar("Привет мир") == (0.0, 0)  # no tokens: every item scores 0


def test_threshold_boundary_uses_the_exact_float():
    # 7 shared tokens of 10 + 10: F1 = 0.7 exactly as rouge_score computes it; kept (not above).
    pool = ["a b c d e f g h i j"]
    candidate = "a b c d e f g x y z"
    assert reference(candidate, pool[0]) == RougeLIndex(pool).most_similar(candidate)[0]
    assert RougeLIndex(pool).filter([candidate]) == brute_force_filter(pool, [candidate])


def test_state_round_trip(tmp_path):
    index = RougeLIndex(["Tell me a joke."], threshold=0.6, tokenizer="unicode")
    index.filter(["Name three rivers.", "Name three big rivers."])
    index.save(tmp_path / "state.json")
    restored = RougeLIndex.load(tmp_path / "state.json")
    assert restored.texts == index.texts and restored.threshold == 0.6
    assert restored.tokenizer == "unicode"
    assert restored.most_similar("Name three rivers!") == index.most_similar("Name three rivers!")
    assert json.loads((tmp_path / "state.json").read_text())["version"] == 1


def test_unicode_tokenizer_catches_duplicates_the_paper_misses():
    chinese = "把这句话翻译成英文。"
    russian = "Переведите это предложение на английский."
    for text in (chinese, russian):
        assert RougeLIndex([text]).most_similar(text) == (0.0, 0)
        assert RougeLIndex([text], tokenizer="unicode").most_similar(text) == (1.0, 0)
        assert RougeLIndex([text], tokenizer="unicode").filter([text]) == [False]
    assert tokenize("Größe ÜBER", "unicode") == ["grösse", "über"]
    assert tokenize("東京に行く", "unicode") == ["東", "京", "に", "行", "く"]


def test_unknown_tokenizer_is_rejected():
    with pytest.raises(ValueError, match="unknown tokenizer"):
        RougeLIndex(tokenizer="whitespace")


def test_judge_scores_then_adds_only_novel_text():
    index = RougeLIndex(["Tell me a joke."])
    assert index.judge("Tell me a funny joke.") == (False, 0.888888888888889, 0)
    assert len(index) == 1
    assert index.judge("List three uses for paper clips.") == (True, 0.0, 0)
    assert index[1] == "List three uses for paper clips." and len(index) == 2
