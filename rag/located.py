"""Located lines as readings: what `rag/locate.py` finds, put into an answer's evidence (no model call).

Three steps of the answer path (rag/pipeline.py), each returning the evidence unchanged when it does not apply:
- `with_located`: no reading answers and memory is unsure (`surely_remembered`): the line closest in meaning to the
  question answers, if close enough ("Weight | 62 g" for how much the TideTrack T4 weighs);
- `with_closer_line`: a reading took its value from a line far in meaning from the question, while a line of the
  same document close to it states another value: the line answers instead;
- `with_second_value`: the answer comes from one document; another document states a different value on a line
  close to the question: both reach the conflict check.

    evidence = with_second_value(question, found, with_located(question, found, evidence, embed), embed)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from rag import answer_match as am
from rag.evidence import (
    Evidence,
    Reading,
    _answer_words,
    heading_words,
    load_calibration,
    looks_something_up,
    question_terms,
    reading_features,
    speaks_of_item,
)
from rag.locate import Located, asking, lines, locate, predicate_words, shown_line, value_kind
from rag.tables import from_another_row, says_named_row
from rag.types import Passage

# how much closer in meaning to the question a line of a passage must be than the line the model's reading took its
# value from, for the line to answer instead (`with_closer_line`; set by hand, session 17)
CLOSER_MARGIN = 0.1
# how far below `locate_threshold` a line may answer when the model's reading of its passage states the line's value
# (and fell short of answering itself): two weak signals that agree (`with_located`; set by hand, session 18: the
# minutes' "Results of the speed survey ...: 38% of vehicles were going faster than the 20 mph limit" is 0.42 from
# "what share of cars were over the limit", and the model read "38%" at 0.51; the unanswerable questions' best lines
# on the dev splits are at most 0.38)
AGREE_MARGIN = 0.05


def with_located(question: str, passages: Sequence[Passage], evidence: Evidence,
                 embed: Callable[[Sequence[str]], Any], calibration: dict[str, Any] | None = None) -> Evidence:
    """`evidence` with one more answering reading when none answers and memory is unsure (`surely_remembered`): the
    line of a passage that could answer which is closest in meaning to the question, if close enough
    (rag/locate.py; the threshold is `locate_threshold` of the evidence calibration). Its text is the line as the
    document states it (a table row as "key: value"). No model call; evidence that answers, or whose memory is
    surely right, is returned as is. A line up to `AGREE_MARGIN` further answers too when the model's reading of
    its passage states the line's value."""
    calib = calibration or load_calibration()
    threshold = calib.get("locate_threshold")
    if threshold is None or evidence.answering or surely_remembered(question, evidence, calib):
        return evidence
    terms = question_terms(question)
    could = [i for i, r in enumerate(evidence.readings) if (r.read or r.quoted) and i < len(passages)]
    candidates = [passages[i] for i in could]
    headings = [heading_words(p) for p in candidates]
    found = locate(question, candidates, embed, terms, headings, float(threshold))
    if found is None:  # a line a little further, whose value the model read from its passage too
        found = locate(question, candidates, embed, terms, headings, float(threshold) - AGREE_MARGIN)
        if found is None:
            return evidence
        read = next(evidence.readings[i] for p, i in zip(candidates, could) if p.id == found.passage.id)
        if not read.read or not read.answer or not _states_value(found.passage.text, read.answer, question):
            return evidence
    return _with_line(question, terms, found, candidates, could, evidence)


def surely_remembered(question: str, evidence: Evidence, calibration: dict[str, Any]) -> bool:
    """Whether memory is confident enough to answer over a line of the documents: confident, and about a named
    subject not only because its names are familiar words (rag/evidence.py `memory_usable`: "Marsh Lane" is two
    single tokens of the model's vocabulary, like "Peru", yet the residents' speed survey on it is the user's
    business). Such memory, confident below the general `memory_threshold`, answers only when no line of the
    documents does. A request naming nothing ("Which country has the most islands?") is memory's own business."""
    if not evidence.memory_confident:
        return False
    return not looks_something_up(question) or evidence.memory_confidence >= calibration["memory_threshold"]


