"""Benchmark: exact ROUGE-L novelty filtering with `RougeLIndex` against brute force.

    python benchmarks/rouge_filter.py                      # pool up to 100K (about 15 min)
    python benchmarks/rouge_filter.py --max-pool 10000     # a quick run

The candidate stream is real instruction text from `../shared/data/` (the 175 seed tasks, the
252 user-oriented instructions, the 203 proposed instructions of the ensemble-instruct data
and the pool instructions recorded with them), turned into a long stream by a seeded
generator (`--seed`):

- 70% *splices*: the first part of one real instruction joined to the last part of
  another, at random cut points, then 0 to 3 word edits (drop, insert or replace with a word
  of the real vocabulary); these are mostly new, but close to their parents;
- 30% *near-duplicates*: 1 or 2 word edits of a candidate kept earlier, most of which
  the filter must reject.

The pool starts from the 175 seeds and grows with every kept candidate. The script prints:

1. whether the keep/drop decisions equal those of the brute-force loop (every candidate
   scored by `rouge_score` against the whole pool, in order) on a prefix of the stream;
2. at pool sizes 1K, 10K, 50K and 100K, the time per candidate of `RougeLIndex.most_similar`
   and of the pre-tokenized brute-force `rouge_score` loop, measured in the same run, and the
   speedup;
3. the time to filter the first 52,000 candidates (the paper's scale) and the whole stream;
4. the peak memory (max RSS) of the process, and how much of it was there before the index.
"""

import argparse
import json
import random
import resource
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from rouge_score.rouge_scorer import _score_lcs

warnings.filterwarnings("ignore")  # distilabel's import-time pydantic warnings

from distilabel_selfinstruct.rouge_index import RougeLIndex, tokenize  # noqa: E402

CHECKPOINTS = (1_000, 10_000, 50_000, 100_000)
PAPER_STREAM = 52_000
THRESHOLD = 0.7


def real_texts(shared: Path) -> list[str]:
    data = shared / "data"
    texts = []
    for name in (
        "self_instruct/seed_tasks.jsonl",
        "self_instruct/user_oriented_instructions.jsonl",
    ):
        texts += [json.loads(line)["instruction"] for line in (data / name).open()]
    for path in sorted((data / "ensemble_instruct").glob("*.jsonl")):
        for line in path.open():
            record = json.loads(line)
            texts.append(record["instruction"].replace("|EoS|", "").strip())
            texts += list(record["most_similar"])
    return list(dict.fromkeys(texts))


def candidate_stream(texts: list[str], seed: int) -> Iterator[str]:
    """An endless, seeded stream of splices and near-duplicates (see the module docstring)."""
    rng = random.Random(seed)
    vocabulary = sorted({word for text in texts for word in text.split()})
    recent: list[str] = []

    def edit(words: list[str], count: int) -> list[str]:
        words = list(words)
        for _ in range(count):
            operation = rng.random()
            if operation < 0.35 and len(words) > 3:
                words.pop(rng.randrange(len(words)))
            elif operation < 0.7:
                words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
            elif words:
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
        return words

    while True:
        if recent and rng.random() < 0.3:
            words = edit(rng.choice(recent).split(), rng.randint(1, 2))
        else:
            a, b = rng.choice(texts).split(), rng.choice(texts).split()
            words = a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1) :]
            words = edit(words, rng.randint(0, 3))
        text = " ".join(words)
        recent.append(text)
        if len(recent) > 5_000:
            recent = recent[-5_000:]
        yield text


def brute_force_scores(candidate_tokens: list[str], pool_tokens: list[list[str]]) -> float:
    return max(
        (_score_lcs(candidate_tokens, tokens).fmeasure for tokens in pool_tokens), default=0.0
    )


def check_prefix(seeds: list[str], stream: Iterator[str], count: int) -> tuple[bool, int]:
    index = RougeLIndex(seeds, threshold=THRESHOLD)
    pool_tokens = [tokenize(text) for text in seeds]
    same, kept = True, 0
    for _ in range(count):
        text = next(stream)
        tokens = tokenize(text)
        brute_keep = brute_force_scores(tokens, pool_tokens) <= THRESHOLD
        if brute_keep:
            pool_tokens.append(tokens)
        fast_keep = index.filter([text])[0]
        same &= fast_keep == brute_keep
        kept += fast_keep
    return same, kept


def probe_times(
    index: RougeLIndex, pool_tokens: list[list[str]], probes: list[str]
) -> tuple[float, float]:
    """Seconds per candidate of the index and of brute force (on fewer probes) at this size."""
    tick = time.perf_counter()
    for probe in probes:
        index.most_similar(probe)
    fast = (time.perf_counter() - tick) / len(probes)
    brute_probes = probes[: max(2, 20_000 // len(index))]
    tick = time.perf_counter()
    for probe in brute_probes:
        brute_force_scores(tokenize(probe), pool_tokens)
    return fast, (time.perf_counter() - tick) / len(brute_probes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-pool", type=int, default=100_000)
    parser.add_argument(
        "--prefix", type=int, default=2_000, help="candidates checked against brute force"
    )
    args = parser.parse_args()

    texts = real_texts(args.shared)
    seeds = [
        json.loads(line)["instruction"]
        for line in (args.shared / "data/self_instruct/seed_tasks.jsonl").open()
    ]
    print(f"real instruction texts: {len(texts)}; seed pool: {len(seeds)}; threshold {THRESHOLD}")

    started = time.perf_counter()
    same, kept = check_prefix(seeds, candidate_stream(texts, args.seed), args.prefix)
    print(
        f"decisions identical to brute force on the first {args.prefix} candidates: "
        f"{'yes' if same else 'NO'} ({kept} kept, {args.prefix - kept} dropped;"
        f" {time.perf_counter() - started:.1f} s with brute force)"
    )

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index = RougeLIndex(seeds, threshold=THRESHOLD)
    pool_tokens = [tokenize(text) for text in seeds]
    stream = candidate_stream(texts, args.seed)
    checkpoints = [size for size in CHECKPOINTS if size <= args.max_pool]
    print(
        f"\n{'pool':>8} {'fast ms/cand':>13} {'brute ms/cand':>14} {'speedup':>8} {'keep rate':>10}"
    )
    filtering, judged, paper_time = 0.0, 0, None
    while checkpoints:
        text = next(stream)
        tick = time.perf_counter()
        keep = index.filter([text])[0]
        filtering += time.perf_counter() - tick
        judged += 1
        if keep:
            pool_tokens.append(tokenize(text))
        if judged == PAPER_STREAM:
            paper_time = filtering
        if len(index) >= checkpoints[0]:
            size = checkpoints.pop(0)
            fast, brute = probe_times(index, pool_tokens, [next(stream) for _ in range(300)])
            print(
                f"{size:>8,} {fast * 1e3:>13.3f} {brute * 1e3:>14.1f} {brute / fast:>7.0f}x"
                f" {len(index) / judged:>9.0%}",
                flush=True,
            )
    print(f"\nfiltered {judged:,} candidates into a pool of {len(index):,} in {filtering:.1f} s")
    if paper_time is not None:
        print(f"the first {PAPER_STREAM:,} candidates took {paper_time:.1f} s")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory (max RSS) of this process: {peak:.0f} MiB, {baseline:.0f} MiB of it before"
        " the index existed (Python, numpy, imports); it also holds the brute-force loop's"
        " token lists, so the index alone needs less"
    )


if __name__ == "__main__":
    main()
