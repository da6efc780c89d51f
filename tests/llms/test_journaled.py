"""`JournaledGeneration`: a rerun replays finished generations and makes only new ones;
errors cross process boundaries; prompts go out as raw text.

The LLM is `OpenAICompletionLLM` against the scripted server of
`tests/support/openai_server.py` (the journal is under test, not a model); the embedded
model's resume runs in `tests/pipelines/test_self_instruct_resume.py`.
"""

import pickle

import pytest
from distilabel.models.llms import LlamaCppLLM

from distilabel_selfinstruct import (
    GenerationError,
    LlamaCppCompletionLLM,
    OpenAICompletionLLM,
    embedded_model_path,
)
from distilabel_selfinstruct.llms import prompt_as_llm_input
from tests.support.openai_server import ScriptedServer


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


def _generate(server, journal_dir, prompts):
    llm = OpenAICompletionLLM(
        model="m", base_url=server.url("script"), journal_dir=str(journal_dir)
    )
    llm.load()
    return llm.generate_outputs(inputs=prompts, max_new_tokens=12, seed=3)


def _lines(journal_dir):
    return sum(len(path.read_text().splitlines()) for path in journal_dir.glob("*.jsonl"))


def test_a_rerun_replays_finished_generations_and_makes_only_new_ones(server, tmp_path):
    prompts = ["1. Name a fruit.\n2. Add two numbers.\n9.", "Task: Say hi.\n"]
    before = server.requests("script")
    first = _generate(server, tmp_path, prompts)
    assert _lines(tmp_path) == 2 and server.requests("script") == before + 2
    again = _generate(server, tmp_path, [*prompts, "Task: Count to three.\n"])
    assert again[:2] == first
    assert _lines(tmp_path) == 3  # only the new prompt was generated
    assert server.requests("script") == before + 3
    assert _generate(server, tmp_path / "elsewhere", prompts) == first  # what a fresh run gets


def test_a_failed_generation_is_a_picklable_one_line_error(tmp_path):
    llm = OpenAICompletionLLM(model="m", base_url="http://127.0.0.1:9/v1", max_retries=0)
    llm.load()
    with pytest.raises(GenerationError) as caught:
        llm.generate_outputs(inputs=["Task: Say hi.\n"], max_new_tokens=4)
    message = str(caught.value)
    assert "\n" not in message and "base_url=http://127.0.0.1:9/v1" in message
    assert str(pickle.loads(pickle.dumps(caught.value))) == message


def test_raw_text_goes_to_llms_with_a_completion_path_and_a_message_to_the_others():
    assert prompt_as_llm_input(LlamaCppCompletionLLM(), "1. Add.\n2.") == "1. Add.\n2."
    chat_only = LlamaCppLLM(model_path=str(embedded_model_path()))
    assert prompt_as_llm_input(chat_only, "1. Add.") == [{"role": "user", "content": "1. Add."}]


def test_distilabels_own_llms_are_refused_or_adapted_before_any_generation():
    """The tasks refuse LLMs that would change the prompt or drop its stops, with one line
    naming the class to use; an LLM that names its stops `stop_sequences` gets them there.
    Only constructed here: nothing is loaded or sent."""
    from distilabel.models.llms import InferenceEndpointsLLM, OpenAILLM

    from distilabel_selfinstruct import InstanceGeneration, InstructionProposal

    with pytest.raises(TypeError, match=r"^instance_generation_0: distilabel's LlamaCppLLM wraps"):
        InstanceGeneration(llm=LlamaCppLLM(model_path=str(embedded_model_path())))
    with pytest.raises(TypeError, match=r"use distilabel_selfinstruct\.OpenAICompletionLLM"):
        InstructionProposal(llm=OpenAILLM(model="m", api_key="k", base_url="http://127.0.0.1:9/v1"))
    endpoints = InferenceEndpointsLLM(base_url="http://127.0.0.1:9", api_key="k")
    task = InstructionProposal(llm=endpoints)
    assert task.llm.generation_kwargs["stop_sequences"][0] == "\n\n"
    assert "stop" not in task.llm.generation_kwargs
