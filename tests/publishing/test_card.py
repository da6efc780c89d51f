"""The dataset card, read back the way the Hub reads it: `huggingface_hub`'s `DatasetCard`
parses its YAML header into `DatasetCardData`, whose values must be the Hub's own (size
categories, task categories), and the body states what the data says (rejections of
instructions and of instances apart, instructions left without an instance, limitations).

The dataset is saved by hand (a `Distiset` of small configs and a run summary): the card is
under test, not a run (`tests/publishing/test_hub.py` pushes a real one).
"""

import json

from datasets import Dataset, DatasetDict
from distilabel.distiset import Distiset
from distilabel.utils.card.dataset_card import AVAILABLE_SIZE_CATEGORIES
from huggingface_hub import DatasetCard, DatasetCardData

from distilabel_selfinstruct import __version__, write_report
from distilabel_selfinstruct.constants import CARD_FOLDER, FINETUNING_CONFIGS, RUN_SUMMARY_FILE

# The Hub's task categories this card may name (a subset of its list).
HUB_TASK_CATEGORIES = {"text-generation", "question-answering", "text-classification"}
HUB_SIZE_CATEGORIES = {*AVAILABLE_SIZE_CATEGORIES.values(), "n>1T"}


def _save(root):
    instructions = [
        {"id": "a", "instruction": "Name three rivers.", "model_name": "m", "num_instances": 1,
         "is_classification": False, "classification_error": None},
        {"id": "b", "instruction": "Is this review positive?", "model_name": "m",
         "num_instances": 0, "is_classification": True, "classification_error": None},
    ]  # fmt: skip
    instances = [{"instruction_id": "a", "instruction": "Name three rivers.", "input": "",
                  "output": "Nile, Amazon, Danube."}]  # fmt: skip
    record = {"messages": [{"role": "user", "content": "Name three rivers."},
                           {"role": "assistant", "content": "Nile, Amazon, Danube."}],
              "prompt": "Name three rivers.\n\n", "completion": "Nile.<|endoftext|>",
              "instruction": "Name three rivers.", "input": "", "output": "Nile.", "text": "x"}  # fmt: skip
    configs = {
        "instructions": instructions,
        "instances": instances,
        "rejected": [{"id": "b", "rejected_by": "no_valid_instances", "rejected_at": "f"}],
        **{
            config: [{column: record[column] for column in columns}]
            for config, columns in FINETUNING_CONFIGS.items()
        },
    }
    Distiset(
        {name: DatasetDict({"train": Dataset.from_list(rows)}) for name, rows in configs.items()}
    ).save_to_disk(root, save_card=False)
    summary = {
        "rejections": {"bootstrap:rouge_similarity": 5, "bootstrap:target_reached": 3,
                       "instance_filter:empty_output": 2,
                       "instance_filter:no_valid_instances": 1},
        "rounds": 2, "stop_reason": "target_reached", "tokens_in": 900, "tokens_out": 300,
        "kept_per_1k_generated_tokens": 6.67, "wall_time_s": 1.0,
        "run": {"command": "distilabel-selfinstruct run --num-instructions 2", "model": "m",
                "parameters": {"num_instructions": 2}},
    }  # fmt: skip
    (root / CARD_FOLDER).mkdir(parents=True, exist_ok=True)
    (root / CARD_FOLDER / RUN_SUMMARY_FILE).write_text(json.dumps(summary), encoding="utf-8")


def test_the_card_parses_as_the_hub_parses_it_with_hub_values(tmp_path):
    _save(tmp_path)
    card = DatasetCard(write_report(tmp_path, "me/rivers").read_text(encoding="utf-8"))
    data = card.data
    assert isinstance(data, DatasetCardData)
    assert set(data.size_categories) <= HUB_SIZE_CATEGORIES
    assert set(data.task_categories) <= HUB_TASK_CATEGORIES
    assert DatasetCardData(**data.to_dict()).to_dict() == data.to_dict()  # a clean round trip
    assert data.pretty_name == "rivers"


def test_the_card_says_what_the_data_says(tmp_path):
    _save(tmp_path)
    text = DatasetCard(write_report(tmp_path).read_text(encoding="utf-8")).text
    instruction_table = text.split("| rule | instructions |")[1].split("\n\n")[0]
    instance_table = text.split("| rule | instances |")[1].split("\n\n")[0]
    assert "| rouge_similarity | 5 |" in instruction_table
    assert "empty_output" not in instruction_table
    assert "| empty_output | 2 |" in instance_table
    assert "no_valid_instances" not in instance_table
    assert "1 of the 2 kept instructions were left without any instance" in text
    limitations = text.split("## Limitations")[1].split("## Figures")[0]
    assert "1 of 2 kept instructions (50%) have no instance" in limitations
    assert "kept 2 of 7 proposed instructions (29%)" in limitations
    assert f"distilabel-selfinstruct=={__version__}" in text
    assert "distilabel pipeline run --config pipeline.yaml" in text
    assert "distilabel-selfinstruct run --num-instructions 2" in text
    samples = text.split("One row of each config")[1].split("## Statistics")[0]
    assert samples.index("`instructions`:") < samples.index("`finetuning_messages`:")
    assert '"output": "Nile, Amazon, Danube."' in samples
