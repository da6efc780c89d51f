"""Human review against a real argilla-server 2.8.0 (`tests/support/argilla_server.py` starts it
with noida-db on 127.0.0.1): push for review, annotate through the API as a reviewer
would, pull the verdicts back. Marked `e2e`.
"""

import json
import os
import subprocess
import sys
import time

import argilla as rg
import pytest
import requests
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts

from distilabel_selfinstruct import SelfInstructToArgilla, load_seed_tasks
from distilabel_selfinstruct.publishing.review import (
    QUESTIONS,
    ArgillaReviewError,
    push_for_review,
)
from tests.conftest import REPO
from tests.support.argilla_server import API_KEY, argilla_stack

pytestmark = pytest.mark.e2e

JOB = str(REPO / "pipelines" / "self_instruct.py")
REVIEW = str(REPO / "pipelines" / "review.py")
RATINGS = "ABCD"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with argilla_stack(tmp_path_factory.mktemp("argilla")) as url:
        yield url


@pytest.fixture(scope="module")
def env(server):
    return {**os.environ, "ARGILLA_API_URL": server, "ARGILLA_API_KEY": API_KEY}


def run(args, env, timeout=900):
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def records_of(server, name, key=API_KEY):
    client = rg.Argilla(api_url=server, api_key=key)
    return client, client.datasets(name=name, workspace="argilla")


@pytest.fixture(scope="module")
def generated(env, tmp_path_factory):
    output = tmp_path_factory.mktemp("run") / "dataset"
    job = run([JOB, "--num-instructions", "4", "--num-prompts", "2", "--seed", "3",
               "--output-dir", str(output), "--argilla", "--argilla-dataset", "main-job",
               "--argilla-sample", "0"], env)  # fmt: skip
    assert job.returncode == 0, job.stderr[-3000:]
    return output, job


def test_the_main_job_pushes_every_instance_with_its_metadata(server, generated):
    output, job = generated
    from datasets import load_from_disk

    instances = load_from_disk(str(output / "instances" / "train")).to_list()
    assert f"{len(instances)} records in Argilla dataset 'main-job'" in job.stdout
    _, dataset = records_of(server, "main-job")
    assert [f.name for f in dataset.settings.fields] == ["instruction", "input", "output"]
    assert [q.name for q in dataset.settings.questions] == [*QUESTIONS, "corrected_output"]
    assert {m.name for m in dataset.settings.metadata} == {
        "is_classification", "round", "most_similar_score"}  # fmt: skip
    assert "Rate the output" in dataset.settings.guidelines
    records = list(dataset.records)
    assert len(records) == len(instances)
    assert {r.fields["output"] for r in records} == {row["output"] for row in instances}
    assert all(r.metadata["round"] >= 0 and r.metadata["is_classification"] in
               ("true", "false", "unknown") for r in records)  # fmt: skip


