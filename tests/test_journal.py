"""The generation journal: durable records, torn lines, and replay by a real LLM."""

import json
import subprocess
import sys
import textwrap

from distilabel_selfinstruct import GenerationJournal


def test_records_survive_a_new_process_and_a_torn_last_line(tmp_path):
    journal = GenerationJournal(tmp_path)
    first = GenerationJournal.key(model="m", input="Name a fruit.", kwargs={"seed": 1})
    journal.put(first, {"generations": ["Apple."], "statistics": {"output_tokens": [2]}})
    # A writer killed in the middle of a line leaves a torn line behind.
    (tmp_path / "999-deadbeef.jsonl").write_text('{"key": "abc", "outp', encoding="utf-8")
    reread = GenerationJournal(tmp_path)
    assert len(reread) == 1 and first in reread
    assert reread.get(first) == {"generations": ["Apple."], "statistics": {"output_tokens": [2]}}
    assert reread.get("abc") is None


def test_keys_depend_on_every_part():
    base = {"model": {"llm": "x"}, "input": "p", "num_generations": 1, "kwargs": {"seed": 1}}
    keys = {GenerationJournal.key(**base)}
    for part, value in (("model", {"llm": "y"}), ("input", "q"), ("num_generations", 2),
                        ("kwargs", {"seed": 2})):  # fmt: skip
        keys.add(GenerationJournal.key(**{**base, part: value}))
    assert len(keys) == 5
    assert GenerationJournal.key(a=1, b=2) == GenerationJournal.key(b=2, a=1)


_GENERATE = textwrap.dedent(
    """
    import json, sys
    from distilabel_selfinstruct import LlamaCppCompletionLLM

    llm = LlamaCppCompletionLLM(journal_dir=sys.argv[1], generation_kwargs={
        "max_new_tokens": 12, "temperature": 0.7, "seed": 3, "stop": ["\\n"]})
    llm.load()
    prompts = json.loads(sys.argv[2])
    outputs = llm.generate_outputs(inputs=prompts, **llm.get_generation_kwargs())
    print(json.dumps(outputs))
    """
)


def _generate(journal_dir, prompts):
    """Runs the embedded model in a child process (llama.cpp must not live in pytest's)."""
    run = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(journal_dir), json.dumps(prompts)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _lines(journal_dir):
    return sum(len(path.read_text().splitlines()) for path in journal_dir.glob("*.jsonl"))


def test_a_rerun_replays_finished_generations_and_makes_only_new_ones(tmp_path):
    prompts = ["The capital of France is", "Three colours of the rainbow are"]
    first = _generate(tmp_path, prompts)
    assert _lines(tmp_path) == 2
    again = _generate(tmp_path, [*prompts, "A good name for a cat is"])
    assert again[:2] == first
    assert _lines(tmp_path) == 3  # only the new prompt was generated
    fresh = _generate(tmp_path / "elsewhere", prompts)
    assert fresh == first  # replayed outputs are what a fresh generation gives
