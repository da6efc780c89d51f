"""A generator of batches that keeps producing while its consumer waits.

distilabel pulls a generator step's next batch only when a successor runs out of rows, so a
generator that does real work per batch (the bootstrap's rounds) stands still while the
successors process the last one. `run_ahead` runs the producer in a thread and hands the
consumer everything produced since its last pull, in batches of at most `batch_size`: the
rows and their order are the producer's, only the batch boundaries follow the timing.

An engine: the standard library only.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["run_ahead"]

Batches = Iterator[tuple[list[Any], bool]]
_END = object()


def run_ahead(batches: Batches, batch_size: int, name: str = "run-ahead") -> Batches:
    """Iterates `batches` (`(rows, last)` pairs) in a daemon thread and yields what it
    produced so far, re-cut into batches of at most `batch_size` rows; the last batch
    yielded has `last=True`. An exception of the producer is raised here; closing this
    generator stops the producer at its next batch.

    Examples:
        >>> def rounds():
        ...     for r in range(3):
        ...         yield [f"r{r}a", f"r{r}b"], r == 2
        >>> rows = []
        >>> for batch, last in run_ahead(rounds(), batch_size=4):
        ...     rows.extend(batch)
        >>> rows, last
        (['r0a', 'r0b', 'r1a', 'r1b', 'r2a', 'r2b'], True)
    """
    channel: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for rows, last in batches:
                channel.put((rows, last))
                if last or stop.is_set():
                    break
        except BaseException as error:  # handed to the consumer
            channel.put(error)
        finally:
            channel.put(_END)

    threading.Thread(target=produce, name=name, daemon=True).start()
    try:
        yield from _consume(channel, batch_size)
    finally:
        stop.set()


def _consume(channel: queue.Queue[Any], batch_size: int) -> Batches:
    pending: list[Any] = []
    while True:
        items = [channel.get()]  # wait for at least one
        while True:
            try:
                items.append(channel.get_nowait())
            except queue.Empty:
                break
        ended = False
        for item in items:
            if isinstance(item, BaseException):
                raise item
            if item is _END:
                ended = True
            else:
                pending.extend(item[0])
                ended = ended or item[1]
        chunks = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
        pending = []
        if ended:
            for index, chunk in enumerate(chunks or [[]]):
                yield chunk, index == max(len(chunks) - 1, 0)
            return
        for chunk in chunks:
            yield chunk, False
