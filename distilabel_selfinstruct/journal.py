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
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["GenerationError", "GenerationJournal"]


class GenerationError(RuntimeError):
    """A generation failed. It carries only a message, so that it crosses process
    boundaries: the client libraries' own exceptions hold locks and queues that cannot be
    pickled, and distilabel then loses the real error.
    """


def _packed(key: str) -> bytes:
    """A key as kept in memory: a digest's 32 bytes rather than its 64 hex characters."""
    try:
        return bytes.fromhex(key)
    except ValueError:
        return key.encode("utf-8")


class GenerationJournal:
    """Append-only JSONL files in one directory, one file per writing process.

    Each line is `{"key": ..., "output": ...}`, flushed and fsynced before the generation
    counts as done; `put_many` writes a whole batch with one fsync. Lines cut short by a
    kill are skipped when the journal is read. In memory the journal keeps only where each
    line is (file and offset), so a long run's journal costs a few dozen bytes per
    generation; `get` reads the line back.

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
        self._files: list[Path] = []
        self._where: dict[bytes, tuple[int, int]] = {}
        for path in sorted(self.directory.glob("*.jsonl")):
            self._index(path)
        self._path = self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self._handle: BinaryIO | None = None
        self._readers: dict[int, BinaryIO] = {}

    def _index(self, path: Path) -> None:
        """Records where each complete line of `path` is."""
        number = len(self._files)
        self._files.append(path)
        offset = 0
        with path.open("rb") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    entry = None  # the last line of a file whose writer was killed
                if isinstance(entry, dict) and {"key", "output"} <= entry.keys():
                    self._where[_packed(entry["key"])] = (number, offset)
                offset += len(line)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: str) -> bool:
        return _packed(key) in self._where

    @staticmethod
    def key(**parts: Any) -> str:
        """A stable digest of the parts (JSON-serialisable values)."""
        text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Any:
        """The recorded output for `key`, or `None`."""
        where = self._where.get(_packed(key))
        if where is None:
            return None
        number, offset = where
        if number not in self._readers:
            self._readers[number] = self._files[number].open("rb")
        reader = self._readers[number]
        reader.seek(offset)
        return json.loads(reader.readline())["output"]

    def put(self, key: str, output: Any) -> None:
        """Records `output` durably (written, flushed and fsynced before returning)."""
        self.put_many([(key, output)])

    def put_many(self, items: Iterable[tuple[str, Any]]) -> list[Any]:
        """Records every `(key, output)` durably, with one fsync for all of them; returns
        the outputs as `get` will return them (through JSON).
        """
        keys, lines = [], []
        for key, output in items:
            keys.append(_packed(key))
            line = json.dumps({"key": key, "output": output}, ensure_ascii=False) + "\n"
            lines.append(line.encode("utf-8"))
        if not lines:
            return []
        if self._handle is None:
            self._handle = self._path.open("ab")
            self._files.append(self._path)
        number = len(self._files) - 1  # this process's file is the last one opened
        offset = self._handle.tell()
        self._handle.write(b"".join(lines))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        for key, line in zip(keys, lines, strict=True):
            self._where[key] = (number, offset)
            offset += len(line)
        return [json.loads(line)["output"] for line in lines]
