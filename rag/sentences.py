"""Sentence boundaries of answers and passages: what attribution links, what a quote is, where a memory's first
sentence ends.

Sentences end at a line break or at . ! ? followed by a space and a word that is not lower case; abbreviations,
initials, decimals ("336.3") and domain names (".ke") do not end one; a citation marker after the stop ("Paris. [1]")
stays with its sentence. A table row (cells between " | ", as the indexer writes Markdown tables) is one
sentence, whatever its cells say. A line break inside wrapped prose (a PDF's text: "... covers an area of 93,030
square\nkilometres, a population density of ...") is no end: the line goes on into the next (`_wraps`).

    split_sentences("Dr. Smith lives in Nairobi. The code is .ke [1]. It is 336.3 km.")
    # -> [(0, 27), (28, 48), (49, 64)]
"""

from __future__ import annotations

import re

from rag.answer_match import TITLE_ABBREVIATIONS

_TAIL = re.compile(r"(?:\s*\[\d+\])+")

# Words whose full stop does not end a sentence ("Dr. Smith", "approx. 5", "e.g. this").
_ABBREVIATIONS = TITLE_ABBREVIATIONS | frozenset({
    "etc", "inc", "ltd", "co", "corp", "no", "nos", "fig", "figs", "cf", "dept", "est", "gen", "gov", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# A sentence end: terminal punctuation (and closing quotes/brackets) followed by whitespace or the end. A full
# stop inside a token ("336.3", ".ke", "www.example.com") is never an end.
_END = re.compile(r"[.!?]+[\"'’”)\]]*(?=\s|$)")


# a wrapped line: long, ending inside a sentence, followed by a line that carries it on (lower case, a bracket, or
# after a comma or a word that cannot end one)
WRAP_MIN_CHARS = 40
_OPEN_END = re.compile(r"(?:,|\b(?:and|or|but|of|the|a|an|to|in|on|at|for|with|by|from|as|is|are|was|were|its|their))$",
                       re.IGNORECASE)
_LIST_START = re.compile(r"^\s*(?:[•\-*–#>|\[]|\d+[.)]\s)")


def _wraps(line: str, following: str) -> bool:
    """Whether the line break between `line` and `following` only wraps prose: `line` is long and ends inside a
    sentence, and `following` carries it on ("... part of the Europe" / "region. Its capital is ..."). Rows, bullets,
    headings and short lines ("Ingredients" / "flour") keep their breaks."""
    head, tail = line.rstrip(), following.strip()
    if len(head.strip()) < WRAP_MIN_CHARS or not tail or head.endswith((".", "!", "?", ":", ";", "|", '"', "”", "’")):
        return False
    if "|" in head or "|" in tail or _LIST_START.match(tail):
        return False
    return tail[0].islower() or tail[0] == "(" or _OPEN_END.search(head) is not None


def _ends_sentence(text: str, line_start: int, match: re.Match[str]) -> bool:
    if not match.group().startswith("."):
        return True  # ! and ? always end a sentence
    before = re.search(r"(\S+)$", text[line_start:match.start()])
    token = before.group(1) if before else ""
    bare = token.lower().replace(".", "")
    if bare in _ABBREVIATIONS or re.fullmatch(r"[A-Za-z]", token) or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", token):
        return False  # "Dr.", an initial ("J. Smith"), "U.S."
    following = re.match(r"\s*(\S)", text[match.end():])
    return following is None or not following.group(1).islower()  # "approx. five" goes on


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (markers stay with their sentence).

    Sentences end at a line break or at . ! ? followed by a space and a word that is not lower case;
    abbreviations, initials, decimals ("336.3") and domain names (".ke") do not end one. A table row (a
    line of cells between " | ") is one sentence.
    """
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line_end in _line_ends(text):
        start = line_start
        row = " | " in text[line_start:line_end] or text[line_start:line_end].lstrip().startswith("|")
        for m in () if row else _END.finditer(text, line_start, line_end):  # a table row: "1 | What is ...? | Saturn"
            if m.start() < start or not _ends_sentence(text, line_start, m):
                continue
            end = m.end()
            tail = _TAIL.match(text, end, line_end)  # "Paris. [1]": the marker belongs to this sentence
            if tail:
                end = tail.end()
            _add_span(spans, text, start, end)
            start = end
        _add_span(spans, text, start, line_end)
        line_start = line_end + 1
    return spans


def _line_ends(text: str) -> list[int]:
    """Where the lines of `text` end, a wrapped line going on into the next (`_wraps`)."""
    breaks = [m.start() for m in re.finditer("\n", text)] + [len(text)]
    ends, start = [], 0
    for i, end in enumerate(breaks[:-1]):
        following = text[end + 1:breaks[i + 1]]
        if not _wraps(text[start:end], following):
            ends.append(end)
        start = end + 1
    return [*ends, len(text)]


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


