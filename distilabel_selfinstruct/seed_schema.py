"""Seed tasks: the schema, loading from files, datasets or Python lists, and validation.

A seed task follows the JSONL schema of the Self-Instruct release::

    {"id": "seed_task_0", "name": "breakfast_suggestion", "instruction": "...",
     "instances": [{"input": "", "output": "..."}], "is_classification": false}

`instruction`, `instances` and `is_classification` are required; `id` defaults to
`seed_task_<position>` and `name` to an empty string.

Flat records, one instance each, are read too: Alpaca's `instruction`, `input` (optional)
and `output` make a task with one instance; `is_classification` then defaults to false.
Other column names are mapped with `columns` (`{"instruction": "prompt", "output":
"response"}`: our field, then the source's column).

Every problem found in a source is reported at once, each with where it is (file and line,
dataset row, or list item) and which field is wrong, and nothing is returned unless the
whole source is valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "SEED_FIELDS",
    "SeedInstance",
    "SeedTask",
    "SeedTaskError",
    "check_columns",
    "default_seed_tasks_path",
    "load_seed_tasks",
    "parse_columns",
    "seed_tasks_digest",
    "validate_seed_tasks",
]

_MAX_REPORTED_PROBLEMS = 20

# The fields a column mapping may name: the release's schema and the flat (Alpaca) one.
SEED_FIELDS = ("id", "name", "instruction", "instances", "is_classification", "input", "output")


@dataclass(frozen=True)
class SeedInstance:
    """One worked example of a task: an input (possibly empty) and its output."""

    input: str
    output: str


@dataclass(frozen=True)
class SeedTask:
    """A human-written task of the initial pool."""

    id: str
    name: str
    instruction: str
    instances: tuple[SeedInstance, ...]
    is_classification: bool

    def to_dict(self) -> dict[str, Any]:
        """The task as a plain dictionary in the release's JSONL schema."""
        data = asdict(self)
        data["instances"] = [asdict(instance) for instance in self.instances]
        return data


class SeedTaskError(Exception):
    """Raised when a seed source holds invalid tasks.

    Attributes:
        source: the file, dataset or list that was read.
        problems: one message per problem, each naming its location and field.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(f"seed tasks from {source}: {self.problems[0]}")
            return
        shown = self.problems[:_MAX_REPORTED_PROBLEMS]
        more = len(self.problems) - len(shown)
        lines = [f"{len(self.problems)} problem(s) in seed tasks from {source}:"]
        lines += [f"  - {problem}" for problem in shown]
        if more:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))


def default_seed_tasks_path() -> Path:
    """Path of the small seed set shipped with the package (32 tasks, 8 classification)."""
    return Path(str(resources.files("distilabel_selfinstruct") / "data/default_seed_tasks.jsonl"))


@dataclass(frozen=True)
class _Malformed:
    message: str


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_task(record: Any, position: int, where: str, problems: list[str]) -> SeedTask | None:
    """Validates one record, appending problems; returns the task when it is valid."""
    if not isinstance(record, Mapping):
        problems.append(f"{where}: expected a JSON object, got {_type_name(record)}")
        return None
    before = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(f"{where}, field '{field}': {message}")

    instruction = record.get("instruction")
    if "instruction" not in record:
        bad("instruction", "missing")
    elif not isinstance(instruction, str):
        bad("instruction", f"expected a string, got {_type_name(instruction)}")
    elif not instruction.strip():
        bad("instruction", "empty")
    task_id = record.get("id", f"seed_task_{position}")
    if not isinstance(task_id, str) or not task_id.strip():
        bad("id", f"expected a non-empty string, got {task_id!r}")
    name = record.get("name", "")
    if not isinstance(name, str):
        bad("name", f"expected a string, got {_type_name(name)}")
    is_classification = record.get("is_classification")
    if "is_classification" not in record:
        bad("is_classification", "missing (true or false)")
    elif not isinstance(is_classification, bool):
        bad("is_classification", f"expected true or false, got {is_classification!r}")
    instances = _check_instances(record, bad)
    if len(problems) > before:
        return None
    return SeedTask(
        id=task_id,
        name=name,
        instruction=instruction,
        instances=tuple(instances),
        is_classification=is_classification,
    )


def _check_instances(
    record: Mapping[str, Any], bad: Callable[[str, str], None]
) -> list[SeedInstance]:
    """The record's valid instances; each problem goes to `bad(field, message)`."""
    raw_instances = record.get("instances")
    if "instances" not in record:
        bad("instances", "missing")
        return []
    if not isinstance(raw_instances, list):
        bad("instances", f"expected a list, got {_type_name(raw_instances)}")
        return []
    if not raw_instances:
        bad("instances", "empty: give at least one {input, output} example")
        return []
    instances = []
    for index, instance in enumerate(raw_instances):
        field = f"instances[{index}]"
        if not isinstance(instance, Mapping):
            bad(field, f"expected an object with input and output, got {_type_name(instance)}")
            continue
        value_input = instance.get("input", "")
        value_output = instance.get("output")
        if not isinstance(value_input, str):
            bad(f"{field}.input", f"expected a string, got {_type_name(value_input)}")
        if "output" not in instance:
            bad(f"{field}.output", "missing")
        elif not isinstance(value_output, str):
            bad(f"{field}.output", f"expected a string, got {_type_name(value_output)}")
        elif not value_output.strip():
            bad(f"{field}.output", "empty")
        else:
            instances.append(SeedInstance(input=value_input, output=value_output))
    return instances