def _with_line(question: str, terms: dict[str, float], found: Located, candidates: Sequence[Passage],
               indexes: Sequence[int], evidence: Evidence) -> Evidence:
    """`evidence` with the located line as the answering reading of its passage (candidates[k] is reading
    indexes[k]): the line as the document states it, its similarity to the question as its probability."""
    feats = reading_features(question, terms, found.passage, found.value)
    reading = Reading(found.passage, shown_line(found.passage.text), found.value, feats, round(found.similarity, 4),
                      True, read=False, quoted=True, located=True)
    where_from = next(p for p in candidates if p.id == found.passage.id)
    if from_another_row(question, where_from.text, found.value) or not says_named_row(question, where_from.text,
                                                                                          found.passage.text):
        return evidence  # not the row the question names, in a table where it names one
    at = found.passage.start - where_from.start
    if not speaks_of_item(question, where_from, (at, at + len(found.passage.text))):
        return evidence  # a price, a phone number or a time of something else than what is asked
    where = next(i for p, i in zip(candidates, indexes) if p.id == found.passage.id)
    readings = list(evidence.readings)
    readings[where] = reading
    return replace(evidence, readings=tuple(readings))


def with_closer_line(question: str, passages: Sequence[Passage], evidence: Evidence,
                     embed: Callable[[Sequence[str]], Any], calibration: dict[str, Any] | None = None) -> Evidence:
    """`evidence` with a model reading replaced by a line of its document when the reading's value stands on a line
    much further in meaning from the question than the document's closest line stating another value (`locate`, as
    `with_located`, by `CLOSER_MARGIN`: a line with a value of the kind asked, or for a question naming no kind a
    table row or "key: value" line), in the passage read or in another retrieved passage of the same document that
    gave no answer of its own or answers with a located line. The small model takes a value from the wrong line of
    what it reads: "4 minutes" (how long the Kettlewave takes to boil) for how long its keep-warm lasts, two lines
    below "Press 'Keep Warm' and the K2 holds your chosen temperature for up to 30 minutes, then switches off by
    itself"; "1" (a component count in a rulebook's first section) for how many renown points win, which its "End
    of the game" section states; "a £1 coin" (what the lockers take) for the gym's guest wifi password, a line above
    "Wi-Fi network: BrindleGuest — password: squat4life"."""
    calib = calibration or load_calibration()
    threshold = calib.get("locate_threshold")
    if threshold is None:
        return evidence
    terms = question_terms(question)
    for i, r in enumerate(evidence.readings):
        if not r.answers or r.quoted or i >= len(passages):  # a quote is the passage's own sentence on the subject
            continue
        passage = passages[i]
        same = _same_document(i, passages, evidence)
        found = locate(question, [passages[j] for j in same], embed, terms, [heading_words(passages[j]) for j in same],
                       float(threshold))
        if found is None or not _disagree(found.passage.text, found.value, r.answer, question):
            continue
        own = [passage.text[s:e] for s, e in lines(passage) if _states_value(passage.text[s:e], r.answer, question)]
        vecs = embed([asking(question, terms), *own])
        nearest = max((float(v @ vecs[0]) for v in vecs[1:]), default=0.0)
        if found.similarity - nearest >= CLOSER_MARGIN:
            readings = list(evidence.readings)
            readings[i] = replace(r, answers=False)  # the line answers for the document, wherever it stands
            demoted = replace(evidence, readings=tuple(readings))
            lined = _with_line(question, terms, found, [passages[j] for j in same], same, demoted)
            evidence = evidence if lined is demoted else lined
    return evidence


def _same_document(i: int, passages: Sequence[Passage], evidence: Evidence) -> list[int]:
    """Reading `i` and the readings of its document's other retrieved passages that may give way to a line: read
    without an answer of their own, or answering with a located line."""
    source = passages[i].source
    return [j for j, r in enumerate(evidence.readings[:len(passages)]) if j == i or (
        passages[j].source == source and (r.located or (not r.answers and (r.read or r.quoted))))]


