"""What `import distilabel_selfinstruct` costs over importing distilabel's pipeline and steps.

Each import runs in a fresh interpreter, alternating between the two, `--repeats` times;
the figure is the median wall time of the import statement alone (interpreter start-up
excluded), and the ratio of the medians. The target (issue 14): at most 1.10.

    python benchmarks/import_time.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

STATEMENTS = {
    "distilabel (pipeline + steps)": "import distilabel.pipeline, distilabel.steps",
    "distilabel_selfinstruct": "import distilabel_selfinstruct",
}

_TIMED = (
    "import time, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "start = time.perf_counter()\n"
    "{statement}\n"
    "print(time.perf_counter() - start)\n"
)


def time_import(statement: str) -> float:
    """Seconds that `statement` takes in a fresh interpreter."""
    run = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(args.repeats):
        for name, statement in STATEMENTS.items():
            times[name].append(time_import(statement))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        spread = f"{min(times[name]):.3f}-{max(times[name]):.3f}"
        print(f"{name:<32} median {median:.3f} s  (range {spread} s, n={args.repeats})")
    base, ours = medians.values()
    print(f"{'ratio':<32} {ours / base:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
