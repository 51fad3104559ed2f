"""Knowledge-conflict check: does the model's memory, or do the documents among themselves, disagree?

It reads the evidence gathered before the answer (rag/evidence.py): the closed-book answer and its
confidence, and one reading per passage with the calibrated probability that the passage answers the
question. All decisions are made by code from those answers, never by asking the model "is there a
conflict", so a passage cannot talk the flag away.

- between_documents: two passages that each *answer* the question state different values of one type
  ("Cora Grisby" vs "Pavel Galthorne"), and neither passage also states the other's value. A passage that
  is silent about the question (calling codes, when the question asks the capital) is not disagreement.
- memory_vs_documents: the model's confident closed-book answer differs from what an answering passage
  itself says, the two answers are of one type (a year is no counter-answer to a calling code), and no
  answering passage states the memory's value. The passage's own reading is compared, not only the
  generated answer: an answer that sides with memory against its document is still a conflict.
- No answering passage: nothing to compare; the pipeline abstains or answers from memory.

Scores are logistic over a few features (coefficients in rag/conflict_calibration.json; hand-set, refit
with `adaptrag eval conflicts --fit --calibration-out FILE`); a kind is flagged at its threshold.

    checker = ConflictChecker(generator, Embedder.shared(), cfg)
    conflict = checker.check_evidence(question, evidence)             # the answer path
    assessment = checker.assess(question, passages, document_answer)  # benchmarks: runs its own model calls
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag import answer_match as answers
from rag import evidence as ev
from rag.config import Config
from rag.evidence import Reading, answer_confidence, is_ret_generation, logistic
from rag.generators.base import Generator
from rag.locate import remembered, similarity
from rag.types import Conflict, Generation, Passage

__all__ = [
    "BETWEEN_FEATURES",
    "KINDS",
    "MEMORY_FEATURES",
    "Assessment",
    "ConflictChecker",
    "answer_confidence",
    "is_ret_generation",
    "load_calibration",
    "logistic",
]

CALIBRATION_FILE = Path(__file__).with_name("conflict_calibration.json")
MEMORY_FEATURES = ("confidence", "disagree", "mentioned", "type_match")
BETWEEN_FEATURES = ("disagree_pair", "cross_mentioned", "type_match_pair")
KINDS = ("memory_vs_documents", "between_documents")
# Used when no calibration file exists: a clear disagreement of one type with a confident memory lands
# well above 0.5; agreement, another type or a memory value the passage also states well below.
DEFAULT_CALIBRATION: dict[str, Any] = {
    "memory_vs_documents": {"bias": -10.0, "confidence": 4.0, "disagree": 5.0, "mentioned": -6.0, "type_match": 5.0},
    "between_documents": {"bias": -7.0, "disagree_pair": 6.0, "cross_mentioned": -6.0, "type_match_pair": 3.0},
    "thresholds": {"memory_vs_documents": 0.5, "between_documents": 0.5},
}


@dataclass(frozen=True)
class Assessment:
    """Everything the check computed; `conflict` is what the pipeline shows."""

    conflict: Conflict
    memory_score: float  # P(memory_vs_documents conflict), 0 when it cannot apply
    between_score: float  # P(between_documents conflict), 0 with fewer than two answering passages
    features: dict[str, float] = field(default_factory=dict)
    readings: tuple[Reading, ...] = ()
    closed_book: Generation | None = None
    elapsed_ms: float = 0.0  # the stage's own wall time (model calls included)


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """Logistic coefficients per kind and the flag thresholds; DEFAULT_CALIBRATION when the file does not exist."""
    file = Path(path) if path else CALIBRATION_FILE
    if not file.exists():
        if path:
            raise ValueError(f"conflict.calibration file {file} does not exist; run `adaptrag eval conflicts --fit`")
        return DEFAULT_CALIBRATION
    data = json.loads(file.read_text(encoding="utf-8"))
    for kind, names in (("memory_vs_documents", MEMORY_FEATURES), ("between_documents", BETWEEN_FEATURES)):
        missing = {"bias", *names} - set(data.get(kind, {}))
        if missing:
            raise ValueError(f"conflict.calibration file {file}: {kind} lacks {sorted(missing)}; refit it with "
                             "`adaptrag eval conflicts --fit --calibration-out FILE`")
    bad = {k: t for k, t in data.get("thresholds", {}).items() if k not in KINDS or not 0.0 <= t <= 1.0}
    if bad:
        raise ValueError(f"conflict.calibration file {file}: thresholds {bad} must be kinds {KINDS} in [0, 1]")
    return data


class ConflictChecker:
    """Compares closed-book memory with the passages that answer, and those passages with each other."""

    def __init__(self, generator: Generator, embedder: answers.TextEmbedder, cfg: Config) -> None:
        c = cfg.conflict
        if c.max_passages <= 0:
            raise ValueError(f"conflict.max_passages must be greater than 0. Currently it is {c.max_passages}")
        if ((c.threshold is not None and not 0.0 <= c.threshold <= 1.0) or not 0.0 <= c.min_confidence <= 1.0
                or not 0.0 <= c.min_confidence_familiar <= 1.0 or not 0.0 <= c.min_confidence_unfamiliar <= 1.0):
            raise ValueError(f"conflict.threshold, conflict.min_confidence, conflict.min_confidence_familiar and "
                             f"conflict.min_confidence_unfamiliar must be in [0, 1]; got {c.threshold}, "
                             f"{c.min_confidence}, {c.min_confidence_familiar} and {c.min_confidence_unfamiliar}")
        self.generator = generator
        self.embedder = embedder
        self.full_cfg = cfg
        self.cfg = c
        self.calibration = load_calibration(c.calibration or None)

    @property
    def calibration(self) -> dict[str, Any]:
        return self._calibration

    @calibration.setter
    def calibration(self, value: dict[str, Any]) -> None:
        """Coefficients and, unless conflict.threshold overrides them, the calibrated flag thresholds."""
        self._calibration = value
        fitted = value.get("thresholds", {})
        self.thresholds = {kind: self.cfg.threshold if self.cfg.threshold is not None else fitted.get(kind, 0.5)
                           for kind in KINDS}

    def decide(self, features: dict[str, float]) -> tuple[float, float, bool, bool]:
        """(memory score, between score, memory flag, between flag) from the features.

        Kept apart from the model calls so a calibration can be re-decided on recorded features.
        """
        memory_score = (logistic(self.calibration["memory_vs_documents"], features)
                        if features.get("memory_applies") else 0.0)
        between_score = (logistic(self.calibration["between_documents"], features)
                         if features.get("between_applies") else 0.0)
        memory_flag = (memory_score >= self.thresholds["memory_vs_documents"]
                       and features.get("confidence", 0.0) >= self.memory_floor(features))
        return (memory_score, between_score, bool(features.get("memory_applies")) and memory_flag,
                bool(features.get("between_applies")) and between_score >= self.thresholds["between_documents"])

    def memory_floor(self, features: dict[str, float]) -> float:
        """The closed-book confidence memory needs to count against the documents."""
        floor = self.cfg.min_confidence_familiar if features.get("familiar") else self.cfg.min_confidence
        if features.get("unfamiliar") or features.get("local_value"):
            # memory about a name the model never saw, or of a value no training text holds (a price, a phone
            # number, a time of day: "$1.00" for a council's garden waste subscription; answer_match.LOCAL_UNITS):
            # only as sure as it must be to answer about a name it never saw
            floor = max(floor, self.cfg.min_confidence_unfamiliar)
        return floor

    def memory_status(self, features: dict[str, float], answering: bool, flagged: bool) -> str:
        """`Conflict.memory_status` from the check's features: how memory stood beside the documents."""
        if not answering:
            return ""
        if not features.get("memory_applies"):
            return "no_answer"
        if flagged:
            return "disagrees"
        if features.get("disagree", 0.0) < 0.5:
            return "agrees"
        return "unsure" if features.get("confidence", 0.0) < self.memory_floor(features) else "differs"

    # -- the answer path: evidence already gathered ----------------------------------------------------

    def check_evidence(self, question: str, evidence: ev.Evidence, document_answer: str = "") -> Conflict:
        return self.judge(question, evidence.memory, evidence.readings, document_answer).conflict

    # -- benchmarks: the check with its own model calls --------------------------------------------------

    def check(self, question: str, passages: Sequence[Passage], document_answer: str,
              closed_book: Generation | None = None) -> Conflict:
        return self.assess(question, passages, document_answer, closed_book).conflict

    def closed_book(self, question: str) -> Generation:
        """The model's own answer, with <RET> suppressed so the router cannot dodge it (as the answer path)."""
        return self.generator.generate(
            ev.closed_book_request(self.generator, question, self.full_cfg.generation.max_new_tokens))

    def passage_answer_text(self, question: str, passage: Passage) -> str:
        """One short generation: the answer to `question` given this passage alone (focused as the answer path)."""
        focused = ev.focus(passage, ev.question_terms(question))
        return self.generator.generate(
            ev.reading_request(self.generator, question, focused, self.full_cfg.generation.max_new_tokens)).text

    def quotes(self, question: str, passages: Sequence[Passage]) -> dict[int, Reading]:
        """Passage index -> the passage's own sentence stating the answer, as the answer path quotes it (no model
        call; evidence.quoted_readings): those passages are not read."""
        return ev.quoted_readings(question, passages, range(len(passages)),
                                  ev.load_calibration(self.full_cfg.conflict.evidence_calibration or None),
                                  ev.question_terms(question),
                                  similarity(remembered(self.embedder.embed)) if self.embedder is not None else None)

    def read_passage_answer(self, question: str, passage: Passage, generated: str) -> Reading:
        return ev.make_reading(question, ev.focus(passage, ev.question_terms(question)), generated)

    def assess(self, question: str, passages: Sequence[Passage], document_answer: str,
               closed_book: Generation | None = None, passage_answers: Sequence[Reading] | None = None) -> Assessment:
        """Run the check; `passage_answers` may be given to reuse earlier readings (evals)."""
        start = time.perf_counter()
        passages = list(passages)[: self.cfg.max_passages]
        if not passages:
            return Assessment(Conflict(available=False, detail="no passages"), 0.0, 0.0,
                              elapsed_ms=(time.perf_counter() - start) * 1000)
        if closed_book is None or is_ret_generation(closed_book) or not closed_book.text.strip():
            closed_book = self.closed_book(question)
        if passage_answers is None:
            passage_answers = ev.read_or_quote(len(passages), self.quotes(question, passages), lambda i: (
                self.read_passage_answer(question, passages[i], self.passage_answer_text(question, passages[i]))),
                question)
        a = self.judge(question, closed_book, passage_answers, document_answer)
        return Assessment(a.conflict, a.memory_score, a.between_score, a.features, a.readings, closed_book,
                          elapsed_ms=(time.perf_counter() - start) * 1000)

    # -- the decision ---------------------------------------------------------------------------------------

    def judge(self, question: str, closed_book: Generation, readings: Sequence[Reading],
              document_answer: str = "") -> Assessment:
        """The conflict from memory and readings (no model calls)."""
        memory = ev.memory_value(question, closed_book.text)
        # second looks answer, and conflict only with a value in the unit asked that their passage states as written
        # ("£45 per bin per year" of a council's page): a one-sentence misreading is no document's answer (evidence.py)
        unit = answers.asked_unit(question)
        readings = [r for r in readings if not r.second_look or ev.stated_value(unit, r)]
        confidence = ev.memory_confidence(question, closed_book, memory, readings)
        answering = sorted((r for r in readings if r.answers), key=lambda r: -r.probability)
        same = lambda a, b: answers.same_answer(a, b, self.embedder, question)
        memory_type = answers.answer_type(memory, question)
        count_tokens = getattr(self.generator, "count_tokens", None)  # None: judged without a model (evals' fits)
        # a familiar subject, or none at all ("Which planet is the largest in our solar system?": common knowledge,
        # 0.51 for a right "Jupiter"), takes the lower confidence floor
        features: dict[str, float] = {"confidence": confidence, "familiar": float(
            (count_tokens is not None and ev.familiar_subject(count_tokens, question))
            or not ev.names_a_subject(question)),
            "unfamiliar": float(count_tokens is not None and bool(ev.unfamiliar_name(count_tokens, question))),
            "local_value": float(answers.asked_unit(question) in answers.LOCAL_UNITS)}

        # memory vs documents: the answering reading that disagrees most with memory
        # memory must be an answer to this question: "Vietnam is a country in Southeast Asia" is no memory of its
        # currency, and a year is no counter-answer to a calling code (type_match below)
        # a line found by meaning (rag/locate.py) answers only where memory was unsure: it raises no memory conflict
        features["memory_applies"] = float(bool(answering) and not all(r.located for r in answering)
                                           and memory_type != "none"
                                           and bool(ev._answer_words(memory, question) or memory_type == "polar")
                                           and ev.answers_the_question(question, memory)
                                           and not answers.is_hedged(memory))
        # A passage that holds every word of the question ("capital", "Taiwan") yet not the memory's value states
        # something else, even when the model, reading it, repeats its own memory (a "stubborn" reading): the
        # document's own answer is what counts. A passage missing the question's words is silent, not contrary.
        memory_ok = (memory_type != "none" and bool(ev._answer_words(memory, question))
                     and ev.answers_the_question(question, memory) and not answers.is_polar_question(question)
                     and not answers.is_hedged(memory))
        # with a quote present, the quoted passages are the documents' own answers; the rest were outranked
        quoted = any(r.quoted for r in readings)
        on_topic = [r for r in readings if r.features.get("coverage", 0.0) >= 0.99
                    and (r.quoted or r.quotable or not quoted)]
        states = [r for r in on_topic if ev.memory_mention(question, memory, r.passage.text) >= 0.99]
        silent = [r for r in on_topic if ev.memory_mention(question, memory, r.passage.text) == 0.0]
        contrary = [r for r in silent if not r.answers] if memory_ok else []
        if contrary and not answering:
            answering = contrary  # the on-topic passage is the document side
        features["memory_applies"] = float(features["memory_applies"] or bool(contrary and memory_ok))
        against: list[Reading] = []
        if features["memory_applies"]:
            agreements = [(same(memory, r.answer), r) for r in answering]
            worst, worst_r = min(agreements, key=lambda x: x[0])
            features["disagree"] = 1.0 - worst
            features["mentioned"] = max(ev.memory_mention(question, memory, r.passage.text) for r in answering)
            features["type_match"] = float(answers.answer_type(worst_r.answer, question) == memory_type
                                           and answers.same_measure(worst_r.answer, memory))
            against = [r for s, r in agreements if s < 0.5]
            if contrary and features["mentioned"] < 0.99 and not states:
                features.update(disagree=1.0, mentioned=0.0, type_match=1.0)
                against = [*against, *(r for r in contrary if r not in against)]
        else:
            features.update(disagree=0.0, mentioned=0.0, type_match=0.0)

        # between documents: the most different pair of answering readings of two documents (two chunks of one
        # status report, "go-live 14 October" and a misread "16 September" of its steering committee, are not two
        # documents disagreeing)
        # whose values their passages state on the question's subject (ev.stated_on_subject)
        pair: tuple[Reading, Reading] | None = None
        pair_same = 1.0
        sides = [r for r in answering if ev.stated_on_subject(question, r)]
        for i, a in enumerate(sides):
            for b in sides[i + 1:]:
                if a.passage.source == b.passage.source or not answers.same_measure(a.answer, b.answer):
                    continue  # a length of time and a distance both answer "how long", and do not disagree
                if _one_silent(question, a, b):
                    continue  # one speaks of the "trip" asked; the other, silent on it, of Year 4's swimming lessons
                s = same(a.answer, b.answer)
                if s < pair_same:
                    pair, pair_same = (a, b), s
        # on-topic passages of two documents: one states memory's value, one not
        split_pairs = [(a, b) for a in states for b in silent if a.passage.source != b.passage.source]
        split = memory_ok and bool(split_pairs)
        if pair is None and split:
            pair, pair_same = split_pairs[0], 0.0
        features["between_applies"] = float(pair is not None)
        if pair is not None and pair_same == 0.0 and split and pair[0] in states:
            a, b = pair  # the passage stating memory's value against an on-topic one that does not
            features.update(disagree_pair=1.0, cross_mentioned=0.0, type_match_pair=1.0)
        elif pair is not None:
            a, b = pair
            features["disagree_pair"] = 1.0 - pair_same
            features["cross_mentioned"] = max(ev.distinct_mention(question, a.answer, b.answer, b.passage.text),
                                              ev.distinct_mention(question, b.answer, a.answer, a.passage.text))
            features["type_match_pair"] = float((answers.answer_type(a.answer, question)
                                                 == answers.answer_type(b.answer, question)
                                                 or _both_in(unit, a.answer, b.answer)
                                                 or _both_dated(question, a.answer, b.answer))
                                                and answers.same_measure(a.answer, b.answer))  # not time vs km
        else:
            features.update(disagree_pair=0.0, cross_mentioned=0.0, type_match_pair=0.0)

        memory_score, between_score, memory_flag, between_flag = self.decide(features)
        document = document_answer or (answering[0].answer if answering else "")
        status = self.memory_status(features, bool(answering), memory_flag)
        kw = {"parametric_answer": memory, "document_answer": document, "parametric_confidence": round(confidence, 4),
              "memory_status": status}
        if between_flag and pair is not None:
            side_a = tuple(r.passage.id for r in answering if same(r.answer, pair[0].answer) >= 0.5)
            side_b = tuple(r.passage.id for r in answering if r.passage.id not in side_a)
            conflict = Conflict(flagged=True, kind="between_documents", score=round(between_score, 4),
                                passage_ids=side_a, other_passage_ids=side_b, **kw,
                                detail=_between_detail(pair[0], pair[1]))
        elif memory_flag:
            doc = against[0] if against else answering[0]
            conflict = Conflict(flagged=True, kind="memory_vs_documents", score=round(memory_score, 4),
                                passage_ids=tuple(r.passage.id for r in against) or (doc.passage.id,),
                                **{**kw, "document_answer": doc.answer},
                                detail=f"Your documents say {_value(doc.answer, question)!r} ({_name(doc.passage)}); "
                                       f"the model's memory says {_value(memory, question)!r} "
                                       f"({confidence:.0%} confident)")
        else:
            reason = {"": "no retrieved passage answers the question", "no_answer":
                      "the model's memory has no sure answer to compare", "unsure":
                      "memory not confident enough to compare", "agrees": "memory and documents agree",
                      "differs": "memory differs, below the conflict threshold", "disagrees": "memory disagrees, "
                      "but the documents' own disagreement was checked first"}[status]
            conflict = Conflict(flagged=False, kind=None, score=round(max(memory_score, between_score), 4),
                                passage_ids=tuple(r.passage.id for r in answering), **kw, detail=reason)
        return Assessment(conflict, memory_score, between_score, features, tuple(readings), closed_book)


