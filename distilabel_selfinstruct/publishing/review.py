"""Human review in Argilla 2.x, as the paper's expert evaluation: push instances for review,
pull the verdicts back as the paper's quality table, and turn accepted tasks into seeds.

The review mirrors the paper's (its Table 2 and its A-D rating): is the instruction a valid
task, is the input appropriate for it, is the output acceptable, and a rating of the
output (A: valid and satisfying; B: acceptable with minor imperfections; C: responds but
has significant errors; D: irrelevant or invalid), plus a corrected output.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from distilabel_selfinstruct._compat import argilla_errors
from distilabel_selfinstruct.constants import REVIEW_DATASET, REVIEW_SAMPLE_SIZE, SEED

if TYPE_CHECKING:
    import argilla as rg

__all__ = [
    "QUESTIONS",
    "RATINGS",
    "ArgillaReviewError",
    "ReviewResult",
    "connect",
    "format_quality_table",
    "pull_reviews",
    "push_for_review",
    "review_records",
    "review_settings",
    "rows_from_saved",
    "save_review",
]

RATINGS = {
    "A": "A: valid and satisfying",
    "B": "B: acceptable, with minor imperfections",
    "C": "C: responds, but with significant errors",
    "D": "D: irrelevant or invalid",
}

# Question name → (title, labels); the last question is the free-text correction.
QUESTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "valid_instruction": (
        "Does the instruction describe a valid task?",
        {"yes": "yes", "no": "no"},
    ),
    "input_appropriate": (
        "Is the input appropriate for the instruction?",
        {"yes": "yes", "no": "no", "not_applicable": "not applicable (no input)"},
    ),
    "output_acceptable": (
        "Is the output a correct and acceptable response?",
        {"yes": "yes", "no": "no"},
    ),
    "rating": ("Rate the output", RATINGS),
}
CORRECTION = "corrected_output"

GUIDELINES = """\
Each record is one instance of a task that a language model wrote itself (Self-Instruct):
an instruction, an optional input and an output. Judge each part as a careful user would.

- **Does the instruction describe a valid task?** Yes when a person could act on it as a
  request: it is clear, self-contained and can be answered in text. No when it is
  incoherent, needs things a text model cannot see or do, or is not a request.
- **Is the input appropriate for the instruction?** Yes when it is the kind of input the
  instruction asks for. Not applicable when there is no input (and none is needed).
- **Is the output a correct and acceptable response?** Yes when it does what the
  instruction asks for this input, correctly.
- **Rate the output**: A, valid and satisfying; B, acceptable with minor imperfections;
  C, it responds to the instruction but has significant errors; D, irrelevant or invalid.
- **Corrected output** (optional): a better output. Reviewed rows are exported with it in
  place of the model's output.
