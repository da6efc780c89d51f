"""The LLMs of Self-Instruct: base models prompted with raw text, a generation journal."""

from distilabel_selfinstruct.llms.journaled import JournaledGeneration, prompt_as_llm_input
from distilabel_selfinstruct.llms.llama_cpp import (
    EMBEDDED_MODEL_NAME,
    LlamaCppCompletionLLM,
    embedded_model_path,
)
from distilabel_selfinstruct.llms.openai_completions import OpenAICompletionLLM

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "JournaledGeneration",
    "LlamaCppCompletionLLM",
    "OpenAICompletionLLM",
    "embedded_model_path",
    "prompt_as_llm_input",
]
