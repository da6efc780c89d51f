"""Fine-tuning exports of Self-Instruct rows: the paper's prompt/completion form, Alpaca
(with its one-text layout) and chat `messages`: each one of the dataset formats of TRL's
SFT trainer.

Every function takes rows with `instruction` and `instances` (a list of `{input, output}`),
as `InstanceFilter` emits them, and returns one record per instance.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["END_OF_TEXT", "alpaca_text", "to_alpaca", "to_messages", "to_prompt_completion"]

END_OF_TEXT = "<|endoftext|>"

_FIELD_PREFIX = re.compile(r"^[A-Za-z][\w ]{0,30}:\s*")


def _instances(rows: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str, str]]:
    for row in rows:
        for instance in row.get("instances") or []:
            yield (
                row["instruction"].strip(),
                (instance.get("input") or "").strip(),
                instance["output"].strip(),
            )


def alpaca_text(instruction: str, given: str, output: str) -> str:
    """An Alpaca record as one text, in Alpaca's sections (no input section when the input is
    empty): what a trainer that takes one `text` column learns from.

    Examples:
        >>> print(alpaca_text("Add.", "2 3", "5"))
        ### Instruction:
        Add.
        <BLANKLINE>
        ### Input:
        2 3
        <BLANKLINE>
        ### Response:
        5
    """
    sections = [("Instruction", instruction), ("Input", given), ("Response", output)]
    return "\n\n".join(f"### {name}:\n{text}" for name, text in sections if text)


def to_alpaca(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Alpaca records: `instruction`, `input` (possibly empty), `output`, and the three as
    one `text` (`alpaca_text`; TRL's language-modeling format).

    Examples:
        >>> to_alpaca([{"instruction": "Add.", "instances": [{"input": "", "output": "0"}]}])
        [{'instruction': 'Add.', 'input': '', 'output': '0', 'text': '### Instruction:\\nAdd.\\n\\n### Response:\\n0'}]
    """
    return [
        {
            "instruction": instruction,
            "input": given,
            "output": output,
            "text": alpaca_text(instruction, given, output),
        }
        for instruction, given, output in _instances(rows)
    ]


def to_messages(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, list[dict[str, str]]]]:
    """Chat records for TRL's SFT trainer: the instruction (and the input, after a blank
    line) as the user turn, the output as the assistant turn.

    Examples:
        >>> to_messages([{"instruction": "Add.", "instances": [{"input": "2 3", "output": "5"}]}])
        [{'messages': [{'role': 'user', 'content': 'Add.\\n\\n2 3'}, {'role': 'assistant', 'content': '5'}]}]
    """
    return [
        {
            "messages": [
                {"role": "user", "content": f"{instruction}\n\n{given}" if given else instruction},
                {"role": "assistant", "content": output},
            ]
        }
        for instruction, given, output in _instances(rows)
    ]


@cache
def _layouts() -> dict[str, list[str]]:
    source = resources.files("distilabel_selfinstruct") / "prompts/finetuning.json"
    return json.loads(source.read_text(encoding="utf-8"))


def to_prompt_completion(
    rows: Iterable[Mapping[str, Any]],
    seed: int | random.Random = 42,
    end_of_text: str = END_OF_TEXT,
    deduplicate: bool = True,
) -> list[dict[str, str]]:
    """The paper's fine-tuning form: a prompt drawn from a few layouts
    (`prompts/finetuning.json`) and the output as the completion, ending with `end_of_text`.

    As in the paper, half of the inputs that start with a single `field:` prefix lose it,
    double newlines in inputs are collapsed, and duplicate prompt/completion pairs are
    dropped (with `deduplicate`; without it, record `i` belongs to instance `i`). The draws
    are reproducible from `seed`; given a `random.Random`, the draws continue its sequence,
    so that rows converted batch after batch get the draws of one call over all of them.

    Examples:
        >>> rows = [{"instruction": "Add the numbers.", "instances": [
        ...     {"input": "Numbers: 2 and 3", "output": "5"}, {"input": "", "output": "Zero."}]}]
        >>> for record in to_prompt_completion(rows):
        ...     print(repr(record["prompt"]), repr(record["completion"]))
        'Add the numbers.\\n\\nNumbers: 2 and 3\\n\\nOutput:' ' 5<|endoftext|>'
        'Add the numbers.\\n\\n' 'Zero.<|endoftext|>'
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    layouts = _layouts()
    records, seen = [], set()
    for instruction, given, output in _instances(rows):
        if given:
            given = re.sub(r"\n\s*\n", "\n", given)
            if given.count(":") == 1 and _FIELD_PREFIX.match(given) and rng.random() < 0.5:
                given = _FIELD_PREFIX.sub("", given, count=1)
            layout = rng.choice(layouts["with_input"])
        else:
            layout = rng.choice(layouts["without_input"])
        prompt = layout.format(instruction=instruction, input=given)
        completion = f"{' ' if prompt.endswith(':') else ''}{output}{end_of_text}"
        if not deduplicate or (prompt, completion) not in seen:
            seen.add((prompt, completion))
            records.append({"prompt": prompt, "completion": completion})
    return records
