"""Few-shot prefixes evaluated once: fewer prompt tokens, and the same text in any order."""

import pytest

from distilabel_selfinstruct import LlamaCppCompletionLLM
from distilabel_selfinstruct.llms.llama_prefix import PrefixReuse, fixed_prefix
from distilabel_selfinstruct.prompts import render_prompt
from tests.conftest import in_child

INSTRUCTIONS = [
    "Sort the numbers in ascending order.",
    "Is this email spam?",
    "Write a poem about dogs.",
    "Tell whether the sentence is sarcastic.",
]


def _prompts() -> list[str]:
    templates = ["classification_identification", "instance_input_first"]
    return [
        render_prompt(templates[index % 2], instruction=instruction)
        for index, instruction in enumerate(INSTRUCTIONS)
    ]


def test_a_batch_is_grouped_by_prefix_in_first_seen_order():
    prompts = ["A\n\nx", "B\n\ny", "A\n\nz", "no prefix", "B\n\nw"]
    assert PrefixReuse(model=None).order(prompts) == [0, 2, 1, 4, 3]
    assert fixed_prefix(prompts[0]) == "A\n\n"


def _generate_in_two_orders():
    kwargs = {"max_new_tokens": 24, "temperature": 0.7, "seed": 3}
    forward = LlamaCppCompletionLLM(generation_kwargs=kwargs)
    forward.load()
    in_batch = forward.generate_outputs(inputs=_prompts(), **kwargs)
    backward = LlamaCppCompletionLLM(generation_kwargs=kwargs)
    backward.load()
    one_by_one = [
        backward.generate_outputs(inputs=[prompt], **kwargs)[0] for prompt in _prompts()[::-1]
    ][::-1]
    return in_batch, one_by_one, forward.prompt_tokens_evaluated


@pytest.mark.e2e
def test_the_same_prompt_gives_the_same_text_whatever_came_before():
    """Sampled (temperature 0.7, seeded) generations of two interleaved templates, once as
    one batch and once one by one in reverse order, from two separately loaded models."""
    in_batch, one_by_one, evaluated = in_child(_generate_in_two_orders)
    assert [o["generations"] for o in in_batch] == [o["generations"] for o in one_by_one]
    full = sum(o["statistics"]["input_tokens"][0] for o in in_batch)
    # each template's ~500-token prefix is evaluated once in the batch
    assert evaluated < full * 0.6


def _without_reuse():
    kwargs = {"max_new_tokens": 8, "temperature": 0.0}
    llm = LlamaCppCompletionLLM(reuse_prefix=False, generation_kwargs=kwargs)
    llm.load()
    outputs = llm.generate_outputs(inputs=_prompts(), **kwargs)
    return outputs, llm.prompt_tokens_evaluated, llm._journal_identity()["prefix"]


@pytest.mark.e2e
def test_without_reuse_every_prompt_is_evaluated_whole():
    """`reuse_prefix=False`, the comparison the benchmark runs: every prompt token is
    evaluated, and the journal tells such generations apart."""
    outputs, evaluated, prefix = in_child(_without_reuse)
    assert evaluated == sum(o["statistics"]["input_tokens"][0] for o in outputs)
    assert prefix == "none"
