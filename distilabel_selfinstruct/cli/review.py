"""Human review of a Self-Instruct dataset in Argilla, as the paper's expert evaluation.

    distilabel-selfinstruct review push output/self-instruct --dataset my-review          # 200 instances
    distilabel-selfinstruct review push output/self-instruct --dataset my-review --sample 0   # all
    distilabel-selfinstruct review pull --dataset my-review --output output/my-review

`push` creates the review dataset (fields, questions, guidelines; see
distilabel_selfinstruct.publishing.review) or updates the same records when run again. `pull` reads
the submitted reviews, prints the paper's quality table and saves it (quality.json), the
reviewed rows with corrections applied (a `datasets` dataset, `--push-to-hub` to publish
it), and the accepted tasks as seed tasks for the next run
(distilabel-selfinstruct run --seeds <output>/accepted_seed_tasks.jsonl).
The server and key come from --api-url/--api-key or ARGILLA_API_URL/ARGILLA_API_KEY.
"""

import argparse
import dataclasses
import sys
from pathlib import Path

from distilabel_selfinstruct.cli._common import quiet_import_warnings
from distilabel_selfinstruct.constants import INSTANCES_CONFIG, REVIEW_SAMPLE_SIZE, SEED
from distilabel_selfinstruct.publishing.review import (
    ArgillaReviewError,
    ReviewOptions,
    format_quality_table,
    pull_reviews,
    push_for_review,
    rows_from_saved,
    save_review,
)


def push(dataset_dir: Path, options: ReviewOptions) -> int:
    """Pushes a saved dataset's instances for review; 2 on an Argilla error."""
    try:
        count = push_for_review(rows_from_saved(dataset_dir), **dataclasses.asdict(options))
    except ArgillaReviewError as error:
        print(f"error: {error}; the dataset in {dataset_dir} is intact, push again to retry",
              file=sys.stderr)  # fmt: skip
        return 2
    print(f"{count} records in Argilla dataset {options.dataset_name!r}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("push", "pull"):
        sub = commands.add_parser(command)
        if command == "push":
            sub.add_argument(
                "dataset_dir", type=Path, help="a dataset saved by distilabel-selfinstruct run"
            )
            sub.add_argument(
                "--sample",
                type=int,
                default=REVIEW_SAMPLE_SIZE,
                help="instances to push, a random sample; 0 for all (default: %(default)s, as in the paper)",
            )
            sub.add_argument(
                "--seed", type=int, default=SEED, help="seed of the sample (default: %(default)s)"
            )
        else:
            sub.add_argument(
                "--output",
                type=Path,
                required=True,
                help="where the quality table, the reviewed rows and the accepted seed tasks are saved",
            )
            sub.add_argument(
                "--push-to-hub",
                metavar="REPO_ID",
                help="also push the reviewed rows to this Hub dataset repository",
            )
        sub.add_argument("--dataset", required=True, help="the Argilla dataset name")
        sub.add_argument("--workspace", help="the Argilla workspace (default: the first one)")
        sub.add_argument("--api-url", help="the Argilla server (default: ARGILLA_API_URL)")
        sub.add_argument("--api-key", help="the API key (default: ARGILLA_API_KEY)")
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_import_warnings()
    args = _parser().parse_args(argv)

    if args.command == "push":
        if not (args.dataset_dir / INSTANCES_CONFIG).is_dir():
            print(f"error: {args.dataset_dir} holds no Self-Instruct dataset", file=sys.stderr)
            return 2
        options = ReviewOptions(
            dataset_name=args.dataset,
            workspace=args.workspace,
            sample_size=args.sample or None,
            seed=args.seed,
            api_url=args.api_url,
            api_key=args.api_key,
        )
        return push(args.dataset_dir, options)
    try:
        result = pull_reviews(args.dataset, args.workspace, args.api_url, args.api_key)
    except ArgillaReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_quality_table(result))
    root = save_review(result, args.output)
    print(f"saved to {root}: quality.json, reviewed/, accepted_seed_tasks.jsonl"
          f" ({len(result.accepted_seed_tasks())} accepted tasks)")  # fmt: skip
    if args.push_to_hub and result.rows:
        from datasets import load_from_disk

        load_from_disk(str(root / "reviewed")).push_to_hub(args.push_to_hub)
        print(f"reviewed rows pushed to {args.push_to_hub}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
