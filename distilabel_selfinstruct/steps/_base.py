"""What the Self-Instruct steps share: prompting an LLM with a template, and recording rejects."""

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from distilabel_selfinstruct._compat import PerGenerationTask, StepBase, adopt_pipeline, step_logger
from distilabel_selfinstruct.constants import REJECTED_ARTIFACT
from distilabel_selfinstruct.llms.journaled import check_raw_prompt_llm, prompt_as_llm_input
from distilabel_selfinstruct.prompts import render_prompt

if TYPE_CHECKING:
    from distilabel.typing import FormattedInput


class PromptedTask(PerGenerationTask):
    """A task whose prompt is one of the package's templates, sent as raw text.

    Subclasses name their sampling defaults in `_default_generation_kwargs()`; they fill
    whatever the user left out of `llm.generation_kwargs`, at construction (so they show
    in `pipeline.yaml`) and again at `load()` (runtime parameters replace the whole dict),
    limited to the keys the LLM's `generate` accepts.

    Subclasses parse each generation in `parse_generation(output, input, truncated)` (see
    `_compat.PerGenerationTask`); earlier steps' `distilabel_metadata` entries are kept.
    """

    def _default_generation_kwargs(self) -> dict[str, Any]:
        return {}

    def _apply_generation_defaults(self) -> None:
        """Fills the LLM's generation kwargs with the task's defaults; the stop sequences go
        to `stop_sequences` where the LLM names them so (Hugging Face's)."""
        accepted = {parameter.name for parameter in self.llm.generate_parameters}
        current = dict(self.llm.generation_kwargs or {})
        defaults = self._default_generation_kwargs()
        if "stop" in defaults and "stop" not in accepted and "stop_sequences" in accepted:
            defaults["stop_sequences"] = defaults.pop("stop")
        for key, value in defaults.items():
            if key in accepted and key not in current:
                current[key] = value
        self.llm.generation_kwargs = current

    def model_post_init(self, __context: Any) -> None:
        super().model_post_init(__context)
        check_raw_prompt_llm(
            self.llm, self.name, needs_stop="stop" in self._default_generation_kwargs()
        )
        self._apply_generation_defaults()

    def load(self) -> None:
        super().load()
        self._apply_generation_defaults()

    def _prompt(self, template: str, **variables: Any) -> "FormattedInput":
        return prompt_as_llm_input(self.llm, render_prompt(template, **variables))


class RejectionLog(StepBase):
    """Keeps what a filter drops: counts per rule, and every rejected row as a JSONL
    artifact (`artifacts/<step>/rejected/rejected.jsonl`, counts in its `metadata.json`)
    when the step runs in a pipeline. The pipeline it joins gets the fix for distilabel's
    hang when a filter keeps nothing (`_compat.adopt_pipeline`).
    """

    _rejection_counts: Counter[str] = PrivateAttr(default_factory=Counter)

    def model_post_init(self, __context: Any) -> None:
        super().model_post_init(__context)
        if self.pipeline is not None:
            # A filter may keep nothing; distilabel's own pipeline classes then hang.
            adopt_pipeline(self.pipeline)

    @property
    def rejection_counts(self) -> dict[str, int]:
        """How many rows (or instances) each rule rejected so far in this process."""
        return dict(self._rejection_counts)

    def _rejected_record(self, row: dict[str, Any], rule: str, detail: str) -> dict[str, Any]:
        return {**row, "rejected_by": rule, "rejection_detail": detail, "rejected_at": self.name}

    def _record_rejections(
        self,
        records: list[dict[str, Any]],
        complete: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Counts `records` and writes them to the `rejected` artifact: appended to it, or,
        with `complete`, as its whole content (written even when empty, with `metadata`
        added to the counts).
        """
        if not records and not complete:
            return
        self._rejection_counts.update(record["rejected_by"] for record in records)
        if not complete:
            step_logger(self).info(
                f"{self.name}: rejected {len(records)} in this batch; so far "
                + ", ".join(f"{rule}={n}" for rule, n in sorted(self._rejection_counts.items()))
            )
        if self.artifacts_directory is None:
            return

        def write(directory: Path) -> None:
            with (directory / "rejected.jsonl").open(
                "w" if complete else "a", encoding="utf-8"
            ) as handle:
                for record in records:
                    handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

        self.save_artifact(
            REJECTED_ARTIFACT,
            write_function=write,
            metadata={"counts": dict(self._rejection_counts), **(metadata or {})},
        )
