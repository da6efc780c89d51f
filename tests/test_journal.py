"""The generation journal: durable records, torn lines, keys."""

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
