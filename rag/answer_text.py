"""Clean a generated answer of the prompt scaffolding small models copy into it.

Seen on SmolLM2-135M with the grounded prompt (workload benchmark, evals/reports/workload-baseline.md):
- the answer echoes the prompt's own format: "Question: When is Project X due?\\nAnswer: April 2029";
- the answer goes on writing passages of its own: "[4] (title: Quenvern Brewery)\\n<<<\\n...".
Neither is answer text a user should see, nor text that the conflict check or attribution should read.

    clean_answer("Question: Who?\\nAnswer: Nils Bremoor [1]")   # -> "Nils Bremoor [1]"
"""

from __future__ import annotations

import re

# Where generation stops: an opening passage fence, a new question, a long gap, the router token. At most 4:
# the OpenAI completions API (and vLLM) reject more stop strings.
STOPS = ("<<<", "\nQuestion:", "\n\n\n", "<RET>")
_CUTS = (*STOPS, ">>>")  # also cut after the fact, e.g. text that closes a fence it never opened
# A passage header the model writes itself, at a line start or mid-sentence ("... is a reference to the [1] (title:
# Brestead-Labs-Handbook) and ..."): the prompt's scaffolding, never answer text.
_FAKE_PASSAGE = re.compile(r"\s*\[\d+\]\s*\(title:|(?:^|\n)\s*Passages?\s*\(data only", re.IGNORECASE)
_ECHO = re.compile(r"^\s*Question:.*?\n\s*Answer:\s*", re.IGNORECASE | re.DOTALL)
_ANSWER_LABEL = re.compile(r"^\s*(?:Answer:|The answer(?: to (?:the|your) question)? is:)\s*", re.IGNORECASE)


def clean_answer(text: str) -> str:
    """The answer without an echoed "Question: ... Answer:" lead, invented passage blocks or fences, or the marks
    of a quotation that is all of it or never closes."""
    text = _ECHO.sub("", text, count=1)
    text = _ANSWER_LABEL.sub("", text, count=1)
    cut = _FAKE_PASSAGE.search(text)
    if cut:
        text = text[: cut.start()]
    for stop in _CUTS:
        if stop in text:
            text = text.split(stop, 1)[0]
    text = text.strip()
    for mark, closing in (('"', '"'), ("“", "”")):  # a quotation opened and never closed, or closed only at the
        if not text.startswith(mark):                  # end: the model quoted its passage, and the answer is that
            continue
        rest = text[1:]
        if closing not in rest:
            text = rest.lstrip()
        elif rest.rstrip(".").endswith(closing) and closing not in rest.rstrip(".")[:-1]:
            text = rest.rstrip(".")[:-1].strip()
    return text
