"""The output directory and the work folder beside it: never destroy what the user has.

- `check_output_dir`: the output must be new, empty, or a dataset this tool wrote (it
  holds `distiset_configs/run_summary.json`, which the main job writes into every dataset
  it saves); replacing such a dataset needs `overwrite=True`; anything else is refused.
- `RunLock`: one run at a time per work folder (an exclusive `flock` on `<work>/lock`,
  released by the kernel when the process ends, even when killed).
- `publish_dataset`: moves a complete dataset into place with renames only, after checking
  the output again (the user may have put files there meanwhile).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

import yaml

from distilabel_selfinstruct.constants import CARD_FOLDER, RUN_SUMMARY_FILE

__all__ = [
    "DATASET_MARKER",
    "OutputDirError",
    "RunLock",
    "check_output_dir",
    "check_writable",
    "make_portable",
    "publish_dataset",
]

# Every dataset the main job saves holds this file; its presence makes a directory ours.
DATASET_MARKER = Path(CARD_FOLDER) / RUN_SUMMARY_FILE

# Runtime parameters that hold a path of the machine that made the run.
_MACHINE_PATH_FIELDS = ("journal_dir", "model_path", "source")


class OutputDirError(RuntimeError):
    """The output or work location cannot be used; the message is one line."""


def _listing(path: Path, limit: int = 3) -> str:
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in path.iterdir())
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_output_dir(path: str | os.PathLike[str], overwrite: bool = False) -> str:
    """Checks that a dataset may be written to `path`; returns what is there now:
    `"new"`, `"empty"` or `"dataset"` (an earlier dataset of this tool, with `overwrite`).

    Raises:
        OutputDirError: `path` is a file, holds files this tool did not write, or holds an
            earlier dataset and `overwrite` is false.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> check_output_dir(folder / "dataset"), check_output_dir(folder)
        ('new', 'empty')
        >>> _ = (folder / "thesis.txt").write_text("mine")
        >>> check_output_dir(folder, overwrite=True)
        Traceback (most recent call last):
        ...
        distilabel_selfinstruct.output_dir.OutputDirError: --output-dir ... holds files this tool did not write (thesis.txt); give a new or empty directory
    """
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            raise OutputDirError(f"--output-dir {path} is a broken symbolic link")
        return "new"
    if not path.is_dir():
        raise OutputDirError(
            f"--output-dir {path} is a file, not a directory; give a directory path"
        )
    if not any(path.iterdir()):
        return "empty"
    if not (path / DATASET_MARKER).is_file():
        raise OutputDirError(
            f"--output-dir {path} holds files this tool did not write ({_listing(path)});"
            " give a new or empty directory"
        )
    if not overwrite:
        raise OutputDirError(
            f"--output-dir {path} already holds a dataset from an earlier run;"
            " pass --overwrite to replace it, or give another directory"
        )
    return "dataset"


def check_writable(directory: str | os.PathLike[str]) -> None:
    """Creates `directory` (and parents) and a file in it, to prove it can be written.

    Raises:
        OutputDirError: naming the directory and the operating system's reason.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputDirError(
            f"cannot write in {directory}: {error.strerror or error}; choose a writable location"
        ) from None


class RunLock:
    """An exclusive lock on a work folder: a second run into it fails at once.

    Examples:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> with RunLock(folder):
        ...     RunLock(folder).acquire()
        Traceback (most recent call last):
        ...
        distilabel_selfinstruct.output_dir.OutputDirError: another run (process ...) is using ...
    """

    def __init__(self, work_dir: str | os.PathLike[str]) -> None:
        self.path = Path(work_dir) / "lock"
        self._handle: IO[str] | None = None

    def acquire(self, wait: float = 0.0) -> RunLock:
        """Takes the lock, waiting up to `wait` seconds for a run that is ending.

        Raises:
            OutputDirError: another process holds it, naming that process.
        """
        check_writable(self.path.parent)
        handle = self.path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + wait
        while not (locked := _try_lock(handle)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not locked:
            handle.seek(0)
            holder: dict[str, Any] = {}
            with contextlib.suppress(json.JSONDecodeError):
                holder = json.loads(handle.read() or "{}")
            handle.close()
            since = holder.get("started", "an unknown time")
            raise OutputDirError(
                f"another run (process {holder.get('pid', '?')}, started {since}) is using"
                f" {self.path.parent}; wait for it to end, or give another --output-dir"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps({"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")})
        )
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor releases the lock
            self._handle = None

    def fileno(self) -> int:
        """The locked file's descriptor (a child process given it holds the lock too)."""
        if self._handle is None:
            raise OutputDirError("the lock is not held")
        return self._handle.fileno()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(handle: IO[str]) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def publish_dataset(
    source: str | os.PathLike[str], output: str | os.PathLike[str], overwrite: bool
) -> None:
    """Moves the complete dataset `source` to `output` with renames only.

    `output` is checked again first (`check_output_dir`); an earlier dataset there is
    moved aside, replaced, then deleted.

    Raises:
        OutputDirError: `output` cannot take the dataset; `source` stays complete where it is.
    """
    source, output = Path(source), Path(output)
    try:
        state = check_output_dir(output, overwrite)
    except OutputDirError as error:
        raise OutputDirError(f"{error}; the finished dataset is in {source}") from None
    previous = source.with_name(source.name + ".previous")
    try:
        if previous.exists():
            shutil.rmtree(previous)
        if state == "dataset":
            os.replace(output, previous)
        elif state == "empty":
            output.rmdir()
        output.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, output)
    except OSError as error:
        raise OutputDirError(
            f"cannot move the finished dataset to {output}: {error.strerror or error};"
            f" it is complete in {source}"
        ) from None
    shutil.rmtree(previous, ignore_errors=True)


def _portable_value(name: str, value: Any) -> Any:
    if not isinstance(value, str) or not Path(value).is_absolute():
        return value
    return None if name == "journal_dir" else Path(value).name


def _strip_machine_paths(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _portable_value(key, value)
            if key in _MACHINE_PATH_FIELDS
            else _strip_machine_paths(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_strip_machine_paths(item) for item in node]
    return node


def make_portable(config_folder: str | os.PathLike[str], local_paths: dict[str, str]) -> None:
    """Removes this machine's paths from a saved dataset's `pipeline.yaml` and
    `pipeline.log`, so that they can be published and run elsewhere as they are.

    In `pipeline.yaml`, `journal_dir` becomes `null` (no journal) and an absolute
    `model_path` or seed `source` keeps its file name only (relative to where the pipeline
    is run). In `pipeline.log`, each key of `local_paths` (a folder of this machine) is
    replaced by its value (a placeholder), and the home folder by `~`.
    """
    folder = Path(config_folder)
    pipeline = folder / "pipeline.yaml"
    if pipeline.is_file():
        data = yaml.safe_load(pipeline.read_text(encoding="utf-8"))
        pipeline.write_text(
            yaml.safe_dump(_strip_machine_paths(data), sort_keys=False), encoding="utf-8"
        )
    log = folder / "pipeline.log"
    if log.is_file():
        text = log.read_text(encoding="utf-8", errors="replace")
        replacements = {**local_paths, str(Path.home()): "~"}
        for path in sorted(replacements, key=len, reverse=True):
            text = text.replace(path, replacements[path])
        log.write_text(text, encoding="utf-8")
