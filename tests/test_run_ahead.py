"""`run_ahead`: the producer keeps going while the consumer waits; rows, order and errors
are the producer's."""

import threading

import pytest

from distilabel_selfinstruct.run_ahead import run_ahead


def rounds(count, size, done=None):
    for number in range(count):
        if number == count - 1 and done is not None:
            done.set()  # the last round is being produced
        yield [f"r{number}-{i}" for i in range(size)], number == count - 1


def test_the_producer_runs_while_the_consumer_waits():
    done = threading.Event()
    batches = run_ahead(rounds(20, 3, done), batch_size=50)
    first, last = next(batches)
    # The consumer holds the first batch (as distilabel does until it pulls the next one);
    # meanwhile every round is produced.
    assert done.wait(10)
    rest = list(batches)
    rows = first + [row for batch, _ in rest for row in batch]
    assert rows == [f"r{n}-{i}" for n in range(20) for i in range(3)]
    assert not last and rest[-1][1] and not any(flag for _, flag in rest[:-1])
    assert all(len(batch) <= 50 for batch, _ in rest)
    assert len(rest) < 19  # rounds produced meanwhile were gathered into fewer batches


def test_an_error_of_the_producer_is_raised_to_the_consumer_after_its_rows():
    def failing():
        yield ["a", "b"], False
        raise RuntimeError("the server went away")

    seen = []
    with pytest.raises(RuntimeError, match="the server went away"):
        for batch, _ in run_ahead(failing(), batch_size=10):
            seen.extend(batch)
    assert seen in ([], ["a", "b"])


def test_nothing_produced_still_ends_with_an_empty_last_batch():
    assert list(run_ahead(iter([([], True)]), batch_size=5)) == [([], True)]
    assert list(run_ahead(iter([]), batch_size=5)) == [([], True)]


def test_closing_the_consumer_stops_the_producer():
    produced = []

    def endless():
        number = 0
        while True:
            produced.append(number)
            yield [number], False
            number += 1

    batches = run_ahead(endless(), batch_size=1)
    next(batches)
    batches.close()
    count = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) <= count + 2
