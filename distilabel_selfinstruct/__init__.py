"""Self-Instruct (Wang et al., 2022) as distilabel steps."""

from distilabel_selfinstruct.formats import to_alpaca, to_messages, to_prompt_completion
from distilabel_selfinstruct.llms import (
    EMBEDDED_MODEL_NAME,
    LlamaCppCompletionLLM,
    OpenAICompletionLLM,
    embedded_model_path,
)
from distilabel_selfinstruct.seeds import (
    SeedInstance,
    SeedTask,
    SeedTaskError,
    default_seed_tasks_path,
    load_seed_tasks,
)
from distilabel_selfinstruct.similarity import RougeLIndex
from distilabel_selfinstruct.steps import (
    ClassificationIdentification,
    InstanceFilter,
    InstanceGeneration,
    InstructionFilter,
    InstructionProposal,
    LoadSeedTasks,
    RougeSimilarityFilter,
)

__version__ = "0.1.0"

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "ClassificationIdentification",
    "InstanceFilter",
    "InstanceGeneration",
    "InstructionFilter",
    "InstructionProposal",
    "LlamaCppCompletionLLM",
    "LoadSeedTasks",
    "OpenAICompletionLLM",
    "RougeLIndex",
    "RougeSimilarityFilter",
    "SeedInstance",
    "SeedTask",
    "SeedTaskError",
    "__version__",
    "default_seed_tasks_path",
    "embedded_model_path",
    "load_seed_tasks",
    "to_alpaca",
    "to_messages",
    "to_prompt_completion",
]
