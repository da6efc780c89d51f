"""The names and defaults of the Self-Instruct pipeline, defined once and read everywhere:
the step names that the summary and the card look up, the dataset's configs and
artifacts, and the method's defaults (the paper's where it has one).

Examples:
    >>> from distilabel_selfinstruct import constants
    >>> constants.LLM_STAGES
    ('bootstrap', 'classification_identification', 'instance_generation')
    >>> constants.SIMILARITY_THRESHOLD
    0.7
"""

from __future__ import annotations

__all__ = [
    "BOOTSTRAP",
    "CARD_FOLDER",
    "CLASSIFICATION",
    "CONFIGS",
    "FINETUNING_ALPACA",
    "FINETUNING_CONFIGS",
    "FINETUNING_MESSAGES",
    "FINETUNING_PROMPT_COMPLETION",
    "INSTANCES_CONFIG",
    "INSTANCE_FILTER",
    "INSTANCE_GENERATION",
    "INSTRUCTIONS_CONFIG",
    "LLM_STAGES",
    "MAX_INSTANCES_PER_TASK",
    "NUM_INSTRUCTIONS",
    "NUM_PROMPTS",
    "REJECTED_ARTIFACT",
    "REJECTED_CONFIG",
    "REVIEW_DATASET",
    "REVIEW_SAMPLE_SIZE",
    "RUN_SUMMARY_FILE",
    "SEED",
    "SEED_TASKS_ARTIFACT",
    "SIMILARITY_THRESHOLD",
]

# The steps of `build_self_instruct_pipeline` that the run summary and the card read.
BOOTSTRAP = "bootstrap"
CLASSIFICATION = "classification_identification"
INSTANCE_GENERATION = "instance_generation"
INSTANCE_FILTER = "instance_filter"
# The stages that prompt an LLM, in pipeline order.
LLM_STAGES = (BOOTSTRAP, CLASSIFICATION, INSTANCE_GENERATION)

# The Distiset's configs: the pipeline's leaf steps carry these names.
INSTRUCTIONS_CONFIG = "instructions"
INSTANCES_CONFIG = "instances"
REJECTED_CONFIG = "rejected"
# One config per fine-tuning format, each with only its format's columns, so that TRL's
# `SFTTrainer` reads it as it is (its dataset formats: conversational `messages`,
# `prompt`/`completion`, language-modeling `text`).
FINETUNING_MESSAGES = "finetuning_messages"
FINETUNING_PROMPT_COMPLETION = "finetuning_prompt_completion"
FINETUNING_ALPACA = "finetuning_alpaca"
FINETUNING_CONFIGS = {
    FINETUNING_MESSAGES: ("messages",),
    FINETUNING_PROMPT_COMPLETION: ("prompt", "completion"),
    FINETUNING_ALPACA: ("instruction", "input", "output", "text"),
}
CONFIGS = (INSTRUCTIONS_CONFIG, INSTANCES_CONFIG, REJECTED_CONFIG, *FINETUNING_CONFIGS)

# Artifacts (`artifacts/<step>/<name>/`): each filter's rejected rows, the bootstrap's seeds.
REJECTED_ARTIFACT = "rejected"
SEED_TASKS_ARTIFACT = "seed_tasks"
# Beside distilabel's own pipeline.yaml: the dataset's top level holds only its configs, so
# that `Distiset.load_from_disk` reads it back.
CARD_FOLDER = "distiset_configs"
RUN_SUMMARY_FILE = "run_summary.json"

# The method's defaults.
SIMILARITY_THRESHOLD = 0.7  # highest ROUGE-L F1 with the pool a new instruction may have
NUM_PROMPTS = 5  # proposal prompts per bootstrap round (the paper's request batch)
NUM_INSTRUCTIONS = 100  # the default run's target (the paper: 52K)
MAX_INSTANCES_PER_TASK = 5  # instances asked for, and kept, per task
SEED = 42
REVIEW_DATASET = "self-instruct-review"  # the Argilla dataset of the human review
REVIEW_SAMPLE_SIZE = 200  # instances sent to review (the paper reviewed 200)
