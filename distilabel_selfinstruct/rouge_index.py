"""Exact ROUGE-L novelty search over a growing instruction pool.

Self-Instruct keeps a new instruction only when its ROUGE-L F1 with every instruction in
the pool is at most a threshold (0.7). Brute force scores the candidate against the whole
pool; `RougeLIndex` returns the same scores, bit for bit, while computing the longest common
subsequence (LCS) for only a few pool items:

1. An inverted index gives, for every pool item sharing a token with the candidate, the
   multiset overlap of the two token bags. LCS can never exceed it, so
   `2 * overlap / (m + n)` bounds the F1 from above (and so does `2 * min(m, n) / (m + n)`,
   which the overlap already implies).
2. Items are visited in decreasing order of that bound, in vectorised chunks, with a
   bit-parallel LCS (Hyyrö 2004) on 64-bit words; the search stops as soon as the next bound
   is below the best exact score found. Items whose bound cannot reach the best are never
   scored.

The F1 is computed with the very operations of `rouge_score`
(`precision = lcs / len(prediction)`, `recall = lcs / len(target)`,
`2 * precision * recall / (precision + recall)`), with the candidate as the target and the
pool item as the prediction, as the paper's code calls it; the formula is symmetric to the
last bit anyway.

Two tokenizers are available: `"rouge_score"` (the default, `rouge_score`'s own: lowercase,
ASCII letters and digits only, so text in other scripts has no tokens and never counts as a
duplicate) and `"unicode"` (letters, marks and digits of any script after NFKC and case
folding; scripts written without spaces, such as Chinese, Japanese and Thai, split into one
token per character).
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import regex
from rouge_score.tokenize import tokenize as _rouge_score_tokenize

from distilabel_selfinstruct.constants import SIMILARITY_THRESHOLD

__all__ = ["RougeLIndex", "TokenizerName", "rouge_l_fmeasure", "tokenize"]

TokenizerName = Literal["rouge_score", "unicode"]

_WORD_BITS = 64
_FULL_WORD = np.uint64(0xFFFFFFFFFFFFFFFF)
# Bounds are floats; an item is skipped only when its bound is below the best exact score
# by more than any rounding of either could explain.
_BOUND_SLACK = 1e-9
_CHUNK = 256
_STATE_VERSION = 1

_NO_SPACE_SCRIPT = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"
_UNICODE_TOKEN = regex.compile(
    rf"{_NO_SPACE_SCRIPT}|(?:(?!{_NO_SPACE_SCRIPT})[\p{{L}}\p{{M}}\p{{N}}])+"
)


def _unicode_tokenize(text: str) -> list[str]:
    return _UNICODE_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _rouge_tokenize(text: str) -> list[str]:
    return _rouge_score_tokenize(text, None)


_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "rouge_score": _rouge_tokenize,
    "unicode": _unicode_tokenize,
}


def tokenize(text: str, tokenizer: TokenizerName = "rouge_score") -> list[str]:
    """Tokenizes `text` as the index does.

    Examples:
        >>> tokenize("Translate «Привет» into English!")
        ['translate', 'into', 'english']
        >>> tokenize("Translate «Привет» into English!", "unicode")
        ['translate', 'привет', 'into', 'english']
        >>> tokenize("把这句话翻译成英文", "unicode")[:3]
        ['把', '这', '句']
    """
    try:
        return _TOKENIZERS[tokenizer](text)
    except KeyError:
        raise ValueError(
            f"unknown tokenizer {tokenizer!r}; expected one of {sorted(_TOKENIZERS)}"
        ) from None


def _lcs_length(a: Sequence[Any], b: Sequence[Any]) -> int:
    """LCS length by bit-parallel dynamic programming on Python integers."""
    masks: dict[Any, int] = {}
    for position, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << position)
    full = (1 << len(a)) - 1
    row = full
    for token in b:
        matches = row & masks.get(token, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(a) - row.bit_count()


def _fmeasure(lcs: int, target_length: int, prediction_length: int) -> float:
    if lcs == 0:
        return 0.0
    precision = lcs / prediction_length
    recall = lcs / target_length
    return 2 * precision * recall / (precision + recall)


def rouge_l_fmeasure(
    target: str, prediction: str, tokenizer: TokenizerName = "rouge_score"
) -> float:
    """ROUGE-L F1 of two texts, equal to `rouge_score`'s for the default tokenizer.

    Examples:
        >>> rouge_l_fmeasure("Tell me a joke.", "Tell me a funny joke.")
        0.888888888888889
    """
    a, b = tokenize(target, tokenizer), tokenize(prediction, tokenizer)
    if not a or not b:
        return 0.0
    return _fmeasure(_lcs_length(a, b), len(a), len(b))


class _Growable:
    """A numpy array that grows by doubling along its first axis."""

    def __init__(self, dtype: Any, width: int | None = None, capacity: int = 4) -> None:
        shape = (capacity,) if width is None else (capacity, width)
        self._data = np.zeros(shape, dtype=dtype)
        self.size = 0

    def append(self, value: Any) -> None:
        if self.size == len(self._data):
            grown = np.zeros((2 * len(self._data), *self._data.shape[1:]), self._data.dtype)
            grown[: self.size] = self._data
            self._data = grown
        self._data[self.size] = value
        self.size += 1

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


class RougeLIndex:
    """A pool of instructions that answers exact ROUGE-L novelty queries quickly.

    Args:
        texts: the initial pool, in order (for Self-Instruct: the seed instructions).
        threshold: a candidate is novel when its maximum ROUGE-L F1 with the pool is not
            above this value.
        tokenizer: `"rouge_score"` (the paper's) or `"unicode"` (any script).

    Examples:
        >>> from distilabel_selfinstruct.rouge_index import RougeLIndex
        >>> index = RougeLIndex(["Tell me a joke.", "Summarize the article in one sentence."])
        >>> index.most_similar("Tell me a funny joke.")
        (0.888888888888889, 0)
        >>> index.filter(["Tell me a funny joke.", "List three uses of a paper clip.",
        ...               "List three uses for a paper clip."])
        [False, True, False]
        >>> len(index)
        3
    """

    def __init__(
        self,
        texts: Iterable[str] = (),
        threshold: float = SIMILARITY_THRESHOLD,
        tokenizer: TokenizerName = "rouge_score",
    ) -> None:
        if tokenizer not in _TOKENIZERS:
            raise ValueError(
                f"unknown tokenizer {tokenizer!r}; expected one of {sorted(_TOKENIZERS)}"
            )
        self.threshold = float(threshold)
        self.tokenizer: TokenizerName = tokenizer
        self._tokenize = _TOKENIZERS[tokenizer]
        self._texts: list[str] = []
        self._vocabulary: dict[str, int] = {}
        self._lengths = _Growable(np.int64)
        # Items of at most 64 tokens, padded with 0 (no token has id 0).
        self._short = _Growable(np.int32, width=_WORD_BITS)
        self._long: dict[int, np.ndarray] = {}
        self._is_long = _Growable(bool)
        self._postings: dict[int, tuple[_Growable, _Growable]] = {}
        for text in texts:
            self.add(text)

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, position: int) -> str:
        """The pool instruction at `position`."""
        return self._texts[position]

    @property
    def texts(self) -> list[str]:
        """The pool, in insertion order (a copy)."""
        return list(self._texts)

    def _ids(self, tokens: Sequence[str], grow: bool) -> list[int]:
        if grow:
            return [
                self._vocabulary.setdefault(token, len(self._vocabulary) + 1) for token in tokens
            ]
        # Tokens unknown to the pool can match nothing: -1 never occurs in an item.
        return [self._vocabulary.get(token, -1) for token in tokens]

    def add(self, text: str) -> int:
        """Adds `text` to the pool and returns its position."""
        return self._add(text, self._tokenize(text))

    def _add(self, text: str, tokens: Sequence[str]) -> int:
        position = len(self._texts)
        ids = self._ids(tokens, grow=True)
        self._texts.append(text)
        self._lengths.append(len(ids))
        row = np.zeros(_WORD_BITS, dtype=np.int32)
        if len(ids) <= _WORD_BITS:
            row[: len(ids)] = ids
        else:
            self._long[position] = np.asarray(ids, dtype=np.int32)
        self._short.append(row)
        self._is_long.append(len(ids) > _WORD_BITS)
        for token, count in Counter(ids).items():
            items, counts = self._postings.setdefault(
                token, (_Growable(np.int64), _Growable(np.int32))
            )
            items.append(position)
            counts.append(count)
        return position

    def _upper_bounds(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Pool positions sharing a token with the candidate, and their F1 upper bounds."""
        overlap = np.zeros(len(self._texts), dtype=np.int64)
        for token, count in Counter(ids).items():
            if token in self._postings:
                items, counts = self._postings[token]
                overlap[items.view] += np.minimum(counts.view, count)
        positions = np.flatnonzero(overlap)
        bounds = 2.0 * overlap[positions] / (len(ids) + self._lengths.view[positions])
        return positions, bounds

    def _match_table(self, ids: list[int]) -> np.ndarray:
        """For every token id, the bit mask of the candidate positions holding it."""
        table = np.zeros(len(self._vocabulary) + 1, dtype=np.uint64)
        for bit, token in enumerate(ids):
            if token > 0:
                table[token] |= np.uint64(1 << bit)
        return table

    def _exact_scores(
        self, ids: list[int], table: np.ndarray | None, positions: np.ndarray
    ) -> np.ndarray:
        """Exact F1 of the candidate with the pool items at `positions`."""
        m = len(ids)
        lcs = np.zeros(len(positions), dtype=np.int64)
        if table is None:  # the candidate is longer than a machine word
            fast, slow = np.array([], dtype=np.int64), np.arange(len(positions))
        else:
            is_long = self._is_long.view[positions]
            fast, slow = np.flatnonzero(~is_long), np.flatnonzero(is_long)
        if len(fast):
            items = positions[fast]
            width = int(self._lengths.view[items].max())
            match = table[self._short.view[items, :width]]
            full = _FULL_WORD if m == _WORD_BITS else np.uint64((1 << m) - 1)
            row = np.full(len(items), full, dtype=np.uint64)
            with np.errstate(over="ignore"):
                for column in range(width):
                    u = row & match[:, column]
                    row = ((row + u) | (row - u)) & full
            lcs[fast] = m - np.bitwise_count(row).astype(np.int64)
        for index in slow:
            lcs[index] = _lcs_length(ids, self._item_ids(int(positions[index])).tolist())
        precision = lcs / self._lengths.view[positions]
        recall = lcs / m
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = 2 * precision * recall / (precision + recall)
        return np.where(lcs > 0, scores, 0.0)

    def _item_ids(self, position: int) -> np.ndarray:
        if position in self._long:
            return self._long[position]
        return self._short.view[position, : self._lengths.view[position]]

    def most_similar(self, text: str) -> tuple[float, int | None]:
        """The exact maximum ROUGE-L F1 of `text` with the pool and the first position
        reaching it; `(0.0, None)` on an empty pool.
        """
        return self._most_similar(self._tokenize(text))

    def _most_similar(self, tokens: Sequence[str]) -> tuple[float, int | None]:
        if not self._texts:
            return 0.0, None
        ids = self._ids(tokens, grow=False)
        if not ids:
            return 0.0, 0
        positions, bounds = self._upper_bounds(ids)
        if not len(positions):
            return 0.0, 0
        table = self._match_table(ids) if len(ids) <= _WORD_BITS else None
        # The items with the highest bounds first (a partial sort: the pool may share a
        # token with nearly every item), then every other item whose bound could still
        # reach the best score: an item whose bound is below it cannot match it.
        if len(bounds) > _CHUNK:
            first = np.argpartition(-bounds, _CHUNK)[:_CHUNK]
        else:
            first = np.arange(len(bounds))
        scores = self._exact_scores(ids, table, positions[first])
        rest = bounds >= float(scores.max()) - _BOUND_SLACK
        rest[first] = False
        chosen, found = [first], [scores]
        later = np.flatnonzero(rest)
        for start in range(0, len(later), _CHUNK):
            chunk = later[start : start + _CHUNK]
            chosen.append(chunk)
            found.append(self._exact_scores(ids, table, positions[chunk]))
        scored, scores = positions[np.concatenate(chosen)], np.concatenate(found)
        best = float(scores.max())
        if best == 0.0:
            return 0.0, 0
        return best, int(scored[scores == best].min())

    def is_novel(self, text: str) -> bool:
        """Whether `text` would be kept: its maximum score is not above the threshold."""
        return self.most_similar(text)[0] <= self.threshold

    def judge(self, text: str) -> tuple[bool, float, int | None]:
        """Scores `text` against the pool and adds it when it is novel (tokenizing once).

        Returns:
            Whether it was kept, its maximum score and the first position reaching it (as
            `most_similar`, before `text` joined the pool).
        """
        tokens = self._tokenize(text)
        score, position = self._most_similar(tokens)
        keep = score <= self.threshold
        if keep:
            self._add(text, tokens)
        return keep, score, position

    def filter(self, candidates: Iterable[str]) -> list[bool]:
        """Keeps each candidate, in order, whose maximum score is not above the threshold;
        a kept candidate joins the pool at once, so later ones are compared with it too.
        """
        return [self.judge(text)[0] for text in candidates]

    def state_dict(self) -> dict[str, Any]:
        """The index's state as plain data (JSON-serialisable)."""
        return {
            "version": _STATE_VERSION,
            "threshold": self.threshold,
            "tokenizer": self.tokenizer,
            "texts": list(self._texts),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RougeLIndex:
        """Rebuilds an index from `state_dict()`."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported RougeLIndex state version {state.get('version')!r}")
        return cls(state["texts"], threshold=state["threshold"], tokenizer=state["tokenizer"])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the state as JSON, atomically (a crash leaves the old file intact)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8"
        ) as handle:
            json.dump(self.state_dict(), handle, ensure_ascii=False)
        os.replace(handle.name, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RougeLIndex:
        """Reads an index written by `save()`."""
        return cls.from_state(json.loads(Path(path).read_text(encoding="utf-8")))
