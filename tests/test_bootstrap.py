"""`SelfInstructBootstrap` on the embedded model: stop conditions, provenance, distilabel's
resume offset. The model runs in one child process (llama.cpp must not live in pytest's),
with a generation journal shared by the scenarios so that repeated rounds are replayed.
"""

import json
import subprocess
import sys
import textwrap

import pytest

_SCENARIOS = textwrap.dedent(
    """
    import json, sys
    from distilabel_selfinstruct import LlamaCppCompletionLLM, SelfInstructBootstrap

    def run(offset=0, **options):
        llm = LlamaCppCompletionLLM(journal_dir=sys.argv[1], generation_kwargs={"seed": 1})
        step = SelfInstructBootstrap(llm=llm, num_prompts=2, seed=3, batch_size=2, **options)
        step.load()
        batches = list(step.process(offset=offset))
        return {"batches": [[row["id"] for row in rows] for rows, _ in batches],
                "last": [last for _, last in batches],
                "rows": [row for rows, _ in batches for row in rows],
                "rejected": step.rejection_counts, "totals": step.totals}

    print(json.dumps({
        "target": run(num_instructions=5),
        "offset": run(offset=3, num_instructions=5),
        "rounds": run(num_instructions=1000, max_rounds=1),
        "tokens": run(num_instructions=1000, max_generated_tokens=1),
        "stalled": run(num_instructions=5, min_words=1000, max_stalled_rounds=2),
    }))
    """
)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    journal = tmp_path_factory.mktemp("journal")
    run = subprocess.run(
        [sys.executable, "-c", _SCENARIOS, str(journal)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_it_stops_at_the_target_with_provenance(scenarios):
    target = scenarios["target"]
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


def test_a_resume_offset_skips_the_rows_already_sent(scenarios):
    ids = [row["id"] for row in scenarios["target"]["rows"]]
    assert [row["id"] for row in scenarios["offset"]["rows"]] == ids[3:]
    assert scenarios["offset"]["last"][-1] is True


def test_round_and_token_caps_stop_the_loop(scenarios):
    for name, reason in (("rounds", "max_rounds"), ("tokens", "max_generated_tokens")):
        assert scenarios[name]["totals"]["stop_reason"] == reason
        assert scenarios[name]["totals"]["rounds"] == 1
        rows = scenarios[name]["rows"]
        assert rows and {row["round"] for row in rows} == {0}
        assert scenarios[name]["last"][-1] is True


def test_rounds_that_keep_nothing_stop_the_loop(scenarios):
    stalled = scenarios["stalled"]
    assert stalled["rows"] == [] and stalled["batches"] == [[]] and stalled["last"] == [True]
    assert set(stalled["rejected"]) == {"too_short"}
    assert stalled["totals"]["stop_reason"] == "stalled" and stalled["totals"]["rounds"] == 2
