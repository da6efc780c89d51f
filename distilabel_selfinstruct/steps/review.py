"""Human review: push instances to Argilla from inside a pipeline."""

from typing import TYPE_CHECKING

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.argilla.base import ArgillaBase
from distilabel.steps.base import GlobalStep, StepInput
from pydantic import Field

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import REVIEW_DATASET, REVIEW_SAMPLE_SIZE, SEED
from distilabel_selfinstruct.publishing.review import push_for_review

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

__all__ = ["SelfInstructToArgilla"]


class SelfInstructToArgilla(ArgillaBase, GlobalStep):
    """Pushes instances to an Argilla dataset for the paper's human review (see
    `distilabel_selfinstruct.publishing.review`): fields instruction, input, output; metadata
    is_classification, round, most_similar_score; questions valid instruction, input
    appropriate, output acceptable, the A-D rating, and a corrected output.

    Built on distilabel's `ArgillaBase` (its connection options and their checks at
    `load()`: `api_url` and `api_key` from `ARGILLA_API_URL` and `ARGILLA_API_KEY`, the key
    kept out of `pipeline.yaml`), and a `GlobalStep`, so that the sample of `sample_size` records is drawn from every row.
    Record ids are stable: running the pipeline again updates the same records. Rows pass
    through unchanged. An Argilla error stops the pipeline (as in any `GlobalStep`); the
    main job pushes after it saved the dataset instead, so that nothing is lost.

    Runtime parameters:
        - `dataset_name`, `dataset_workspace` (`None`: the first workspace).
        - `api_url`, `api_key` (see `ArgillaBase`).
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

        ```text
        self-instruct-review 200
        ```
    """

    dataset_name: RuntimeParameter[str] = Field(
        default=REVIEW_DATASET, description="The name of the dataset in Argilla."
    )
    sample_size: RuntimeParameter[int] | None = Field(
        default=REVIEW_SAMPLE_SIZE, description="Records to push, sampled at random (None: all)."
    )
    seed: RuntimeParameter[int] = Field(default=SEED, description="Seed of the sample.")

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "instances": True, "id": False, "round": False,
                "is_classification": False, "most_similar_score": False}  # fmt: skip

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
        step_logger(self).info(
            f"{self.name}: {pushed} records in Argilla dataset {self.dataset_name!r}"
        )
        yield inputs
