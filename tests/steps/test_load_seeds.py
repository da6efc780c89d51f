"""`LoadSeedTasks`: validation at construction, batches and offsets, the cache signature."""

import json

import pytest

from distilabel_selfinstruct import LoadSeedTasks, SeedTaskError, load_seed_tasks
from distilabel_selfinstruct.seed_schema import default_seed_tasks_path, seed_tasks_digest
from tests.test_seed_schema import GOOD, write_lines


def test_load_seed_tasks_step_fails_at_construction_and_batches(tmp_path):
    bad = write_lines(tmp_path / "bad.jsonl", [json.dumps({**GOOD, "instances": []})])
    with pytest.raises(SeedTaskError, match="line 1, field 'instances'"):
        LoadSeedTasks(source=str(bad))

    step = LoadSeedTasks(batch_size=10)
    step.load()
    batches = list(step.process())
    assert [len(batch) for batch, _ in batches] == [10, 10, 10, 2]
    assert [last for _, last in batches] == [False, False, False, True]
    first = batches[0][0][0]
    assert first["origin"] == "seed" and set(step.outputs) == set(first)
    assert len(next(step.process(offset=30))[0]) == 2
    assert LoadSeedTasks(source=default_seed_tasks_path()).seeds_digest == step.seeds_digest


def test_digest_follows_content_so_cache_signatures_change(tmp_path):
    source = default_seed_tasks_path().read_text(encoding="utf-8")
    copy = tmp_path / "seeds.jsonl"
    copy.write_text(source, encoding="utf-8")
    before = LoadSeedTasks(source=str(copy))
    copy.write_text(source.replace("hiking", "cycling"), encoding="utf-8")
    after = LoadSeedTasks(source=str(copy))
    assert before.seeds_digest != after.seeds_digest
    assert before.signature != after.signature
    assert before.seeds_digest == seed_tasks_digest(load_seed_tasks())
