"""The main job's command line (the full run is covered by the e2e pipeline tests)."""

import subprocess
import sys

import pytest

from .conftest import REPO

JOB = str(REPO / "pipelines" / "self_instruct.py")


def test_help_documents_every_option():
    run = subprocess.run([sys.executable, JOB, "--help"], capture_output=True, text=True)
    assert run.returncode == 0
    for option in ("--seeds", "--num-instructions", "--num-prompts", "--max-rounds",
                   "--max-generated-tokens", "--threshold", "--seed", "--model-path",
                   "--base-url", "--model", "--mode", "--output-dir", "--work-dir",
                   "--restart", "--overwrite", "--stall-timeout", "--ray", "--ray-address",
                   "--report", "--push-to-hub",
                   "--private"):  # fmt: skip
        assert f"  {option} " in run.stdout or f"  {option}\n" in run.stdout, option
    assert "(default: 100)" in run.stdout and "OPENAI_API_KEY" in run.stdout


def test_a_server_needs_a_model_name():
    run = subprocess.run(
        [sys.executable, JOB, "--base-url", "http://127.0.0.1:9/v1"], capture_output=True, text=True
    )
    assert run.returncode == 2 and "--base-url needs --model" in run.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--model-path", "x.gguf"],
         "give --base-url or --model-path, not both"),
        (["--num-instructions", "0"], "--num-instructions must be at least 1"),
    ],
)  # fmt: skip
def test_contradictory_or_empty_requests_are_refused(arguments, message, tmp_path):
    run = subprocess.run(
        [sys.executable, JOB, *arguments, "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2 and message in run.stderr
    assert not (tmp_path / "out").exists()


def test_bad_seed_file_fails_before_any_generation(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"instruction": "Say hi.", "instances": []}\n', encoding="utf-8")
    run = subprocess.run(
        [sys.executable, JOB, "--seeds", str(seeds), "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.startswith("error: 2 problem(s) in seed tasks from")
    assert "line 1, field 'instances': empty" in run.stderr
    assert "line 1, field 'is_classification': missing" in run.stderr
    assert not (tmp_path / "out").exists()
