"""Builds the Self-Instruct pipeline from the steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from distilabel.models.llms.base import LLM
from distilabel.pipeline import Pipeline as _DistilabelPipeline
from distilabel.pipeline import RayPipeline as _DistilabelRayPipeline
from distilabel.pipeline.base import BasePipeline

from distilabel_selfinstruct._compat import Pipeline, RayPipeline
from distilabel_selfinstruct.constants import (
    BOOTSTRAP,
    CLASSIFICATION,
    FINETUNING_CONFIGS,
    INSTANCE_FILTER,
    INSTANCE_GENERATION,
    INSTANCES_CONFIG,
    INSTRUCTIONS_CONFIG,
    LLM_STAGES,
    NUM_INSTRUCTIONS,
    NUM_PROMPTS,
    REJECTED_CONFIG,
    SEED,
    SIMILARITY_THRESHOLD,
)
from distilabel_selfinstruct.llms import (
    JournaledGeneration,
    LlamaCppCompletionLLM,
    OpenAICompletionLLM,
)
from distilabel_selfinstruct.steps import (
    ClassificationIdentification,
    CollectRejected,
    FinetuningFormats,
    FlattenInstances,
    InstanceFilter,
    InstanceGeneration,
    SelfInstructBootstrap,
)
from distilabel_selfinstruct.steps.bootstrap import BOOTSTRAP_COLUMNS
from distilabel_selfinstruct.steps.exports import SelectColumns

__all__ = [
    "INSTRUCTION_COLUMNS",
    "build_from_options",
    "build_self_instruct_pipeline",
    "llm_from_options",
]

# The `instructions` config: the bootstrap's columns (every row is machine-made, so not
# `origin`), the classification, and the token statistics of every stage.
INSTRUCTION_COLUMNS = [
    *(column for column in BOOTSTRAP_COLUMNS if column != "origin"),
    "is_classification",
    "classification_error",
    "num_instances",
    "distilabel_metadata",
]


def build_self_instruct_pipeline(
    llm_factory: Callable[[], LLM] = LlamaCppCompletionLLM,
    seeds: str | list[dict[str, Any]] | None = None,
    seed_columns: Mapping[str, str] | None = None,
    num_instructions: int = NUM_INSTRUCTIONS,
    num_prompts: int = NUM_PROMPTS,
    max_rounds: int | None = None,
    max_generated_tokens: int | None = None,
    seed: int = SEED,
    threshold: float = SIMILARITY_THRESHOLD,
    paper_rules: bool = False,
    stage_llm_factories: Mapping[str, Callable[[], LLM]] | None = None,
    journal_dir: str | Path | None = None,
    name: str = "self-instruct",
    cache_dir: str | Path | None = None,
    pipeline_class: type[BasePipeline] = Pipeline,
    **pipeline_kwargs: Any,
) -> BasePipeline:
    """The whole Self-Instruct method as one distilabel pipeline.

    `bootstrap` (`SelfInstructBootstrap`: the seed pool, proposal rounds, heuristic and
    ROUGE-L filters, until `num_instructions` are kept) → `classification_identification`
    → `instance_generation` → `instance_filter`. Four leaf steps make the Distiset's
    configs (`CONFIGS`):

    - `instructions`: every instruction the bootstrap kept, with its provenance
      (`INSTRUCTION_COLUMNS`: round, prompt tasks, most similar pool instruction and score,
      is_classification, `num_instances` after the filter, token statistics in
      `distilabel_metadata`); one with no instance left has `num_instances` 0 and is also
      in `rejected` as `no_valid_instances`;
    - `instances`: one row per kept instance;
    - `finetuning_messages`, `finetuning_prompt_completion`, `finetuning_alpaca`: one
      fine-tuning record per instance in each format, each config holding only its
      format's columns, so that TRL's `SFTTrainer` takes it as it is (`FINETUNING_CONFIGS`);
    - `rejected`: every rejected instruction and instance with its rule.

    It is an ordinary distilabel pipeline: connect more steps to any of these (a quality
    scorer after `instance_filter`, ...) inside `with pipeline:`, and run it with any
    pipeline class (`pipeline_class=RayPipeline` for a Ray cluster). Each task gets its own
    LLM from `llm_factory`; with `journal_dir`, LLMs that keep a generation journal
    (this package's) record every finished generation there, so that running the same
    pipeline again after a crash repeats none and ends with the same dataset.

    Args:
        llm_factory: makes one LLM per task (default: the embedded model, completion mode).
        seeds: a seed source (path, Hub id or list of tasks, in the release's schema or
            Alpaca's); `None` for the package's default seed set.
        seed_columns: our seed field -> the source's column, for other column names.
        num_instructions: machine-made instructions to keep.
        num_prompts: proposal prompts per round.
        max_rounds: stop the bootstrap after this many rounds.
        max_generated_tokens: stop the bootstrap once it generated this many tokens.
        seed: seed of the prompt sampling, the instance sample, the fine-tuning layouts,
            and of the LLMs' sampling where the backend takes one.
        threshold: ROUGE-L novelty threshold.
        paper_rules: `True` applies the paper's filters and parser exactly, without the
            rules beyond it (`quality_rules`, the lone-field output of `parse_input_first`).
        stage_llm_factories: a different LLM for some stages, by stage name
            (`"bootstrap"`, `"classification_identification"`, `"instance_generation"`);
            the others use `llm_factory`. The paper found better outputs matter most, so
            a stronger `"instance_generation"` model is the usual choice.
        journal_dir: where finished generations are recorded (`None`: not recorded).
        name: the pipeline's name (its cache key).
        cache_dir: distilabel's cache directory.
        pipeline_class: `Pipeline` (the default) or `RayPipeline`; distilabel's classes
            are replaced by this package's (`distilabel_selfinstruct.Pipeline`,
            `RayPipeline`), which do not hang when a filter keeps nothing.
        **pipeline_kwargs: passed to the pipeline class (e.g. `ray_head_node_url`).

    Examples:
        ```python
        from distilabel_selfinstruct.pipeline import build_self_instruct_pipeline

        if __name__ == "__main__":
            pipeline = build_self_instruct_pipeline(num_instructions=3, num_prompts=2)
            distiset = pipeline.run(use_cache=False)
            print(len(distiset["instructions"]["train"]))
            print(distiset["finetuning_messages"]["train"][0])
        ```

        ```text
        3
        {'messages': [{'role': 'user', 'content': ...}, {'role': 'assistant', 'content': ...}]}
        ```
    """

    unknown = set(stage_llm_factories or {}) - set(LLM_STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; stages with an LLM: {LLM_STAGES}")
    llms = {
        stage: _stage_llm((stage_llm_factories or {}).get(stage, llm_factory), seed, journal_dir)
        for stage in LLM_STAGES
    }
    seed_source = {"tasks": seeds} if isinstance(seeds, list) else {"source": seeds}
    seed_source["columns"] = dict(seed_columns) if seed_columns else None
    pipeline_class = {_DistilabelPipeline: Pipeline, _DistilabelRayPipeline: RayPipeline}.get(
        pipeline_class, pipeline_class
    )
    with pipeline_class(name=name, cache_dir=cache_dir, **pipeline_kwargs) as pipeline:
        bootstrap = SelfInstructBootstrap(
            name=BOOTSTRAP,
            llm=llms[BOOTSTRAP],
            num_instructions=num_instructions,
            num_prompts=num_prompts,
            max_rounds=max_rounds,
            max_generated_tokens=max_generated_tokens,
            seed=seed,
            threshold=threshold,
            beyond_paper=not paper_rules,
            add_raw_input=False,
            **seed_source,
        )
        _add_later_stages(bootstrap, llms, seed, paper_rules)
    return pipeline


def _stage_llm(factory: Callable[[], LLM], seed: int, journal_dir: str | Path | None) -> LLM:
    """A stage's LLM, with the run's seed and journal where it takes them."""
    llm = factory()
    if any(parameter.name == "seed" for parameter in llm.generate_parameters):
        llm.generation_kwargs = {"seed": seed, **(llm.generation_kwargs or {})}
    if journal_dir is not None and isinstance(llm, JournaledGeneration):
        llm.journal_dir = str(journal_dir)
    return llm


def _add_later_stages(
    bootstrap: SelfInstructBootstrap, llms: Mapping[str, LLM], seed: int, paper_rules: bool
) -> None:
    """Classification, instances, their filter and the four configs, after `bootstrap`
    (inside the pipeline's `with` block)."""
    classification = ClassificationIdentification(
        name=CLASSIFICATION, llm=llms[CLASSIFICATION], add_raw_input=False
    )
    instances = InstanceGeneration(
        name=INSTANCE_GENERATION,
        llm=llms[INSTANCE_GENERATION],
        beyond_paper=not paper_rules,
        add_raw_input=False,
    )
    instance_filter = InstanceFilter(
        name=INSTANCE_FILTER, seed=seed, beyond_paper=not paper_rules, keep_empty_tasks=True
    )
    instructions = SelectColumns(name=INSTRUCTIONS_CONFIG, columns=INSTRUCTION_COLUMNS)
    flat = FlattenInstances(name=INSTANCES_CONFIG)
    finetuning = FinetuningFormats(name="finetuning_formats", seed=seed)
    formats = [
        SelectColumns(name=config, columns=list(columns))
        for config, columns in FINETUNING_CONFIGS.items()
    ]
    rejected = CollectRejected(name=REJECTED_CONFIG, sources=[BOOTSTRAP, INSTANCE_FILTER])
    bootstrap >> classification >> instances >> instance_filter
    instance_filter >> [instructions, flat, finetuning, rejected]
    finetuning >> formats


def llm_from_options(
    base_url: str | None = None,
    model: str | None = None,
    model_path: str | None = None,
    mode: str = "completion",
    max_concurrency: int | None = None,
    verbose: bool = False,
) -> LLM:
    """The LLM the main job's options name: an OpenAI-compatible server (`base_url` and
    `model`, at most `max_concurrency` requests in flight), a GGUF file (`model_path`), or
    the embedded model (llama.cpp's own messages shown with `verbose`).
    """
    if base_url:
        return OpenAICompletionLLM(
            base_url=base_url, model=model, mode=mode, max_concurrency=max_concurrency
        )
    return LlamaCppCompletionLLM(model_path=model_path, mode=mode, verbose=verbose)


def build_from_options(
    llm: dict[str, Any] | None = None,
    stage_llms: dict[str, dict[str, Any]] | None = None,
    ray: bool = False,
    ray_address: str | None = None,
    **kwargs: Any,
) -> BasePipeline:
    """`build_self_instruct_pipeline` from JSON-serialisable options (what a supervised
    run's child process receives): `llm` holds `llm_from_options`'s arguments,
    `stage_llms` the same for stages with their own model (see `LLM_STAGES`), `ray`
    selects `RayPipeline` (on `ray_address`), the rest are passed on.
    """

    def factory(options: dict[str, Any] | None) -> Callable[[], LLM]:
        return lambda: llm_from_options(**(options or {}))

    kwargs["stage_llm_factories"] = {
        stage: factory(options) for stage, options in (stage_llms or {}).items()
    }
    llm_factory = factory(llm)

    if ray:
        kwargs.update(pipeline_class=RayPipeline, ray_head_node_url=ray_address)
    return build_self_instruct_pipeline(llm_factory=llm_factory, **kwargs)
