"""`SelfInstructBootstrap`: stop conditions, provenance, distilabel's resume offset.

The LLM is `OpenAICompletionLLM` against the scripted OpenAI-compatible server of
`tests/support/openai_server.py`, which answers proposal prompts with deterministic numbered
instructions: the loop's logic is under test here, not a model (the embedded model's
bootstrap runs in `tests/test_pipeline.py`).
"""

import pytest

from distilabel_selfinstruct import OpenAICompletionLLM, SelfInstructBootstrap
from tests.support.openai_server import ScriptedServer


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


def run(server, offset=0, **options):
    llm = OpenAICompletionLLM(model="m", base_url=server.url("script"))
    step = SelfInstructBootstrap(llm=llm, num_prompts=2, seed=3, batch_size=2, **options)
    step.load()
    batches = list(step.process(offset=offset))
    return {
        "batches": [[row["id"] for row in rows] for rows, _ in batches],
        "last": [last for _, last in batches],
        "rows": [row for rows, _ in batches for row in rows],
        "rejected": step.rejection_counts,
        "totals": step.totals,
    }


def test_it_stops_at_the_target_with_provenance(server):
    target = run(server, num_instructions=5)
    rows = target["rows"]
    assert len(rows) == 5 and len({row["id"] for row in rows}) == 5
    assert target["last"][-1] is True and not any(target["last"][:-1])
    assert all(len(batch) <= 2 for batch in target["batches"])
    rounds = [row["round"] for row in rows]
    assert rounds == sorted(rounds)
    for row in rows:
        assert row["id"].startswith(f"self_instruct_bootstrap_0_r{row['round']}_")
        assert row["origin"] == "machine" and len(row["prompt_tasks"]) == 8
        assert row["most_similar_score"] <= 0.7 and row["most_similar_instruction"]
    totals = target["totals"]
    assert totals["stop_reason"] == "target_reached" and totals["kept"] == 5
    assert totals["prompts"] == 2 * totals["rounds"] and totals["output_tokens"] > 0


def test_a_resume_offset_skips_the_rows_already_sent(server):
    ids = [row["id"] for row in run(server, num_instructions=5)["rows"]]
    offset = run(server, offset=3, num_instructions=5)
    assert [row["id"] for row in offset["rows"]] == ids[3:]
    assert offset["last"][-1] is True


@pytest.mark.parametrize(
    ("cap", "reason"), [({"max_rounds": 1}, "max_rounds"), ({"max_generated_tokens": 1}, "max_generated_tokens")]
)  # fmt: skip
def test_round_and_token_caps_stop_the_loop(server, cap, reason):
    capped = run(server, num_instructions=1000, **cap)
    assert capped["totals"]["stop_reason"] == reason
    assert capped["totals"]["rounds"] == 1
    assert capped["rows"] and {row["round"] for row in capped["rows"]} == {0}
    assert capped["last"][-1] is True


def test_rounds_that_keep_nothing_stop_the_loop(server):
    stalled = run(server, num_instructions=5, min_words=1000, max_stalled_rounds=2)
    assert stalled["rows"] == [] and stalled["batches"] == [[]] and stalled["last"] == [True]
    assert set(stalled["rejected"]) == {"too_short"}
    assert stalled["totals"]["stop_reason"] == "stalled" and stalled["totals"]["rounds"] == 2


def test_machine_made_tasks_join_the_prompts_of_a_classification_only_bootstrap(server):
    """The classification variant samples 2 machine-made tasks per prompt once there are
    some, although they carry no `is_classification` label during the loop."""
    rows = run(server, num_instructions=12, classification_only=True)["rows"]
    made = {row["instruction"] for row in rows}
    later = [row for row in rows if row["round"] > 0]
    assert later, "the loop needed a second round"
    assert all(sum(task in made for task in row["prompt_tasks"]) == 2 for row in later[-3:])
