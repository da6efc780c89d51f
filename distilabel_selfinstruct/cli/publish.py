"""Publishes a dataset that `distilabel-selfinstruct run` saved: writes its card and figures,
and pushes it to the Hugging Face Hub, without generating anything again.

    distilabel-selfinstruct publish output/self-instruct --report                  # card only
    distilabel-selfinstruct publish output/self-instruct --push-to-hub me/my-data   # card and push

The token comes from HF_TOKEN or `hf auth login`. A failed push loses nothing: run the same
command again.
"""

import argparse
import sys
from pathlib import Path

from distilabel_selfinstruct.cli._common import quiet_import_warnings
from distilabel_selfinstruct.cli.run import hub_problem, publish
from distilabel_selfinstruct.constants import INSTRUCTIONS_CONFIG


def main(argv: list[str] | None = None) -> int:
    quiet_import_warnings()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset_dir", help="a directory saved by distilabel-selfinstruct run")
    parser.add_argument(
        "--report",
        action="store_true",
        help="write the card and figures to <dataset_dir>/distiset_configs/",
    )
    parser.add_argument("--push-to-hub", metavar="REPO_ID", help="the Hub dataset repository")
    parser.add_argument("--private", action="store_true", help="make a new repository private")
    args = parser.parse_args(argv)  # fmt: skip
    output = Path(args.dataset_dir)
    if not (output / INSTRUCTIONS_CONFIG).is_dir():
        print(f"error: {output} holds no Self-Instruct dataset (no instructions config)",
              file=sys.stderr)  # fmt: skip
        return 2
    if not args.report and not args.push_to_hub:
        print("error: give --report, --push-to-hub or both", file=sys.stderr)
        return 2
    if args.push_to_hub and (problem := hub_problem(args.push_to_hub)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return publish(output, args.report, args.push_to_hub, args.private)


if __name__ == "__main__":
    sys.exit(main())
