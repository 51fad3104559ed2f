"""Evidence: what memory and each retrieved passage say, gathered before the answer is written.

For a question that retrieved, one batch of short generations (`generate_all`: one batched forward
where the backend has it) produces
- the closed-book answer (`<RET>` suppressed) and its confidence: the model's memory;
- one reading per passage: the grounded prompt with that passage alone, focused on the sentences
  nearest the question's words. A small model reads one short passage far better than three long ones,
  and each reading says which passage states what.

Each reading gets features that need no further model call, and a calibrated probability that the
passage answers the question (`answers_probability`, logistic coefficients in
rag/evidence_calibration.json, fitted on the dev split of the workloads by
`python -m evals.evidence_fit`):
- `coverage`: the share of the question's content words found in the passage (title included), names and
  numbers weighted 3x: a passage about another company or country misses the words that matter most;
- `subject`: the share of those names/numbers alone, and `subject_all`: all of them ("Project Fenvern" is
  not "Project Selstead", though both say "Project"); `predicate`: the share of the other question words
  ("bank", "birthday"): a passage about the right company that never mentions its bank does not answer;
- `grounded`: the share of the reading's answer words (minus the words it repeats from the question) that are
  written in the passage or its title (the model reads both); an entity the passage never mentions is memory talking;
- `near`: the answer stands in the same or the next sentence as a question word other than the subject
  ("led by" near "Project Selstead"), rather than anywhere in a long passage;
- `on_question`: the share of the question's other words ("calling code") the reading itself uses: a reading
  about the time zone answers another question, even from the right document;
- `unknown`: the reading declines ("the passage does not say").

Rules on top of the probability (`answers`): a reading does not answer when its value is of the wrong kind
(a name for "when"), when it only names the document ("The Zarby Analytics staff handbook is ..."), or when
it is a statement about something else (`_off_question`: the support desk's extension for the days of leave), or
when its value is the question's own description again (`restates_question`: "the author of Eragon").
Memory answers when no reading does only if confident (`memory_usable`), more so about a subject the documents
name but do not answer, and most about a name the model's own tokenizer splits into pieces (`unfamiliar_name`).

A passage that states the answer in a sentence of its own is quoted instead of read (rag/quote.py,
`quoted_readings`): the quote is its reading, judged by the same probability, and it outranks model readings of
the passages without one (`outranked`).

A passage whose matching features alone keep it below the threshold, however well the model reads it
(`reachable`: usually a passage that never names the question's subject), is not read: the outcome is the
same and the batch is shorter. A question that nothing in the documents can answer costs one closed-book row.

The pipeline abstains, answers from memory, or answers from the readings that answer; the conflict check
compares those readings with each other and with memory (rag/conflict.py).

    evidence = gather(generator, cfg, question, passages, closed_book=None)
    [r for r in evidence.readings if r.answers]
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag import answer_match as am
from rag import prompts
from rag.answer_text import STOPS, clean_answer
from rag.config import Config
from rag.generators.base import GenerationRequest, Generator
from rag.generators.common import generate_all, generate_streamed
from rag.locate import (
    closest_line,
    headings_before,
    is_field,
    predicate_words,
)
from rag.quote import agents, asked_kind, quote
from rag.sentences import split_sentences
from rag.tables import from_another_row
from rag.types import Generation, Passage

CALIBRATION_FILE = Path(__file__).with_name("evidence_calibration.json")
FEATURES = ("coverage", "subject", "subject_all", "predicate", "grounded", "near", "on_question", "unknown")
# Hand-set until fitted: a grounded answer in a passage that names the subject answers.
DEFAULT_CALIBRATION: dict[str, Any] = {
    "answers": {"bias": -7.0, "coverage": 3.0, "subject": 1.0, "subject_all": 2.0, "predicate": 1.0, "grounded": 3.0, "near": 1.0,
                "on_question": 1.0, "unknown": -4.0},
    "answers_threshold": 0.5,
    "memory_threshold": 0.5,
}
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
READING_STOPS = ("\n", "<<<", "<RET>")  # a reading is one line: the answer sentence
# A reading that does not answer and wrote a citation marker is read again without "[": SmolLM2-135M sometimes
# writes the marker where the value belongs ("The international calling code of Malaysia is [1]."; again:
# "... is +60"). 14 of 369 dev readings had a marker for their value. Not for every reading: "[" is also how it
# starts a good one ("[1] Nils Bremoor"), and without it that reading named the handbook instead.
NO_MARKERS = (prompts.RET_TOKEN, "[", " [")
_MARKER = re.compile(r"\[\d+\]")
SECOND_LOOK_CHARS = 160  # a second reading sees about one sentence. Fictional dev questions on their company's
# handbook: document 13 -> 17 of 18 right with the second look; unanswerable questions declined 6 -> 4 of 6 before
# a second reading had to be fully grounded, which the four document gains are and the two wrong answers not
ECHO_DOUBT = 0.5  # the share of memory's doubt left by each reading that repeats it (consistent_confidence)
MIN_ECHOES = 2  # echoes needed before they count
FOCUS_CHARS = 480  # a reading sees at most about this much of its passage (~120 tokens); 300 read as well on
# 76 dev passages holding the answer (47 right each) for 8% less time: not worth a refit of the calibration


@dataclass(frozen=True)
class Reading:
    """What one passage alone says the answer is."""

    passage: Passage  # focused: the part of the passage the model read (span kept exact)
    text: str  # the cleaned one-passage answer, citing [1]
    answer: str  # its first clause, yes/no normalised: the value compared across readings
    features: dict[str, float]
    probability: float  # calibrated P(the passage answers the question)
    answers: bool  # probability >= the calibrated threshold
    read: bool = True  # False: not generated, since no reading of this passage could reach the threshold
    second_look: bool = False  # the passage narrowed and read again (_second_look): it may answer, never conflict
    quoted: bool = False  # the text is the passage's own sentence (rag/quote.py), not the model's reading
    overrides: bool = False  # a quote that stands over the model's reading of its passage (`with_quotes`)
    quotable: bool = False  # the model's reading, kept over a quote of its passage that does not override it: the
    # passage still states the answer in a sentence of its own, so other quotes do not outrank it (`outranked`)
    located: bool = False  # a line found by meaning after nothing else answered (rag/located.py `with_located`);
    # `probability` is then its similarity to the question


@dataclass(frozen=True)
class Evidence:
    memory: Generation  # the closed-book generation (<RET> suppressed)
    memory_answer: str  # its first clause
    memory_confidence: float  # geometric-mean probability of the answer's content tokens
    memory_confident: bool  # confidence >= the calibrated memory threshold
    readings: tuple[Reading, ...]
    timings_ms: dict[str, float]
    prompt_tokens: int = 0  # over every row of the evidence batch
    memory_asked: bool = True  # False: gathered without the closed-book row (`gather(memory=False)`)

    @property
    def read(self) -> int:
        """How many passages the model read (the rest could not answer whatever the model wrote)."""
        return sum(r.read for r in self.readings)

    @property
    def answering(self) -> list[Reading]:
        """Readings of passages that answer, most probable first."""
        return sorted((r for r in self.readings if r.answers), key=lambda r: -r.probability)


@lru_cache(maxsize=4)
def _load(path: str, explicit: bool) -> dict[str, Any]:
    file = Path(path)
    if not file.exists():
        if explicit:
            raise ValueError(f"conflict.evidence_calibration file {file} does not exist; fit one with "
                             "`python -m evals.evidence_fit` or unset the setting")
        return DEFAULT_CALIBRATION
    data = json.loads(file.read_text(encoding="utf-8"))
    missing = {"bias", *FEATURES} - set(data.get("answers", {}))
    if missing:
        raise ValueError(f"evidence calibration {file} lacks {sorted(missing)}; refit with `python -m evals.evidence_fit`")
    return data


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """The fitted calibration (`path`, else the shipped file, else DEFAULT_CALIBRATION)."""
    return _load(str(path or CALIBRATION_FILE), bool(path))


# -- text features (no model) -----------------------------------------------------------------------

def question_terms(question: str) -> dict[str, float]:
    """Content words of the question -> weight; names and numbers (capitalised after the first word, or with
    digits) weigh 3: they pick the subject out of near-identical documents. A number written into a description
    ("my 11-year-old") is no name (`answer_match.described_numbers`)."""
    described = am.described_numbers(question)
    names = {am.fold(w) for w in _names(question)} | {am.fold(w) for w in _WORD.findall(question)
                                                       if any(c.isdigit() for c in w) and w not in described}
    return {w: (3.0 if w in names else 1.0) for w in am.content_words(question)}


def _names(text: str) -> list[str]:
    """Capitalised words that do not begin a sentence ("Nigeria", "Project Selstead"; not "How" in
    "Hello! How are you?") and are not "I", nor a unit or a language standing alone ("Celsius", "French" of
    "into French": `answer_match.PROPER_ADJECTIVES`)."""
    out = []
    for m in _WORD.finditer(text):
        w = m.group()
        before = text[:m.start()].rstrip()
        if not (w[:1].isupper() and w != "I" and before and not am.ends_sentence(before)):
            continue
        after = text[m.end():].lstrip()
        if w.lower() in am.PROPER_ADJECTIVES and not after[:1].isupper():
            continue
        out.append(w)
    return out


def coverage(terms: dict[str, float], text: str, *, subject_only: bool = False) -> float:
    """Weighted share of `terms` present in `text` (stems of 5+ letters match: "french" ~ "frenchman")."""
    chosen = {w: v for w, v in terms.items() if v > 1.0} if subject_only else terms
    if not chosen:
        return 1.0 if subject_only else 0.0
    present = set(am.tokens(text))
    hit = sum(v for w, v in chosen.items() if _present(w, present))
    return hit / sum(chosen.values())


_present = am.present_in


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[pos:m.end()].strip():
            spans.append((pos, m.end()))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def focus(passage: Passage, terms: dict[str, float], max_chars: int = FOCUS_CHARS) -> Passage:
    """The passage cut to at most `max_chars` of whole sentences, so a reading's prompt stays short: the run around
    the sentence richest in question words, unless another run's words, with the passage's title, cover more of
    the question. A match report's line-up names both teams ("Brackwater Town: ...; Pellow Rovers: ...") and
    outscores "The winning goal was scored by Tomas Revell in the 88th minute"; the run holding that sentence and
    "Brackwater keeper ..." before it covers more of "Which Brackwater player got the 88th-minute winner against
    Pellow Rovers?". Start/end stay exact offsets into the document."""
    text = passage.text
    if len(text) <= max_chars:
        return passage
    spans = sentence_spans(text)
    if not spans:
        return passage
    scores = [coverage(terms, text[s:e]) for s, e in spans]
    lo, hi = _around(spans, max(range(len(spans)), key=lambda i: (scores[i], -i)), max_chars)
    covered = coverage(terms, f"{passage.title}\n{text[spans[lo][0]:spans[hi][1]]}")
    runs = [(coverage(terms, f"{passage.title}\n{text[spans[a][0]:spans[b][1]]}"), max(scores[a:b + 1]), a, b)
            for a, b in _runs(spans, max_chars)]
    most, _, a, b = max(runs)
    if most > covered + 1e-9:
        lo, hi = a, b
    s, e = spans[lo][0], spans[hi][1]
    while s < e and text[s].isspace():
        s += 1
    if e - s > max_chars:
        e = s + max_chars
    return replace(passage, text=text[s:e], start=passage.start + s, end=passage.start + e)


