import json

import datasets
import pytest

from distilabel_selfinstruct import SeedTaskError, load_seed_tasks


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a", "name": "n", "instruction": "Say hi.", "instances": [{"input": "", "output": "Hi"}],
        "is_classification": False}  # fmt: skip


def test_default_seed_set_is_small_diverse_and_valid():
    tasks = load_seed_tasks()
    assert len(tasks) >= 25
    assert 0 < sum(task.is_classification for task in tasks) < len(tasks)
    assert len({task.instruction for task in tasks}) == len(tasks)
    assert all(task.instances and task.instances[0].output for task in tasks)


def test_the_papers_175_seeds_load(shared):
    tasks = load_seed_tasks(shared / "data/self_instruct/seed_tasks.jsonl")
    assert len(tasks) == 175
    assert sum(task.is_classification for task in tasks) == 26
    assert tasks[0].id == "seed_task_0"


def test_malformed_json_names_file_and_line(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [json.dumps(GOOD), '{"instruction": "x",'])
    with pytest.raises(SeedTaskError) as error:
        load_seed_tasks(path)
    message = str(error.value)
    assert str(path) in message and "line 2: malformed JSON" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"instruction": None}, "line 1, field 'instruction': expected a string, got NoneType"),
        ({"instruction": "   "}, "line 1, field 'instruction': empty"),
        ({"instances": []}, "line 1, field 'instances': empty"),
        ({"instances": "x"}, "line 1, field 'instances': expected a list, got str"),
        (
            {"instances": [{"input": 3, "output": "y"}]},
            "field 'instances[0].input': expected a string, got int",
        ),
        ({"instances": [{"input": "x"}]}, "field 'instances[0].output': missing"),
        (
            {"is_classification": "yes"},
            "field 'is_classification': expected true or false, got 'yes'",
        ),
        ({"id": 7}, "field 'id': expected a non-empty string, got 7"),
    ],
)
def test_each_bad_field_is_named(tmp_path, change, expected):
    path = write_lines(tmp_path / "s.jsonl", [json.dumps({**GOOD, **change})])
    with pytest.raises(SeedTaskError, match=rf"^seed tasks from {path}: ") as error:
        load_seed_tasks(path)
    assert expected in str(error.value)


def test_missing_required_fields_and_duplicate_ids_are_all_reported(tmp_path):
    missing = {key: value for key, value in GOOD.items() if key != "instruction"}
    lines = [json.dumps(GOOD), json.dumps(missing), json.dumps({**GOOD, "instruction": "Other."})]
    with pytest.raises(SeedTaskError) as error:
        load_seed_tasks(write_lines(tmp_path / "s.jsonl", lines))
    assert error.value.problems == [
        "line 2, field 'instruction': missing",
        "line 3, field 'id': duplicate id 'a' (first at line 1)",
    ]


def test_datasets_sources_and_lists(tmp_path):
    rows = [GOOD, {**GOOD, "id": "b", "instruction": "Say bye."}]
    dataset = datasets.Dataset.from_list(rows)
    dataset.save_to_disk(tmp_path / "saved")
    dataset.to_parquet(tmp_path / "seeds.parquet")
    for source in (tmp_path / "saved", str(tmp_path / "seeds.parquet"), rows):
        tasks = load_seed_tasks(source)
        assert [task.instruction for task in tasks] == ["Say hi.", "Say bye."]
    with pytest.raises(SeedTaskError, match="row 1, field 'instruction': empty"):
        datasets.Dataset.from_list([GOOD, {**GOOD, "id": "b", "instruction": ""}]).save_to_disk(
            tmp_path / "bad"
        )
        load_seed_tasks(tmp_path / "bad")
    with pytest.raises(SeedTaskError, match="item 0, field 'is_classification': missing"):
        load_seed_tasks([{"instruction": "x", "instances": [{"input": "", "output": "y"}]}])


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="seed task file not found"):
        load_seed_tasks(tmp_path / "nope.jsonl")


ALPACA = [
    {"instruction": "Give the opposite of the word.", "input": "hot", "output": "cold"},
    {"instruction": "Name a primary colour.", "input": "", "output": "Red."},
]


def test_alpaca_records_load_from_every_file_type_without_a_mapping(tmp_path):
    import pandas as pd

    array = tmp_path / "alpaca.json"
    array.write_text(json.dumps(ALPACA), encoding="utf-8")
    lines = write_lines(tmp_path / "alpaca.jsonl", [json.dumps(row) for row in ALPACA])
    pd.DataFrame(ALPACA).to_csv(tmp_path / "alpaca.csv", index=False)
    pd.DataFrame(ALPACA).to_parquet(tmp_path / "alpaca.parquet")
    saved = tmp_path / "saved"
    datasets.Dataset.from_list(ALPACA).save_to_disk(str(saved))
    for source in (array, lines, tmp_path / "alpaca.csv", tmp_path / "alpaca.parquet", saved):
        tasks = load_seed_tasks(source)
        assert [task.instruction for task in tasks] == [row["instruction"] for row in ALPACA]
        assert [task.instances[0].input for task in tasks] == ["hot", ""], source
        assert [task.instances[0].output for task in tasks] == ["cold", "Red."]
        assert not any(task.is_classification for task in tasks)


def test_other_column_names_are_mapped_and_a_missing_column_is_named_with_its_row(tmp_path):
    rows = [{"prompt": "Say hi.", "response": "Hi.", "label": True},
            {"prompt": "Count to two.", "answer": "1 2"}]  # fmt: skip
    path = write_lines(tmp_path / "mine.jsonl", [json.dumps(row) for row in rows])
    mapping = {"instruction": "prompt", "output": "response", "is_classification": "label"}
    with pytest.raises(SeedTaskError) as caught:
        load_seed_tasks(path, columns=mapping)
    assert str(caught.value) == (
        f"seed tasks from {path}: line 2: column(s) ['response', 'label'] named by the mapping"
        " not found (it has 'prompt', 'answer')"
    )
    tasks = load_seed_tasks(rows[:1], columns=mapping)
    assert tasks[0].instruction == "Say hi." and tasks[0].is_classification is True


def test_a_mapping_names_only_seed_fields():
    from distilabel_selfinstruct.seed_schema import parse_columns

    with pytest.raises(ValueError, match=r"unknown seed field\(s\) \['question'\]"):
        load_seed_tasks(ALPACA, columns={"question": "q"})
    with pytest.raises(ValueError, match="'instruction' is not field=column"):
        parse_columns("instruction")