def _states_value(line: str, answer: str, question: str = "") -> bool:
    """Whether `line` says the value of `answer`: its numbers, or its own words when it has none (the name of "The
    winning goal was scored by Jed Morrow", the question's words aside)."""
    words = am.tokens(answer)
    asked = set(am.tokens(question))
    numbers = [w for w in words if any(c.isdigit() for c in w) and w not in asked]  # the question's own "2025" aside
    if not numbers and question:
        words = _answer_words(answer, question).split() or words
    said = set(am.tokens(line))
    return bool(numbers or words) and all(am.present_in(w, said) for w in numbers or words)


def _disagree(line: str, value: str, answer: str, question: str) -> bool:
    """Whether a located line (stating `value`) and a reading's `answer` give different values: dates, numbers and
    prices compared as such (answer_match.values_agree), anything else by the answer's own words ("Jed Morrow" is
    not on "The winning goal was scored by Tomas Revell in the 88th minute")."""
    agree = am.values_agree(value, answer, question)
    if agree is not None:
        return not agree
    return not _states_value(line, answer, question)


def with_second_value(question: str, passages: Sequence[Passage], evidence: Evidence,
                      embed: Callable[[Sequence[str]], Any], calibration: dict[str, Any] | None = None) -> Evidence:
    """`evidence` with one more answering reading when the passages answering a question that asks for a value (a
    date, a number, a price: rag/locate.py `value_kind`, answer_match.asked_unit) all come from one document, and
    another document's passage the model read without an answer states a different value on a line close in meaning
    to the question (`locate`, as `with_located`). A school's letter lists "Date: Friday 14 March 2025" in a table
    the small model does not read, beside an email's "The trip is now on Friday 21 March 2025": two documents that
    disagree, and the conflict check must see both values. A line stating the same value adds nothing, and so does a
    passage that does not speak of what is asked (`_says_the_predicate`)."""
    calib = calibration or load_calibration()
    threshold = calib.get("locate_threshold")
    answering = [r for r in evidence.readings if r.answers]
    kind = value_kind(question)
    if threshold is None or not answering or not (kind in ("date", "number", "person") or am.asked_unit(question)):
        return evidence
    sources = {r.passage.source for r in answering}
    if len(sources) > 1:
        return evidence
    answer = answering[0].answer
    if kind == "person":  # who holds a post: a quoted name against another document's row ("Treasurer: ...")
        if not answering[0].quoted:
            return evidence
    elif am.answer_type(answer) not in ("date", "number"):
        return evidence
    could = [i for i, r in enumerate(evidence.readings) if (r.read or r.quoted) and not r.answers
             and i < len(passages) and passages[i].source not in sources]
    if not could:
        return evidence
    terms = question_terms(question)
    could = [i for i in could if _says_the_predicate(terms, passages[i])]
    candidates = [passages[i] for i in could]
    found = locate(question, candidates, embed, terms, [heading_words(p) for p in candidates], float(threshold))
    if found is None:
        return evidence
    if kind == "person":
        if set(am.tokens(found.value)) & set(am.tokens(answer)):
            return evidence  # the same person ("Felix" of "Felix Abernathy")
    elif am.values_agree(found.value, answer, question) is not False:
        return evidence
    return _with_line(question, terms, found, candidates, could, evidence)


def _says_the_predicate(terms: dict[str, float], passage: Passage) -> bool:
    """Whether a passage (with its title) says half the question's words beside its names, those naming the kind of
    value aside: a bakery's price list names Crumb & Kettle and prices its loaves, but says nothing of the
    "bread-making class" whose cost is asked."""
    words = predicate_words(terms)
    said = set(am.tokens(f"{passage.title}\n{passage.text}"))
    return not words or sum(am.present_in(w, said, forms=True) for w in words) / len(words) >= 0.5
