"""Quality rules beyond the paper's heuristics, as pure functions (no distilabel).

The paper's filters (`steps/filters.py`) let through data that a small model produces often
and that no fine-tuning set wants. These rules catch it; the steps that apply them record a
count per rule in `rejected`, and `paper_rules=True` (`--paper-rules`) switches every one of
them off.

On instructions (`instruction_problem`):

- `missing_context`: the instruction points to something that is not there ("as in
  question 9", "the passage above", "give two reasons for your choice").
- `physical_action`: it asks for something only a person with a body can do ("write your
  answer on a piece of paper", "recite it in front of your class").
- `about_the_model`: it asks about the assistant's own private life or surroundings ("Who
  are your best friends?", "List the things in your house").

On instances (`repeats_input`, `WorkedExamples`):

- `output_repeats_input`: the output is the input again once a leading `Field:` label,
  case, punctuation and spacing are set aside.
- `copied_from_prompt`: the input or the output copies a run of words from the prompt's own
  worked examples.

Each rule is checked against the paper's 175 seed tasks and 252 user-oriented instructions
in the tests: it rejects none of them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

__all__ = [
    "WorkedExamples",
    "instruction_problem",
    "normalise",
    "repeats_a_block",
    "repeats_input",
]

_LABEL = re.compile(r"^\s*[A-Z][\w'-]*(?: [\w'-]+){0,2}\s*:\s*")
_NON_WORD = re.compile(r"[\W_]+")

_MISSING_CONTEXT = re.compile(
    r"\b(?:as (?:in|of) |in |see |from |to |like )(?:question|exercise|problem|step|part|task)"
    r" (?:\d+|[a-h]\b)"
    r"|\b(?:the|this) (?:passage|text|story|paragraph|list|table|article|question|example)s?"
    r" above\b"
    r"|\b(?:above|previous|preceding) (?:passage|text|story|paragraph|list|question|example"
    r"|answer|task|exercise)s?\b"
    r"|\bfor your (?:choice|decision|selection|opinion)\b"
    r"|\byour (?:previous|last|earlier) (?:answer|response|choice)\b",
    re.IGNORECASE,
)
_PHYSICAL_ACTION = re.compile(
    r"\b(?:piece|sheet|scrap) of paper\b"
    r"|\bin front of (?:your|the) (?:class|classmates|family|friends|mirror|audience)\b"
    r"|\b(?:read|recite|say|sing) (?:it|them|this|the \w+) (?:out loud|aloud)\b"
    r"|\b(?:take|snap) a (?:photo|photograph|selfie)\b"
    r"|\brecord (?:a|your) (?:video|voice)\b"
    r"|\b(?:go|walk|run) (?:outside|to the (?:store|kitchen|park|library))\b"
    r"|\b(?:hand|turn) (?:it|them|your \w+) in\b",
    re.IGNORECASE,
)
_ABOUT_THE_MODEL = re.compile(
    r"\bwho (?:is|are) your (?:best )?(?:friends?|parents|mother|father|sisters?|brothers?"
    r"|wife|husband|girlfriend|boyfriend|family|teachers?|neighbou?rs?)\b"
    r"|\bhow old are you\b"
    r"|\bwhere (?:do|did) you (?:live|grow up|go to school|work)\b"
    r"|\bwhat (?:did|do) you (?:have|eat) for (?:breakfast|lunch|dinner)\b"
    r"|\bwhat is your (?:name|age|address|phone number|birthday|job)\b"
    r"|\b(?:tell me about|describe) your (?:family|childhood|parents|home town|hometown"
    r"|best friend|girlfriend|boyfriend|wife|husband|weekend|morning)\b"
    r"|\b(?:in|at|near|around) your (?:own )?(?:town|city|hometown|house|home|school|class"
    r"|bedroom|neighbou?rhood)\b"
    r"|\byour own lives\b",
    re.IGNORECASE,
)

INSTRUCTION_RULES = {
    "missing_context": _MISSING_CONTEXT,
    "physical_action": _PHYSICAL_ACTION,
    "about_the_model": _ABOUT_THE_MODEL,
}


def instruction_problem(instruction: str) -> tuple[str, str] | None:
    """The first of this module's instruction rules that `instruction` breaks, as
    `(rule, matched text)`, or `None`.

    Examples:
        >>> instruction_problem("Give two reasons for your choice.")
        ('missing_context', 'for your choice')
        >>> instruction_problem("Write your answer on a piece of paper.")
        ('physical_action', 'piece of paper')
        >>> instruction_problem("Who are your best friends?")
        ('about_the_model', 'Who are your best friends')
        >>> instruction_problem("Give two reasons to learn a second language.") is None
        True
    """
    for rule, pattern in INSTRUCTION_RULES.items():
        match = pattern.search(instruction)
        if match:
            return rule, match.group(0)
    return None


def normalise(text: str) -> str:
    """`text` without a leading `Field:` label, in lower case, words separated by one space.

    Examples:
        >>> normalise("Sentence: The cat, the HAT!")
        'the cat the hat'
    """
    return " ".join(_NON_WORD.sub(" ", _LABEL.sub("", text, count=1)).lower().split())


def repeats_input(given: str, output: str) -> bool:
    """Whether `output` only repeats a non-empty `given` (see `normalise`).

    Examples:
        >>> repeats_input("Word: happy", "Happy.")
        True
        >>> repeats_input("Word: happy", "sad")
        False
    """
    return bool(normalise(given)) and normalise(given) == normalise(output)


class WorkedExamples:
    """The word runs of a prompt's worked examples, to find texts copied from them.

    A text is copied when `min_words` consecutive words of it (normalised, see `normalise`)
    appear in one worked example, or when the whole text (at least `min_words_whole` words)
    does. Short texts, such as class labels, are never counted as copies.

    Examples:
        >>> examples = WorkedExamples(["Output: A tabby who napped in the sun thought chasing a mouse was no fun."])
        >>> examples.copied("I love cats. A tabby who napped in the sun thought chasing mice was fun")
        True
        >>> examples.copied("Positive")
        False
    """

    def __init__(self, texts: Iterable[str], min_words: int = 8, min_words_whole: int = 4) -> None:
        self.min_words = min_words
        self.min_words_whole = min_words_whole
        self._runs: set[tuple[str, ...]] = set()
        self._wholes: list[str] = []
        for text in texts:
            words = normalise(text).split()
            self._wholes.append(" ".join(words))
            self._runs.update(_runs(words, min_words))

    def copied(self, text: str) -> bool:
        """Whether `text` copies a worked example (see the class docstring)."""
        words = normalise(text).split()
        if len(words) >= self.min_words and not self._runs.isdisjoint(_runs(words, self.min_words)):
            return True
        if len(words) >= self.min_words_whole:
            joined = " ".join(words)
            return any(f" {joined} " in f" {whole} " for whole in self._wholes)
        return False


def _runs(words: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[start : start + size]) for start in range(len(words) - size + 1)}


def repeats_a_block(text: str, repeats: int) -> bool:
    """Whether a block of two consecutive non-empty lines of `text` occurs `repeats` times
    (a generation that loops, such as one class label and input written over and over).

    Examples:
        >>> repeats_a_block("Class label: A\\nInput: x\\n" * 3, 3)
        True
        >>> repeats_a_block("Output: No\\nInput: a\\nOutput: No\\nInput: b\\nOutput: No", 3)
        False
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    blocks: dict[tuple[str, str], int] = {}
    for block in itertools.pairwise(lines):
        blocks[block] = blocks.get(block, 0) + 1
        if blocks[block] >= repeats:
            return True
    return False