def test_pushing_again_updates_the_same_records(server, generated, env):
    output, _ = generated
    _, dataset = records_of(server, "main-job")
    before = sorted(str(r.id) for r in dataset.records)
    again = run([REVIEW, "push", str(output), "--dataset", "main-job", "--sample", "0"], env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted(str(r.id) for r in dataset.records) == before


def _verdict(number):
    """A reviewer's answers for the n-th record: a fixed pattern the test can count."""
    return {
        "valid_instruction": "yes" if number % 5 else "no",
        "input_appropriate": ("yes", "no", "not_applicable")[number % 3],
        "output_acceptable": "yes" if number % 2 == 0 else "no",
        "rating": RATINGS[number % 4],
    }


def test_reviewers_verdicts_come_back_as_the_quality_table(server, env, paper_seed_tasks, tmp_path):
    # The paper's 175 seed tasks have one instance each: a sample of 120 of them.
    pushed = push_for_review(paper_seed_tasks, "paper-seeds", sample_size=120, seed=1,
                             api_url=server, api_key=API_KEY)  # fmt: skip
    assert pushed == 120
    owner, _ = records_of(server, "paper-seeds")
    reviewer = rg.User(username="reviewer", password="reviewer-password", role="annotator",
                       client=owner).create()  # fmt: skip
    owner.workspaces("argilla").add_user(reviewer)
    users = requests.get(f"{server}/api/v1/users", headers={"X-Argilla-Api-Key": API_KEY}).json()
    key = next(user["api_key"] for user in users["items"] if user["username"] == "reviewer")
    _, dataset = records_of(server, "paper-seeds")
    records = sorted(dataset.records, key=lambda record: str(record.id))
    # The reviewer submits through the endpoint Argilla's UI uses, with their own key.
    for number, record in enumerate(records[:90]):  # 30 stay unreviewed
        values = {question: {"value": value} for question, value in _verdict(number).items()}
        if number % 10 == 0:
            values["corrected_output"] = {"value": f"fixed {number}"}
        response = requests.post(
            f"{server}/api/v1/records/{record._server_id}/responses",
            headers={"X-Argilla-Api-Key": key},
            json={"values": values, "status": "submitted"},
            timeout=30,
        )
        assert response.status_code == 201, response.text

    pulled = run([REVIEW, "pull", "--dataset", "paper-seeds", "--output", str(tmp_path)], env)
    assert pulled.returncode == 0, pulled.stderr[-2000:]
    assert "90 of 120 records reviewed" in pulled.stdout
    quality = json.loads((tmp_path / "quality.json").read_text())
    assert quality["reviewed"] == 90 and quality["records"] == 120
    verdicts = [_verdict(number) for number in range(90)]
    for question in QUESTIONS:
        for answer in {v[question] for v in verdicts}:
            count = sum(v[question] == answer for v in verdicts)
            assert quality["table"][question][answer]["count"] == count
            assert quality["table"][question][answer]["percent"] == pytest.approx(100 * count / 90)
    all_valid = sum(v["valid_instruction"] == "yes" and v["input_appropriate"] != "no"
                    and v["output_acceptable"] == "yes" for v in verdicts)  # fmt: skip
    assert quality["table"]["all_fields_valid"]["yes"]["count"] == all_valid

    from datasets import load_from_disk

    reviewed = load_from_disk(str(tmp_path / "reviewed")).to_list()
    assert len(reviewed) == 90
    corrected = [row for row in reviewed if row["corrected"]]
    assert len(corrected) == 9
    assert all(row["output"].startswith("fixed ") for row in corrected)
    seeds = load_seed_tasks(str(tmp_path / "accepted_seed_tasks.jsonl"))
    assert seeds and all(task.instances for task in seeds)


def test_the_step_pushes_from_inside_a_pipeline(server, paper_seed_tasks):
    with Pipeline(name="argilla-step") as pipeline:
        rows = LoadDataFromDicts(data=paper_seed_tasks[:10])
        review = SelfInstructToArgilla(dataset_name="from-step", sample_size=None,
                                       api_url=server, api_key=API_KEY)  # fmt: skip
        rows >> review
    pipeline.run(use_cache=False)
    _, dataset = records_of(server, "from-step")
    expected = sum(len(task["instances"]) for task in paper_seed_tasks[:10])
    assert len(list(dataset.records)) == expected
    assert API_KEY not in pipeline.dump().__repr__()


def test_bad_key_missing_workspace_and_dead_server_give_clear_errors(server, generated, env):
    output, _ = generated
    wrong = run([REVIEW, "push", str(output), "--dataset", "x", "--api-key", "wrong"], env)
    assert wrong.returncode == 2 and "refused the API key" in wrong.stderr
    early = run([JOB, "--output-dir", str(output.parent / "never"), "--argilla",
                 "--argilla-api-key", "wrong"], env, timeout=120)  # fmt: skip
    assert early.returncode == 2 and "refused the API key" in early.stderr
    assert not (output.parent / "never").exists()  # stopped before generating
    missing = run([REVIEW, "push", str(output), "--dataset", "x", "--workspace", "nope"], env)
    assert missing.returncode == 2 and "workspace 'nope' does not exist" in missing.stderr
    started = time.monotonic()
    dead = run([REVIEW, "push", str(output), "--dataset", "x", "--api-url",
                "http://127.0.0.1:9"], env)  # fmt: skip
    assert dead.returncode == 2 and "connecting to Argilla at http://127.0.0.1:9" in dead.stderr
    assert "push again to retry" in dead.stderr
    assert time.monotonic() - started < 120
    assert (output / "instances").is_dir()
    with pytest.raises(ArgillaReviewError, match="needs a URL and an API key"):
        push_for_review([], "x", api_url="", api_key="")