def _around(spans: Sequence[tuple[int, int]], best: int, max_chars: int) -> tuple[int, int]:
    """The run of sentences grown from `best` within `max_chars`: to the next sentence first (the answer often
    follows the sentence naming the subject), then back."""
    lo = hi = best
    while True:
        grown = False
        for cand in (hi + 1, lo - 1):
            if 0 <= cand < len(spans):
                a, b = min(lo, cand), max(hi, cand)
                if spans[b][1] - spans[a][0] <= max_chars:
                    lo, hi, grown = a, b, True
                    break
        if not grown:
            return lo, hi


def _runs(spans: Sequence[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Each sentence's longest run forward within `max_chars` (a sentence longer than that alone)."""
    runs = []
    for lo in range(len(spans)):
        hi = lo
        while hi + 1 < len(spans) and spans[hi + 1][1] - spans[lo][0] <= max_chars:
            hi += 1
        runs.append((lo, hi))
    return runs


GENERATED = ("grounded", "near", "on_question", "unknown")  # features that depend on what the model wrote


def passage_features(terms: dict[str, float], passage: Passage) -> dict[str, float]:
    """The features known before the model reads the passage: how well it matches the question's words. Its
    subject's names may be said in its document's other chunks found with it (`Passage.beside`)."""
    haystack = f"{passage.title}\n{passage.text}"
    subject = coverage(terms, f"{passage.title}\n{passage.beside}\n{passage.text}", subject_only=True)
    predicate = {w: v for w, v in terms.items() if v == 1.0}
    return {
        "coverage": coverage(terms, haystack),
        "subject": subject,
        "subject_all": float(subject == 1.0),
        "predicate": coverage(predicate, haystack) if predicate else 1.0,
    }


def reachable(coefs: dict[str, float], before: dict[str, float]) -> float:
    """The highest P(answers) any reading of a passage could get: its passage features with the generated ones
    at their most favourable. Below the threshold, reading the passage cannot change the answer path's outcome
    (it cannot answer), so the model does not read it; a passage missing the question's subject is the usual case."""
    best = {k: (1.0 if coefs[k] > 0 else 0.0) for k in GENERATED}
    return logistic(coefs, {**before, **best})


def reading_features(question: str, terms: dict[str, float], passage: Passage, answer: str) -> dict[str, float]:
    """Features of one reading (see the module docstring)."""
    unknown = am.is_unknown(answer)
    core = _answer_words(answer, question)
    if am.is_polar_question(question):
        grounded = float(not unknown and am.polarity(answer) is not None)
    else:
        grounded = 0.0 if unknown else _token_recall(core, f"{passage.title}\n{passage.text}")
    return {
        **passage_features(terms, passage),
        "names_document": float(_names_document(core, passage)),
        "off_question": float(_off_question(terms, answer, core)),
        "restates": float(restates_question(terms, answer)),
        "grounded": grounded,
        "near": float(grounded >= 0.6 and _near(terms, passage.text, core)),
        "on_question": _on_question(terms, answer),
        "unknown": float(unknown),
    }


def _names_document(core: str, passage: Passage) -> bool:
    """The reading's answer is only the document's name ("The Zarby Analytics staff handbook is a reference to
    ..."): three in four of its words are in the title or the passage's first line (its heading). A small model
    names the document when it finds no answer in it."""
    words = core.split()
    if len(words) < 2:  # one word may be a value derived from the name ("Colombian" of "Colombia")
        return False
    heading = heading_words(passage)
    return sum(_present(w, heading) for w in words) / len(words) >= 0.75


def heading_words(passage: Passage) -> set[str]:
    """The words that name a passage's document: its title, and its first line when that line is a heading (short,
    not a sentence, with text after it: "Zarby Analytics staff handbook"). A one-line passage, or one that opens
    with a sentence ("The currency of India is the Indian Rupee."), has no heading line."""
    text = passage.text.strip()
    first_line, _, rest = text.partition("\n")
    is_heading = bool(rest.strip()) and len(first_line) <= 80 and not first_line.rstrip().endswith((".", "!", "?"))
    words = set(am.tokens(f"{passage.title} {first_line if is_heading else ''}"))
    return words | {w for t in am.tokens(passage.title) for w in re.split(r"[-_]", t) if w}


# A statement's verb: a copula or auxiliary, or a common verb of a company or a place ("employs", "uses"). A reading
# without one is a value with its context ("Eric Defoort (27 June 1943 in Ypres - 2016)"), not a statement.
_STATEMENT = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|can|could|will|would|may|does|did|employs|"
                        r"uses|offers|makes|produces|operates|opens|receives|gets|provides|includes|sells)\b",
                        re.IGNORECASE)


def _off_question(terms: dict[str, float], answer: str, core: str) -> bool:
    """The reading states something other than what was asked: the question asks with two or more words
    besides its subject ("What extension reaches the support desk?", "How many days of annual leave ...?"), and
    the reading is a statement of its own (a verb, three or more words of its own) that uses none of them: "Selholt
    Brewery is a brewery based in the town of Quenhallow." A bare value ("32", "Quinn Tarnley") is not judged,
    and neither is a question with one such word, which an answer may say with a synonym ("Who leads X?": "The
    CEO of X is ...")."""
    predicate = [w for w, v in terms.items() if v == 1.0]
    return (len(predicate) >= 2 and len(core.split()) >= 3 and bool(_STATEMENT.search(answer))
            and _on_question(terms, answer) == 0.0)


_COPULA_VALUE = re.compile(r"\b(?:is|was|are|were)\s+(?:the|a|an)?\s*(?P<head>\w+)(?:\s+\w+)?\s+of\b", re.IGNORECASE)


def restates_question(terms: dict[str, float], answer: str) -> bool:
    """The reading's value is the question's own description again: "The author of Eldest is the author of Eragon",
    "The chief executive of X is the chief executive of the textile mill" (the question's word on both sides of "is").
    It names no one; it does not answer. "Lille is the capital of the Nord department" does."""
    clause = am.first_clause(answer)
    m = _COPULA_VALUE.search(clause)
    if m is None:
        return False
    head = am.fold(m.group("head"))
    said_before = set(am.tokens(clause[: m.start()]))  # "The author of Eldest" is ..., not "Lille" is the capital of
    predicate = {w for w, v in terms.items() if v == 1.0}
    return any(am.present_in(w, {head}, forms=True) and am.present_in(w, said_before, forms=True) for w in predicate)


UNFAMILIAR_PIECES = 3  # a name word the model's tokenizer splits into this many pieces or more is unfamiliar


def unfamiliar_name(count_tokens: Callable[[str], int], question: str) -> str:
    """The word of the question's named subject that the model's own vocabulary holds only in pieces (3+
    tokens: "Selholt" of "Selholt Brewery", "Prymouthovia"), or "" when every word of it is familiar ("Peru",
    "United Kingdom") or the question names nothing. A byte-pair vocabulary keeps the names its training text
    used often as one or two pieces; a name it splits further is rare or invented, and the model's memory of
    it is not to be trusted (`memory_usable`; adaptive mode searches for it, rag/decide.py)."""
    for word in am.subject_phrase(question).split():
        # a hyphen parts a word's pieces anyway ("Eighty-Four" is " Eighty", "-", "Four"): each part must be familiar
        parts = [p for p in re.split(r"[-‐–]", word) if any(c.isalpha() for c in p)]
        if any(count_tokens(" " + part) >= UNFAMILIAR_PIECES for part in parts):
            return word
    return ""


def familiar_subject(count_tokens: Callable[[str], int], question: str) -> bool:
    """Whether the question's named subject is spelt, every capitalised word of it, as single tokens of the
    model's vocabulary ("Nigeria", "Australia", "Earth"): names its training text used often. False when the
    question names nothing, or any name word comes in pieces ("Halworth" of "Halworth Textiles", "Calmus")."""
    words = [p for w in am.subject_phrase(question).split() if w[:1].isupper()
             for p in re.split(r"[-‐–]", w) if any(c.isalpha() for c in p)]
    return bool(words) and all(count_tokens(" " + w) == 1 for w in words)


def names_a_subject(question: str) -> bool:
    """Whether the question asks about something by name (a capitalised word after the first: "Nigeria",
    "Project Selstead"), which documents could hold; greetings, sums and word tasks name nothing, nor does the text a
    task gives to work on (`answer_match.request_words`: "Rewrite this politely: Hi Tom, ...")."""
    return bool(_names(am.request_words(question)))


def looks_something_up(question: str) -> bool:
    """Whether the question names something documents could hold: a subject by name (`names_a_subject`), the
    user's own affairs (`answer_match.about_the_user`: "which day do they empty the bins on our road"), or a value of
    the user's world (`answer_match.LOCAL_UNITS`: "How much does a gym locker cost?" asks a price no training text
    holds; answered from memory it was "A typical gym locker can range from $10 to $100"), or a secret of theirs
    (`answer_match.asks_a_secret`: "what is the wifi password for the flat?"), a number of their records or the name
    of someone named by role (`answer_match.asks_own_record`: "what is the kettle's serial number?", "what's the
    caretaker's name?")."""
    return (names_a_subject(question) or am.about_the_user(question) or am.asked_unit(question) in am.LOCAL_UNITS
            or am.asks_a_secret(question) or am.asks_own_record(question))


def answer_is_checked(question: str) -> bool:
    """Whether a closed-book answer to a request naming nothing is checked against the question before it may stand
    (`memory_usable`): a "who" must be answered by a name, a count of days in days ("who is the head chef at the
    marrowgate hotel", "how many days will the lentil soup keep"), and a "when" by no made-up day (`dated_guess`:
    "when is the club's christmas party?": "December 24th, 2023"). Adaptive mode reads memory through the evidence
    for these, so that the check applies (rag/decide.py)."""
    return asked_kind(question) in ("person", "date") or am.counts_a_unit(question)


def memory_usable(question: str, memory_answer: str, confidence: float, threshold: float,
                  subject_in_documents: bool = False, documents_threshold: float | None = None, *, unfamiliar: bool = False,
                  unfamiliar_threshold: float | None = None, familiar: bool = False,
                  familiar_threshold: float | None = None) -> bool:
    """Whether the closed-book answer may stand when no passage answers.

    A request that names nothing and is not about the user's own affairs (`answer_match.about_the_user`: "which day
    do they empty the bins on our road") ("Hi there!", "Thank you so much", "What is the opposite of 'hot'?", "Rewrite
    this politely: ...") is the model's own business when no passage answers it: it answers, however many of its
    words the passages share ("Thanks to everyone who played" is no reason to decline a thank-you; a blind
    workload's greetings and word tasks were declined that way), unless it counts in one unit and memory in another
    ("how many days will the lentil soup keep": "24 hours") or a "who" question is answered by no name.
    A question about a named subject is answered from memory only when the model is confident and its
    answer addresses what was asked; otherwise the honest answer is that nothing was found. When the user's
    documents name that subject yet none of them answers (`subject_in_documents`: "the birthday of the chief
    executive of Brestead Labs", with Brestead Labs' handbook found), the subject is likely the user's own
    business, which memory cannot know: memory must then be more confident (`documents_threshold`). So must it
    when the subject's name is one the model's vocabulary holds only in pieces (`unfamiliar`: "Selholt
    Brewery", "Prymouthovia"): a model that never saw the name cannot remember facts about it, and a confident
    answer is an invention (`unfamiliar_threshold`). A subject whose every name word is one token of the model's
    vocabulary (`familiar`: "Hamlet", "Peru", "Earth") is one its training text used often: its memory is
    trusted from a lower confidence (`familiar_threshold`), documents naming it or not. SmolLM2-135M's closed-book
    confidence on common knowledge it gets right ("Who wrote Romeo and Juliet?" 0.52, "What is the capital of
    Peru?" 0.38) overlaps the confidence of its inventions; on the dev splits and a blind workload no unanswerable
    question about a familiar subject scored between 0.33 and the general threshold, while six known ones did.
    A value of the user's world (`answer_match.LOCAL_UNITS`: a price, a phone number, a time of day) is one no
    training text holds, whatever it is of ("Harbour View" is two familiar words; "123-456-7890" for its concierge
    desk was an invention at 68%): memory must be as sure as about a name it never saw. In the records of the
    hand-written and generated workloads, every memory answer giving such a value was wrong. A password, a PIN or a
    door code (`answer_match.asks_a_secret`) is never answered from memory.
    """
    if am.is_unknown(memory_answer) or am.asks_a_secret(question):
        return False  # a password from memory is a guess ("often a combination of letters, numbers ...")
    if dated_guess(question, memory_answer) and unfamiliar_threshold is not None:
        return confidence >= unfamiliar_threshold and answers_the_question(question, memory_answer)
    if not looks_something_up(question):  # "24 hours" is no count of days; a "who" is answered by a name
        return am.counts_the_unit_asked(question, memory_answer) and _names_whom_asked(question, memory_answer)
    if (am.asked_unit(question) in am.LOCAL_UNITS or am.asks_own_record(question)) and unfamiliar_threshold is not None:
        familiar, unfamiliar = False, True
    if familiar and familiar_threshold is not None and not unfamiliar:
        return confidence >= familiar_threshold and answers_the_question(question, memory_answer)
    if subject_in_documents and documents_threshold is not None:
        threshold = max(threshold, documents_threshold)
    if unfamiliar and unfamiliar_threshold is not None:
        threshold = max(threshold, unfamiliar_threshold)
    return confidence >= threshold and answers_the_question(question, memory_answer)


def dated_guess(question: str, memory_answer: str) -> bool:
    """Whether memory gives a day or a time ("July 15th", "at 10:30am") for when something unnamed happens ("When do
    the children get back from the museum?"): the day of a thing no name places in the world is the user's, as a
    price is (`answer_match.LOCAL_UNITS`); what common knowledge says of unnamed things is a season or a span ("in
    autumn", "after about 21 days")."""
    if names_a_subject(question) or asked_kind(question) != "date":
        return False
    first = am.first_clause(memory_answer)
    return am.names_a_day(first) or am.states_unit("clock", first)


def subject_in_documents(question: str, readings: Sequence[Reading]) -> bool:
    """Whether some passage found names every subject the question names ("Brestead Labs"): its names, whatever
    numbers the question adds ("What was the score in Hollowbrook's under-14s game?" is about the club whose
    newsletter was found, though no passage says "14s")."""
    names = {am.fold(w) for w in _names(question)}
    return bool(names) and any(
        r.features.get("subject_all") == 1.0
        or all(_present(w, set(am.tokens(f"{r.passage.title}\n{r.passage.text}"))) for w in names)
        for r in readings)


def answers_the_question(question: str, answer: str) -> bool:
    """Whether an answer addresses what was asked: short ("Tokyo"), or using at least half of the question's
    non-subject words ("The currency of Vietnam is ..."), not "Vietnam is a country in Southeast Asia", and
    saying something the question did not (`answer_match.repeats_question`). A word naming the answer's kind
    ("occupation", "genre": `answer_match.KIND_WORDS`) need not be used: "Franz Seitz Sr. is a German film director"
    answers "What is Franz Seitz Sr.'s occupation?". Nor does a value of another kind than asked
    (`answer_match.fits_question`): "The pool opens on Sundays" does not say at what time. A value in the unit asked
    needs only a quarter of those words ("water boils at approximately 100°C" for "at sea level, what temperature does
    water boil at in celsius?"). A "who" question needs a name (`_names_whom_asked`)."""
    if am.repeats_question(question, answer) or not am.fits_question(question, answer):
        return False
    if not _names_whom_asked(question, answer):
        return False
    if len(am.tokens(am.first_clause(answer))) <= 4:
        return True
    terms = {w: v for w, v in question_terms(question).items() if w not in am.KIND_WORDS}
    on_question = _on_question(terms, answer)
    unit = am.asked_unit(question)  # "water boils at approximately 100°C": the unit asked, in the question's words
    in_unit = unit is not None and am.states_unit(unit, am.first_clause(answer)) and on_question >= 0.25
    return on_question >= 0.5 or in_unit or _names_the_one_asked(question, answer)


_WHICH_KIND = re.compile(r"\b(?:which|what)\s+(?!(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|"
                         r"one|ones|it|they|you|i|we|he|she|of|time|year|date|day)\b)[a-z]+", re.IGNORECASE)


def _names_the_one_asked(question: str, answer: str) -> bool:
    """A "who" question answered with a person's full name it does not hold (two or more capitalised words), or a
    "where" question, or one asking "which <kind>" ("which ocean", "what language"), with a name it does not hold, in
    other words than its own ("Who wrote Romeo and Juliet?": 'The play "Romeo and Juliet" by William Shakespeare
    ...'; not '... a play about two lovers in Verona'; "... what language will she mostly hear spoken there?": "My
    colleague is likely to hear spoken in Portuguese", where a chatty question's words are few in any answer)."""
    kind = asked_kind(question)
    which = _WHICH_KIND.search(question) if kind is None else None
    if kind not in ("person", "place") and which is None:
        return False
    asked = set(am.tokens(question))
    clause = am.first_clause(answer)
    if which is not None:
        return _names_one_of_kind(which.group().split()[-1].lower(), clause, asked)
    return any(len(new) >= (2 if kind == "person" else 1) for new, _ in _new_name_runs(clause, asked))


_NO_ONE = frozenset({"i", "not", "no", "yes", "you", "we", "my", "our", "your", "here", "one", "someone", "nobody"})


def _names_whom_asked(question: str, answer: str) -> bool:
    """False for a "who" question whose answer's first clause holds no capitalised word the question does not
    ("Jane Austen", "Chef Annika Vole", "Apple"): a description of a role names no one ("who is the head chef at the
    marrowgate hotel": "not the head chef of the restaurant"). True for any other question."""
    if asked_kind(question) != "person":
        return True
    asked = set(am.tokens(question)) | am.FILLER | _NO_ONE
    return any(w[:1].isupper() and am.fold(w) not in asked for w in _WORD.findall(am.first_clause(answer)))


def _new_name_runs(clause: str, asked: set[str]) -> list[tuple[list[str], list[str]]]:
    """Each run of capitalised words in `clause`, with those of its words that are names the question does not hold."""
    named = set(_names(clause))
    runs = [m.group().split() for m in am.NAME_RUN.finditer(clause)]
    return [([w for w in run if w in named and am.fold(w) not in asked], run) for run in runs]


def _names_one_of_kind(noun: str, clause: str, asked: set[str]) -> bool:
    """`clause` names a new thing of the kind asked: "Pacific Ocean" for "which ocean", a language for "what
    language", not "South America"."""
    if noun in ("language", "languages"):
        return any(w.lower() in am.PROPER_ADJECTIVES for w in _WORD.findall(clause) if am.fold(w) not in asked)
    return any(new and any(am.present_in(w.lower(), {noun}, forms=True) for w in run)
               for new, run in _new_name_runs(clause, asked))


def _on_question(terms: dict[str, float], answer: str) -> float:
    """Share of the question's non-subject words ("calling code") the reading itself uses, in any form ("leads" ~
    "led"): a reading about the time zone answers another question, even from the right document."""
    predicate = [w for w, v in terms.items() if v == 1.0]
    if not predicate:
        return 1.0
    said = set(am.tokens(answer))
    return sum(am.present_in(w, said, forms=True) for w in predicate) / len(predicate)


def _answer_words(answer: str, question: str, *, forms: bool = False) -> str:
    """The answer's own content: its first clause minus question words and filler ("" when it only repeats
    the question, e.g. "The domain of Kenya is [1]"), and minus words naming a kind of answer written in lower case
    ("country" of "China is a country in East Asia", not "City" of "Mexico City"). `forms`: minus other forms of the
    question's words too ("freezes" of "what does water freeze at") and lone letters, as a passage's mention of
    memory is judged: "Water freezes at 10 °C" does not state memory's "Water freezes at 0°C"."""
    clause = am.first_clause(answer)
    kinds = {w for w in re.findall(r"\b[a-z]+\b", clause) if w in am.KIND_WORDS}
    asked = set(am.tokens(question))
    drop = asked | am.FILLER | kinds
    words = [w for w in am.tokens(clause) if w not in drop]
    if forms:
        words = [w for w in words if not (len(w) == 1 and w.isalpha()) and not am.present_in(w, asked, forms=True)]
    return " ".join(words)


def _token_recall(core: str, text: str) -> float:
    words = core.split()
    if not words:
        return 0.0
    present = set(am.tokens(text))
    return sum(_present(w, present) for w in words) / len(words)


def _near(terms: dict[str, float], text: str, core: str) -> bool:
    """The answer's words stand in a sentence that, with its neighbour before, holds a non-subject question word."""
    predicate = {w for w, v in terms.items() if v == 1.0}
    if not predicate:
        return True
    spans = sentence_spans(text)
    words = core.split()
    for i, (s, e) in enumerate(spans):
        sent = set(am.tokens(text[s:e]))
        if words and sum(_present(w, sent) for w in words) / len(words) >= 0.8:
            window = set(sent)
            if i > 0:
                window |= set(am.tokens(text[spans[i - 1][0]:spans[i - 1][1]]))
            if any(_present(w, window) for w in predicate):
                return True
    return False


def is_ret_generation(generation: Generation) -> bool:
    """A router generation that asked for documents (<RET>) is not a closed-book answer."""
    return generation.text.lstrip().startswith(prompts.RET_TOKEN) or prompts.RET_TOKEN in generation.tokens[:2]


def answer_confidence(generation: Generation, question: str) -> float:
    """exp(mean log-prob) of the content tokens of the answer's first clause (question words skipped)."""
    skip = set(am.tokens(question)) | am.FILLER
    clause = am.first_clause(generation.text)
    seen, picked, fallback = "", [], []
    for tok, lp in zip(generation.tokens, generation.token_logprobs):
        if len(seen.strip()) >= len(clause.strip()) and seen.strip():
            break
        seen += tok
        words = am.tokens(tok)
        if not words:
            continue
        fallback.append(lp)
        if not all(w in skip for w in words):
            picked.append(lp)
    chosen = picked or fallback or list(generation.token_logprobs)
    return math.exp(sum(chosen) / len(chosen)) if chosen else 0.0


def logistic(coefs: dict[str, float], features: dict[str, float]) -> float:
    z = coefs["bias"] + sum(coefs[k] * features[k] for k in coefs if k != "bias")
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def make_reading(question: str, passage: Passage, generated: str, calibration: dict[str, Any] | None = None,
                 terms: dict[str, float] | None = None, value: str | None = None) -> Reading:
    """Interpret one passage's generated answer: its value (`value` when the caller knows it), features and
    P(the passage answers)."""
    calib = calibration or load_calibration()
    text = clean_answer(generated)
    answer = reading_answer(question, text) if value is None else value
    terms = terms or question_terms(question)
    claim = am.polar_claim(question)
    stance = am.polar_stance(question, passage.text) if claim and text and not am.is_unknown(text) else None
    if claim and stance is not None:  # a yes/no question naming a value: the passage's words decide, not the
        answer = stance               # reading, and a passage saying "no" need not hold the value it denies
        denied = set(am.tokens(claim[0]))
        terms = {w: v for w, v in terms.items() if w not in denied}
    feats = reading_features(question, terms, passage, answer)
    p = logistic(calib["answers"], feats)
    # "1" for how many days the soup keeps, read off "it wilts in 1 minute", counts no days
    counted = am.count_stated(question, answer, passage.text)
    return Reading(passage, text, answer, feats, round(p, 4), answers(question, answer, p, calib, feats) and counted)


def answering_sentence(question: str, sentences: Sequence[str]) -> int:
    """Which sentence says what was asked: the first using one of the question's own words besides its subject
    ("Kenya is a country in East Africa. Its capital is Nairobi." -> the second, for "What is the capital of
    Kenya?"); the first when none does or the question has no such word."""
    predicate = [w for w, v in question_terms(question).items() if v == 1.0]
    if not predicate:
        return 0
    for i, sentence in enumerate(sentences):
        said = set(am.tokens(sentence))
        if any(am.present_in(w, said, forms=True) for w in predicate):
            return i
    return 0


def memory_value(question: str, generated: str) -> str:
    """The closed-book answer's value: its first clause that says more than the question ("water boils at 100
    degrees" of "At sea level, water boils at 100 degrees", asked "At sea level, what temperature does water boil
    at?"), or its yes/no."""
    text = clean_answer(generated)
    return am.polar_answer(question, am.first_clause(_past_restated(question, text)).strip() or text)


def _past_restated(question: str, text: str) -> str:
    """`text` from its first clause that has a word of its own: a leading clause made of the question's words
    ("At sea level,") is left out."""
    asked = set(am.tokens(question)) | am.FILLER
    rest = text
    for _ in range(3):
        head, tail = am.split_first_clause(rest)
        words = am.tokens(head)
        if not words or not tail.strip() or not all(w in asked for w in words):
            break
        rest = tail.lstrip(" ,;")
    return rest


def reading_answer(question: str, text: str) -> str:
    """The value a reading gives: the first clause of its answering sentence (`answering_sentence`), or its
    yes/no (read off its first sentence). SmolLM2-135M often opens with what the passage is about and answers
    in the next sentence."""
    spans = [] if am.is_polar_question(question) else sentence_spans(text)
    start = spans[answering_sentence(question, [text[s:e] for s, e in spans])][0] if spans else 0
    rest = text[start:]
    return am.polar_answer(question, _clause_in_unit(question, rest) or am.first_clause(rest).strip() or rest)


def _clause_in_unit(question: str, text: str) -> str:
    """When the question asks for a unit its first clause lacks, the first later clause that states one ("The shop
    will be open on Sundays from 10:00, with a price increase to EUR 4.20 per dozen" -> "with a price increase to
    EUR 4.20 per dozen" for what eggs will cost); "" otherwise."""
    unit = am.asked_unit(question)
    first, after = am.split_first_clause(text)
    if unit is None or am.states_unit(unit, first):
        return ""
    for _ in range(6):
        clause, after = am.split_first_clause(after.lstrip(" ,;.!?"))
        if not clause.strip():
            return ""
        if am.states_unit(unit, clause):
            return clause.strip()
    return ""


def answers(question: str, answer: str, probability: float, calibration: dict[str, Any],
            features: dict[str, float] | None = None, *, stated_in: str = "") -> bool:
    """A reading answers when its calibrated probability reaches the threshold, its value is of the kind asked
    for (a name does not answer "when" or "how many": answer_match.fits_question), it is more than the
    document's own name, it is about what was asked (`_off_question`), and its value is not the question's own
    description again (`restates_question`) nor the question's own words (`answer_match.repeats_question`: a quiz
    sheet's row "1 | What is the largest planet in our solar system?" copied without its answer). `stated_in`: the
    words stating the answer, when its kind or unit is there rather than in the value ("... how many degrees
    Celsius: 90." of a quiz sheet's row)."""
    features = features or {}
    return (probability >= calibration["answers_threshold"] and am.fits_question(question, stated_in or answer)
            and not features.get("names_document") and not features.get("off_question")
            and not features.get("restates") and not am.repeats_question(question, answer)
            and not asks_back(answer))


def asks_back(answer: str) -> bool:
    """Whether a reading is a question of its own ("Q: What is the temperature of water boil at in Celsius?", copied
    from an FAQ's question line): it answers nothing."""
    text = answer.strip()
    return text.endswith("?") or re.match(r"(?i)q\s*[:.]", text) is not None


def echoes(question: str, memory: str, readings: Sequence[Reading]) -> int:
    """How many readings repeat memory's answer although their passage does not state it ("The capital of
    Australia is Canberra." read off a passage about Sydney's harbour): the model says it whatever it reads.
    Yes/no questions, memory that only repeats the question and numeric memory have no echoes: a small model
    writes its favourite numbers ("2023", "1") whatever the context, so a repeated number is a habit, not
    knowledge (dev: "The birthday of the chief executive of Brestead Labs is 2023", three times)."""
    if am.is_polar_question(question) or not _answer_words(memory, question) or any(am.values(memory)):
        return 0
    core = _answer_words(memory, question)
    return sum(1 for r in readings if r.read and not r.second_look and r.answer
               and _token_recall(core, r.answer) >= 0.99
               and memory_mention(question, memory, r.passage.text) == 0.0)


def consistent_confidence(confidence: float, echoed: int) -> float:
    """Memory's confidence with its echoes (`echoes`): each reading that repeats memory's answer against its
    own passage halves the remaining doubt. A model that answers the same whatever it is shown knows it (a
    self-consistency signal: "Canberra" at 59% closed-book, repeated by two readings, is 90%). One echo is
    not enough (`MIN_ECHOES`): a single reading that guesses the same town as memory is a coincidence as often
    as not (dev: "Calmouth Analytics is based in Calumet")."""
    if echoed < MIN_ECHOES:
        return confidence
    return 1.0 - (1.0 - confidence) * ECHO_DOUBT ** echoed


def memory_confidence(question: str, closed_book: Generation, memory: str, readings: Sequence[Reading]) -> float:
    """Memory's confidence as the answer path and the conflict check use it: its tokens' confidence
    (`answer_confidence`) raised by the readings that echo it (`consistent_confidence`)."""
    return consistent_confidence(answer_confidence(closed_book, question), echoes(question, memory, readings))


def memory_mention(question: str, memory: str, text: str) -> float:
    """How much of the memory's own answer words a passage states (0 when the memory only repeats the
    question). For yes/no questions memory cannot be read off the text: 0.5."""
    if am.is_polar_question(question):
        return 0.5
    return _token_recall(_answer_words(memory, question, forms=True), text)


def distinct_mention(question: str, answer: str, other: str, text: str) -> float:
    """How much of what `answer` says beyond `other` a passage states: the share of the answer's own words that
    the other answer lacks ("rupee" of "the Indian Rupee" against "the Comorian Franc") found in `text`. Words
    echoing the question ("Indian" of "India") count only when nothing else differs. 1.0 when the answer says
    nothing the other does not; 0.5 for yes/no questions (nothing to read off the text), except those naming a
    value (`answer_match.polar_claim`): a passage states "yes" when it holds the value, "no" when it does not.
    When a value is asked, only the answer's values are looked for, and only in sentences on the question's subject
    (`_on_subject`); dates and prices are looked for whole."""
    if am.is_polar_question(question):
        said = am.polar_stance(question, text)
        return 0.5 if said is None or answer not in ("yes", "no") else float(said == answer)
    days, other_days = am.calendar_days(answer), am.calendar_days(other)
    if days and other_days:  # a date against another: whole ("16 December" is not the "16" of "16:00")
        ours_days = days - other_days
        if not ours_days:
            return 1.0
        stated = am.calendar_days(_on_subject(question, text))
        return sum(d in stated for d in ours_days) / len(ours_days)
    if am.asked_unit(question) and am.written_numbers(answer) and am.written_numbers(other):
        # a price or a length against another: its figures whole ("£3.80" is not "3" and "80": a bakery's address
        # at "3 Tanner's Row" mentions no £3.80)
        # the question's own figures aside ("800" of "the price of the 800 g sourdough": every answer repeats it)
        asked = am.written_numbers(question)
        ours = [n for n in am.written_numbers(answer) if n not in am.written_numbers(other) and n not in asked]
        if not ours:
            return 1.0
        present = am.written_numbers(_on_subject(question, text))
        return sum(n in present for n in ours) / len(ours)
    theirs = set(_answer_words(other, question).split())
    distinct = [w for w in _answer_words(answer, question).split() if not _present(w, theirs)]
    asked = set(am.tokens(question))
    distinct = [w for w in distinct if not _present(w, asked)] or distinct
    if am.expected_type(question) or am.asked_unit(question):  # a value is asked: "per bin per year" is no value
        distinct = [w for w in distinct if any(c.isdigit() for c in w)] or distinct
    if not distinct:
        return 1.0
    present = set(am.tokens(_on_subject(question, text)))
    return sum(_present(w, present) for w in distinct) / len(distinct)


def predicate_said(question: str, passage: Passage) -> float:
    """The share of the question's words beside its names (`predicate_words`) that `passage` says anywhere, its
    title and its document's other chunks found with it included, in any form; 1.0 when there are none."""
    # verbs of wanting and going say nothing of what is asked ("what date are year 4 going to pemberly")
    words = [w for w in predicate_words(question_terms(question)) if w not in am.SAYS_LITTLE]
    said = set(am.tokens(f"{passage.title}\n{passage.beside}\n{passage.text}"))

    def says(word: str) -> bool:
        return am.present_in(word, said, forms=True) or bool(said & agents(word))  # "player" says "play"

    return sum(says(w) for w in words) / len(words) if words else 1.0


def stated_on_subject(question: str, reading: Reading) -> bool:
    """Whether the reading's value stands in its own passage in a sentence that says one of the question's words
    beside its names (`predicate_words`), or after one, under a heading or in a document titled so, as a document
    states its answer. A small model's reading can take a value from a sentence about something else ("Sports Hall
    B", where the CHEM 204 exam is held, for where Dr Okonjo holds office hours): such a reading is no document's
    answer to set against another's. A quote or a located line is the passage's own statement, and stands."""
    if reading.quoted or reading.located or am.is_polar_question(question):
        return True  # a yes or a no is read off the passage's stance, not found in it
    words = _answer_words(reading.answer, question).split()
    words = [w for w in words if any(c.isdigit() for c in w)] or words  # a date's or a price's figures
    if not words:
        return True
    text = reading.passage.text
    titled = set(am.tokens(reading.passage.title))
    anywhere = set(am.tokens(text)) | titled  # a word the passage never says ("going") tells nothing
    predicate = [w for w in predicate_words(question_terms(question)) if am.present_in(w, anywhere, forms=True)]
    spans = split_sentences(text)
    for i, (start, end) in enumerate(spans):
        said = set(am.tokens(text[start:end]))
        if sum(_present(w, said) for w in words) / len(words) < 0.5:
            continue  # the value is not in this sentence; in none, and the model made it up or misread it
        if not predicate:
            return True
        # a line leaves its subject to the sentence before it, the headings above it or the document's title
        # ("Date: Friday 14 March 2025" under "YEAR 4 TRIP TO THE PEMBERLY SCIENCE & DISCOVERY CENTRE")
        context = _line_context(text, spans, i) | titled
        if any(am.present_in(w, context, forms=True) for w in predicate):
            return True
    return False


# words asking what a thing costs rather than naming the thing: no line need say them (`speaks_of_item`)
# words asking a cost, not naming what costs it: a disco's ticket is the disco's price ("Tickets cost £28 each" under
# a cycling club's "Annual dinner" is none)
_COST_WORDS = frozenset({"cost", "price", "charge", "fee", "pay", "much", "per", "ticket", "tickets", "admission",
                         "entry"})
# words naming a phone number itself: a warranty's "call Nordvik Customer Care on 0800 555 0192" never says "phone"
_PHONE_WORDS = _COST_WORDS | {"phone", "telephone", "tel", "number", "mobile", "call", "ring", "contact", "line"}
# values of the user's world judged by the line stating them: a price, a phone number, a time of day, and a code ("the
# serial number of my toaster" is not the kettle's "Serial number: NK217-0058841")
_ITEM_UNITS = am.LOCAL_UNITS | {"code"}


def item_words(question: str, title: str) -> list[str]:
    """The words of `question` naming the thing whose value is asked: its words beside its names
    (`predicate_words`), minus those of its document's own title (the part of `title` before " › ": "brightsmile"
    of "how much is a root canal at brightsmile" in the Brightsmile fee guide) and those asking a cost (or, for a
    phone number, naming one)."""
    document = set(am.tokens(title.split(" › ")[0]))
    kind = _PHONE_WORDS if am.asked_unit(question) == "phone" else _COST_WORDS
    return [w for w in predicate_words(question_terms(question))
            if not am.present_in(w, document, forms=True) and not am.present_in(w, kind, forms=True)]


# the thing a value belongs to, when the question ends naming it: "serial number of my toaster", "ticket for the school
# disco", "phone number of the Harbour View concierge desk"
_OWNER = re.compile(r"\b(?:of|for)\s+(?:the|my|our|your|his|her|their|a|an|this|that)\s+(?P<owner>[\w'’ &-]{2,60}?)"
                    r"\s*[?.!]*\s*$", re.IGNORECASE)


# or names it as the owner of what is asked: "the toaster's serial number", "my landlord's phone number"
_OWNER_BEFORE = re.compile(r"\b(?:the|my|our|your)\s+(?P<owner>[\w&-]+(?:\s+[\w&-]+)?)['’]s\s+\w", re.IGNORECASE)


def owner_words(question: str) -> list[str]:
    """The content words of the thing a value is asked of, when the question ends naming it ("toaster" of "serial
    number of my toaster?") or names it as its owner ("the toaster's serial number"); [] when it does neither."""
    m = _OWNER.search(question) or _OWNER_BEFORE.search(question)
    return [w for w in am.content_words(m["owner"]) if w not in _COST_WORDS] if m else []


def speaks_of_item(question: str, passage: Passage, span: tuple[int, int] | None = None,
                   value: str = "") -> bool:
    """For a question asking a value of the user's world (a price, a phone number, a time of day:
    `answer_match.LOCAL_UNITS`): whether the line of `passage` stating the value (`span`, else every line where
    the figures of `value`'s price, number or time stand) speaks of the thing asked: says one of its `item_words`
    itself, in the sentence before it, in a heading above it or in its section's title. A fee guide's "Monthly fee:
    £16.50" under "Brightsmile Care Plan" is no root canal's price; "A subscription costs £45 per bin" is no
    replacement recycling bin's. Any other question, or one naming nothing beside its document, is not judged."""
    unit = am.asked_unit(question)
    if unit not in _ITEM_UNITS:
        return True
    owner = owner_words(question)
    document = set(am.tokens(f"{passage.title}\n{passage.beside}\n{passage.text}"))
    if owner and not any(am.present_in(w, document, forms=True) for w in owner):
        return False  # a kettle's warranty never says "toaster": its serial number is not the toaster's
    item = item_words(question, passage.title)
    if not item:
        return True
    text = passage.text
    section = set(am.tokens(" ".join(passage.title.split(" › ")[1:])))
    spans = split_sentences(text)
    stated = am.unit_value(unit, value) or value
    figures = [w for w in am.tokens(stated) if any(c.isdigit() for c in w)]
    if not figures and unit == "code":  # a code word ("BLUEBIRD"): its own words find its line
        figures = [w for w in am.tokens(stated) if w not in am.FILLER]
    for i, (start, end) in enumerate(spans):
        said = set(am.tokens(text[start:end]))
        if span is not None:
            if not (start <= span[0] < end or span[0] <= start < span[1]):
                continue
        elif not figures or sum(_present(w, said) for w in figures) / len(figures) < 0.5:
            continue
        if any(am.present_in(w, _line_context(text, spans, i) | section, forms=True) for w in item):
            return True
    return False


def _line_context(text: str, spans: Sequence[tuple[int, int]], i: int) -> set[str]:
    """The words line `i` of `text` says with what it leaves its subject to: the sentence before it and the
    headings above it; for a form's field, also the sentence leading into its block of fields ("Year 4 will be
    visiting the Westcombe Museum" above "Date: ... / Time: ... / Cost: £12.50 per child"), not its sibling fields
    (a fee list's "Adult: £42" is no junior's price for standing above "Junior: £15")."""
    start, end = spans[i]
    words = set(am.tokens(text[start:end])) | headings_before(text, start)
    if not i:
        return words
    words |= set(am.tokens(text[spans[i - 1][0]:spans[i - 1][1]]))
    first = i
    while first > 0 and all(is_field(text[s:e]) for s, e in (spans[first], spans[first - 1])):
        first -= 1
    if first < i and first > 0:
        words |= set(am.tokens(text[spans[first - 1][0]:spans[first - 1][1]]))
    return words


def _on_subject(question: str, text: str) -> str:
    """The sentences of `text` that share a subject word with the question, or all of it when none does: a value
    stated about something else ("Spent: £96 on hall hire, £45 on printing") does not mention a garden-waste price."""
    words = [w for w in am.content_words(question) if not w.isdigit()]
    sentences = [text[start:end] for start, end in split_sentences(text)]
    kept = [s for s in sentences if any(_present(w, set(am.tokens(s)), forms=True) for w in words)]
    return " ".join(kept) if kept else text


# -- the model calls ----------------------------------------------------------------------------------

def closed_book_request(generator: Generator, question: str, max_new_tokens: int,
                        first_clause: bool = False) -> GenerationRequest:
    """The base model's own answer: no adapter, never <RET>, with log-probs for its confidence. `first_clause`: stop
    once that is written (`memory_request`)."""
    return GenerationRequest(
        prompt=generator.render_chat(prompts.closed_book(question)), max_new_tokens=max_new_tokens, stop=STOPS,
        suppress=(prompts.RET_TOKEN,), top_logprobs=1, first_clause=first_clause,
    )


def memory_request(generator: Generator, question: str, max_new_tokens: int, beside_readings: bool) -> GenerationRequest:
    """The closed-book request of the evidence batch. Beside readings it stops once its first clause is written:
    memory's value and its confidence are read off that clause alone (`memory_value`, `answer_confidence`), while a
    small model's closed-book answer runs on ("Project Velstead is led by the team of the American-based company,
    Velstead, which is a US-based tech startup that ...") long after the one-line readings ended, and the batch
    waited for it. Should memory become the answer, `completed` writes the rest."""
    return closed_book_request(generator, question, max_new_tokens, first_clause=beside_readings)


def completed(generator: Generator, request: GenerationRequest, generation: Generation,
              on_token: Callable[[str], None] | None = None, *, clause: bool = False) -> Generation:
    """`generation` written to its end when it stopped after its first clause (finish "clause"): the same request
    goes on from its text (the continuation is streamed to `on_token`); any other generation as it is. `clause`:
    only to the end of the continuation's own first clause."""
    if generation.finish_reason != "clause":
        return generation
    left = request.max_new_tokens - len(generation.tokens)
    if left < 1:
        return replace(generation, finish_reason="length")
    more = generate_streamed(generator, replace(request, prompt=request.prompt + generation.text, max_new_tokens=left,
                                                first_clause=clause), on_token)
    return Generation(
        text=generation.text + more.text, tokens=generation.tokens + more.tokens,
        token_logprobs=generation.token_logprobs + more.token_logprobs,
        top_logprobs=generation.top_logprobs + more.top_logprobs, prompt_tokens=generation.prompt_tokens,
        finish_reason=more.finish_reason,
        timings_ms={**generation.timings_ms, "continue": more.timings_ms.get("total", 0.0)},
    )


def reading_request(generator: Generator, question: str, passage: Passage, max_new_tokens: int) -> GenerationRequest:
    return GenerationRequest(
        prompt=generator.render_chat(prompts.grounded(question, [passage])), max_new_tokens=max_new_tokens,
        stop=READING_STOPS, suppress=(prompts.RET_TOKEN,),
    )


def beside_their_document(passages: Sequence[Passage]) -> list[Passage]:
    """Each passage with the text of the other passages found of its document (`Passage.beside`). A match report's
    chunk "The winning goal was scored by Tomas Revell in the 88th minute" names neither team nor the year; its
    first chunk, "Brackwater Town 2-1 Pellow Rovers, Saturday 3 May 2025", found with it, does: the later chunk is
    about the match asked of, and may answer it. The document's start (`Passage.head`) stands beside it too when its
    first chunk was not found: "Policy HLC-2093341 - what voluntary excess did I choose?" is answered by an excess
    table whose document names the policy only in its heading."""
    out = []
    for i, p in enumerate(passages):
        same = [q for j, q in enumerate(passages) if j != i and q.source == p.source]
        head = [p.head] if p.head and not any(q.start == 0 for q in same) else []
        out.append(replace(p, beside="\n".join([*head, *(q.text for q in same)])))
    return out


def _plan(cfg: Config, question: str, passages: Sequence[Passage],
          calib: dict[str, Any]) -> tuple[list[Passage], list[dict[str, float]], list[bool]]:
    """The passages (already `beside_their_document`) as the model would read them (focused), their features before
    reading, and whether each could answer at all (`reachable` >= the threshold)."""
    terms = question_terms(question)
    focused = [focus(p, terms) for p in passages[: cfg.conflict.max_passages]]
    before = [passage_features(terms, p) for p in focused]
    return focused, before, [reachable(calib["answers"], f) >= calib["answers_threshold"] for f in before]


def readable(cfg: Config, question: str, passages: Sequence[Passage]) -> int:
    """How many of `passages` could answer `question` whatever the model reads in them (no model call): the
    index's own say in whether retrieval can help (rag/decide.py, adaptive mode)."""
    calib = load_calibration(cfg.conflict.evidence_calibration or None)
    return sum(_plan(cfg, question, beside_their_document(passages), calib)[2])


def asks_nothing(question: str) -> bool:
    """Whether a request only greets, thanks or says goodbye, and names nothing (`answer_match.is_social`: "hi!",
    "thanks, that sorted it", "Hello! How are you today?"). The documents do not answer it, however close a line
    comes ("Hi all," of an email is no answer to "hi!"): the model does. A request of a few words that names a thing
    ("deposit for the flat", "price of the 800 g sourdough at crumb and kettle") asks for it."""
    return not names_a_subject(question) and am.is_social(question)


def topical(cfg: Config, question: str, passages: Sequence[Passage], embed: Callable[[Sequence[str]], Any]) -> int:
    """How many of `passages` could answer `question` (`readable`) and have a line as close in meaning to it as
    `topic_threshold` (`on_topic`): for a request naming no subject, the passages worth reading. Nothing is
    embedded when none could answer."""
    if asks_nothing(question):
        return 0
    calib = load_calibration(cfg.conflict.evidence_calibration or None)
    focused, _, could = _plan(cfg, question, beside_their_document(passages), calib)
    threshold = calib.get("topic_threshold")
    chosen = [p for p, c in zip(focused, could) if c]
    if threshold is None or not chosen:
        return len(chosen)
    return sum(sim >= float(threshold) for sim in closest_line(question, chosen, embed))


def unread(passage: Passage, features: dict[str, float], calibration: dict[str, Any]) -> Reading:
    """The reading of a passage the model did not read: it says nothing, and does not answer."""
    feats = {**features, **{k: 0.0 for k in GENERATED}}
    return Reading(passage, "", "", feats, round(logistic(calibration["answers"], feats), 4), False, read=False)


def _second_look(generator: Generator, cfg: Config, question: str, passages: Sequence[Passage],
                 readings: list[Reading], read: Sequence[int], calib: dict[str, Any],
                 terms: dict[str, float]) -> tuple[list[Reading], int]:
    """Readings of passages that could answer but whose reading did not, read again cut to the sentences
    richest in the question's words: a small model reading a handbook names the handbook, and reading the one
    sentence "Project Fenvern is led by Wim Calmere." answers. A second reading counts only if it answers with
    words all written in what it read: a one-sentence window invites the model to pad a non-answer with the
    document's description ("The Quenvern Brewery staff handbook is a document from a non-profit ...").
    Second readings answer; they take part in the conflict check only with a value in the unit the question asks
    that their passage states as written (`stated_value`: "£45 per bin per year"): on one sentence the model
    misreads more often ("extension 2328" for days of leave), and a misreading against a first reading is a false
    alarm."""
    again = [i for i in read if not readings[i].answers and len(readings[i].passage.text) > SECOND_LOOK_CHARS]
    if not again:
        return readings, 0
    narrow = {i: focus(passages[i], terms, SECOND_LOOK_CHARS) for i in again}
    gens = generate_all(generator, [reading_request(generator, question, narrow[i], cfg.generation.max_new_tokens)
                                    for i in again])
    out = list(readings)
    for i, g in zip(again, gens):
        second = make_reading(question, narrow[i], g.text, calib, terms)
        if second.answers and second.features["grounded"] >= 0.99:
            out[i] = replace(second, second_look=True)
    return out, sum(g.prompt_tokens for g in gens)


def _without_markers(generator: Generator, cfg: Config, question: str, focused: Sequence[Passage],
                     readings: list[Reading], read: Sequence[int], calib: dict[str, Any],
                     terms: dict[str, float]) -> tuple[list[Reading], int]:
    """Readings that do not answer and wrote a citation marker, read again with "[" suppressed (`NO_MARKERS`);
    the new reading replaces the old one only if it answers."""
    again = [i for i in read if not readings[i].answers and _MARKER.search(readings[i].text)]
    if not again:
        return readings, 0
    gens = generate_all(generator, [replace(reading_request(generator, question, focused[i],
                                                            cfg.generation.max_new_tokens), suppress=NO_MARKERS)
                                    for i in again])
    out = list(readings)
    for i, g in zip(again, gens):
        reading = make_reading(question, focused[i], g.text, calib, terms)
        if reading.answers:
            out[i] = reading
    return out, sum(g.prompt_tokens for g in gens)


def quoted_readings(question: str, passages: Sequence[Passage], candidates: Sequence[int],
                    calib: dict[str, Any], terms: dict[str, float],
                    similar: Callable[[str, str], float] | None = None) -> dict[int, Reading]:
    """Passage index -> the reading that is the passage's own sentence stating a value of the kind asked
    (rag/quote.py), for the candidates where that sentence, judged as a reading, answers. Where the document states
    the value in one sentence, its words are the answer rather than the model's reading of them, which may misread
    ("Grisillon" for "Grisridge") or miss it ("1" for 25 days); and the model need not read that passage at all. No
    model call; a quote takes part in the conflict check (its value is written in the document, not misread).
    `similar`: closeness in meaning (rag/locate.py `similarity`), for a document's own question in other words."""
    out: dict[int, Reading] = {}
    for i in candidates:
        quoted = quote(question, passages[i], terms, heading_words(passages[i]), similar)
        if quoted is None:
            continue
        reading = make_reading(question, quoted.passage, quoted.shown or quoted.passage.text, calib, terms,
                               value=quoted.value)
        if quoted.shown and not reading.answers:  # a quiz row's "90" has its unit in its own question's cell
            reading = replace(reading, answers=answers(question, quoted.value, reading.probability, calib,
                                                       reading.features, stated_in=quoted.shown))
        if quoted.row and not reading.answers:  # the row named by the question states a value of the kind asked
            reading = replace(reading, answers=am.fits_question(question, quoted.shown))
        if reading.answers:
            out[i] = replace(reading, quoted=True, overrides=quoted.firm)
    return out


def with_quotes(readings: Sequence[Reading], quoted: dict[int, Reading]) -> list[Reading]:
    """Each passage's quote in place of its reading: always for a firm quote (a value of the kind asked, or the
    side of an "is" opposite the question's words), otherwise only where the reading does not answer. A quote of a
    question naming no kind can hold all its words and still not answer it ("The capital of California under
    Spanish rule had been Monterey"), where the model, reading the whole passage, answers "Sacramento". A reading
    kept over its passage's quote is `quotable`: another document's quote does not outrank it."""
    return [r if i not in quoted else quoted[i] if quoted[i].overrides or not r.answers else replace(r, quotable=True)
            for i, r in enumerate(readings)]


def read_or_quote(count: int, quoted: dict[int, Reading], read: Callable[[int], Reading],
                  question: str = "") -> list[Reading]:
    """The readings of `count` passages: `read(i)` for each passage without a firm quote, then `with_quotes` and
    `outranked` (the evidence stage's order, for callers that read one passage at a time: the conflict check's
    own assessment and its benchmark)."""
    return outranked(with_quotes([quoted[i] if i in quoted and quoted[i].overrides else read(i)
                                  for i in range(count)], quoted), question)


def outranked(readings: Sequence[Reading], question: str = "") -> list[Reading]:
    """When some passage states the answer in a sentence of its own (a quote), the model's readings of the passages
    that do not stop answering: they neither answer nor stand against the quote as another document's value. Read
    off a directory line ("Member of the valley business association since it joined the register.") SmolLM2-135M
    answers "Halworth Textiles is located in the valley business association", and off a handbook "The best-known
    product of Ravgate Textiles is the Ravgate Textiles handbook": each against the profile's quote was a false
    alarm between documents. Two documents that state different values are both quoted, and still conflict. So
    does a reading whose value is in the unit the question asks for and stands in its passage as written
    (`stated_value`: "£45" read off a council's price list, against the minutes' quote "... will be £52 per bin")."""
    if not any(r.quoted for r in readings):
        return list(readings)
    unit = am.asked_unit(question) if question else None
    return [r if r.quoted or r.quotable or not r.answers or stated_value(unit, r) else replace(r, answers=False)
            for r in readings]


def off_row(question: str, reading: Reading, whole: Passage) -> bool:
    """Whether the reading's value stands on another row of a table in its passage (`whole`: as found, not focused)
    than the row the question names (rag/tables.py): "£27/month" read off "Student | £27/month" for the corporate
    membership, whose row says "Corporate | Contact us"; or off that row at all when it states no value in the unit
    asked ("£5/month" of the freezing rule under the table). It does not answer."""
    return from_another_row(question, whole.text, reading.answer)


def stated_value(unit: str | None, reading: Reading) -> bool:
    """Whether the reading's value carries `unit`, the unit the question asks for (answer_match.asked_unit: a price,
    a length of time, a phone number, a code), and its passage states that value as written."""
    found = am.unit_value(unit, reading.answer) if unit else ""
    return bool(found) and " ".join(found.split()) in " ".join(reading.passage.text.split())


def on_topic(question: str, evidence: Evidence, embed: Callable[[Sequence[str]], Any],
             calibration: dict[str, Any] | None = None, passages: Sequence[Passage] = ()) -> Evidence:
    """`evidence` as a request naming no subject should be judged by how close in meaning the passages read are to
    it (rag/locate.py `closest_line`, against `topic_threshold` of the evidence calibration):
    - a reading answers only when a line of its passage is that close: with no name to look for, a passage that
      shares a word with the request is read and its reading may "answer" ("How many hours are there in one day?"
      by "A guest permit expires after 72 hours", "How many days are there in a week?" by "You may work from home
      up to three days per week");
    - when some passage is that close yet none answers, a question is about the documents ("for how long at most
      can I book the confocal microscope?" beside "Confocal microscope: maximum booking of 4 hours"): memory must
      then be as confident as about a subject the documents name (`memory_threshold_documents`), not answer as
      it does a greeting or a small task.
    A question naming its subject is returned as it is (the subject already picked its passages); a request asking
    nothing (`asks_nothing`: "hi!") is answered by no passage. A quote naming who holds the post a "who" question
    asks of stands however far its line (`_names_the_post`)."""
    calib = calibration or load_calibration()
    threshold = calib.get("topic_threshold")
    read = [i for i, r in enumerate(evidence.readings) if r.read or r.quoted or r.answers]
    if not read or names_a_subject(question):
        return evidence
    if asks_nothing(question):
        readings = [replace(r, answers=False, features={**r.features, "asks_nothing": 1.0}) if r.answers else r
                    for r in evidence.readings]
        return replace(evidence, readings=tuple(readings))
    if threshold is None:
        return evidence
    # a quote's passage whole where the caller has it: the quote is narrowed to its line, a table row without its header
    whole = [passages[i] if evidence.readings[i].quoted and i < len(passages) else evidence.readings[i].passage
             for i in read]
    sims = dict(zip(read, closest_line(question, whole, embed)))
    readings = list(evidence.readings)
    for (i, sim), passage in zip(sims.items(), whole):
        if readings[i].answers and sim < float(threshold) and not _names_the_post(question, readings[i], passage):
            r = readings[i]
            readings[i] = replace(r, answers=False, features={**r.features, "off_topic": round(sim, 4)})
    confident = evidence.memory_confident
    asks = am.is_question(question)  # "Thank you so much" is close to "Thanks to all our volunteers", and asks nothing
    if confident and asks and not any(r.answers for r in readings) and max(sims.values()) >= float(threshold):
        sure = max(calib["memory_threshold"], calib.get("memory_threshold_documents") or 0.0)
        confident = evidence.memory_confidence >= sure and answers_the_question(question, evidence.memory_answer)
    return replace(evidence, readings=tuple(readings), memory_confident=confident)


def _names_the_post(question: str, reading: Reading, passage: Passage) -> bool:
    """Whether a quote names who holds what a "who" question asks of: its sentence says one of the question's words
    beside its names, and its passage says them all ("Contact our secretary, Hamish Ostrander, to book." in a cycling
    club's newsletter, for "who is the club secretary?": a line close to the question in words, if not in the
    embedding's meaning)."""
    if not reading.quoted or asked_kind(question) != "person":
        return False
    words = [w for w in predicate_words(question_terms(question)) if w not in am.SAYS_LITTLE]
    sentence = set(am.tokens(reading.passage.text))
    said = set(am.tokens(f"{passage.title}\n{passage.beside}\n{passage.text}"))
    return bool(words) and any(am.present_in(w, sentence, forms=True) for w in words) and all(
        am.present_in(w, said, forms=True) for w in words)


def _elsewhere(question: str, reading: Reading, passage: Passage) -> bool:
    """Whether an answering reading took its value from another row of the table the question names (`off_row`),
    or a price, a phone number or a time from a line about something else than what is asked (`speaks_of_item`:
    "£16.50" for a root canal, read off a fee guide's "Monthly fee: £16.50" under its care plan). `passage` is the
    whole passage, of which the reading may have read a part."""
    return (not reading.quoted and off_row(question, reading, passage)) or not speaks_of_item(
        question, passage, value=reading.answer)


def gather(generator: Generator, cfg: Config, question: str, passages: Sequence[Passage],
           closed_book: Generation | None = None, calibration: dict[str, Any] | None = None,
           prune: bool = True, second_look: bool = True, unfamiliar: str | None = None,
           quotes: bool = True, memory: bool = True,
           similar: Callable[[str, str], float] | None = None) -> Evidence:
    """Closed-book answer and one reading per passage that could answer, in one batch (see the module
    docstring). A passage whose own sentence states a value of the kind asked is quoted instead of read
    (`quoted_readings`). Then a second look, in one more batch, at the passages whose reading did not answer, cut
    to the sentences richest in the question's words (`SECOND_LOOK_CHARS`). `prune=False` reads every passage,
    and `second_look=False` / `quotes=False` skip the second look / the quotes (to collect fitting data: model
    readings only). `unfamiliar`: the question's `unfamiliar_name`, when the caller has it already. `memory=False`:
    the model's memory is not asked (adaptive mode, about a name the model never saw: rag/decide.py); the evidence
    then holds an empty memory that is never confident and conflicts with nothing (`Evidence.memory_asked`).
    `similar`: closeness in meaning, for quoting a document's own question asked in other words (`quoted_readings`)."""
    calib = calibration or load_calibration(cfg.conflict.evidence_calibration or None)
    if unfamiliar is None:
        unfamiliar = unfamiliar_name(generator.count_tokens, question)
    terms = question_terms(question)
    passages = beside_their_document(passages)
    focused, before, could = _plan(cfg, question, passages, calib)
    candidates = [i for i, c in enumerate(could) if c or not prune]
    quoted = quoted_readings(question, passages, candidates, calib, terms, similar) if quotes else {}
    to_read = [i for i in candidates if not (i in quoted and quoted[i].overrides)]
    requests = [reading_request(generator, question, focused[i], cfg.generation.max_new_tokens) for i in to_read]
    need_memory = closed_book is None or is_ret_generation(closed_book) or not closed_book.text.strip()
    skip_memory = need_memory and not memory
    if skip_memory:
        closed_book, need_memory = Generation(""), False
    if need_memory:
        requests.insert(0, memory_request(generator, question, cfg.generation.max_new_tokens, bool(requests)))
    t0 = time.perf_counter()
    generations = generate_all(generator, requests) if requests else []
    elapsed = round((time.perf_counter() - t0) * 1000, 2)
    if need_memory:
        closed_book, generations = generations[0], generations[1:]
        shown = clean_answer(closed_book.text)
        if closed_book.finish_reason == "clause" and _past_restated(question, shown) != shown:
            # its first clause only restated the question ("At sea level, ..."): memory's value is in the next one
            closed_book = completed(generator, requests[0], closed_book, clause=True)
    assert closed_book is not None
    texts = dict(zip(to_read, (g.text for g in generations)))
    readings = [make_reading(question, p, texts[i], calib, terms) if i in texts else quoted[i] if i in quoted
                else unread(p, before[i], calib) for i, p in enumerate(focused)]
    extra_tokens = 0
    t1 = time.perf_counter()
    if second_look:
        readings, extra_tokens = _without_markers(generator, cfg, question, focused, readings, to_read, calib, terms)
    readings = with_quotes(readings, quoted)
    if second_look:
        readings, more = _second_look(generator, cfg, question, passages, readings, to_read, calib, terms)
        extra_tokens += more
    elapsed = round(elapsed + (time.perf_counter() - t1) * 1000, 2)
    readings = [replace(r, answers=False) if r.answers and _elsewhere(question, r, p) else r
                for r, p in zip(outranked(readings, question), passages)]
    if skip_memory:
        return Evidence(closed_book, "", 0.0, False, tuple(readings), {"evidence": elapsed},
                        sum(g.prompt_tokens for g in generations) + extra_tokens, memory_asked=False)
    memory_answer = memory_value(question, closed_book.text)
    confidence = memory_confidence(question, closed_book, memory_answer, readings)
    confident = memory_usable(question, memory_answer, confidence, calib["memory_threshold"],
                              subject_in_documents(question, readings), calib.get("memory_threshold_documents"),
                              unfamiliar=bool(unfamiliar),
                              unfamiliar_threshold=calib.get("memory_threshold_unfamiliar"),
                              familiar=familiar_subject(generator.count_tokens, question),
                              familiar_threshold=calib.get("memory_threshold_familiar"))
    tokens = sum(g.prompt_tokens for g in generations) + (closed_book.prompt_tokens if need_memory else 0) + extra_tokens
    return Evidence(closed_book, memory_answer, round(confidence, 4), confident, tuple(readings),
                    {"evidence": elapsed}, tokens)
