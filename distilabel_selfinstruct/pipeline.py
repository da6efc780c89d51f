"""Builds the Self-Instruct pipeline from the steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distilabel.models.llms.base import LLM
from distilabel.pipeline import Pipeline

from distilabel_selfinstruct.llms import LlamaCppCompletionLLM
from distilabel_selfinstruct.steps import (
    ClassificationIdentification,
    InstanceFilter,
    InstanceGeneration,
    InstructionFilter,
    InstructionProposal,
    LoadSeedTasks,
    RougeSimilarityFilter,
)

__all__ = ["build_self_instruct_pipeline"]


def build_self_instruct_pipeline(
    llm_factory: Callable[[], LLM] = LlamaCppCompletionLLM,
    seeds: str | list[dict[str, Any]] | None = None,
    num_prompts: int = 5,
    seed: int = 42,
    threshold: float = 0.7,
    name: str = "self-instruct",
    cache_dir: str | None = None,
) -> Pipeline:
    """A pipeline that runs every Self-Instruct stage once over the seed pool.

    load_seed_tasks → instruction_proposal → instruction_filter → rouge_similarity_filter
    (which also receives the seeds, its initial pool) → classification_identification →
    instance_generation → instance_filter. Each task gets its own LLM from `llm_factory`.
    The leaf step's rows (instructions with their instances) form the Distiset's default
    config; rejected rows are artifacts of the filter steps.

    Args:
        llm_factory: makes one LLM per task (default: the embedded model, completion mode).
        seeds: a seed source for `LoadSeedTasks` (path, Hub id or list); `None` for the
            package's default seed set.
        num_prompts: proposal prompts.
        seed: seed of the prompt sampling, the instance sample, and of the LLMs' sampling
            where the backend takes one (so a rerun gives the same dataset).
        threshold: ROUGE-L novelty threshold.
        name: the pipeline's name (its cache key).
        cache_dir: distilabel's cache directory.

    Examples:
        ```python
        from distilabel_selfinstruct.pipeline import build_self_instruct_pipeline

        if __name__ == "__main__":
            distiset = build_self_instruct_pipeline(num_prompts=2).run(use_cache=False)
            print(distiset["default"]["train"][0])
        ```
    """

    def make_llm() -> LLM:
        """An LLM from the factory, with the run's seed where the backend takes one."""
        llm = llm_factory()
        if any(parameter.name == "seed" for parameter in llm.generate_parameters):
            llm.generation_kwargs = {"seed": seed, **(llm.generation_kwargs or {})}
        return llm

    with Pipeline(name=name, cache_dir=cache_dir) as pipeline:
        if isinstance(seeds, list):
            load_seeds = LoadSeedTasks(name="load_seed_tasks", tasks=seeds)
        else:
            load_seeds = LoadSeedTasks(name="load_seed_tasks", source=seeds)
        proposal = InstructionProposal(
            name="instruction_proposal", llm=make_llm(), num_prompts=num_prompts, seed=seed
        )
        instruction_filter = InstructionFilter(name="instruction_filter")
        similarity = RougeSimilarityFilter(name="rouge_similarity_filter", threshold=threshold)
        classification = ClassificationIdentification(
            name="classification_identification", llm=make_llm()
        )
        instances = InstanceGeneration(name="instance_generation", llm=make_llm())
        instance_filter = InstanceFilter(name="instance_filter", seed=seed)

        load_seeds >> proposal >> instruction_filter
        [load_seeds, instruction_filter] >> similarity
        similarity >> classification >> instances >> instance_filter
    return pipeline
