"""Bootstraps a Self-Instruct dataset: the iterative pool, classification, instances, filters.

    distilabel-selfinstruct run                        # embedded Gemma 3 270M base model
    distilabel-selfinstruct run --num-instructions 500 --base-url http://127.0.0.1:8000/v1 --model my-model
    distilabel-selfinstruct run --help                 # every option

The dataset (configs instructions, instances, rejected and one per fine-tuning format:
finetuning_messages, finetuning_prompt_completion, finetuning_alpaca) appears in --output-dir
only when complete. Every finished generation is recorded in a journal beside it, so a run
killed at any moment continues when the same command is run again, repeats no finished
generation, and ends with the same dataset.
"""

import argparse
import json
import math
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import get_token
from huggingface_hub.utils import HFValidationError, validate_repo_id

from distilabel_selfinstruct import (
    EMBEDDED_MODEL_NAME,
    HubPushError,
    SeedTaskError,
    embedded_model_path,
    load_seed_tasks,
    push_to_hub,
    write_report,
)
from distilabel_selfinstruct.cli._common import quiet_import_warnings
from distilabel_selfinstruct.cli.progress import RunProgress
from distilabel_selfinstruct.cli.review import push as push_review
from distilabel_selfinstruct.constants import (
    CARD_FOLDER,
    CLASSIFICATION,
    INSTANCE_GENERATION,
    LLM_STAGES,
    NUM_INSTRUCTIONS,
    NUM_PROMPTS,
    REVIEW_DATASET,
    REVIEW_SAMPLE_SIZE,
    RUN_SUMMARY_FILE,
    SEED,
    SIMILARITY_THRESHOLD,
)
from distilabel_selfinstruct.output_dir import (
    OutputDirError,
    RunLock,
    check_output_dir,
    check_writable,
    publish_dataset,
)
from distilabel_selfinstruct.plan import format_plan, plan_run
from distilabel_selfinstruct.preflight import (
    PreflightError,
    PromptTooLong,
    check_llama_cpp,
    check_server,
    longest_prompt,
)
from distilabel_selfinstruct.publishing.review import (
    ArgillaReviewError,
    ReviewOptions,
    connect,
)
from distilabel_selfinstruct.publishing.statistics import format_summary
from distilabel_selfinstruct.seed_schema import SEED_FIELDS, parse_columns
from distilabel_selfinstruct.supervisor import (
    DEFAULT_STALL_TIMEOUT,
    RunFailed,
    RunInterrupted,
    RunSpec,
    supervise,
)


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
        help="seed tasks: a .jsonl/.json/.csv/.parquet file, a saved datasets folder or a Hub id,"
        " in the Self-Instruct release's schema or Alpaca's (default: the package's seed set)",
    )
    method.add_argument(
        "--seed-columns",
        metavar="FIELD=COLUMN,...",
        help="the --seeds columns holding our fields, e.g. instruction=prompt,output=response"
        f" (fields: {', '.join(SEED_FIELDS)})",
    )
    method.add_argument(
        "--num-instructions",
        type=int,
        default=NUM_INSTRUCTIONS,
        help="machine-made instructions to keep",
    )
    method.add_argument(
        "--num-prompts", type=int, default=NUM_PROMPTS, help="proposal prompts per bootstrap round"
    )
    method.add_argument(
        "--max-concurrency",
        type=int,
        help="with --base-url: the most requests in flight at once (default: a whole batch of a"
        " step, up to 50, or --num-prompts for the bootstrap)",
    )
    method.add_argument("--max-rounds", type=int, help="stop the bootstrap after this many rounds")
    method.add_argument(
        "--max-generated-tokens",
        type=int,
        help="stop the bootstrap once it generated this many tokens",
    )
    method.add_argument(
        "--threshold", type=float, default=SIMILARITY_THRESHOLD, help="ROUGE-L novelty threshold"
    )
    method.add_argument(
        "--seed",
        type=int,
        default=SEED,
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
    for stage, prefix in _STAGE_PREFIXES.items():
        group = parser.add_argument_group(f"a model for {stage} only (default: the model above)")
        group.add_argument(f"--{prefix}-model-path", help="a GGUF file for llama.cpp")
        group.add_argument(f"--{prefix}-base-url", help="an OpenAI-compatible server")
        group.add_argument(f"--{prefix}-model", help="the model name on that server")
        group.add_argument(
            f"--{prefix}-mode", choices=["completion", "chat"], help="default: --mode"
        )
    method.add_argument(
        "--paper-rules",
        action="store_true",
        help="the paper's filters and parser exactly, without the rules beyond it (see the README's differences from the paper)",
    )
    run = parser.add_argument_group("run")
    loudness = run.add_mutually_exclusive_group()
    loudness.add_argument(
        "--quiet",
        action="store_true",
        help="print only errors and the final summary, no progress",
    )
    loudness.add_argument(
        "--verbose",
        action="store_true",
        help="print distilabel's debug log and llama.cpp's own messages instead of the progress"
        " line (otherwise distilabel's log goes to run/console.log in the work folder)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (stages, models, requests and tokens per stage from this run's"
        " prompts, and a cost with --price-per-1k-tokens) and exit without generating",
    )
    run.add_argument(
        "--price-per-1k-tokens",
        type=float,
        metavar="PRICE",
        help="with --dry-run: the price of 1,000 tokens, prompt or generated",
    )
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
        "--overwrite",
        action="store_true",
        help="replace a dataset that an earlier run saved in --output-dir (never other files)",
    )
    run.add_argument(
        "--stall-timeout",
        type=float,
        default=DEFAULT_STALL_TIMEOUT,
        metavar="SECONDS",
        help="stop the run when no generation finishes and no batch moves for this long",
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
        help="push the dataset and its card to this Hub dataset repository (token from HF_TOKEN or `hf auth login`); retry a failed push with distilabel-selfinstruct publish",
    )
    publish.add_argument("--private", action="store_true", help="make a new Hub repository private")
    review = parser.add_argument_group(
        "review in Argilla (pip install 'distilabel-selfinstruct[argilla]')"
    )
    review.add_argument(
        "--argilla",
        action="store_true",
        help="push instances for human review once the dataset is saved (see distilabel-selfinstruct review)",
    )
    review.add_argument("--argilla-dataset", default=REVIEW_DATASET, help="the Argilla dataset")
    review.add_argument(
        "--argilla-workspace", help="the Argilla workspace (default: the first one)"
    )
    review.add_argument(
        "--argilla-sample",
        type=int,
        default=REVIEW_SAMPLE_SIZE,
        help="instances to push, a random sample; 0 for all",
    )
    review.add_argument("--argilla-api-url", help="the Argilla server (default: ARGILLA_API_URL)")
    review.add_argument("--argilla-api-key", help="the API key (default: ARGILLA_API_KEY)")
    return parser.parse_args(argv)  # fmt: skip


