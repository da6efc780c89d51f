import random
import re

import pytest

from distilabel_selfinstruct import InstructionProposal, LlamaCppCompletionLLM, load_seed_tasks
from distilabel_selfinstruct.steps.proposal import (
    PromptPool,
    parse_proposed_instructions,
    sample_prompt_tasks,
)


@pytest.fixture(scope="module")
def pool():
    return [{**task.to_dict(), "origin": "seed"} for task in load_seed_tasks()]


def machine(n):
    return [
        {"id": f"m{i}", "instruction": f"Machine task {i}.", "origin": "machine"} for i in range(n)
    ]


@pytest.mark.parametrize(("machine_count", "expected"), [(0, 0), (1, 1), (2, 2), (40, 2)])
def test_prompt_mix_follows_the_paper(pool, machine_count, expected):
    tasks = sample_prompt_tasks(pool + machine(machine_count), random.Random(1))
    assert len(tasks) == 8
    assert sum(task["origin"] == "machine" for task in tasks) == expected
    assert len({task["instruction"] for task in tasks}) == 8


def test_sampling_is_reproducible_shuffled_and_classification_aware(pool):
    first = sample_prompt_tasks(pool + machine(5), random.Random(3))
    again = sample_prompt_tasks(pool + machine(5), random.Random(3))
    assert first == again
    positions = [
        [t["origin"] for t in sample_prompt_tasks(pool + machine(5), random.Random(s))].index(
            "machine"
        )
        for s in range(30)
    ]
    assert len(set(positions)) > 3  # machine tasks are not always at the front
    only = sample_prompt_tasks(pool, random.Random(0), classification_only=True)
    assert only and all(task["is_classification"] for task in only)
    assert len(only) == 8
    with pytest.raises(ValueError, match="no seed task"):
        sample_prompt_tasks(machine(3), random.Random(0))


@pytest.mark.parametrize("classification_only", [False, True])
def test_a_pool_grown_round_by_round_samples_as_the_whole_pool_does(pool, classification_only):
    """The bootstrap keeps a `PromptPool` and extends it with each round's rows; its prompts
    are those `sample_prompt_tasks` draws from the whole list, round after round."""
    grown, rows = PromptPool(pool, classification_only), list(pool)
    made = machine(60)
    for index, row in enumerate(made):
        row["is_classification"] = [None, True, False][index % 3]
    for round_number in range(12):
        new = made[round_number * 5 : round_number * 5 + 5]
        grown.extend(new)
        rows.extend(new)
        for prompt in range(3):
            seed = f"{round_number}:{prompt}"
            expected = sample_prompt_tasks(rows, random.Random(seed), 8, 2, classification_only)
            assert grown.sample(random.Random(seed), 8, 2) == expected


def test_prompt_layout():
    proposal = InstructionProposal(llm=LlamaCppCompletionLLM())
    tasks = [f"Task  number\n{i}:" for i in range(1, 9)]
    prompt = proposal.format_input({"prompt_tasks": tasks})
    lines = prompt.split("\n")
    assert len(lines) == 10 and lines[-1] == "9."
    assert lines[1:9] == [f"{i}. Task number {i}" for i in range(1, 9)]
    assert "tasks" in lines[0]
    classification = InstructionProposal(llm=LlamaCppCompletionLLM(), classification_only=True)
    assert "classification" in classification.format_input({"prompt_tasks": tasks}).split("\n")[0]


def test_default_sampling_parameters_are_the_papers():
    kwargs = InstructionProposal(llm=LlamaCppCompletionLLM()).llm.generation_kwargs
    assert kwargs["temperature"] == 0.7 and kwargs["top_p"] == 0.5
    assert kwargs["presence_penalty"] == 2.0 and kwargs["max_new_tokens"] == 1024
    assert kwargs["stop"] == ["\n\n", "\n16", "16.", "16 ."]
    user = InstructionProposal(llm=LlamaCppCompletionLLM(generation_kwargs={"temperature": 1.0}))
    assert user.llm.generation_kwargs["temperature"] == 1.0


def test_recorded_generations_parse_into_clean_items(recorded):
    for record in recorded["proposal"]:
        truncated = record["output_tokens"] >= record["generation_kwargs"]["max_new_tokens"]
        items = parse_proposed_instructions(record["generation"], truncated=truncated)
        raw = re.sub(r"\s+", " ", record["generation"])
        assert 1 <= len(items) <= 7
        for item in items:
            assert item in raw and "\n" not in item and item == item.strip()
        complete = parse_proposed_instructions(record["generation"])
        assert items == (complete[:-1] if truncated else complete)
    assert any(
        r["output_tokens"] >= r["generation_kwargs"]["max_new_tokens"] for r in recorded["proposal"]
    ), "the recordings should hold a generation cut by the token limit"


@pytest.mark.parametrize(
    ("generation", "expected"),
    [
        (" Name a fruit.\n10. Add 2 and 3.", ["Name a fruit.", "Add 2 and 3."]),
        (" A.\n12. B.\n10 . C.", ["A.", "B.", "C."]),  # gaps and "10 ."
        (" A.\n10. B.\n\n11. After a blank line.", ["A.", "B."]),
        (" A.\n10.\n11. B.", ["A.", "B."]),  # an empty item
        (" A.\n10. A.", ["A.", "A."]),  # repeats are left to the novelty filter
        ("9. Repeated number.\n10. B.", ["Repeated number.", "B."]),  # chat-style echo
        (" A.\n15. B.\n16. C.\n17. D.", ["A.", "B."]),  # item 16 is the stop
        (
            " 把这句话翻译成英文。\n10. Résumé   the text.",
            ["把这句话翻译成英文。", "Résumé the text."],
        ),
        (" Sum the 3.5 and 2.\n10. B", ["Sum the 3.5 and 2.", "B"]),  # numbers mid-line
        ("", []),
        (None, []),
    ],
)
def test_hand_made_edge_cases(generation, expected):
    assert parse_proposed_instructions(generation) == expected


def test_truncation_drops_only_the_cut_item():
    assert parse_proposed_instructions(" A.\n10. B.\n11. C is cut", truncated=True) == ["A.", "B."]
    assert parse_proposed_instructions(" only item cut", truncated=True) == []
