"""Every target count ends: the main job over many small targets, seeds and filter outcomes
(including runs whose instance filter keeps nothing at all, so that every later step
gets no row), against the scripted OpenAI-compatible server of `tests/support/openai_server.py`
(a real model cannot be steered into these outcomes). Each run must end, with the
target's instructions and all four configs, or with the one-line "nothing usable" error.
Marked `e2e`.
"""

import json
import subprocess
import sys

import pytest
from datasets import load_from_disk
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from distilabel_selfinstruct import CONFIGS
from tests.conftest import REPO
from tests.support.openai_server import ScriptedServer

pytestmark = pytest.mark.e2e

JOB = str(REPO / "pipelines" / "self_instruct.py")


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(mode="noinstances", target=2, num_prompts=1, seed=5)
@example(mode="script", target=1, num_prompts=1, seed=0)
@given(
    mode=st.sampled_from(["script", "noinstances"]),
    target=st.integers(min_value=1, max_value=9),
    num_prompts=st.integers(min_value=1, max_value=3),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_every_target_count_ends_with_a_complete_dataset(server, tmp_path_factory, mode, target,
                                                         num_prompts, seed):  # fmt: skip
    output = tmp_path_factory.mktemp("run") / "out"
    run = subprocess.run(
        [sys.executable, JOB, "--num-instructions", str(target), "--num-prompts",
         str(num_prompts), "--seed", str(seed), "--base-url", server.url(mode), "--model", "m",
         "--output-dir", str(output), "--stall-timeout", "60"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    if run.returncode == 1:
        assert "error: the model gave nothing usable" in run.stderr
        return
    assert run.returncode == 0, run.stderr[-3000:]
    data = {config: load_from_disk(str(output / config / "train")) for config in CONFIGS}
    assert len(data["instructions"]) == target
    summary = json.loads((output / "distiset_configs" / "run_summary.json").read_text())
    assert summary["instances"] == len(data["instances"])
    if mode == "noinstances":
        assert len(data["instances"]) == len(data["finetuning_alpaca"]) == 0
        assert summary["rejections"]["instance_filter:no_valid_instances"] == target
