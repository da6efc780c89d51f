"""Self-Instruct (Wang et al., 2022) as distilabel steps."""

import warnings

with warnings.catch_warnings():
    # distilabel 1.5.3's own field declarations make pydantic warn when distilabel is first
    # imported; the warnings say nothing to our users. The filters are restored after.
    warnings.filterwarnings("ignore", message="The 'default' attribute with value None")
    from distilabel_selfinstruct._compat import Pipeline, RayPipeline
    from distilabel_selfinstruct.constants import CONFIGS
    from distilabel_selfinstruct.formats import to_alpaca, to_messages, to_prompt_completion
    from distilabel_selfinstruct.journal import GenerationError, GenerationJournal
    from distilabel_selfinstruct.llms import (
        EMBEDDED_MODEL_NAME,
        JournaledGeneration,
        LlamaCppCompletionLLM,
        OpenAICompletionLLM,
        embedded_model_path,
    )
    from distilabel_selfinstruct.output_dir import OutputDirError, RunLock, check_output_dir
    from distilabel_selfinstruct.pipeline import build_self_instruct_pipeline
    from distilabel_selfinstruct.preflight import PreflightError, check_llama_cpp, check_server
    from distilabel_selfinstruct.publishing.card import write_report
    from distilabel_selfinstruct.publishing.hub import HubPushError, push_to_hub
    from distilabel_selfinstruct.publishing.review import (
        ArgillaReviewError,
        ReviewResult,
        pull_reviews,
        push_for_review,
    )
    from distilabel_selfinstruct.rouge_index import RougeLIndex
    from distilabel_selfinstruct.seed_schema import (
        SeedInstance,
        SeedTask,
        SeedTaskError,
        default_seed_tasks_path,
        load_seed_tasks,
    )
    from distilabel_selfinstruct.steps import (
        ClassificationIdentification,
        CollectRejected,
        FinetuningFormats,
        FlattenInstances,
        InstanceFilter,
        InstanceGeneration,
        InstructionFilter,
        InstructionProposal,
        LoadSeedTasks,
        RougeSimilarityFilter,
        SelfInstructBootstrap,
        SelfInstructToArgilla,
    )
    from distilabel_selfinstruct.supervisor import RunFailed, RunInterrupted, RunSpec, supervise

__version__ = "0.1.0"

__all__ = [
    "CONFIGS",
    "EMBEDDED_MODEL_NAME",
    "ArgillaReviewError",
    "ClassificationIdentification",
    "CollectRejected",
    "FinetuningFormats",
    "FlattenInstances",
    "GenerationError",
    "GenerationJournal",
    "HubPushError",
    "InstanceFilter",
    "InstanceGeneration",
    "InstructionFilter",
    "InstructionProposal",
    "JournaledGeneration",
    "LlamaCppCompletionLLM",
    "LoadSeedTasks",
    "OpenAICompletionLLM",
    "OutputDirError",
    "Pipeline",
    "PreflightError",
    "RayPipeline",
    "ReviewResult",
    "RougeLIndex",
    "RougeSimilarityFilter",
    "RunFailed",
    "RunInterrupted",
    "RunLock",
    "RunSpec",
    "SeedInstance",
    "SeedTask",
    "SeedTaskError",
    "SelfInstructBootstrap",
    "SelfInstructToArgilla",
    "__version__",
    "build_self_instruct_pipeline",
    "check_llama_cpp",
    "check_output_dir",
    "check_server",
    "default_seed_tasks_path",
    "embedded_model_path",
    "load_seed_tasks",
    "pull_reviews",
    "push_for_review",
    "push_to_hub",
    "supervise",
    "to_alpaca",
    "to_messages",
    "to_prompt_completion",
    "write_report",
]
