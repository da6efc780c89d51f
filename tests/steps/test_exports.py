"""The Distiset's shapes, on the paper's 175 seed tasks (each with its instances)."""

from distilabel_selfinstruct import (
    FinetuningFormats,
    FlattenInstances,
    to_alpaca,
    to_messages,
    to_prompt_completion,
)
from distilabel_selfinstruct.steps.exports import SelectColumns


def _rows(paper_seed_tasks):
    return [{**task, "is_classification": task["is_classification"]} for task in paper_seed_tasks]


def test_flatten_gives_one_row_per_instance_with_its_task(paper_seed_tasks):
    step = FlattenInstances()
    step.load()
    rows = next(step.process(_rows(paper_seed_tasks)))
    assert len(rows) == sum(len(task["instances"]) for task in paper_seed_tasks)
    by_id = {task["id"]: task for task in paper_seed_tasks}
    for row in rows:
        task = by_id[row["instruction_id"]]
        assert row["instruction"] == task["instruction"]
        assert row["is_classification"] == task["is_classification"]
        assert {"input": row["input"], "output": row["output"]} in task["instances"]


def test_finetuning_records_align_the_three_formats(paper_seed_tasks):
    step = FinetuningFormats(seed=3)
    step.load()
    rows = next(step.process(_rows(paper_seed_tasks)))
    paper = to_prompt_completion(paper_seed_tasks, seed=3)
    # The same records as the function, deduplicated the same way, in the same order.
    assert [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows] == paper
    alpaca = {tuple(record.values()) for record in to_alpaca(paper_seed_tasks)}
    for row in rows:
        assert (row["instruction"], row["input"], row["output"], row["text"]) in alpaca
        assert row["instruction"] in row["prompt"]
        assert row["completion"].removesuffix("<|endoftext|>").strip() == row["output"]
        user = row["messages"][0]["content"]
        assert user.startswith(row["instruction"]) and row["input"] in user
        assert row["messages"][1] == {"role": "assistant", "content": row["output"]}
    assert len(to_messages(paper_seed_tasks)) >= len(rows)


def test_select_columns_keeps_the_metadata_column():
    step = SelectColumns(columns=["id", "distilabel_metadata"])
    assert step.inputs == {"id": True, "distilabel_metadata": False}
    step.load()
    rows = next(step.process([{"id": "a", "x": 1, "distilabel_metadata": {"k": 1}}, {"id": "b"}]))
    assert rows == [{"id": "a", "distilabel_metadata": {"k": 1}},
                    {"id": "b", "distilabel_metadata": None}]  # fmt: skip


def test_finetuning_records_batch_by_batch_are_those_of_one_pass(paper_seed_tasks):
    """The layout draws continue from batch to batch and duplicates are dropped across
    batches (the seeds twice over: a second copy drawn with the same layout repeats the
    first)."""
    rows = _rows(paper_seed_tasks) * 2
    whole = FinetuningFormats(seed=3)
    whole.load()
    one_pass = next(whole.process(rows))
    batched = FinetuningFormats(seed=3)
    batched.load()
    in_batches = [
        r
        for start in range(0, len(rows), 40)
        for r in next(batched.process(rows[start : start + 40]))
    ]
    assert in_batches == one_pass
    assert len(one_pass) < len(rows)