"""

_RETRIED_STATUSES = {502, 503, 504}
T = TypeVar("T")


class ArgillaReviewError(RuntimeError):
    """Argilla refused or could not be reached; the message says what to fix."""


def _with_retries(action: Callable[[], T], what: str, attempts: int = 4, wait: float = 1.0) -> T:
    """Runs `action`, retrying connection failures and 502/503/504 with a doubling wait;
    any other error (a wrong key, a missing workspace) fails at once.
    """
    import httpx

    ArgillaAPIError, UnauthorizedError = argilla_errors()

    for attempt in range(1, attempts + 1):
        try:
            return action()
        except UnauthorizedError as error:
            raise ArgillaReviewError(
                f"{what}: Argilla refused the API key (set ARGILLA_API_KEY or --argilla-api-key)"
            ) from error
        except (httpx.TransportError, ArgillaAPIError) as error:
            status = getattr(error, "status_code", None)
            transient = isinstance(error, httpx.TransportError) or status in _RETRIED_STATUSES
            if not transient or attempt == attempts:
                raise ArgillaReviewError(f"{what}: {error}") from error
            time.sleep(wait * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def connect(api_url: str | None = None, api_key: str | None = None) -> rg.Argilla:
    """A client for the server at `api_url` (else `ARGILLA_API_URL`) with `api_key` (else
    `ARGILLA_API_KEY`), checked by asking the server who the key belongs to.

    Raises:
        ArgillaReviewError: no URL or key, the server does not answer (after retries), or
            it refuses the key.
    """
    import argilla as rg
    import httpx

    _, UnauthorizedError = argilla_errors()

    api_url = api_url or os.getenv("ARGILLA_API_URL")
    api_key = api_key or os.getenv("ARGILLA_API_KEY")
    if not api_url or not api_key:
        raise ArgillaReviewError(
            "Argilla needs a URL and an API key: set ARGILLA_API_URL and ARGILLA_API_KEY"
            " (or pass --argilla-api-url / --argilla-api-key)"
        )

    def make() -> rg.Argilla:
        try:
            # The client checks the key with its first request.
            return rg.Argilla(api_url=api_url, api_key=api_key, retries=0, timeout=30)
        except httpx.TransportError:
            raise
        except Exception as error:  # the SDK wraps the first request's failure
            cause: BaseException | None = error
            while cause is not None:
                if isinstance(cause, httpx.TransportError):
                    raise cause from error
                if isinstance(cause, UnauthorizedError):
                    raise cause from error
                cause = cause.__cause__ or cause.__context__
            raise

    try:
        return _with_retries(make, f"connecting to Argilla at {api_url}")
    except ArgillaReviewError:
        raise
    except Exception as error:
        raise ArgillaReviewError(f"connecting to Argilla at {api_url}: {error}") from error


def review_settings() -> rg.Settings:
    """Fields instruction, input, output; the paper's review questions and the A-D rating;
    a corrected output; metadata is_classification, round, most_similar_score; guidelines.
    """
    import argilla as rg

    questions: list[Any] = [
        rg.LabelQuestion(name=name, title=title, labels=labels, required=True)
        for name, (title, labels) in QUESTIONS.items()
    ]
    questions.append(
        rg.TextQuestion(
            name=CORRECTION,
            title="Corrected output (optional)",
            required=False,
        )
    )
    return rg.Settings(
        fields=[
            rg.TextField(name="instruction", title="Instruction"),
            rg.TextField(name="input", title="Input", required=False),
            rg.TextField(name="output", title="Output"),
        ],
        questions=questions,
        metadata=[
            rg.TermsMetadataProperty(
                name="is_classification", options=["true", "false", "unknown"]
            ),
            rg.IntegerMetadataProperty(name="round"),
            rg.FloatMetadataProperty(name="most_similar_score"),
        ],
        guidelines=GUIDELINES,
    )


def record_id(instruction_id: str, given: str, output: str) -> str:
    """A stable id for an instance: the same instance keeps its record on every push."""
    digest = hashlib.sha1(f"{given}\x1f{output}".encode()).hexdigest()[:16]
    return f"{instruction_id}-{digest}"


def review_records(
    rows: Iterable[Mapping[str, Any]],
    sample_size: int | None = REVIEW_SAMPLE_SIZE,
    seed: int = SEED,
) -> list[dict[str, Any]]:
    """One review record per instance of `rows` (tasks with `instances`, as after
    `InstanceFilter`, or one row per instance with `input`/`output`), or a reproducible
    random sample of `sample_size` of them (`None`: all).

    Examples:
        >>> rows = [{"id": "t1", "instruction": "Add.", "round": 0, "is_classification": False,
        ...          "most_similar_score": 0.2, "instances": [{"input": "2 3", "output": "5"}]}]
        >>> record = review_records(rows)[0]
        >>> record["fields"], record["metadata"]["is_classification"]
        ({'instruction': 'Add.', 'input': '2 3', 'output': '5'}, 'false')
    """
    records = []
    for row in rows:
        instances = row.get("instances")
        if instances is None:  # one row per instance, as in the `instances` config
            instances = [{"input": row.get("input") or "", "output": row["output"]}]
            task_id = row.get("instruction_id") or row.get("id")
        else:
            task_id = row.get("id")
        instruction_id = str(task_id or row["instruction"])
        classification = row.get("is_classification")
        for instance in instances:
            given, output = instance.get("input") or "", instance["output"]
            metadata: dict[str, Any] = {
                "is_classification": {True: "true", False: "false"}.get(classification, "unknown"),
            }
            if row.get("round") is not None:
                metadata["round"] = int(row["round"])
            if row.get("most_similar_score") is not None:
                metadata["most_similar_score"] = float(row["most_similar_score"])
            records.append(
                {
                    "id": record_id(instruction_id, given, output),
                    "fields": {"instruction": row["instruction"], "input": given, "output": output},
                    "metadata": metadata,
                }
            )
    if sample_size is not None and sample_size < len(records):
        records = random.Random(seed).sample(records, sample_size)
    return records


def _dataset(client: rg.Argilla, name: str, workspace: str | None, create: bool) -> rg.Dataset:
    import argilla as rg

    def find() -> tuple[rg.Dataset | None, str]:
        workspaces = {ws.name: ws for ws in client.workspaces}
        if workspace is not None and workspace not in workspaces:
            raise ArgillaReviewError(
                f"the Argilla workspace {workspace!r} does not exist"
                f" (existing: {', '.join(sorted(workspaces)) or 'none'}); create it first"
            )
        target = workspace or next(iter(workspaces), None)
        if target is None:
            raise ArgillaReviewError("the Argilla server has no workspace; create one first")
        return client.datasets(name=name, workspace=target), target

    dataset, target = _with_retries(find, f"looking up dataset {name!r}")
    if dataset is not None or not create:
        if dataset is None:
            raise ArgillaReviewError(f"no Argilla dataset {name!r} in workspace {target!r}")
        return dataset
    created = rg.Dataset(name=name, workspace=target, settings=review_settings(), client=client)
    return _with_retries(created.create, f"creating dataset {name!r}")


@dataclass(frozen=True)
class ReviewOptions:
    """Where a review goes and what is sent: `push_for_review`'s options in one value
    (`push_for_review(rows, **dataclasses.asdict(options))`).

    Examples:
        >>> ReviewOptions(dataset_name="my-review", sample_size=None)
        ReviewOptions(dataset_name='my-review', workspace=None, sample_size=None, seed=42, api_url=None)
    """

    dataset_name: str = REVIEW_DATASET
    workspace: str | None = None
    sample_size: int | None = REVIEW_SAMPLE_SIZE
    seed: int = SEED
    api_url: str | None = None
    api_key: str | None = field(default=None, repr=False)


def push_for_review(
    rows: Iterable[Mapping[str, Any]],
    dataset_name: str = REVIEW_DATASET,
    workspace: str | None = None,
    sample_size: int | None = REVIEW_SAMPLE_SIZE,
    seed: int = SEED,
    api_url: str | None = None,
    api_key: str | None = None,
    batch_size: int = 256,
) -> int:
    """Creates (or reuses) the review dataset and logs the records of `review_records`.
    Record ids are stable, so pushing again updates records instead of duplicating them,
    and a push that failed part-way can simply be run again.

    Returns:
        The number of records pushed.

    Raises:
        ArgillaReviewError: see `connect`, or a missing workspace.
    """
    records = review_records(rows, sample_size, seed)
    client = connect(api_url, api_key)
    dataset = _dataset(client, dataset_name, workspace, create=True)
    import argilla as rg

    for start in range(0, len(records), batch_size):
        batch = [rg.Record(**record) for record in records[start : start + batch_size]]
        _with_retries(lambda batch=batch: dataset.records.log(batch), "logging records")
    return len(records)


@dataclass
class ReviewResult:
    """The submitted reviews of a dataset: the quality table and the reviewed rows."""

    reviewed: int
    records: int
    answers: dict[str, Counter[str]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per question, per answer: `count` and `percent` of the reviewed records. Also
        `all_fields_valid`: instruction valid, input appropriate or not applicable, and
        output acceptable (the paper's "all fields are valid").
        """
        out: dict[str, dict[str, dict[str, float]]] = {}
        for name, counts in self.answers.items():
            total = sum(counts.values())
            out[name] = {
                answer: {"count": n, "percent": 100 * n / total if total else 0.0}
                for answer, n in sorted(counts.items())
            }
        return out

    def accepted_seed_tasks(self, ratings: Sequence[str] = ("A", "B")) -> list[dict[str, Any]]:
        """Reviewed tasks whose instruction is valid and whose every reviewed instance is
        acceptable and rated in `ratings`, in the seed schema (corrections applied): the
        seeds of the next bootstrap run.
        """
        tasks: dict[str, dict[str, Any]] = {}
        rejected: set[str] = set()
        for row in self.rows:
            key = row["instruction"]
            good = (
                row["valid_instruction"] == "yes"
                and row["output_acceptable"] == "yes"
                and row["rating"] in ratings
            )
            if not good:
                rejected.add(key)
                continue
            task = tasks.setdefault(
                key,
                {
                    "id": f"reviewed_{len(tasks) + 1}",
                    "name": f"reviewed_{len(tasks) + 1}",
                    "instruction": key,
                    "instances": [],
                    "is_classification": row["is_classification"] == "true",
                },
            )
            task["instances"].append({"input": row["input"], "output": row["output"]})
        return [task for key, task in tasks.items() if key not in rejected]


