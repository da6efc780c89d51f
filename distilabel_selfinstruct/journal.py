"""The generation journal: every finished generation on disk, so that a rerun repeats none.

A run killed at any moment (SIGKILL included) loses at most the generations in flight. The
next run with the same settings finds every finished one in the journal, by a key made of
the model's identity, the prompt, the number of generations and the sampling parameters,
and generates only what is missing. Sampling seeds are per prompt (never per call), so a
replayed generation is the one an uninterrupted run would have made.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import AsyncLLM
from pydantic import BaseModel, Field, PrivateAttr

if TYPE_CHECKING:
    from distilabel.typing import FormattedInput, GenerateOutput

__all__ = ["GenerationError", "GenerationJournal", "JournaledGeneration"]


class GenerationError(RuntimeError):
    """A generation failed. It carries only a message, so that it crosses process
    boundaries: the client libraries' own exceptions hold locks and queues that cannot be
    pickled, and distilabel then loses the real error.
    """


class GenerationJournal:
    """Append-only JSONL files in one directory, one file per writing process.

    Each line is `{"key": ..., "output": ...}`, flushed and fsynced before the generation
    counts as done. Lines cut short by a kill are skipped when the journal is read.

    Examples:
        >>> import tempfile
        >>> journal = GenerationJournal(tempfile.mkdtemp())
        >>> key = GenerationJournal.key(model="m", input="Say hi.", kwargs={})
        >>> journal.put(key, {"generations": ["Hi."]})
        >>> GenerationJournal(journal.directory).get(key)
        {'generations': ['Hi.']}
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, Any] = {}
        for path in sorted(self.directory.glob("*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # the last line of a file whose writer was killed
                    if isinstance(entry, dict) and {"key", "output"} <= entry.keys():
                        self._entries[entry["key"]] = entry["output"]
        self._path = self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    @staticmethod
    def key(**parts: Any) -> str:
        """A stable digest of the parts (JSON-serialisable values)."""
        text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Any:
        """The recorded output for `key`, or `None`."""
        return self._entries.get(key)

    def put(self, key: str, output: Any) -> None:
        """Records `output` durably (written, flushed and fsynced before returning)."""
        line = json.dumps({"key": key, "output": output}, ensure_ascii=False)
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._entries[key] = json.loads(line)["output"]


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
        chunk = max(len(missing), 1) if isinstance(self, AsyncLLM) else 1
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            outputs = generate(
                inputs=[inputs[index] for index in part], num_generations=num_generations, **kwargs
            )
            for index, output in zip(part, outputs, strict=True):
                journal.put(keys[index], output)
        replayed = len(inputs) - len(missing)
        if replayed:
            self._logger.info(  # type: ignore[attr-defined]
                f"generation journal: {replayed} of {len(inputs)} generation(s) replayed"
                f" from {self.journal_dir}"
            )
        return [journal.get(key) for key in keys]