def parse_columns(text: str) -> dict[str, str]:
    """`instruction=prompt,output=response` as a column mapping; `ValueError` naming what is
    wrong.

    Examples:
        >>> parse_columns("instruction=prompt, input=context,output=response")
        {'instruction': 'prompt', 'input': 'context', 'output': 'response'}
    """
    mapping = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        field, equals, column = (item.strip() for item in part.partition("="))
        if not equals or not field or not column:
            raise ValueError(f"{part!r} is not field=column")
        mapping[field] = column
    check_columns(mapping)
    return mapping


def check_columns(columns: Mapping[str, str]) -> None:
    """`ValueError` unless every key of the mapping is a seed field."""
    unknown = sorted(set(columns) - set(SEED_FIELDS))
    if unknown:
        raise ValueError(f"unknown seed field(s) {unknown}; the fields are {list(SEED_FIELDS)}")


def _normalise(record: Any, columns: Mapping[str, str]) -> Any:
    """A record in the release's schema: mapped columns renamed, a flat record (an `output`
    and no `instances`) made a task with one instance."""
    if not isinstance(record, Mapping):
        return record
    missing = [column for column in columns.values() if column not in record]
    if missing:
        present = ", ".join(repr(key) for key in list(record)[:10])
        return _Malformed(f"column(s) {missing} named by the mapping not found (it has {present})")
    mapped = set(columns.values())
    task = {key: value for key, value in record.items() if key not in mapped}
    task.update({field: record[column] for field, column in columns.items()})
    if "instances" not in task and "output" in task:
        given = task.pop("input", "")
        task["instances"] = [
            {"input": "" if given is None else given, "output": task.pop("output")}
        ]
        task.setdefault("is_classification", False)
    return task


def validate_seed_tasks(records: Iterable[tuple[str, Any]], source: str) -> list[SeedTask]:
    """Validates `(location, record)` pairs and returns the tasks, or raises.

    Args:
        records: each record with a human-readable location such as `line 3`.
        source: what the records were read from, for the error message.

    Returns:
        The validated tasks, in order.

    Raises:
        SeedTaskError: listing every problem found, when there is at least one.
    """
    problems: list[str] = []
    tasks: list[SeedTask] = []
    first_seen: dict[str, str] = {}
    for position, (where, record) in enumerate(records):
        if isinstance(record, _Malformed):
            problems.append(f"{where}: {record.message}")
            continue
        task = _check_task(record, position, where, problems)
        if task is None:
            continue
        if task.id in first_seen:
            problems.append(
                f"{where}, field 'id': duplicate id {task.id!r} (first at {first_seen[task.id]})"
            )
            continue
        first_seen[task.id] = where
        tasks.append(task)
    if not tasks and not problems:
        problems.append("no tasks found")
    if problems:
        raise SeedTaskError(source, problems)
    return tasks


