"""`LlamaCppCompletionLLM`'s own generation options, on the embedded model."""

import pytest

from distilabel_selfinstruct import LlamaCppCompletionLLM
from tests.conftest import in_child

pytestmark = pytest.mark.e2e

LOOP = "Class label: Yes\nInput: 2 + 2 = 4\nClass label: Yes\nInput: 2 + 2 = 4\n"


def _generate_with_and_without_the_loop_stop():
    llm = LlamaCppCompletionLLM()
    llm.load()
    kwargs = {"max_new_tokens": 120, "temperature": 0.0}
    [looping] = llm.generate_outputs(inputs=[LOOP], **kwargs)
    [stopped] = llm.generate_outputs(inputs=[LOOP], max_block_repeats=3, **kwargs)
    return looping, stopped


def test_a_looping_generation_stops_at_the_third_copy_of_a_block():
    """Greedy, the model repeats the prompt's two lines until the token limit; with
    `max_block_repeats=3` it stops once it has written them a third time."""
    looping, stopped = in_child(_generate_with_and_without_the_loop_stop)
    assert looping["statistics"]["output_tokens"] == [120]
    assert stopped["statistics"]["output_tokens"][0] < 60
    assert stopped["generations"][0].count("Class label: Yes\nInput: 2 + 2 = 4") == 3
