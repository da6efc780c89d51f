"""Bootstraps a Self-Instruct dataset: the iterative pool, classification, instances, filters.

    python pipelines/self_instruct.py                        # embedded Gemma 3 270M base model
    python pipelines/self_instruct.py --num-instructions 500 --base-url http://127.0.0.1:8000/v1 --model my-model
    python pipelines/self_instruct.py --help                 # every option

The dataset (configs instructions, instances, rejected, finetuning) appears in --output-dir
only when complete. Every finished generation is recorded in a journal beside it, so a run
killed at any moment continues when the same command is run again, repeats no finished
generation, and ends with the same dataset.
"""

import argparse
import json
import os
import shlex
import shutil
import sys
import time
import warnings
from pathlib import Path

from pydantic.warnings import UnsupportedFieldAttributeWarning

# distilabel 1.5.3's field declarations warn on every import; they say nothing about this run.
warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning)
warnings.filterwarnings("ignore", message="A custom validator is returning a value other than")

from distilabel.pipeline import Pipeline, RayPipeline  # noqa: E402
from huggingface_hub import get_token  # noqa: E402
from huggingface_hub.utils import HFValidationError, validate_repo_id  # noqa: E402

from distilabel_selfinstruct import (  # noqa: E402
    EMBEDDED_MODEL_NAME,
    HubPushError,
    LlamaCppCompletionLLM,
    OpenAICompletionLLM,
    SeedTaskError,
    build_self_instruct_pipeline,
    push_to_hub,
    write_report,
)
from distilabel_selfinstruct.argilla import ArgillaReviewError, connect  # noqa: E402
from distilabel_selfinstruct.card import CARD_FOLDER, RUN_SUMMARY_FILE  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pipelines/review.py
from distilabel_selfinstruct.report import format_summary, summarize_run  # noqa: E402

DEFAULT_NUM_INSTRUCTIONS = 100


