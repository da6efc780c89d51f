"""`ClassificationIdentification`: the Yes/No answer parser, recorded answers of the embedded
model, its defaults, and the likelihood method (on the embedded model: `e2e`).
"""

import pytest

from distilabel_selfinstruct import (
    ClassificationIdentification,
    LlamaCppCompletionLLM,
    OpenAICompletionLLM,
)
from distilabel_selfinstruct.steps.classification import parse_yes_no
from tests.conftest import in_child


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
    task = ClassificationIdentification(llm=LlamaCppCompletionLLM(), method="answer")
    for record in recorded["classification"]:
        output = task.format_output(record["generation"], record["row"])
        assert output["is_classification"] is (record["generation"] == " Yes"), record
        assert output["classification_error"] is None
        assert record["prompt"].endswith(f"Task: {record['row']['instruction']}\nClassification:")


def test_classification_defaults():
    kwargs = ClassificationIdentification(llm=LlamaCppCompletionLLM()).llm.generation_kwargs
    assert kwargs["temperature"] == 0.0 and kwargs["max_new_tokens"] == 3
    assert kwargs["stop"] == ["\n", "Task"]


def _classify_two_instructions():
    task = ClassificationIdentification(llm=LlamaCppCompletionLLM())
    task.load()
    rows = next(task.process([{"instruction": "Is the review positive or negative?"},
                              {"instruction": "Write a poem about the sea at night."}]))  # fmt: skip
    return rows, task.threshold, task.name


@pytest.mark.e2e
def test_likelihood_classification_with_the_embedded_model():
    rows, threshold, name = in_child(_classify_two_instructions)
    assert [row["is_classification"] for row in rows] == [True, False]
    ratios = [float(row["distilabel_metadata"][f"raw_output_{name}"]) for row in rows]
    assert ratios[0] > threshold >= ratios[1]
    assert all(row["classification_error"] is None for row in rows)


def test_the_likelihood_method_needs_an_llm_that_scores_texts():
    """The OpenAI client is only constructed here, no request is sent."""
    task = ClassificationIdentification(
        llm=OpenAICompletionLLM(model="m", base_url="http://127.0.0.1:9/v1"), method="likelihood"
    )
    with pytest.raises(ValueError, match="cannot score a text"):
        task.load()
    auto = ClassificationIdentification(
        llm=OpenAICompletionLLM(model="m", base_url="http://127.0.0.1:9/v1")
    )
    assert auto.format_input({"instruction": "Sort it."}).endswith(
        "Task: Sort it.\nClassification:"
    )
