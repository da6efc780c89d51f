"""Human review: push instances to Argilla from inside a pipeline."""

import os
from typing import TYPE_CHECKING

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.base import GlobalStep, StepInput
from pydantic import Field, SecretStr

from distilabel_selfinstruct.argilla import push_for_review

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

__all__ = ["SelfInstructToArgilla"]


def _secret_from_env() -> SecretStr | None:
    value = os.getenv("ARGILLA_API_KEY")
    return SecretStr(value) if value else None


class SelfInstructToArgilla(GlobalStep):
    """Pushes instances to an Argilla dataset for the paper's human review (see
    `distilabel_selfinstruct.argilla`): fields instruction, input, output; metadata
    is_classification, round, most_similar_score; questions valid instruction, input
    appropriate, output acceptable, the A-D rating, and a corrected output.

    A `GlobalStep`, so that the sample of `sample_size` records is drawn from every row.
    Record ids are stable: running the pipeline again updates the same records. Rows pass
    through unchanged. An Argilla error stops the pipeline (as in any `GlobalStep`); the
    main job pushes after it saved the dataset instead, so that nothing is lost.

    Runtime parameters:
        - `dataset_name`, `dataset_workspace` (`None`: the first workspace).
        - `api_url`, `api_key`: default to `ARGILLA_API_URL` and `ARGILLA_API_KEY`; the key is
          kept out of `pipeline.yaml` and of the cache signature.
        - `sample_size`: records to push, a random sample (`None`: all); `seed`.

    Input columns:
        - instruction (`str`), instances (`list[dict]`); optional id, round,
          is_classification, most_similar_score.

    Examples:
        ```python
        from distilabel_selfinstruct import SelfInstructToArgilla

        step = SelfInstructToArgilla(dataset_name="self-instruct-review", sample_size=200)
        # in a pipeline: instance_filter >> step (needs ARGILLA_API_URL and ARGILLA_API_KEY)
        print(step.dataset_name, step.sample_size)
        ```
    """

    dataset_name: RuntimeParameter[str] = Field(
        default="self-instruct-review", description="The Argilla dataset."
    )
    dataset_workspace: RuntimeParameter[str] | None = Field(
        default=None, description="The workspace (None: the first one)."
    )
    api_url: RuntimeParameter[str] | None = Field(
        default_factory=lambda: os.getenv("ARGILLA_API_URL"),
        description="The Argilla server (default: ARGILLA_API_URL).",
    )
    api_key: RuntimeParameter[SecretStr] | None = Field(
        default_factory=_secret_from_env,
        exclude=True,
        description="The API key (default: ARGILLA_API_KEY).",
    )
    sample_size: RuntimeParameter[int] | None = Field(
        default=200, description="Records to push, sampled at random (None: all)."
    )
    seed: RuntimeParameter[int] = Field(default=42, description="Seed of the sample.")

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "instances": True, "id": False, "round": False,
                "is_classification": False, "most_similar_score": False}  # fmt: skip

    @property
    def outputs(self) -> "StepColumns":
        return []

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        pushed = push_for_review(
            inputs,
            self.dataset_name,
            workspace=self.dataset_workspace,
            sample_size=self.sample_size,
            seed=self.seed,
            api_url=self.api_url,
            api_key=self.api_key.get_secret_value() if self.api_key else None,
        )
        self._logger.info(f"{self.name}: {pushed} records in Argilla dataset {self.dataset_name!r}")
        yield inputs
