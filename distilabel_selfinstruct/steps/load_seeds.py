"""The seed pool as a distilabel generator step."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from distilabel.steps.base import GeneratorStep
from pydantic import BaseModel, Field, PrivateAttr, field_validator

from distilabel_selfinstruct.seed_schema import SeedTask, load_seed_tasks, seed_tasks_digest
from distilabel_selfinstruct.steps.proposal import SEED_ORIGIN

if TYPE_CHECKING:
    from distilabel.typing import GeneratorStepOutput, StepColumns

__all__ = ["LoadSeedTasks", "SeedSource"]


class SeedSource(BaseModel):
    """Where the seed tasks come from: `source` (a `.jsonl` file in the release's schema, a
    `datasets` source: a `save_to_disk` directory, a `.json`/`.parquet`/`.csv` file or a Hub
    id), `tasks` (a list of dictionaries), or, with neither, the package's default seed set.
    Shared by `LoadSeedTasks` and `SelfInstructBootstrap`.

    The tasks are loaded and validated when the step is created, so bad input fails before
    any generation, with every problem's location and field (see `load_seed_tasks`).
    `seeds_digest` is derived from their content and is part of the step's cache signature.
    """

    source: str | None = None
    tasks: list[dict[str, Any]] | None = None
    split: str = "train"
    columns: dict[str, str] | None = Field(
        default=None, description="Our seed field -> the source's column (see SEED_FIELDS)."
    )
    seeds_digest: str | None = Field(default=None, description="Derived from the tasks.")

    _loaded: list[SeedTask] = PrivateAttr(default_factory=list)

    @field_validator("source", mode="before")
    @classmethod
    def _path_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, Path) else value

    def model_post_init(self, __context: Any) -> None:
        super().model_post_init(__context)
        if self.source is not None and self.tasks is not None:
            raise ValueError("give either `source` or `tasks`, not both")
        origin = self.tasks if self.tasks is not None else self.source
        self._loaded = load_seed_tasks(origin, split=self.split, columns=self.columns)
        self.seeds_digest = seed_tasks_digest(self._loaded)

    def _seed_rows(self) -> list[dict[str, Any]]:
        """The seed tasks as pool rows (`origin` `"seed"`)."""
        return [{**task.to_dict(), "origin": SEED_ORIGIN} for task in self._loaded]


class LoadSeedTasks(SeedSource, GeneratorStep):
    """Yields the human-written seed tasks that start the Self-Instruct pool.

    The tasks come from `source` (a `.jsonl` file in the release's schema, a `datasets`
    source: a `save_to_disk` directory, a `.json`/`.parquet`/`.csv` file or a Hub id), from
    `tasks` (a list of dictionaries), or, with neither, from the package's default seed set.
    They are loaded and validated when the step is created, so bad input fails before any
    generation, with every problem's location and field (see `load_seed_tasks`).

    `seeds_digest` is derived from the tasks' content; it is part of the step's cache
    signature, so editing the seed file invalidates cached results.

    Runtime parameters:
        - `batch_size`: tasks per batch.

    Output columns:
        - id (`str`), name (`str`), instruction (`str`), instances (`list[dict]`),
          is_classification (`bool`): the seed schema.
        - origin (`str`): `"seed"`.

    Examples:
        ```python
        from distilabel_selfinstruct import LoadSeedTasks

        loader = LoadSeedTasks()  # the default seed set
        loader.load()
        batch, last = next(loader.process())
        print(len(batch), batch[0]["instruction"], last)
        ```

        ```text
        32 Suggest what to pack for a weekend hiking trip in the mountains in early autumn. True
        ```
    """

    @property
    def outputs(self) -> "StepColumns":
        return ["id", "name", "instruction", "instances", "is_classification", "origin"]

    def process(self, offset: int = 0) -> "GeneratorStepOutput":  # type: ignore[override]
        rows = self._seed_rows()[offset:]
        if not rows:
            yield [], True
            return
        for start in range(0, len(rows), self.batch_size):
            yield rows[start : start + self.batch_size], start + self.batch_size >= len(rows)
