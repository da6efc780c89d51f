"""The novelty filter: drop instructions too similar (ROUGE-L) to the pool."""

import itertools
from typing import TYPE_CHECKING, Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.base import GlobalStep, StepInput
from pydantic import BaseModel, Field

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import SIMILARITY_THRESHOLD
from distilabel_selfinstruct.rouge_index import RougeLIndex, TokenizerName
from distilabel_selfinstruct.steps._base import RejectionLog
from distilabel_selfinstruct.steps.proposal import SEED_ORIGIN

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

__all__ = ["NoveltyOptions", "RougeSimilarityFilter"]

_PROGRESS_EVERY = 1000


class NoveltyOptions(BaseModel):
    """The novelty filter's options; shared by `RougeSimilarityFilter` and
    `SelfInstructBootstrap`.
    """

    threshold: RuntimeParameter[float] = Field(
        default=SIMILARITY_THRESHOLD,
        description="Highest ROUGE-L F1 with the pool that an instruction may have.",
    )
    tokenizer: RuntimeParameter[TokenizerName] = Field(
        default="rouge_score", description="'rouge_score' (the paper's) or 'unicode'."
    )

    def _novelty_detail(self, score: float, similar: str | None) -> str:
        return f"ROUGE-L {score:.4f} > {self.threshold} with {similar!r}"


class RougeSimilarityFilter(NoveltyOptions, RejectionLog, GlobalStep):
    """Keeps an instruction only if its ROUGE-L F1 with every pool instruction is at most
    `threshold`; kept instructions join the pool at once.

    `GlobalStep`: it sees all rows of its predecessors. Rows whose `origin` is `"seed"` form
    the initial pool and are not passed on (connect the seed loader to this step as well as
    the candidate stream); every other row is a candidate, judged in arrival order against
    the seeds, the candidates kept before it, and nothing else. Scores are exactly
    `rouge_score`'s `RougeScorer(["rougeL"], use_stemmer=False)` F-measure (see
    `RougeLIndex`).

    Rejected rows go to the `rejected` artifact with rule `rouge_similarity`, their score
    and the instruction they are too close to.

    Runtime parameters:
        - `threshold`: the highest similarity allowed (the paper: 0.7).
        - `tokenizer`: `"rouge_score"` (the paper's; non-ASCII letters are dropped) or
          `"unicode"` (any script).

    Input columns:
        - instruction (`str`)
        - origin (`str`, optional): `"seed"` marks pool rows.

    Output columns:
        - most_similar_instruction (`str` or `None`): the first pool instruction with the
          highest score (`None` when the pool was empty).
        - most_similar_score (`float`): that score.

    Examples:
        ```python
        from distilabel_selfinstruct import RougeSimilarityFilter

        step = RougeSimilarityFilter()
        step.load()
        rows = next(step.process([
            {"instruction": "Tell me a joke.", "origin": "seed"},
            {"instruction": "Tell me a funny joke.", "origin": "machine"},
            {"instruction": "List three uses of a paper clip.", "origin": "machine"},
        ]))
        print([(row["instruction"], row["most_similar_score"]) for row in rows])
        ```

        ```text
        [('List three uses of a paper clip.', 0.18181818181818182)]
        ```
    """

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "origin": False}

    @property
    def outputs(self) -> "StepColumns":
        return ["most_similar_instruction", "most_similar_score"]

    def process(self, *inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        rows: list[dict[str, Any]] = list(itertools.chain.from_iterable(inputs))
        seeds = [row["instruction"] for row in rows if row.get("origin") == SEED_ORIGIN]
        candidates = [row for row in rows if row.get("origin") != SEED_ORIGIN]
        index = RougeLIndex(seeds, threshold=self.threshold, tokenizer=self.tokenizer)
        kept, rejected = [], []
        for number, row in enumerate(candidates, start=1):
            keep, score, position = index.judge(row["instruction"])
            similar = None if position is None else index[position]
            scored = {**row, "most_similar_instruction": similar, "most_similar_score": score}
            if keep:
                kept.append(scored)
            else:
                detail = self._novelty_detail(score, similar)
                rejected.append(self._rejected_record(scored, "rouge_similarity", detail))
            if number % _PROGRESS_EVERY == 0:
                step_logger(self).info(
                    f"{self.name}: {number}/{len(candidates)} judged, {len(kept)} kept,"
                    f" pool {len(index)}"
                )
        self._record_rejections(rejected)
        step_logger(self).info(
            f"{self.name}: kept {len(kept)} of {len(candidates)} (pool of {len(seeds)} seeds)"
        )
        yield kept
