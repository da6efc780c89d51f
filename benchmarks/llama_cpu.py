"""What llama.cpp's extra CPU buffer types (weight repacking; AMX on Intel) are worth for the
embedded model, on this machine: prompt evaluation and generation in tokens/s, with them
and without them (the setting the package uses on AMX CPUs, where that path crashes).

    python benchmarks/llama_cpu.py [--repeats 3]

Each setting is measured in its own child process (a crash there cannot take the other
down), on the same real prompt (the classification prompt for one of the shared paper's
seed tasks), greedy, after one warm-up call.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

from distilabel_selfinstruct import LlamaCppCompletionLLM
from distilabel_selfinstruct._compat import llama_cpp_model
from distilabel_selfinstruct.hardware import cpu_flags, has_amx
from distilabel_selfinstruct.prompts import render_prompt

MAX_TOKENS = 64


def measure(extra_buffer_types: bool, repeats: int) -> dict:
    """Loads the embedded model and times `repeats` prompt evaluations and generations."""
    llm = LlamaCppCompletionLLM(extra_buffer_types=extra_buffer_types)
    llm.load()
    model = llama_cpp_model(llm)
    prompt = render_prompt(
        "classification_identification",
        instruction="Sort the given list of numbers in ascending order.",
    )
    prompt_rates, generation_rates = [], []
    for attempt in range(repeats + 1):
        model.reset()
        started = time.perf_counter()
        model.create_completion(prompt=prompt, max_tokens=1, temperature=0)
        evaluated = time.perf_counter() - started
        tokens = len(model.tokenize(prompt.encode("utf-8")))
        model.reset()
        started = time.perf_counter()
        response = model.create_completion(
            prompt=prompt, max_tokens=MAX_TOKENS, temperature=0, stop=[]
        )
        total = time.perf_counter() - started
        generated = response["usage"]["completion_tokens"]
        if attempt == 0:
            continue  # warm-up
        prompt_rates.append(tokens / evaluated)
        generation_rates.append(max(generated - 1, 1) / max(total - evaluated, 1e-9))
    return {
        "prompt_tokens": tokens,
        "prompt_tok_s": statistics.median(prompt_rates),
        "generation_tok_s": statistics.median(generation_rates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child == "on", args.repeats)))
        return
    print(f"CPU has AMX: {has_amx()} ({len(cpu_flags())} flags read)")
    results = {}
    for setting in ("on", "off"):
        run = subprocess.run(
            [sys.executable, __file__, "--child", setting, "--repeats", str(args.repeats)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if run.returncode != 0:
            print(f"extra buffer types {setting}: failed (exit {run.returncode})")
            continue
        results[setting] = json.loads(run.stdout.strip().splitlines()[-1])
        r = results[setting]
        print(
            f"extra buffer types {setting:>3}: prompt {r['prompt_tok_s']:7.1f} tok/s"
            f" ({r['prompt_tokens']} tokens), generation {r['generation_tok_s']:6.1f} tok/s"
        )
    if len(results) == 2:
        on, off = results["on"], results["off"]
        print(
            f"without them: prompt x{off['prompt_tok_s'] / on['prompt_tok_s']:.2f},"
            f" generation x{off['generation_tok_s'] / on['generation_tok_s']:.2f}"
        )


if __name__ == "__main__":
    main()
