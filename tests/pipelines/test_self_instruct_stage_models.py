"""A model per stage: two backends in one run of the main job (the scripted OpenAI-compatible
server for the bootstrap and classification, the embedded model through llama.cpp for the
instances). The scripted server stands in for a remote model, which cannot run here."""

import json

import pytest
from datasets import load_from_disk

from distilabel_selfinstruct import embedded_model_path
from distilabel_selfinstruct.prompts import render_prompt
from tests.pipelines.test_self_instruct_failures import SMALL, job
from tests.support.openai_server import ScriptedServer, scripted_text

pytestmark = pytest.mark.e2e


def test_instances_come_from_their_own_model(tmp_path):
    output = tmp_path / "out"
    gguf = embedded_model_path()
    with ScriptedServer() as server:
        run = job(*SMALL, "--base-url", server.url("script"), "--model", "scripted",
                  "--instance-model-path", gguf, "--output-dir", output, "--report",
                  timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((output / "distiset_configs/run_summary.json").read_text())
    assert summary["run"]["model"] == "scripted"
    assert summary["run"]["stage_models"] == {"instance_generation": gguf.name}
    assert "--instance-model-path" in summary["run"]["command"]
    card = (output / "distiset_configs/README.md").read_text()
    assert f"instance_generation: {gguf.name}" in card
    assert "classification_identification: scripted" in card
    rows = load_from_disk(str(output / "instructions/train"))
    assert rows.num_rows == 3
    for row in rows:
        template = "instance_output_first" if row["is_classification"] else "instance_input_first"
        prompt = render_prompt(template, instruction=row["instruction"].strip())
        raw = row["distilabel_metadata"]["raw_output_instance_generation"]
        assert raw != scripted_text(prompt)  # not the server's answer: llama.cpp's
        assert row["distilabel_metadata"]["raw_output_bootstrap"] is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--instance-base-url", "http://127.0.0.1:9/v1"], "--instance-base-url needs --instance-model"),
        (["--classification-model", "m"], "--classification-model needs --classification-base-url"),
        (["--instance-model-path", "missing.gguf"], "--instance-model-path: no such file"),
    ],
)  # fmt: skip
def test_stage_model_options_are_checked_before_any_generation(tmp_path, arguments, message):
    run = job(*SMALL, *arguments, "--output-dir", tmp_path / "out")
    assert run.returncode == 2 and message in run.stderr
