from distilabel_selfinstruct.formats import (
    END_OF_TEXT,
    alpaca_text,
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
            "text": alpaca_text(
                task["instruction"].strip(), instance["input"].strip(), instance["output"].strip()
            ),
        }
        sections = record["text"].split("\n\n### ")
        assert len(sections) == (3 if record["input"] else 2)
        assert sections[-1].endswith(record["output"])
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


# TRL's dataset formats (https://huggingface.co/docs/trl/dataset_formats), by the keys its
# `SFTTrainer` looks for: a dataset with more than one of them is ambiguous to TRL (its
# `is_conversational` takes whichever key a set yields first).
TRL_KEYS = {"text", "prompt", "completion", "messages", "chosen", "rejected"}


def _trl_format(columns):
    keys = set(columns) & TRL_KEYS
    if keys == {"messages"}:
        return "conversational language modeling"
    if keys == {"prompt", "completion"}:
        return "prompt-completion"
    if keys == {"text"}:
        return "language modeling"
    return None


def test_each_finetuning_config_is_one_trl_format_and_nothing_else(paper_seed_tasks):
    """TRL is not installed here (it needs torch and transformers, and a tokenizer from the
    Hub to apply a chat template): the rows are checked against the formats TRL documents."""
    from distilabel_selfinstruct.constants import FINETUNING_CONFIGS
    from distilabel_selfinstruct.steps.exports import FinetuningFormats

    step = FinetuningFormats(seed=1)
    step.load()
    records = next(step.process(paper_seed_tasks))
    expected = {
        "finetuning_messages": "conversational language modeling",
        "finetuning_prompt_completion": "prompt-completion",
        "finetuning_alpaca": "language modeling",
    }
    for config, columns in FINETUNING_CONFIGS.items():
        assert _trl_format(columns) == expected[config], config
        for record in records:
            row = {column: record[column] for column in columns}
            for column in set(columns) & {"text", "prompt", "completion"}:
                assert isinstance(row[column], str) and row[column].strip()
            if "messages" in row:
                roles = [turn["role"] for turn in row["messages"]]
                assert roles == ["user", "assistant"]
                assert all(set(turn) == {"role", "content"} for turn in row["messages"])