def _read_jsonl(path: Path) -> Iterable[tuple[str, Any]]:
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            start, offset = offset, offset + len(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield (
                    f"line {number}",
                    _Malformed(
                        f"not UTF-8 text (byte {start + error.start} of the file);"
                        " save the file as UTF-8"
                    ),
                )
                continue
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as error:
                yield (
                    f"line {number}",
                    _Malformed(f"malformed JSON: {error.msg} (column {error.colno})"),
                )


def _load_from_hub(source: str, split: str) -> Any:
    """A Hub dataset; an unreachable Hub or an unknown id is one `SeedTaskError` line,
    found with one quick request instead of the datasets library's retries.
    """
    import datasets
    from huggingface_hub import HfApi

    try:
        HfApi().dataset_info(source, timeout=10)
    except Exception as error:
        reason = " ".join(str(error).split())[:200]
        raise SeedTaskError(
            source,
            [
                f"cannot read {source!r} from the Hugging Face Hub ({type(error).__name__}:"
                f" {reason}); check the id and the network, or give a local file"
            ],
        ) from None
    return datasets.load_dataset(source, split=split)


def _read_dataset(source: str, split: str) -> Iterable[tuple[str, Any]]:
    import datasets

    path = Path(source)
    if path.is_dir() and (path / "dataset_info.json").exists():
        loaded = datasets.load_from_disk(source)
        if isinstance(loaded, datasets.DatasetDict):
            loaded = loaded[split]
    elif path.is_file():
        builder = {".json": "json", ".parquet": "parquet", ".csv": "csv"}.get(path.suffix)
        if builder is None:
            raise SeedTaskError(source, [f"unsupported file type {path.suffix!r}"])
        loaded = datasets.load_dataset(builder, data_files=source, split=split)
    else:
        loaded = _load_from_hub(source, split)
    for index, row in enumerate(loaded):
        yield f"row {index}", row


def load_seed_tasks(
    source: str | Path | Sequence[Mapping[str, Any]] | None = None,
    split: str = "train",
    columns: Mapping[str, str] | None = None,
) -> list[SeedTask]:
    """Loads and validates seed tasks.

    Args:
        source: a `.jsonl` file; a `datasets` source (a directory saved with
            `save_to_disk`, a `.json` (array or lines)/`.parquet`/`.csv` file, or a Hub
            dataset id); a list of dictionaries; or `None` for the package's default set.
        split: the split to read from a `datasets` source.
        columns: our field → the source's column, for sources with other names (see
            `SEED_FIELDS`); Alpaca's names need none.

    Returns:
        The seed tasks in source order.

    Raises:
        SeedTaskError: when the source holds anything invalid; the message names the
            location (line, row or item) and the field of every problem.
        FileNotFoundError: when a path-like source does not exist.

    Examples:
        >>> from distilabel_selfinstruct import load_seed_tasks
        >>> tasks = load_seed_tasks()
        >>> len(tasks), sum(task.is_classification for task in tasks)
        (32, 8)
        >>> load_seed_tasks([{"instruction": "Say hi.", "instances": [], "is_classification": False}])
        Traceback (most recent call last):
        ...
        distilabel_selfinstruct.seed_schema.SeedTaskError: seed tasks from a list of 1 item(s): item 0, field 'instances': empty: give at least one {input, output} example
        >>> alpaca = [{"instruction": "Add the numbers.", "input": "2 3", "output": "5"}]
        >>> load_seed_tasks(alpaca)[0].instances
        (SeedInstance(input='2 3', output='5'),)
        >>> load_seed_tasks([{"q": "Name a colour.", "a": "Blue."}],
        ...                 columns={"instruction": "q", "output": "a"})[0].instruction
        'Name a colour.'
    """
    columns = dict(columns or {})
    check_columns(columns)
    if source is None:
        source = default_seed_tasks_path()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix == ".jsonl":
            if not path.is_file():
                raise FileNotFoundError(f"seed task file not found: {path}")
            records, name = _read_jsonl(path), str(path)
        else:
            records, name = _read_dataset(str(source), split), str(source)
    else:
        items = list(source)
        records = ((f"item {index}", item) for index, item in enumerate(items))
        name = f"a list of {len(items)} item(s)"
    normalised = ((where, _normalise(record, columns)) for where, record in records)
    return validate_seed_tasks(normalised, name)


def seed_tasks_digest(tasks: Sequence[SeedTask]) -> str:
    """A short, stable digest of the tasks' content (for cache signatures)."""
    payload = json.dumps([task.to_dict() for task in tasks], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
