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


def test_a_batch_is_written_with_one_fsync_and_read_back_from_disk(tmp_path, monkeypatch):
    """`put_many` makes a whole batch durable with one fsync (the real `os.fsync`, counted),
    and returns the outputs as a new journal reads them back."""
    import os

    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    journal = GenerationJournal(tmp_path)
    items = [(GenerationJournal.key(input=f"p{i}"), {"generations": [f"g{i}"]}) for i in range(300)]
    returned = journal.put_many(items)
    journal.put(GenerationJournal.key(input="one more"), {"generations": ["last"]})
    assert len(calls) == 2
    assert returned == [output for _, output in items]
    reread = GenerationJournal(tmp_path)
    assert len(reread) == 301
    assert [reread.get(key) for key, _ in items] == returned
    assert reread.get(GenerationJournal.key(input="one more")) == {"generations": ["last"]}


def test_a_torn_line_between_files_loses_only_itself(tmp_path):
    """Two writers: one killed mid-line, one that went on in a file of its own."""
    first, second = GenerationJournal(tmp_path), GenerationJournal(tmp_path)
    first.put_many([("aa" * 32, {"generations": ["kept"]})])
    with first._path.open("a", encoding="utf-8") as handle:
        handle.write('{"key": "' + "bb" * 32 + '", "output": {"gen')  # killed here
    second.put_many([("cc" * 32, {"generations": ["also kept"]})])
    reread = GenerationJournal(tmp_path)
    assert reread.get("aa" * 32) == {"generations": ["kept"]}
    assert reread.get("bb" * 32) is None
    assert reread.get("cc" * 32) == {"generations": ["also kept"]}
