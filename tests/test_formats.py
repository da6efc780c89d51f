from distilabel_selfinstruct.formats import (
    END_OF_TEXT,
    to_alpaca,
    to_messages,
    to_prompt_completion,
)


def test_one_record_per_instance_in_every_format(paper_seed_tasks):
    total = sum(len(task["instances"]) for task in paper_seed_tasks)
    alpaca = to_alpaca(paper_seed_tasks)
    messages = to_messages(paper_seed_tasks)
    assert len(alpaca) == len(messages) == total == 175
    for record, chat, task in zip(alpaca, messages, paper_seed_tasks, strict=True):
        instance = task["instances"][0]
        assert record == {
            "instruction": task["instruction"].strip(),
            "input": instance["input"].strip(),
            "output": instance["output"].strip(),
        }
        user, assistant = chat["messages"]
        assert user["role"] == "user" and assistant == {
            "role": "assistant",
            "content": record["output"],
        }
        assert user["content"].startswith(record["instruction"])
        assert (record["input"] in user["content"]) and (
            user["content"] == record["instruction"]
        ) == (not record["input"])


def test_prompt_completion_follows_the_papers_rules(paper_seed_tasks):
    records = to_prompt_completion(paper_seed_tasks, seed=1)
    assert len(records) == 175  # the seeds hold no duplicate pairs
    assert records == to_prompt_completion(paper_seed_tasks, seed=1)
    assert records != to_prompt_completion(paper_seed_tasks, seed=2)
    for record, task in zip(records, paper_seed_tasks, strict=True):
        assert record["completion"].endswith(END_OF_TEXT)
        assert record["completion"].strip().removesuffix(END_OF_TEXT) == (
            task["instances"][0]["output"].strip()
        )
        assert task["instruction"].strip() in record["prompt"]
        assert "\n\n\n" not in record["prompt"].strip()


def test_field_prefixes_are_stripped_about_half_the_time_and_duplicates_dropped():
    rows = [
        {"instruction": f"Task {i}.", "instances": [{"input": "Sentence: hi there", "output": "x"}]}
        for i in range(200)
    ]
    stripped = sum("Sentence:" not in r["prompt"] for r in to_prompt_completion(rows))
    assert 60 < stripped < 140
    twice = [{"instruction": "Same.", "instances": [{"input": "", "output": "y"}] * 50}]
    assert len(to_prompt_completion(twice)) <= 3  # at most one per layout