# Options that say where or how to run, not what to make: left out of the reproduce command.
_LOCAL_OPTIONS = {"--output-dir", "--work-dir", "--restart", "--overwrite", "--stall-timeout",
                  "--max-concurrency", "--dry-run", "--price-per-1k-tokens", "--quiet",
                  "--verbose",
                  "--ray", "--ray-address",
                  "--report", "--push-to-hub", "--private", "--argilla", "--argilla-dataset",
                  "--argilla-workspace", "--argilla-sample", "--argilla-api-url",
                  "--argilla-api-key"}  # fmt: skip
_PATH_OPTIONS = {"--seeds", "--model-path", "--instance-model-path", "--classification-model-path"}
_FLAGS = {"--restart", "--overwrite", "--ray", "--report", "--private", "--argilla", "--dry-run",
          "--quiet", "--verbose",
          "--paper-rules"}  # fmt: skip
# The stages that can have their own model, and their options' prefix.
_STAGE_PREFIXES = {INSTANCE_GENERATION: "instance", CLASSIFICATION: "classification"}


def run_info(args: argparse.Namespace, argv: list[str]) -> dict:
    """What the card says about the run: the command that reproduces it, the model and the
    method's parameters.
    """
    kept, skip, previous = [], False, None
    for token in argv:
        name, equals, value = token.partition("=")
        if skip:
            skip = False
        elif name in _LOCAL_OPTIONS:
            takes_value = name not in _FLAGS
            skip = takes_value and "=" not in token
        elif previous in _PATH_OPTIONS and Path(token).exists():
            kept.append(Path(token).name)  # no path of this machine in the published command
        elif name in _PATH_OPTIONS and equals and Path(value).exists():
            kept.append(f"{name}={Path(value).name}")
        else:
            kept.append(token)
        previous = name
    models = {stage: _model_label(options) for stage, options in stage_llm_options(args).items()}
    parameters = {
        "num_instructions": args.num_instructions,
        "num_prompts (per round)": args.num_prompts,
        "max_rounds": args.max_rounds,
        "max_generated_tokens": args.max_generated_tokens,
        "threshold": args.threshold,
        "seed": args.seed,
        "prompt mode": args.mode,
        "paper rules only": args.paper_rules or None,
    }
    return {
        "command": shlex.join(["distilabel-selfinstruct", "run", *kept]),
        "model": _model_label(llm_options(args)),
        "stage_models": models,
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
            print(f"retry: distilabel-selfinstruct publish {shlex.quote(str(output))} "
                  f"--push-to-hub {repo_id}{' --private' if private else ''}",
                  file=sys.stderr)  # fmt: skip
            return 1
    return 0


class UsageError(Exception):
    """A problem found before any generation; printed as one line, exit code 2."""


def _validate_model(args: argparse.Namespace, prefix: str) -> None:
    """The model options starting with `--<prefix>` hang together."""
    value = lambda name: getattr(args, f"{prefix}{name}".replace("-", "_"))  # noqa: E731
    base_url, model, model_path = value("base_url"), value("model"), value("model_path")
    if base_url and not model:
        raise UsageError(f"--{prefix}base-url needs --{prefix}model")
    if model and not base_url and prefix:
        raise UsageError(f"--{prefix}model needs --{prefix}base-url")
    if base_url and model_path:
        raise UsageError(f"give --{prefix}base-url or --{prefix}model-path, not both")
    if model_path and not Path(model_path).is_file():
        raise UsageError(f"--{prefix}model-path: no such file: {model_path}")


def validate(args: argparse.Namespace) -> None:
    """Every option checked before anything runs; raises `UsageError`."""
    if args.base_url and not args.model:
        raise UsageError("--base-url needs --model")
    if args.base_url and args.model_path:
        raise UsageError("give --base-url or --model-path, not both")
    for prefix in ("", *(f"{p}-" for p in _STAGE_PREFIXES.values())):
        _validate_model(args, prefix)
    at_least_one = {"--num-instructions": args.num_instructions, "--num-prompts": args.num_prompts,
                    "--max-rounds": args.max_rounds, "--max-concurrency": args.max_concurrency,
                    "--max-generated-tokens": args.max_generated_tokens}  # fmt: skip
    for option, value in at_least_one.items():
        if value is not None and value < 1:
            raise UsageError(f"{option} must be at least 1 (got {value})")
    servers = (args.base_url, args.instance_base_url, args.classification_base_url)
    if args.max_concurrency and not any(servers):
        raise UsageError("--max-concurrency needs --base-url (llama.cpp generates one at a time)")
    if not 0.0 <= args.threshold <= 1.0:
        raise UsageError(
            f"--threshold is a ROUGE-L F1 score between 0 and 1 (got {args.threshold})"
        )
    if args.stall_timeout <= 0:
        raise UsageError(
            f"--stall-timeout must be a positive number of seconds (got {args.stall_timeout})"
        )
    try:
        args.seed_columns = parse_columns(args.seed_columns) if args.seed_columns else None
    except ValueError as error:
        raise UsageError(f"--seed-columns: {error}") from None
    if args.argilla_sample < 0:
        raise UsageError(f"--argilla-sample must be 0 (all) or more (got {args.argilla_sample})")
    if args.push_to_hub and (problem := hub_problem(args.push_to_hub)):
        raise UsageError(problem)
    if args.argilla:
        try:  # a wrong key or URL fails now, not after the generation
            connect(args.argilla_api_url, args.argilla_api_key)
        except (ArgillaReviewError, ImportError) as error:
            raise UsageError(f"--argilla: {error}") from None


def llm_options(args: argparse.Namespace, prefix: str | None = None) -> dict:
    """The LLM's options as `distilabel_selfinstruct.pipeline.llm_from_options` takes them:
    the main model's, or with `prefix` (`"instance"`, `"classification"`) a stage's own.
    """
    option = (lambda name: getattr(args, f"{prefix}_{name}")) if prefix else (
        lambda name: getattr(args, name))  # fmt: skip
    mode = option("mode") or args.mode
    if option("base_url"):
        return {"base_url": option("base_url"), "model": option("model"), "mode": mode,
                "max_concurrency": args.max_concurrency}  # fmt: skip
    return {
        "model_path": option("model_path") and str(Path(option("model_path")).resolve()),
        "mode": mode,
        "verbose": args.verbose,
    }


def stage_llm_options(args: argparse.Namespace) -> dict[str, dict]:
    """The LLM options of the stages given their own model (`--instance-*`, ...)."""
    return {
        stage: llm_options(args, prefix)
        for stage, prefix in _STAGE_PREFIXES.items()
        if getattr(args, f"{prefix}_base_url") or getattr(args, f"{prefix}_model_path")
    }


def _model_label(options: dict) -> str:
    if options.get("base_url"):
        return options["model"]
    if options.get("model_path"):
        return Path(options["model_path"]).name
    return EMBEDDED_MODEL_NAME


def preflight(args: argparse.Namespace, seeds: list) -> None:
    """The LLM answers the run's longest prompt before anything is generated."""
    prompt, max_new_tokens = longest_prompt(seeds)
    distinct = []
    for options in (llm_options(args), *stage_llm_options(args).values()):
        if options not in distinct:
            distinct.append(options)
    try:
        for options in distinct:
            if options.get("base_url"):
                check_server(options["base_url"], options["model"], options["mode"], prompt=prompt)
            else:
                check_llama_cpp(options["model_path"], prompt, max_new_tokens, n_ctx=4096)
    except PromptTooLong as error:
        longest = max(seeds, key=lambda task: len(task.instruction))
        raise UsageError(
            f"preflight: {error} (the longest is {longest.id!r},"
            f" {len(longest.instruction):,} characters)"
        ) from None
    except PreflightError as error:
        raise UsageError(f"preflight: {error}") from None


def _local_path_or_id(source: str | None) -> str | None:
    """A seed source for the child process: an existing path made absolute, else as given."""
    return str(Path(source).resolve()) if source and Path(source).exists() else source


def run_supervised(args: argparse.Namespace, argv: list[str], work: Path, lock: RunLock) -> Path:
    """Generates the dataset in a supervised child process; returns its complete folder."""
    partial = work / "dataset.partial"
    # distilabel reads its cached pipeline.yaml even with use_cache=False, and a killed run
    # can leave it cut short; this job resumes from its journal, never from that cache.
    for leftover in (partial, work / "cache"):
        shutil.rmtree(leftover, ignore_errors=True)
    spec = RunSpec(
        target="distilabel_selfinstruct.pipeline:build_from_options",
        kwargs={"llm": llm_options(args), "stage_llms": stage_llm_options(args),
                "paper_rules": args.paper_rules, "seeds": _local_path_or_id(args.seeds),
                "seed_columns": args.seed_columns,
                "num_instructions": args.num_instructions, "num_prompts": args.num_prompts,
                "max_rounds": args.max_rounds, "max_generated_tokens": args.max_generated_tokens,
                "seed": args.seed, "threshold": args.threshold,
                "journal_dir": str((work / "journal").resolve()),
                "cache_dir": str((work / "cache").resolve()),
                "ray": args.ray, "ray_address": args.ray_address},
        output=str(partial),
        finalize="distilabel_selfinstruct.publishing.statistics:save_run_summary",
        finalize_kwargs={"run": run_info(args, argv),
                         "local_paths": {str(work.resolve()): "<work-dir>"}},
        journal_dir=str(work / "journal"),
    )  # fmt: skip
    # The run's processes hold the lock too: it is free only once every one has ended.
    progress = None if args.quiet or args.verbose else RunProgress()
    try:
        supervise(
            spec,
            work / "run",
            stall_timeout=args.stall_timeout,
            pass_fds=(lock.fileno(),),
            quiet=not args.verbose,
            on_event=progress,
        )
    finally:
        if progress is not None:
            progress.close()
    shutil.rmtree(work / "cache", ignore_errors=True)
    return partial


def check_complete(partial: Path, args: argparse.Namespace) -> dict:
    """The run summary of a finished run; `UsageError`-like failure when the model gave
    nothing usable (the bootstrap stalled before the target).
    """
    summary = json.loads((partial / CARD_FOLDER / RUN_SUMMARY_FILE).read_text("utf-8"))
    if summary.get("stop_reason") != "stalled":
        return summary
    kept = summary["instructions"]
    rejections = ", ".join(f"{rule} {count}" for rule, count in summary["rejections"].items())
    advice = "check the model and --mode"
    if kept:
        advice += f", or rerun with --num-instructions {kept} to publish what was kept"
    raise RunFailed(
        f"the model gave nothing usable: after {summary['rounds']} rounds {kept} of"
        f" {args.num_instructions} instructions were kept and the last rounds kept none"
        f" (rejected: {rejections or 'nothing parsed'}); {advice}"
    )


def review_options(args: argparse.Namespace) -> ReviewOptions:
    """The Argilla review the options ask for (`--argilla-*`)."""
    return ReviewOptions(
        dataset_name=args.argilla_dataset,
        workspace=args.argilla_workspace,
        sample_size=args.argilla_sample or None,
        seed=args.seed,
        api_url=args.argilla_api_url,
        api_key=args.argilla_api_key,
    )


def _token_counter(options: dict) -> tuple[Callable[[str], int], str]:
    """A prompt's token count by the model's own tokenizer (llama.cpp loads only its
    vocabulary), or an estimate for a server, whose tokenizer is not at hand."""
    if options.get("base_url"):
        return (lambda text: math.ceil(len(text) / 4)), "an estimate (4 characters per token)"
    from llama_cpp import Llama

    path = options.get("model_path") or str(embedded_model_path())
    vocabulary = Llama(model_path=path, vocab_only=True, verbose=False)
    count = lambda text: len(vocabulary.tokenize(text.encode("utf-8"), add_bos=True))  # noqa: E731
    return count, f"the tokenizer of {_model_label(options)}"


def dry_run(args: argparse.Namespace, seeds: list) -> None:
    """Prints the plan (see `distilabel_selfinstruct.plan`) without generating anything."""
    stages = stage_llm_options(args)
    models = {stage: _model_label(stages.get(stage, llm_options(args))) for stage in LLM_STAGES}
    count, source = _token_counter(llm_options(args))
    plans = plan_run(seeds, args.num_instructions, args.num_prompts, models, count, args.seed)
    print(format_plan(plans, source, args.price_per_1k_tokens))


def main(argv: list[str] | None = None) -> int:
    quiet_import_warnings()
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.dry_run:
        try:
            validate(args)
            dry_run(args, load_seed_tasks(args.seeds, columns=args.seed_columns))
        except (UsageError, SeedTaskError, FileNotFoundError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    output = Path(args.output_dir)
    work = Path(args.work_dir) if args.work_dir else output.with_name(f".{output.name}.work")
    lock = RunLock(work)
    try:
        validate(args)
        check_writable(output.parent)
        # Before looking at the output, so that two runs cannot both pass the check; a run
        # that was just killed may take a moment to end its processes.
        lock.acquire(wait=3.0)
        check_output_dir(output, overwrite=args.overwrite)
        seeds = load_seed_tasks(args.seeds, columns=args.seed_columns)
        preflight(args, seeds)
    except (UsageError, OutputDirError, SeedTaskError, FileNotFoundError) as error:
        lock.release()
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        lock.release()
        print("\ninterrupted before anything was generated", file=sys.stderr)
        return 128 + signal.SIGINT
    if args.verbose:
        os.environ["DISTILABEL_LOG_LEVEL"] = "DEBUG"  # inherited by the run's processes
    journal = work / "journal"
    try:
        if args.restart:
            shutil.rmtree(journal, ignore_errors=True)
        partial = run_supervised(args, argv, work, lock)
        summary = check_complete(partial, args)
        publish_dataset(partial, output, overwrite=args.overwrite)
    except RunInterrupted as error:
        print(f"\n{error}: nothing was published; the finished generations are kept in"
              f" {journal}, run the same command again to resume", file=sys.stderr)  # fmt: skip
        return 128 + error.signal_number
    except (RunFailed, OutputDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        if isinstance(error, RunFailed):
            print(f"nothing was published; the finished generations are kept in {journal},"
                  " run the same command again to resume", file=sys.stderr)  # fmt: skip
        return 1
    finally:
        lock.release()
    print(format_summary(summary))
    print(f"saved to {output}; generation journal kept in {journal}")
    status = publish(output, args.report, args.push_to_hub, args.private)
    if args.argilla:
        status = max(status, push_review(output, review_options(args)))
    return status


if __name__ == "__main__":
    sys.exit(main())
