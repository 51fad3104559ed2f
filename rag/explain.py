"""The answer path's trust decisions in words a user understands: why it searched, and what disagrees.

One home for the wording that the CLI (`render_text` in rag/cli.py) and the app (ui/render.py) both
show, so they say the same thing. Pure functions over `Answer`; no model calls.

    decision_words(answer, threshold=0.607)
    # "searched your documents: the model was unsure (P(<RET>) 0.81 ≥ threshold 0.61)"
    d = disagreement(answer)   # None unless the conflict is flagged
    d.title, d.first.value, d.first.passage_ids, d.second.value, d.second.confidence
    # "Your documents disagree with the model's memory", "Osaka", ("p3",), "Tokyo", 0.92

The router's threshold lives on the Decider (`pipeline.decider.threshold`), not on the Answer: callers
that hold the pipeline pass it; without it only P(<RET>) is shown.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from rag.conflict import _value  # the check's own value reader; at load (~0.35 s), not in the first answer's draw
from rag.evidence import looks_something_up
from rag.types import Answer

TITLES = {
    "memory_vs_documents": "Your documents disagree with the model's memory",
    "between_documents": "Your documents disagree with each other",
}
MAX_VALUE_CHARS = 80  # a banner shows values, not paragraphs


@dataclass(frozen=True)
class Side:
    """One side of a disagreement: its short value and where it comes from."""

    value: str  # "Osaka" rather than "The capital of Japan is Osaka."
    passage_ids: tuple[str, ...] = ()  # the passages that state it; () for the model's memory
    confidence: float | None = None  # the memory side: closed-book confidence (0..1)


@dataclass(frozen=True)
class Disagreement:
    """A flagged conflict as a user reads it: documents vs memory, or one document side vs the other."""

    kind: str  # "memory_vs_documents" | "between_documents"
    title: str
    first: Side  # the documents (memory kind), or the first document side
    second: Side  # the model's memory (memory kind), or the other document side
    score: float


def short_value(text: str | None, question: str) -> str:
    """The answer's own value ("Osaka"), kept short for one line; "" when there is none."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    value = _signs(_trim(_value(text, question).strip(" .") or text, question), text)
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS].rsplit(" ", 1)[0] + " …"


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_GLUE = {"is", "are", "was", "were", "the", "a", "an", "of", "s", "in", "on", "at", "by", "to"}


def _trim(value: str, question: str) -> str:
    """Drop the question's own words and glue from the ends: "s managing director is Pavel Galthorne" (a
    possessive cut by the value reader) -> "Pavel Galthorne". A value made only of such words stays as it is, and
    so does a name that opens with one ("Mexico City" for "What is the capital of Mexico?")."""
    asked = {w.casefold() for w in _WORD.findall(question)} | _GLUE
    words = value.split()
    lo, hi = 0, len(words)
    while lo < hi and {w.casefold() for w in _WORD.findall(words[lo])} <= asked:
        if lo + 1 < hi and words[lo][:1].isupper() and words[lo + 1][:1].isupper():
            break  # the first word of a name
        lo += 1
    while hi > lo and {w.casefold() for w in _WORD.findall(words[hi - 1])} <= asked:
        hi -= 1
    return " ".join(words[lo:hi]).strip(" .,;:") or value


def _signs(value: str, text: str) -> str:
    """Put back the signs a value reader drops: "+254", "$40", "15%"."""
    at = text.find(value)
    if at < 0 or not value:
        return value
    start, end = at, at + len(value)
    while start > 0 and text[start - 1] in "+-−$€£¥#":
        start -= 1
    while end < len(text) and text[end] in "%°":
        end += 1
    return text[start:end]


# Conflict.detail of a between-documents flag: "Your documents disagree: 'X' (a.md) vs 'Y' (b.md)" (repr quoting)
_REPR = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_BETWEEN = re.compile(rf"Your documents disagree: {_REPR} \(.*?\) vs {_REPR} \(.*\)\Z", re.DOTALL)


def _between_values(detail: str) -> tuple[str, str] | None:
    m = _BETWEEN.match(detail.strip())
    if not m:
        return None
    try:
        return str(ast.literal_eval(m.group(1))), str(ast.literal_eval(m.group(2)))
    except (ValueError, SyntaxError):
        return None


def disagreement(answer: Answer) -> Disagreement | None:
    """The flagged conflict of `answer` with short values per side, or None when nothing is flagged."""
    c = answer.conflict
    if not c.flagged:
        return None
    q = answer.question
    if c.kind == "between_documents":
        values = _between_values(c.detail) or (c.document_answer or "", "")  # older answers: one side known
        return Disagreement(c.kind, TITLES[c.kind], Side(short_value(values[0], q), tuple(c.passage_ids)),
                            Side(short_value(values[1], q), tuple(c.other_passage_ids)), c.score)
    kind = "memory_vs_documents"
    return Disagreement(kind, TITLES[kind], Side(short_value(c.document_answer, q), tuple(c.passage_ids)),
                        Side(short_value(c.parametric_answer, q), (), c.parametric_confidence), c.score)


# the reasons of an unflagged check, as answers stored before `Conflict.memory_status` gave them
_STATUS_OF_DETAIL = {"memory and documents agree": "agrees", "memory not confident enough to compare": "unsure",
                     "the model's memory has no sure answer to compare": "no_answer"}


def memory_standing(answer: Answer) -> str:
    """`Conflict.memory_status`, or for an answer stored before it, what its unflagged check's reason says."""
    c = answer.conflict
    return c.memory_status or _STATUS_OF_DETAIL.get(c.detail, "")