def _one_silent(question: str, a: ev.Reading, b: ev.Reading) -> bool:
    """Whether one of two model readings' passages says some of the question's words beside its names and the other
    none: "When is the Year 4 trip?" read off Year 4's swimming lessons, beside the trip letter. A quote or a located
    line is its passage's own statement, narrowed to one line: not judged by the words around it."""
    if a.quoted or a.located or b.quoted or b.located:
        return False
    return (ev.predicate_said(question, a.passage) > 0.0) != (ev.predicate_said(question, b.passage) > 0.0)


def _both_in(unit: str | None, a: str, b: str) -> bool:
    """Whether two answers both state a value in `unit`, the unit the question asks for: "£45 per bin per year and
    runs from 1 April 2025" is a price, as "£52 per bin per year" is, though it also holds a date."""
    return unit is not None and answers.states_unit(unit, a) and answers.states_unit(unit, b)


def _both_dated(question: str, a: str, b: str) -> bool:
    """Whether two answers to a question asking a date both state one, wherever: a letter's line "The boiler service
    and gas safety check for Flat 3, 27 Tollgate Road is now on Thursday 16 October 2025" is a date, as "Tuesday 14
    October 2025" is, though its first clause holds the flat's number."""
    return answers.expected_type(question) == "date" and bool(answers.values(a)[0]) and bool(answers.values(b)[0])


def _name(passage: Passage) -> str:
    from pathlib import PurePath

    return PurePath(passage.source).name if passage.source else (passage.title or passage.id)


def _value(answer: str, question: str) -> str:
    """The answer's own words for a banner ("Osaka" rather than "The capital of Japan is Osaka")."""
    words = ev._answer_words(answer, question)
    if not words:
        return answer
    # the original spelling of those words, in order: the shortest span of the clause that holds them
    clause = answers.first_clause(answer)
    low = answers.fold(clause)
    first = low.find(words.split()[0])
    last_word = words.split()[-1]
    last = low.rfind(last_word)
    if first < 0 or last < 0 or last < first:
        return answer
    # the whole name the words stand in: "Mexico City", not "City" (the question's "Mexico" is no answer word)
    name = next((m for m in answers.NAME_RUN.finditer(clause) if m.start() <= first < m.end()), None)
    if name is not None:
        first = min(first, name.start())
    return clause[first:last + len(last_word)].strip(" .,;") or answer


def _between_detail(a: Reading, b: Reading) -> str:
    return (f"Your documents disagree: {a.answer.strip(' .')!r} ({_name(a.passage)}) vs "
            f"{b.answer.strip(' .')!r} ({_name(b.passage)})")
