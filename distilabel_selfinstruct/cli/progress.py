"""What the main job shows while a run goes: the bootstrap's progress toward its target,
then each later stage as it starts.

In a terminal, one line redrawn in place (a bar of kept instructions, the round, the rate
and the ETA), cut to the terminal's width. Anywhere else (a CI log, a file), one line per
round and per stage, never wrapped or redrawn.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any, TextIO

from distilabel_selfinstruct.constants import CLASSIFICATION, INSTANCE_FILTER, INSTANCE_GENERATION

__all__ = ["RunProgress"]

_BAR = 24


class RunProgress:
    """An `on_event` for `supervisor.supervise`.

    Examples:
        >>> import io
        >>> out = io.StringIO()
        >>> progress = RunProgress(out, terminal=False)
        >>> progress({"event": "round", "round": 1, "pool": 40, "kept": 8, "target": 100,
        ...           "tokens_per_s": 25.0, "elapsed": "40s", "eta": "7m40s"})
        >>> progress({"event": "progress", "step": "instance_generation"})
        >>> progress.close()
        >>> print(out.getvalue(), end="")
        bootstrap [#-----------------------]   8/100 kept | round 1 | 25 tok/s | 40s | ETA 7m40s
        instance_generation: started
    """

    def __init__(self, stream: TextIO | None = None, terminal: bool | None = None) -> None:
        self._stream = stream or sys.stdout
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._stages = {CLASSIFICATION, INSTANCE_GENERATION, INSTANCE_FILTER}
        self._open_line = False

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "round":
            self._show(_round_line(event), redraw=True)
        elif event.get("event") == "progress" and event.get("step") in self._stages:
            self._stages.discard(event["step"])
            self._show(f"{event['step']}: started", redraw=False)

    def _show(self, line: str, redraw: bool) -> None:
        if not self._terminal:
            print(line, file=self._stream, flush=True)
            return
        width = shutil.get_terminal_size().columns - 1
        if redraw:
            print(f"\r{line[:width]:<{width}}", end="", file=self._stream, flush=True)
        else:
            self.close()
            print(line[:width], file=self._stream, flush=True)
        self._open_line = redraw

    def close(self) -> None:
        """Ends a line left open in a terminal."""
        if self._open_line:
            print(file=self._stream, flush=True)
            self._open_line = False


def _round_line(event: dict[str, Any]) -> str:
    kept, target = int(event.get("kept", 0)), max(int(event.get("target", 1)), 1)
    filled = min(_BAR, _BAR * kept // target)
    bar = "#" * filled + "-" * (_BAR - filled)
    return (
        f"bootstrap [{bar}] {kept:>{len(str(target))}}/{target} kept | round {event.get('round')}"
        f" | {float(event.get('tokens_per_s', 0)):.0f} tok/s | {event.get('elapsed')}"
        f" | ETA {event.get('eta')}"
    )
