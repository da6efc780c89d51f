"""The command-line jobs, installed as `distilabel-selfinstruct`:

    distilabel-selfinstruct run [options]       # generate a dataset (the main job)
    distilabel-selfinstruct publish DIR [...]   # its card and figures, the Hub
    distilabel-selfinstruct review push|pull    # human review in Argilla

`distilabel-selfinstruct <job> --help` lists a job's options. `python -m
distilabel_selfinstruct` and the scripts in `pipelines/` run the same jobs.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["JOBS", "main"]

# Each job's module (its `main(argv)` returns the exit code) and what it does.
JOBS = {
    "run": ("distilabel_selfinstruct.cli.run", "generate a Self-Instruct dataset"),
    "publish": ("distilabel_selfinstruct.cli.publish", "write a saved dataset's card, push it"),
    "review": ("distilabel_selfinstruct.cli.review", "human review of a dataset in Argilla"),
}
PROG = "distilabel-selfinstruct"


def _usage() -> str:
    jobs = "\n".join(f"  {name:<9} {what}" for name, (_, what) in JOBS.items())
    return f"usage: {PROG} {{{','.join(JOBS)}}} [options]\n\njobs:\n{jobs}\n"


def main(argv: list[str] | None = None) -> int:
    """Runs the job named by the first argument; 2 with the usage for anything else.

    Examples:
        >>> main(["--help"])
        usage: distilabel-selfinstruct {run,publish,review} [options]
        <BLANKLINE>
        jobs:
          run       generate a Self-Instruct dataset
          publish   write a saved dataset's card, push it
          review    human review of a dataset in Argilla
        0
    """
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(), end="")
        return 0 if argv else 2
    if argv[0] not in JOBS:
        print(f"{_usage()}{PROG}: error: unknown job {argv[0]!r}", file=sys.stderr)
        return 2
    module = importlib.import_module(JOBS[argv[0]][0])
    sys.argv[0] = f"{PROG} {argv[0]}"  # each job's argparse names itself after it
    return module.main(argv[1:])
