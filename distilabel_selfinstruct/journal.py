"""The generation journal: every finished generation on disk, so that a rerun repeats none.

A run killed at any moment (SIGKILL included) loses at most the generations in flight. The
next run with the same settings finds every finished one in the journal, by a key made of
the model's identity, the prompt, the number of generations and the sampling parameters,
and generates only what is missing. Sampling seeds are per prompt (never per call), so a
replayed generation is the one an uninterrupted run would have made.

An engine: it knows nothing of distilabel (`llms.journaled` gives LLMs a journal).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

__all__ = ["GenerationError", "GenerationJournal"]


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
