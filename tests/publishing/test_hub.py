"""Publishing to the Hub: the main job pushes a fresh dataset with `--push-to-hub`, and the
real `huggingface_hub` and `datasets` clients read it back. The Hub cannot be reached from
here, so the server is the project's local stand-in (`tests/support/hub_server.py`), on 127.0.0.1.
Every client runs in a child process whose environment points it there. Marked `e2e`.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from datasets import load_from_disk
from distilabel.distiset import Distiset

from distilabel_selfinstruct import CONFIGS
from tests.conftest import REPO
from tests.support.hub_server import environment, local_hub

pytestmark = pytest.mark.e2e

JOB = str(REPO / "pipelines" / "self_instruct.py")
PUBLISH = str(REPO / "pipelines" / "publish.py")
REPO_ID = "local-tester/self-instruct-demo"
TOKEN = environment("", "")["HF_TOKEN"]

_READ_BACK = textwrap.dedent(
    """
    import json, sys
    from datasets import load_dataset
    from huggingface_hub import HfApi, DatasetCard

    repo_id, configs = sys.argv[1], sys.argv[2].split(",")
    api = HfApi()
    info = api.dataset_info(repo_id)
    print(json.dumps({
        "private": info.private,
        "files": api.list_repo_files(repo_id, repo_type="dataset"),
        "card": DatasetCard.load(repo_id, repo_type="dataset").content,
        "configs": {config: load_dataset(repo_id, config, split="train").to_list()
                    for config in configs},
    }, default=str))
    """
)


def run(args, env, timeout=900):
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with local_hub() as (url, state):
        env = {**os.environ, **environment(url, str(tmp_path_factory.mktemp("hf_home")))}
        yield url, state, env


@pytest.fixture(scope="module")
def pushed(hub, tmp_path_factory):
    _, _, env = hub
    output = tmp_path_factory.mktemp("run") / "dataset"
    job = run([JOB, "--num-instructions", "4", "--num-prompts", "2", "--seed", "3",
               "--output-dir", str(output), "--push-to-hub", REPO_ID, "--private"], env)  # fmt: skip
    assert job.returncode == 0, job.stdout[-2000:] + job.stderr[-3000:]
    back = run(["-c", _READ_BACK, REPO_ID, ",".join(CONFIGS)], env)
    assert back.returncode == 0, back.stderr[-3000:]
    return output, job, json.loads(back.stdout.strip().splitlines()[-1])


def test_every_config_reads_back_row_for_row(pushed):
    output, _, remote = pushed
    assert remote["private"] is True
    for config in CONFIGS:
        local = load_from_disk(str(output / config / "train")).to_list()
        assert local and json.loads(json.dumps(remote["configs"][config], default=str)) == (
            json.loads(json.dumps(local, default=str))
        ), config


def test_the_card_describes_the_run_and_its_figures_are_in_the_repo(pushed):
    _, _, remote = pushed
    card, files = remote["card"], set(remote["files"])
    for section in ("## How it was made", "## Configs", "## Statistics", "### Filtering",
                    "## Figures", "## Citation", "@inproceedings{wang-etal-2023-self-instruct",
                    "distilabel-selfinstruct run --num-instructions 4 --num-prompts 2 --seed 3",
                    "gemma-3-270m", "Gemma Terms of Use", "kept instructions per 1,000"):  # fmt: skip
        assert section in card, section
    assert "--push-to-hub" not in card and "--output-dir" not in card
    header = card.split("---")[1]
    assert "configs:" in header and "config_name: instructions" in header  # from `datasets`
    assert "self-instruct" in header and "license_name: gemma-terms-of-use" in header
    for name in ("similarity_to_seeds.png", "lengths.png", "verbs.png"):
        assert f"](figures/{name})" in card and f"figures/{name}" in files
    assert {"pipeline.yaml", "run_summary.json"} <= files
    assert any(path.startswith("artifacts/bootstrap/") for path in files)


def test_the_token_appears_nowhere(pushed, hub):
    output, job, remote = pushed
    _, state, _ = hub
    published = [remote["card"], job.stdout, job.stderr]
    published += [path.read_text(errors="replace") for path in output.rglob("*")
                  if path.is_file() and path.suffix in {".yaml", ".json", ".md", ".log", ".jsonl"}]  # fmt: skip
    repo = state.repos[("dataset", REPO_ID)]
    published += [content.decode(errors="replace") for content in repo.files.values()]
    assert not any(TOKEN in text for text in published)


def test_the_local_dataset_loads_as_a_distiset_with_its_card(pushed):
    output, _, _ = pushed
    assert set(Distiset.load_from_disk(output)) == set(CONFIGS)
    assert (output / "distiset_configs" / "README.md").exists()


def test_a_failed_push_loses_nothing_and_the_retry_command_pushes(pushed, hub, tmp_path):
    output, _, _ = pushed
    _, state, env = hub
    dead = {**env, "HF_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens there
    failed = run([PUBLISH, str(output), "--push-to-hub", "local-tester/retry"], dead)
    assert failed.returncode == 1
    assert "the local dataset is intact" in failed.stderr
    assert f"retry: distilabel-selfinstruct publish {output} --push-to-hub local-tester/retry" in (
        failed.stderr
    )
    assert set(Distiset.load_from_disk(output)) == set(CONFIGS)
    retried = run([PUBLISH, str(output), "--push-to-hub", "local-tester/retry"], env)
    assert retried.returncode == 0, retried.stderr[-3000:]
    files = set(state.repos[("dataset", "local-tester/retry")].files)
    assert {f"{config}/train-00000-of-00001.parquet" for config in CONFIGS} <= files
    assert state.unhandled == []


def test_a_push_without_a_token_stops_before_generating(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "HF_TOKEN"}
    env["HF_HOME"] = str(tmp_path / "empty_home")
    job = run([JOB, "--output-dir", str(tmp_path / "out"), "--push-to-hub", REPO_ID], env, 120)
    assert job.returncode == 2 and "needs a Hugging Face token" in job.stderr
    assert not (tmp_path / "out").exists()
