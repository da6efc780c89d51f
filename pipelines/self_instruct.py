"""Runs every Self-Instruct stage once over the seed pool and saves the dataset.

    python pipelines/self_instruct.py                 # embedded Gemma 3 270M base model
    python pipelines/self_instruct.py --help          # every option

The iterative bootstrap (the pool growing round after round) is tracked separately; this job
chains the stages once: proposal, instruction filters, ROUGE-L novelty, classification,
instance generation and instance filters.
"""

import argparse
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

from pydantic.warnings import UnsupportedFieldAttributeWarning

# distilabel 1.5.3's field declarations warn on every import; they say nothing about this run.
warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning)

from distilabel_selfinstruct import LlamaCppCompletionLLM, OpenAICompletionLLM, SeedTaskError  # noqa: E402
from distilabel_selfinstruct.pipeline import build_self_instruct_pipeline  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seeds",
        help="seed tasks: a .jsonl file, a datasets path or Hub id (default: the package's seed set)",
    )
    parser.add_argument("--num-prompts", type=int, default=5, help="proposal prompts (default: 5)")
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of prompt sampling and generation (default: 42)"
    )
    parser.add_argument(
        "--threshold", type=float, default=0.7, help="ROUGE-L novelty threshold (default: 0.7)"
    )
    parser.add_argument(
        "--output-dir",
        default="output/self-instruct",
        help="where the dataset is saved (default: output/self-instruct)",
    )
    parser.add_argument(
        "--model-path", help="a GGUF file for llama.cpp (default: the embedded model)"
    )
    parser.add_argument(
        "--base-url",
        help="an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (key from OPENAI_API_KEY)",
    )
    parser.add_argument("--model", help="the model name on that server")
    parser.add_argument(
        "--mode",
        choices=["completion", "chat"],
        default="completion",
        help="raw prompt for base models, or one user message for chat models (default: completion)",
    )
    parser.add_argument("--cache-dir", help="distilabel's cache directory")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.base_url:
        if not args.model:
            print("--base-url needs --model", file=sys.stderr)
            return 2

        def llm_factory():
            return OpenAICompletionLLM(base_url=args.base_url, model=args.model, mode=args.mode)
    else:

        def llm_factory():
            return LlamaCppCompletionLLM(model_path=args.model_path, mode=args.mode)

    try:
        pipeline = build_self_instruct_pipeline(
            llm_factory=llm_factory,
            seeds=args.seeds,
            num_prompts=args.num_prompts,
            seed=args.seed,
            threshold=args.threshold,
            cache_dir=args.cache_dir,
        )
    except (SeedTaskError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.monotonic()
    distiset = pipeline.run(use_cache=False)
    output = Path(args.output_dir)
    tmp = output.with_name(output.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    # Also copies the artifacts: every filter step's rejected rows.
    distiset.save_to_disk(tmp, save_card=False)
    if output.exists():
        shutil.rmtree(output)
    os.replace(tmp, output)
    rows = distiset["default"]["train"]
    print(
        f"{len(rows)} instructions with {sum(len(r['instances']) for r in rows)} instances"
        f" in {time.monotonic() - started:.0f} s; saved to {output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