def _first_submitted(record: rg.Record, question: str) -> Any:
    for response in record.responses[question]:  # an empty list when nobody answered
        if str(response.status).endswith("submitted"):
            return response.value
    return None


def pull_reviews(
    dataset_name: str,
    workspace: str | None = None,
    api_url: str | None = None,
    api_key: str | None = None,
) -> ReviewResult:
    """Reads the submitted responses of the review dataset (the first submitted response
    per question and record) into a `ReviewResult`: counts per question and answer, the
    paper's "all fields valid", and the reviewed rows with the corrected output applied.
    """
    client = connect(api_url, api_key)
    dataset = _dataset(client, dataset_name, workspace, create=False)
    records = _with_retries(
        lambda: list(dataset.records(with_responses=True)), f"reading {dataset_name!r}"
    )
    answers: dict[str, Counter[str]] = {name: Counter() for name in QUESTIONS}
    answers["all_fields_valid"] = Counter()
    rows = []
    for record in records:
        verdict = {name: _first_submitted(record, name) for name in QUESTIONS}
        if any(value is None for value in verdict.values()):
            continue
        for name, value in verdict.items():
            answers[name][str(value)] += 1
        all_valid = (
            verdict["valid_instruction"] == "yes"
            and verdict["input_appropriate"] in ("yes", "not_applicable")
            and verdict["output_acceptable"] == "yes"
        )
        answers["all_fields_valid"]["yes" if all_valid else "no"] += 1
        corrected = (_first_submitted(record, CORRECTION) or "").strip()
        rows.append(
            {
                "id": str(record.id),
                "instruction": record.fields["instruction"],
                "input": record.fields.get("input") or "",
                "output": corrected or record.fields["output"],
                "original_output": record.fields["output"],
                "corrected": bool(corrected),
                "is_classification": str(record.metadata.get("is_classification", "unknown")),
                **{name: str(value) for name, value in verdict.items()},
            }
        )
    return ReviewResult(reviewed=len(rows), records=len(records), answers=answers, rows=rows)


