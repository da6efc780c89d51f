"""`OpenAICompletionLLM` against a real OpenAI-compatible server: llama.cpp's own
(`llama_cpp.server`, from the `dev` extra) serving the embedded model on 127.0.0.1 at a free
port, started here and stopped at the end (those tests are `e2e`); and its concurrency cap,
against the scripted server.
"""

import json
import socket
import subprocess
import sys
import time

import pytest
import requests

from distilabel_selfinstruct import (
    ClassificationIdentification,
    InstructionProposal,
    OpenAICompletionLLM,
    embedded_model_path,
    load_seed_tasks,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()),
         "--model_alias", "gemma-base", "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}")
            try:
                if requests.get(f"{url}/models", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not answer within 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.e2e
def test_completion_mode_sends_the_raw_prompt_with_stop_sequences(server_url):
    llm = OpenAICompletionLLM(model="gemma-base", base_url=server_url)
    llm.load()
    prompt = "1. Apples\n2. Pears\n3. Plums\n4."
    [output] = llm.generate_outputs(
        inputs=[prompt], max_new_tokens=60, temperature=0.0, stop=["\n"]
    )
    text = output["generations"][0]
    assert text.strip() and "\n" not in text
    assert output["statistics"]["output_tokens"][0] <= 60

    # The same request to llama.cpp in-process, in a child process: llama.cpp's threads must
    # not live in the test process, which later forks distilabel's workers.
    script = (
        "import json, sys\n"
        "from distilabel_selfinstruct import LlamaCppCompletionLLM\n"
        "llm = LlamaCppCompletionLLM()\n"
        "llm.load()\n"
        "[out] = llm.generate_outputs(inputs=[sys.argv[1]], max_new_tokens=60, temperature=0.0,"
        " stop=['\\n'])\n"
        "print(json.dumps(out['generations'][0]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, prompt], capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout.strip().splitlines()[-1]) == text  # the exact prompt text


@pytest.mark.e2e
def test_tasks_run_on_the_server(server_url):
    pool = [{**task.to_dict(), "origin": "seed"} for task in load_seed_tasks()]
    proposal = InstructionProposal(
        llm=OpenAICompletionLLM(model="gemma-base", base_url=server_url), num_prompts=1, seed=3
    )
    proposal.load()
    rows = next(proposal.process(pool))
    assert rows and all(row["instruction"] and len(row["prompt_tasks"]) == 8 for row in rows)
    assert proposal.llm.generation_kwargs["stop"][0] == "\n\n"

    classify = ClassificationIdentification(
        llm=OpenAICompletionLLM(model="gemma-base", base_url=server_url)
    )
    classify.load()
    [row] = next(classify.process([{"instruction": "Is the review positive or negative?"}]))
    assert row["is_classification"] in (True, False) and row["classification_error"] is None


def test_max_concurrency_caps_the_requests_in_flight():
    """Against the scripted server's `slow` mode (each answer a quarter of a second late),
    a batch of 8 prompts has at most `max_concurrency` requests in flight; without the cap,
    distilabel sends the whole batch at once. No model runs."""
    from tests.support.openai_server import ScriptedServer

    prompts = [f"Task: Say {word}.\n" for word in "one two three four five six seven eight".split()]
    with ScriptedServer() as server:
        for cap, peak in ((2, lambda seen: seen == 2), (None, lambda seen: seen > 2)):
            llm = OpenAICompletionLLM(model="m", base_url=server.url("slow"), max_concurrency=cap)
            llm.load()
            server.peak_in_flight(reset=True)
            outputs = llm.generate_outputs(inputs=prompts, max_new_tokens=8)
            assert len(outputs) == 8
            assert peak(server.peak_in_flight()), (cap, server.peak_in_flight())