class _HelpWithDefaults(argparse.RawDescriptionHelpFormatter):
    """Adds "(default: ...)" to options that have a default their help does not name."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpWithDefaults)
    method = parser.add_argument_group("method")
    method.add_argument(
        "--seeds",
        help="seed tasks: a .jsonl file, a datasets path or Hub id (default: the package's seed set)",
    )
    method.add_argument(
        "--num-instructions",
        type=int,
        default=DEFAULT_NUM_INSTRUCTIONS,
        help="machine-made instructions to keep",
    )
    method.add_argument(
        "--num-prompts", type=int, default=5, help="proposal prompts per bootstrap round"
    )
    method.add_argument("--max-rounds", type=int, help="stop the bootstrap after this many rounds")
    method.add_argument(
        "--max-generated-tokens",
        type=int,
        help="stop the bootstrap once it generated this many tokens",
    )
    method.add_argument("--threshold", type=float, default=0.7, help="ROUGE-L novelty threshold")
    method.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed of prompt sampling and, where the backend allows, of generation",
    )
    model = parser.add_argument_group("model (default: the embedded model)")
    model.add_argument("--model-path", help="a GGUF file for llama.cpp")
    model.add_argument(
        "--base-url",
        help="an OpenAI-compatible server (vLLM, llama.cpp, TGI, OpenAI), e.g. http://127.0.0.1:8000/v1; the key comes from OPENAI_API_KEY",
    )
    model.add_argument("--model", help="the model name on that server")
    model.add_argument(
        "--mode",
        choices=["completion", "chat"],
        default="completion",
        help="raw prompts for base models, or one user message for chat models",
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--output-dir", default="output/self-instruct", help="where the dataset is saved"
    )
    run.add_argument(
        "--work-dir",
        help="the generation journal and distilabel's cache (default: .<name>.work beside --output-dir)",
    )
    run.add_argument(
        "--restart", action="store_true", help="discard the journal: generate everything again"
    )
    run.add_argument(
        "--ray",
        action="store_true",
        help="run on distilabel's RayPipeline (a local Ray instance, or the cluster of RAY_ADDRESS / --ray-address)",
    )
    run.add_argument("--ray-address", help="the Ray head node, e.g. ray://head:10001")
    publish = parser.add_argument_group("publish")
    publish.add_argument(
        "--report",
        action="store_true",
        help="write the dataset card and its figures to <output-dir>/distiset_configs/",
    )
    publish.add_argument(
        "--push-to-hub",
        metavar="REPO_ID",
        help="push the dataset and its card to this Hub dataset repository (token from HF_TOKEN or `hf auth login`); retry a failed push with pipelines/publish.py",
    )
    publish.add_argument("--private", action="store_true", help="make a new Hub repository private")
    review = parser.add_argument_group(
        "review in Argilla (pip install 'distilabel-selfinstruct[argilla]')"
    )
    review.add_argument(
        "--argilla",
        action="store_true",
        help="push instances for human review once the dataset is saved (see pipelines/review.py)",
    )
    review.add_argument(
        "--argilla-dataset", default="self-instruct-review", help="the Argilla dataset"
    )
    review.add_argument(
        "--argilla-workspace", help="the Argilla workspace (default: the first one)"
    )
    review.add_argument(
        "--argilla-sample",
        type=int,
        default=200,
        help="instances to push, a random sample; 0 for all",
    )
    review.add_argument("--argilla-api-url", help="the Argilla server (default: ARGILLA_API_URL)")
    review.add_argument("--argilla-api-key", help="the API key (default: ARGILLA_API_KEY)")
    return parser.parse_args(argv)  # fmt: skip


def _publish(source: Path, output: Path) -> None:
    """Replaces `output` by the complete directory `source` (renames only)."""
    previous = source.with_name(source.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    if output.exists():
        os.replace(output, previous)
    os.replace(source, output)
    if previous.exists():
        shutil.rmtree(previous)


# Options that say where or how to run, not what to make: left out of the reproduce command.
_LOCAL_OPTIONS = {"--output-dir", "--work-dir", "--restart", "--ray", "--ray-address",
                  "--report", "--push-to-hub", "--private", "--argilla", "--argilla-dataset",
                  "--argilla-workspace", "--argilla-sample", "--argilla-api-url",
                  "--argilla-api-key"}  # fmt: skip
_FLAGS = {"--restart", "--ray", "--report", "--private", "--argilla"}


def run_info(args: argparse.Namespace, argv: list[str]) -> dict:
    """What the card says about the run: the command that reproduces it, the model and the
    method's parameters.
    """
    kept, skip = [], False
    for token in argv:
        name = token.split("=", 1)[0]
        if skip:
            skip = False
        elif name in _LOCAL_OPTIONS:
            takes_value = name not in _FLAGS
            skip = takes_value and "=" not in token
        else:
            kept.append(token)
    if args.base_url:
        model = args.model
    elif args.model_path:
        model = Path(args.model_path).name
    else:
        model = EMBEDDED_MODEL_NAME
    parameters = {
        "num_instructions": args.num_instructions,
        "num_prompts (per round)": args.num_prompts,
        "max_rounds": args.max_rounds,
        "max_generated_tokens": args.max_generated_tokens,
        "threshold": args.threshold,
        "seed": args.seed,
        "prompt mode": args.mode,
    }
    return {
        "command": shlex.join(["python", "pipelines/self_instruct.py", *kept]),
        "model": model,
        "parameters": {name: value for name, value in parameters.items() if value is not None},
    }


def hub_problem(repo_id: str) -> str | None:
    """Why a push to `repo_id` cannot work (a malformed id, no token), or `None`."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        return f"--push-to-hub: {error}"
    if "/" not in repo_id:
        return f"--push-to-hub: give the repository as <user or org>/<name>, not {repo_id!r}"
    if not get_token():
        return "--push-to-hub needs a Hugging Face token: set HF_TOKEN or run `hf auth login`"
    return None