def memory_words(answer: Answer) -> str:
    """Where the model's memory stood when no conflict was flagged, in words, or "" when it was not compared.
    Its value is shown only when it agrees: an unsure guess beside "no conflict found" ("$10" under a document's
    "£19.99") reads as a second answer the check vouched for."""
    c = answer.conflict
    status = memory_standing(answer)
    conf = f" ({c.parametric_confidence:.0%} confident)" if c.parametric_confidence is not None else ""
    if status == "agrees" and c.parametric_answer:
        return f"the model's memory agrees{conf}: {short_value(c.parametric_answer, answer.question)}"
    if status == "unsure":
        return f"the model's memory was not sure enough to compare{conf}"
    if status == "differs" and c.parametric_answer:
        return (f"the model's memory says {short_value(c.parametric_answer, answer.question)}{conf}; the check "
                "did not count it as a conflict")
    if status == "no_answer":
        return "the model's memory has no answer to this to compare"
    return ""


# ---- the decision ------------------------------------------------------------------------------------

def _prob(p: float, threshold: float | None) -> str:
    if threshold is None:
        return f"P(<RET>) {p:.2f}"
    digits = 3 if f"{p:.2f}" == f"{threshold:.2f}" else 2  # never "0.61 < threshold 0.61"
    return f"P(<RET>) {p:.{digits}f} {'≥' if p >= threshold else '<'} threshold {threshold:.{digits}f}"


def _why(answer: Answer, threshold: float | None, requested_mode: str | None) -> tuple[str, bool]:
    """(why the path searched or not, whether that is just the mode)."""
    fell_back = answer.mode == "always" and (
        requested_mode == "adaptive" or any("router" in w.lower() for w in answer.warnings))
    if fell_back:
        return "no router for this model: mode always", True
    if answer.mode != "adaptive":
        return f"mode {answer.mode}", True
    p = answer.ret_probability
    if p is None and answer.retrieved and answer.unfamiliar_name:  # rag/decide.py: a name the model never saw
        return f"the model does not know the name \"{answer.unfamiliar_name}\"", False
    if p is None and answer.retrieved:  # adaptive read the documents without asking the router: they name it
        return "your documents name what you asked about", False
    if p is None and looks_something_up(answer.question):  # memory answered first, sure, and nothing was found
        conf = answer.memory_confidence
        sure = f" ({conf:.0%} confident)" if conf is not None else ""
        return f"the model's memory was sure{sure}, and nothing in your documents is about it", False
    if p is None:  # adaptive answered without the router: nothing to look up (rag/decide.py)
        return "the request names nothing to look up", False
    if p is None:
        return "the router gave no probability", False
    prob = _prob(p, threshold)
    unsure = (p >= threshold) if threshold is not None else (p >= 0.5)
    if not answer.retrieved and unsure:  # it wanted documents, but the index had none (empty or no match)
        return f"no passages were found, though the model was unsure ({prob})", False
    if not answer.retrieved:
        return f"the model was confident ({prob})", False
    if unsure:
        return f"the model was unsure ({prob})", False
    if threshold is not None:  # below the threshold, yet searched: the router had no answer without <RET>
        return f"the model had no answer without them ({prob})", False
    return f"the router chose to search ({prob})", False


def decision_words(answer: Answer, threshold: float | None = None, requested_mode: str | None = None) -> str:
    """Where the answer came from and why, in one line.

    Args:
        answer: the pipeline's Answer.
        threshold: the router's P(<RET>) threshold (`pipeline.decider.threshold`), when known.
        requested_mode: the mode the user asked for (the app's setting), to name a fallback.

    Returns:
        e.g. "answered from memory: the model was confident (P(<RET>) 0.12 < threshold 0.61)",
        "searched your documents (mode always)",
        "searched your documents, none answers: answered from the model's memory (88% confident) · searched
        because the model was unsure (P(<RET>) 0.81 ≥ threshold 0.61)".
    """
    if answer.answered_from == "calculation":
        return "worked out exactly by rule: the request is arithmetic or a small word or unit task (no search, no model)"
    why, by_mode = _why(answer, threshold, requested_mode)
    conf = answer.memory_confidence
    if not answer.retrieved and answer.searched_passages and not looks_something_up(answer.question):
        return "answered from memory: the request names nothing to look up"  # "hi there" needs no word on passages
    if not answer.retrieved and answer.searched_passages:
        k = answer.searched_passages
        memory = f"; the model's memory answered ({conf:.0%} confident)" if conf is not None else ""
        if answer.ret_probability is not None:  # memory was unsure, and the router held that the model knows
            memory += f", and the router judged that it knows ({_prob(answer.ret_probability, threshold)})"
        return (f"answered from memory: none of the {k} passage{'s' if k != 1 else ''} found in your documents "
                f"is about this{memory}")
    if not answer.retrieved:
        return f"answered from memory ({why})" if by_mode else f"answered from memory: {why}"
    n = len(answer.passages)
    if answer.abstained:
        memory = (f"the model's memory is not confident enough ({conf:.0%})" if conf is not None
                  else f"the model's memory was not asked (it cannot know the name {answer.unfamiliar_name!r})"
                  if answer.unfamiliar_name else "the model's memory is not confident enough")
        outcome = (f"searched your documents, none answers; {memory}" if n
                   else f"searched your documents, found nothing; {memory}")
    elif answer.answered_from == "memory":
        memory = f"answered from the model's memory ({conf:.0%} confident)" if conf is not None else \
            "answered from the model's memory"
        outcome = (f"searched your documents, none answers: {memory}" if n
                   else f"searched your documents, found nothing: {memory}")
    else:
        return f"searched your documents ({why})" if by_mode else f"searched your documents: {why}"
    return f"{outcome} · {why}" if by_mode else f"{outcome} · searched because {why}"


def source_name(source: str) -> str:
    """The last part of a path or URL, as the CLI names a document."""
    name = source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or source
