"""What every LLM of this package adds to distilabel's: a generation journal, so that a
rerun repeats no finished generation, picklable errors, and the prompt sent as raw text
where the backend can take it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms import InferenceEndpointsLLM, LlamaCppLLM, OpenAILLM, vLLM
from distilabel.models.llms.base import AsyncLLM
from pydantic import BaseModel, Field, PrivateAttr

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.journal import GenerationError, GenerationJournal

if TYPE_CHECKING:
    from distilabel.models.llms.base import LLM
    from distilabel.typing import FormattedInput, GenerateOutput

__all__ = ["JournaledGeneration", "PromptMode", "check_raw_prompt_llm", "prompt_as_llm_input"]

# How a string prompt reaches the model: as raw text, or as one user message (chat models).
PromptMode = Literal["completion", "chat"]


class JournaledGeneration(BaseModel):
    """Gives an LLM a generation journal (see `GenerationJournal`): with `journal_dir` set,
    `generate_outputs` returns recorded outputs for prompts it has seen and records the new
    ones as they finish (one by one for synchronous backends, per call for async ones).

    Every output, new or replayed, goes through the same JSON round trip, so a resumed run
    and an uninterrupted one return identical values. LLM classes mixing this in name
    their identity (model file, server and model name, prompt mode) in
    `_journal_identity()`.
    """

    journal_dir: RuntimeParameter[str] | None = Field(
        default=None,
        description="A directory recording every finished generation; a rerun replays them.",
    )

    _journal: GenerationJournal | None = PrivateAttr(default=None)

    def _journal_identity(self) -> dict[str, Any]:
        raise NotImplementedError

    def _generation_order(self, inputs: list[FormattedInput]) -> list[int]:
        """The order in which to generate `inputs` (their outputs must not depend on it)."""
        return list(range(len(inputs)))

    def generate_outputs(
        self, inputs: list[FormattedInput], num_generations: int = 1, **kwargs: Any
    ) -> list[GenerateOutput]:
        parent = super().generate_outputs  # type: ignore[misc]

        def generate(**arguments: Any) -> list[GenerateOutput]:
            try:
                return parent(**arguments)
            except Exception as error:
                where = ", ".join(f"{k}={v}" for k, v in self._journal_identity().items())
                message = " ".join(str(error).split())[:500]
                raise GenerationError(f"{type(error).__name__} from {where}: {message}") from None

        if self.journal_dir is None:
            return generate(inputs=inputs, num_generations=num_generations, **kwargs)
        if self._journal is None:
            self._journal = GenerationJournal(self.journal_dir)
        journal = self._journal
        identity = self._journal_identity()
        keys = [
            GenerationJournal.key(
                model=identity, input=input, num_generations=num_generations, kwargs=kwargs
            )
            for input in inputs
        ]
        missing = [index for index, key in enumerate(keys) if key not in journal]
        missing = [missing[i] for i in self._generation_order([inputs[i] for i in missing])]
        results: dict[int, GenerateOutput] = {}
        # An async LLM sends the whole batch at once and its outputs are fsynced together.
        chunk = max(len(missing), 1) if isinstance(self, AsyncLLM) else 1
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            outputs = generate(
                inputs=[inputs[index] for index in part], num_generations=num_generations, **kwargs
            )
            recorded = journal.put_many(
                (keys[index], output) for index, output in zip(part, outputs, strict=True)
            )
            results.update(zip(part, recorded, strict=True))
        replayed = len(inputs) - len(missing)
        if replayed:
            step_logger(self).info(
                f"generation journal: {replayed} of {len(inputs)} generation(s) replayed"
                f" from {self.journal_dir}"
            )
        return [
            results[index] if index in results else journal.get(key)
            for index, key in enumerate(keys)
        ]


def prompt_as_llm_input(llm: LLM, prompt: str) -> FormattedInput:
    """The prompt as the LLM should receive it: raw text for LLMs with a completion path,
    one user message for chat-only LLMs.
    """
    raw_capable = (
        JournaledGeneration,  # every LLM of this package takes raw text
        OpenAILLM,
        vLLM,
        InferenceEndpointsLLM,
    )
    if isinstance(llm, raw_capable):
        return prompt
    return [{"role": "user", "content": prompt}]


def check_raw_prompt_llm(llm: LLM, task: str | None, needs_stop: bool = True) -> None:
    """Refuses, with one line, an LLM that would not send a task's prompt as it is: one that
    applies a chat template to a base model's prompt, or drops its stop sequences.

    Raises:
        TypeError: naming the LLM, what it would do, and the class to use instead.

    Examples:
        >>> from distilabel.models.llms import OpenAILLM
        >>> check_raw_prompt_llm(OpenAILLM(model="m", api_key="k"), "proposal")
        Traceback (most recent call last):
        ...
        TypeError: proposal: distilabel's OpenAILLM sends a text prompt to /v1/completions without its stop sequences, so the model writes past the end of each item; use distilabel_selfinstruct.OpenAICompletionLLM(base_url=..., model=...)
    """
    where = f"{task}: " if task else ""
    if isinstance(llm, JournaledGeneration):
        return
    if isinstance(llm, LlamaCppLLM):
        raise TypeError(
            f"{where}distilabel's LlamaCppLLM wraps every prompt in the model's chat template,"
            " which a base model does not continue; use"
            " distilabel_selfinstruct.LlamaCppCompletionLLM(model_path=...) (mode='chat' for"
            " a chat model)"
        )
    if isinstance(llm, OpenAILLM):
        raise TypeError(
            f"{where}distilabel's {type(llm).__name__} sends a text prompt to /v1/completions"
            " without its stop sequences, so the model writes past the end of each item; use"
            " distilabel_selfinstruct.OpenAICompletionLLM(base_url=..., model=...)"
        )
    accepted = {parameter.name for parameter in llm.generate_parameters}
    if needs_stop and not accepted & {"stop", "stop_sequences"}:
        raise TypeError(
            f"{where}{type(llm).__name__} takes no stop sequences, which Self-Instruct's"
            " prompts need to end each generation; use an LLM that does (e.g."
            " distilabel_selfinstruct.OpenAICompletionLLM against a server with the model)"
        )