def publish(output: Path, report: bool, repo_id: str | None, private: bool) -> int:
    """Writes the card locally and/or pushes to the Hub; 1 when the push failed."""
    if report and not repo_id:
        print(f"dataset card: {write_report(output)}")
    if repo_id:
        try:
            print(f"pushed to {push_to_hub(output, repo_id, private=private)}")
        except HubPushError as error:
            print(f"error: {error}", file=sys.stderr)
            print(f"retry: python pipelines/publish.py {shlex.quote(str(output))} "
                  f"--push-to-hub {repo_id}{' --private' if private else ''}",
                  file=sys.stderr)  # fmt: skip
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.base_url and not args.model:
        print("error: --base-url needs --model", file=sys.stderr)
        return 2
    if args.base_url and args.model_path:
        print("error: give --base-url or --model-path, not both", file=sys.stderr)
        return 2
    if args.num_instructions < 1:
        print("error: --num-instructions must be at least 1", file=sys.stderr)
        return 2
    if args.push_to_hub and (problem := hub_problem(args.push_to_hub)):
        print(f"error: {problem}", file=sys.stderr)  # before any generation
        return 2
    if args.argilla:
        try:  # a wrong key or URL fails now, not after the generation
            connect(args.argilla_api_url, args.argilla_api_key)
        except (ArgillaReviewError, ImportError) as error:
            print(f"error: --argilla: {error}", file=sys.stderr)
            return 2

    def llm_factory():
        if args.base_url:
            return OpenAICompletionLLM(base_url=args.base_url, model=args.model, mode=args.mode)
        return LlamaCppCompletionLLM(model_path=args.model_path, mode=args.mode)

    output = Path(args.output_dir)
    work = Path(args.work_dir) if args.work_dir else output.with_name(f".{output.name}.work")
    if args.restart and work.exists():
        shutil.rmtree(work)
    pipeline_options: dict = {"pipeline_class": Pipeline}
    if args.ray:
        pipeline_options = {"pipeline_class": RayPipeline, "ray_head_node_url": args.ray_address}
    try:
        pipeline = build_self_instruct_pipeline(
            llm_factory=llm_factory,
            seeds=args.seeds,
            num_instructions=args.num_instructions,
            num_prompts=args.num_prompts,
            max_rounds=args.max_rounds,
            max_generated_tokens=args.max_generated_tokens,
            seed=args.seed,
            threshold=args.threshold,
            journal_dir=work / "journal",
            cache_dir=work / "cache",
            **pipeline_options,
        )
    except (SeedTaskError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    started = time.monotonic()
    distiset = pipeline.run(use_cache=False)
    summary = summarize_run(distiset, wall_time=time.monotonic() - started)
    summary["run"] = run_info(args, argv)
    partial = work / "dataset.partial"
    if partial.exists():
        shutil.rmtree(partial)
    distiset.save_to_disk(partial, save_card=False)  # artifacts included
    (partial / CARD_FOLDER).mkdir(exist_ok=True)
    (partial / CARD_FOLDER / RUN_SUMMARY_FILE).write_text(json.dumps(summary, indent=2), "utf-8")
    _publish(partial, output)
    shutil.rmtree(work / "cache", ignore_errors=True)
    print(format_summary(summary))
    print(f"saved to {output} (configs: {', '.join(sorted(distiset))});"
          f" generation journal kept in {work / 'journal'}")  # fmt: skip
    status = publish(output, args.report, args.push_to_hub, args.private)
    if args.argilla:
        from review import push as push_for_review

        status = max(status, push_for_review(
            output, args.argilla_dataset, args.argilla_workspace, args.argilla_sample,
            args.seed, args.argilla_api_url, args.argilla_api_key,
        ))  # fmt: skip
    return status


if __name__ == "__main__":
    sys.exit(main())
