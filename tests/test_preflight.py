"""The preflight: a server that cannot serve the run fails within its timeout, with one line
(the whole job's refusals are in `tests/pipelines/test_self_instruct_failures.py`)."""

import time

import pytest

from distilabel_selfinstruct import PreflightError, check_server
from distilabel_selfinstruct.preflight import longest_prompt
from distilabel_selfinstruct.seed_schema import load_seed_tasks
from tests.support.openai_server import ScriptedServer


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


def test_a_stalled_server_fails_within_the_timeout(server):
    started = time.monotonic()
    with pytest.raises(PreflightError, match=r"did not answer within 2 s"):
        check_server(server.url("stall"), "m", "completion", prompt="1. Say hi.\n2.", timeout=2)
    assert time.monotonic() - started < 10


def test_a_working_server_passes_with_the_runs_longest_prompt(server):
    prompt, max_new_tokens = longest_prompt(load_seed_tasks())
    assert max_new_tokens > 0 and prompt.endswith("\n")
    check_server(server.url("script"), "m", "completion", prompt=prompt)
