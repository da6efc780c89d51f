"""The dataset card (`README.md`): how the data was made, the paper's statistics,
rejections and figures, with a YAML header the Hub reads.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distilabel_selfinstruct.constants import (
    BOOTSTRAP,
    CARD_FOLDER,
    CONFIGS,
    FINETUNING_CONFIGS,
    INSTANCES_CONFIG,
    INSTRUCTIONS_CONFIG,
    LLM_STAGES,
    REJECTED_CONFIG,
    RUN_SUMMARY_FILE,
    SEED_TASKS_ARTIFACT,
    SIMILARITY_THRESHOLD,
)
from distilabel_selfinstruct.llms.llama_cpp import EMBEDDED_MODEL_NAME
from distilabel_selfinstruct.publishing.figures import (
    FIGURES,
    plot_lengths,
    plot_similarity_to_seeds,
    plot_verbs,
    similarity_to_seeds,
)
from distilabel_selfinstruct.publishing.statistics import (
    dataset_statistics,
    summarize_run,
    verb_object_counts,
)
from distilabel_selfinstruct.seed_schema import SeedTask, load_seed_tasks

if TYPE_CHECKING:
    import jinja2
    from datasets import Dataset
    from distilabel.distiset import Distiset
    from huggingface_hub import DatasetCardData

__all__ = ["CITATION", "card_metadata", "write_report"]

CITATION = """@inproceedings{wang-etal-2023-self-instruct,
    title = "Self-Instruct: Aligning Language Models with Self-Generated Instructions",
    author = "Wang, Yizhong and Kordi, Yeganeh and Mishra, Swaroop and Liu, Alisa and
      Smith, Noah A. and Khashabi, Daniel and Hajishirzi, Hannaneh",
    booktitle = "Proceedings of the 61st Annual Meeting of the Association for
      Computational Linguistics (Volume 1: Long Papers)",
    year = "2023",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/2023.acl-long.754",
    pages = "13484--13508",
}"""

_VERB_METHOD = (
    "Verbs and objects come from a rule, not a parser (no parser model can be installed "
    "without a download at run time): the first word of an imperative instruction is its "
    "verb, and the first later word that is not a determiner, pronoun, number or common "
    "adjective is its object (`publishing.statistics.leading_verb_object`)."
)

_GEMMA_TERMS = "https://ai.google.dev/gemma/terms"


@cache
def _template() -> jinja2.Template:
    import jinja2

    source = resources.files("distilabel_selfinstruct") / "templates/dataset_card.md.jinja2"
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(source.read_text(encoding="utf-8"))


def _size_category(rows: int) -> str:
    """The Hub's size category for `rows` (distilabel's own parser: `n<1K`, ..., `n>1T`)."""
    from distilabel.utils.card.dataset_card import size_categories_parser

    return size_categories_parser(rows)


def _is_embedded(model: str) -> bool:
    return model == EMBEDDED_MODEL_NAME


def card_metadata(model: str, instances: int, title: str) -> DatasetCardData:
    """The card's YAML header (without `configs`/`dataset_info`, which `datasets` writes
    when it pushes the data): tags, task, language, size and, where known, the license of
    the model's outputs.
    """
    from huggingface_hub import DatasetCardData

    license_fields = (
        {"license": "other", "license_name": "gemma-terms-of-use", "license_link": _GEMMA_TERMS}
        if _is_embedded(model)
        else {}
    )
    return DatasetCardData(
        pretty_name=title,
        language=["en"],
        task_categories=["text-generation"],
        tags=["synthetic", "distilabel", "self-instruct"],
        size_categories=[_size_category(instances)],
        **license_fields,
    )


def write_report(dataset_dir: str | os.PathLike[str], repo_id: str | None = None) -> Path:
    """Writes the dataset card (`README.md`) and its figures (`figures/*.png`) into the
    saved dataset's `distiset_configs/` folder, and returns the card's path.

    The dataset is a directory saved by `distilabel-selfinstruct run` (or any
    `Distiset.save_to_disk` of `build_self_instruct_pipeline`'s output); the run's
    `run_summary.json` (command, model, parameters), the bootstrap's `seed_tasks` artifact
    and its totals are read when present.

    Raises:
        FileNotFoundError: when `dataset_dir` holds no `instructions` config.

    Examples:
        ```python
        from distilabel_selfinstruct import build_self_instruct_pipeline, write_report

        if __name__ == "__main__":
            pipeline = build_self_instruct_pipeline(num_instructions=3, num_prompts=2)
            pipeline.run(use_cache=False).save_to_disk("my-run", save_card=False)
            card = write_report("my-run")  # my-run/distiset_configs/README.md
            print(card.read_text().splitlines()[0])
        ```

        ```text
        ---
        ```
    """
    from distilabel.distiset import Distiset
    from huggingface_hub import DatasetCard

    root = Path(dataset_dir)
    if not (root / INSTRUCTIONS_CONFIG).is_dir():
        raise FileNotFoundError(f"{root} holds no Self-Instruct dataset (no `instructions` config)")
    distiset = Distiset.load_from_disk(root)
    folder = root / CARD_FOLDER
    summary_path = folder / RUN_SUMMARY_FILE
    summary = (
        json.loads(summary_path.read_text(encoding="utf-8"))
        if summary_path.exists()
        else summarize_run(distiset)
    )
    run = summary.get("run") or {}
    instructions = distiset[INSTRUCTIONS_CONFIG]["train"]
    model = _model_description(run, instructions)
    seed_tasks, seed_meta = _seed_tasks(distiset.artifacts_path or root / "artifacts")
    threshold = float((run.get("parameters") or {}).get("threshold", SIMILARITY_THRESHOLD))
    shown = _write_figures(distiset, seed_tasks, threshold, folder / "figures")
    title = repo_id.split("/")[-1] if repo_id else "Self-Instruct dataset"
    stats = dataset_statistics(distiset)
    rejections = _rejections_by_kind(summary.get("rejections") or {})
    body = _template().render(
        version=_version(),
        repository=_repository(),
        embedded=_is_embedded(model),
        rejections=rejections,
        samples=_sample_rows(distiset),
        limitations=_limitations(stats, rejections["instructions"], model),
        title=title,
        model=model,
        seeds={
            "count": seed_meta.get("count", len(seed_tasks)),
            "source": seed_meta.get("source") or "the package's default seed set",
            "digest": seed_meta.get("seeds_digest", "unknown"),
        },
        parameters=run.get("parameters") or {},
        command=run.get("command") or "see pipeline.yaml (distilabel pipeline run --config ...)",
        license_note=_license_note(model),
        stats=stats,
        summary=summary,
        finetuning_rows={config: _num_rows(distiset, config) for config in FINETUNING_CONFIGS},
        rejected_rows=_num_rows(distiset, REJECTED_CONFIG),
        repo_id=repo_id or "<user>/<dataset>",
        figures=shown,
        verb_method=_VERB_METHOD,
        citation=CITATION,
    )
    metadata = card_metadata(model, stats["instances"], title)
    card = DatasetCard(f"---\n{metadata.to_yaml()}\n---\n\n{body}")
    path = folder / "README.md"
    partial = path.with_suffix(".md.partial")
    partial.write_text(str(card), encoding="utf-8")
    os.replace(partial, path)
    return path


def _num_rows(distiset: Distiset, config: str) -> int:
    return distiset[config]["train"].num_rows if config in distiset else 0


def _model_description(run: dict[str, Any], instructions: Dataset) -> str:
    """The run's model, or each stage's model when stages had their own."""
    model = run.get("model") or (instructions["model_name"][0] if len(instructions) else "unknown")
    stage_models = run.get("stage_models") or {}
    if stage_models:
        model = "; ".join(f"{stage}: {stage_models.get(stage, model)}" for stage in LLM_STAGES)
    return model


def _license_note(model: str) -> str:
    if _is_embedded(model):
        return (
            "the embedded model is Google's Gemma 3 270M; its outputs fall under the [Gemma "
            f"Terms of Use]({_GEMMA_TERMS})."
        )
    return "not known to this tool: the terms of the model named above apply."


def _seed_tasks(artifacts: Path) -> tuple[list[SeedTask], dict[str, Any]]:
    """The bootstrap's seed tasks and their metadata (count, source, digest), if saved."""
    folder = artifacts / BOOTSTRAP / SEED_TASKS_ARTIFACT
    tasks_path, meta_path = folder / "seed_tasks.jsonl", folder / "metadata.json"
    tasks = load_seed_tasks(tasks_path) if tasks_path.exists() else []
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return tasks, meta


def _write_figures(
    distiset: Distiset, seed_tasks: list[SeedTask], threshold: float, figures: Path
) -> dict[str, str]:
    """Draws the card's figures into `figures`; returns those drawn, with their captions."""
    instructions = distiset[INSTRUCTIONS_CONFIG]["train"]["instruction"]
    instances = (
        distiset[INSTANCES_CONFIG]["train"].to_list() if INSTANCES_CONFIG in distiset else []
    )
    shown = dict(FIGURES)
    if seed_tasks:
        seeds = [task.instruction for task in seed_tasks]
        scores = similarity_to_seeds(instructions, seeds)
        plot_similarity_to_seeds(scores, threshold, figures / "similarity_to_seeds.png")
    else:  # a dataset saved before the bootstrap kept its seed tasks
        del shown["similarity_to_seeds.png"]
        (figures / "similarity_to_seeds.png").unlink(missing_ok=True)
    plot_lengths(
        [len(text.split()) for text in instructions],
        [len(row["input"].split()) for row in instances if row["input"].strip()],
        [len(row["output"].split()) for row in instances],
        figures / "lengths.png",
    )
    plot_verbs(verb_object_counts(instructions), figures / "verbs.png", total=len(instructions))
    return shown


def _version() -> str:
    from distilabel_selfinstruct import __version__

    return __version__


def _repository() -> str | None:
    """The package's repository, when its metadata names one."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("distilabel-selfinstruct").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    return next((url.split(",", 1)[1].strip() for url in urls if "," in url), None)


def _rejections_by_kind(rejections: dict[str, int]) -> dict[str, dict[str, int]]:
    """`step:rule` counts as instruction rules (the bootstrap's) and instance rules (the
    instance filter's; `no_valid_instances` counts tasks, and the card says so apart)."""
    split: dict[str, dict[str, int]] = {"instructions": {}, "instances": {}}
    for key, count in rejections.items():
        step, _, rule = key.partition(":")
        if rule == "no_valid_instances":
            continue
        split["instructions" if step == BOOTSTRAP else "instances"][rule] = count
    return split


def _limitations(stats: dict[str, Any], judged: dict[str, int], model: str) -> list[str]:
    """What the data cannot be trusted for, from its own figures."""
    lines = []
    if _is_embedded(model):
        lines.append(
            "The model is a 270M-parameter base model, small enough to run anywhere on a CPU:"
            " it writes fluent instructions, but many of its inputs and outputs are wrong or"
            " trivial. Review the data before training on it, or regenerate the instances"
            " with a stronger model (`--instance-base-url`)."
        )
    kept, empty = stats["instructions"], stats["instructions_without_instances"]
    if kept and empty:
        lines.append(
            f"{empty:,} of {kept:,} kept instructions ({empty / kept:.0%}) have no instance;"
            " the fine-tuning configs hold only instructions with one."
        )
    proposed = kept + sum(count for rule, count in judged.items() if rule != "target_reached")
    if proposed:
        lines.append(
            f"The bootstrap kept {kept:,} of {proposed:,} proposed instructions ({kept / proposed:.0%});"
            " the filtering tables above give each rule's share."
        )
    lines.append(
        "Nobody reviewed these rows: push a sample to Argilla (`distilabel-selfinstruct review"
        " push`) for the paper's human evaluation."
    )
    return lines


def _shortened(value: Any, limit: int = 160) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 3] + "..."
    if isinstance(value, list):
        return [_shortened(item, limit) for item in value]
    if isinstance(value, dict):
        return {key: _shortened(item, limit) for key, item in value.items()}
    return value


def _sample_rows(distiset: Distiset) -> dict[str, str]:
    """The first row of each non-empty config, as indented JSON."""
    samples = {}
    for config in [name for name in CONFIGS if name in distiset]:
        rows = distiset[config]["train"]
        if len(rows):
            row = {k: v for k, v in rows[0].items() if k != "distilabel_metadata"}
            samples[config] = json.dumps(_shortened(row), indent=2, ensure_ascii=False)
    return samples