def format_quality_table(result: ReviewResult) -> str:
    """The quality table as text: per question, each answer's percent and count.

    Examples:
        >>> result = ReviewResult(reviewed=2, records=3, answers={
        ...     "rating": Counter({"A": 1, "C": 1}), "output_acceptable": Counter({"yes": 2})})
        >>> print(format_quality_table(result))
        2 of 3 records reviewed
        output_acceptable  yes   100.0%  (2)
        rating             A      50.0%  (1)
                           C      50.0%  (1)
    """
    lines = [f"{result.reviewed} of {result.records} records reviewed"]
    table = result.table()
    width = max((len(name) for name in table), default=0) + 2
    answer_width = max((len(a) for answers in table.values() for a in answers), default=0) + 2
    order = [*QUESTIONS, "all_fields_valid"]
    for name in sorted(table, key=lambda name: order.index(name) if name in order else len(order)):
        for number, (answer, figures) in enumerate(table[name].items()):
            label = name if number == 0 else ""
            lines.append(
                f"{label:<{width}}{answer:<{answer_width}}{figures['percent']:6.1f}%"
                f"  ({int(figures['count'])})"
            )
    return "\n".join(lines)


def rows_from_saved(dataset_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One row per instance of a dataset saved by the main job, with its task's `round`,
    `most_similar_score` and `is_classification`: the input of `push_for_review`.
    """
    from datasets import load_from_disk

    root = Path(dataset_dir)
    tasks = {row["id"]: row for row in load_from_disk(str(root / "instructions" / "train"))}
    rows = []
    for instance in load_from_disk(str(root / "instances" / "train")):
        task = tasks.get(instance["instruction_id"], {})
        rows.append({**instance, "round": task.get("round"),
                     "most_similar_score": task.get("most_similar_score")})  # fmt: skip
    return rows


def save_review(result: ReviewResult, directory: str | os.PathLike[str]) -> Path:
    """Writes the reviewed rows (a `datasets` dataset, pushable to the Hub), the quality
    table (`quality.json`) and the accepted tasks as seeds (`accepted_seed_tasks.jsonl`).
    """
    from datasets import Dataset

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    Dataset.from_list(result.rows).save_to_disk(str(root / "reviewed"))
    payload = {"reviewed": result.reviewed, "records": result.records, "table": result.table()}
    (root / "quality.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    with (root / "accepted_seed_tasks.jsonl").open("w", encoding="utf-8") as handle:
        for task in result.accepted_seed_tasks():
            handle.write(json.dumps(task, ensure_ascii=False) + "\n")
    return root
