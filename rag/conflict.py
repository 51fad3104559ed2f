"""Knowledge-conflict check: does the model's memory, or do the documents among themselves, disagree?

Flow for one question that retrieved (all decisions are made by code from extracted answers,
never by asking the model "is there a conflict", so a passage cannot talk the flag away):

1. closed-book answer with `<RET>` suppressed (reused from the decide stage when it is a real
   answer) and its confidence: the geometric-mean probability of the answer's content tokens
   (tokens that repeat the question, "The capital of France is ...", do not count);
2. the answer each of the top `cfg.conflict.max_passages` passages alone supports
   (the grounded prompt with that passage only; one short generation per passage);
3. comparison with rag.answer_match.same_answer (values, aliases/containment, polarity, embeddings):
   - memory_vs_documents: a confident closed-book answer that the grounded answer and the passages
     contradict (confidence below `min_confidence` never raises it);
   - between_documents: two passages whose answers (both not "unknown") contradict each other,
     whatever the model believes. It takes precedence: mixed evidence is a clash among documents.
4. each kind's features go through a logistic model (coefficients in rag/conflict_calibration.json,
   fitted on the dev split of `adaptrag eval conflicts --fit`); `score` is that probability.

    checker = ConflictChecker(generator, Embedder.shared(), cfg)
    conflict = checker.check(question, passages, document_answer)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag import answer_match as answers
from rag import prompts
from rag.config import Config
from rag.generators.base import GenerationRequest, Generator
from rag.types import Conflict, Generation, Passage

CALIBRATION_FILE = Path(__file__).with_name("conflict_calibration.json")
MEMORY_FEATURES = ("confidence", "disagree_grounded", "disagree_passages", "mentioned", "on_topic")
BETWEEN_FEATURES = ("disagree_pair", "grounded_pair", "support_split")
KINDS = ("memory_vs_documents", "between_documents")
# Used when no calibration file exists: hand-set so that a clear disagreement (feature = 1) with a
# confident memory lands well above 0.5 and agreement well below.
DEFAULT_CALIBRATION: dict[str, Any] = {
    "memory_vs_documents": {"bias": -5.0, "confidence": 3.0, "disagree_grounded": 2.0, "disagree_passages": 1.5,
                            "mentioned": -4.0, "on_topic": 2.5},
    "between_documents": {"bias": -4.0, "disagree_pair": 4.0, "grounded_pair": 1.5, "support_split": 4.0},
}


@dataclass(frozen=True)
class PassageAnswer:
    passage_id: str
    text: str  # the one-passage answer as generated
    unknown: bool  # the passage does not answer the question
    grounded: bool  # the answer's content words occur in the passage text (not hallucinated)


@dataclass(frozen=True)
class Assessment:
    """Everything the check computed; `conflict` is what the pipeline shows."""

    conflict: Conflict
    memory_score: float  # P(memory_vs_documents conflict), 0 when it cannot apply
    between_score: float  # P(between_documents conflict), 0 with fewer than two answering passages
    features: dict[str, float] = field(default_factory=dict)
    passage_answers: tuple[PassageAnswer, ...] = ()
    closed_book: Generation | None = None
    elapsed_ms: float = 0.0  # the stage's own wall time (model calls included)


def is_ret_generation(generation: Generation) -> bool:
    """A router generation that asked for documents (<RET>) is not a closed-book answer."""
    return generation.text.lstrip().startswith(prompts.RET_TOKEN) or prompts.RET_TOKEN in generation.tokens[:2]


def answer_confidence(generation: Generation, question: str) -> float:
    """exp(mean log-prob) of the content tokens of the answer's first clause (question words skipped)."""
    skip = set(answers.tokens(question)) | answers.FILLER
    clause = answers.first_clause(generation.text)
    seen, picked, fallback = "", [], []
    for tok, lp in zip(generation.tokens, generation.token_logprobs):
        if len(seen.strip()) >= len(clause.strip()) and seen.strip():
            break
        seen += tok
        words = answers.tokens(tok)
        if not words:
            continue
        fallback.append(lp)
        if not all(w in skip for w in words):
            picked.append(lp)
    chosen = picked or fallback or list(generation.token_logprobs)
    return math.exp(sum(chosen) / len(chosen)) if chosen else 0.0


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """Logistic coefficients per kind and the fitted flag thresholds; DEFAULT_CALIBRATION when the file does
    not exist."""
    file = Path(path) if path else CALIBRATION_FILE
    if not file.exists():
        if path:
            raise ValueError(f"conflict.calibration file {file} does not exist; run `adaptrag eval conflicts --fit`")
        return DEFAULT_CALIBRATION
    data = json.loads(file.read_text(encoding="utf-8"))
    for kind, names in (("memory_vs_documents", MEMORY_FEATURES), ("between_documents", BETWEEN_FEATURES)):
        missing = {"bias", *names} - set(data.get(kind, {}))
        if missing:
            raise ValueError(f"conflict.calibration file {file}: {kind} lacks {sorted(missing)}")
    bad = {k: t for k, t in data.get("thresholds", {}).items() if k not in KINDS or not 0.0 <= t <= 1.0}
    if bad:
        raise ValueError(f"conflict.calibration file {file}: thresholds {bad} must be kinds {KINDS} in [0, 1]")
    return data


def logistic(coefs: dict[str, float], features: dict[str, float]) -> float:
    z = coefs["bias"] + sum(coefs[name] * features[name] for name in coefs if name != "bias")
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


class ConflictChecker:
    """Compares closed-book memory with the documents, and the documents with each other."""

    def __init__(self, generator: Generator, embedder: answers.TextEmbedder, cfg: Config) -> None:
        c = cfg.conflict
        if c.max_passages <= 0:
            raise ValueError(f"conflict.max_passages must be greater than 0. Currently it is {c.max_passages}")
        if (c.threshold is not None and not 0.0 <= c.threshold <= 1.0) or not 0.0 <= c.min_confidence <= 1.0:
            raise ValueError(f"conflict.threshold and conflict.min_confidence must be in [0, 1]; got "
                             f"{c.threshold} and {c.min_confidence}")
        self.generator = generator
        self.embedder = embedder
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
        """(memory score, between score, memory flag, between flag) from `assess`'s features.

        Kept apart from the model calls so a calibration can be re-decided on recorded features.
        """
        memory_score = (logistic(self.calibration["memory_vs_documents"], features)
                        if features.get("memory_applies") else 0.0)
        between_score = (logistic(self.calibration["between_documents"], features)
                         if features.get("between_applies") else 0.0)
        memory_flag = (memory_score >= self.thresholds["memory_vs_documents"]
                       and features.get("confidence", 0.0) >= self.cfg.min_confidence)
        return (memory_score, between_score, bool(features.get("memory_applies")) and memory_flag,
                bool(features.get("between_applies")) and between_score >= self.thresholds["between_documents"])

    def check(self, question: str, passages: Sequence[Passage], document_answer: str,
              closed_book: Generation | None = None) -> Conflict:
        """The conflict shown with the answer (see `assess` for scores of both kinds and timings)."""
        return self.assess(question, passages, document_answer, closed_book).conflict

    def closed_book(self, question: str) -> Generation:
        """The model's own answer, with <RET> suppressed so the router cannot dodge it."""
        prompt = self.generator.render_chat(prompts.closed_book(question))
        return self.generator.generate(GenerationRequest(
            prompt=prompt, max_new_tokens=self.cfg.closed_book_tokens, stop=("\n", ". "), suppress=(prompts.RET_TOKEN,)))

    def passage_answer(self, question: str, passage: Passage) -> PassageAnswer:
        """What this one passage says the answer is ("unknown" when it does not say)."""
        return self.read_passage_answer(question, passage, self.passage_answer_text(question, passage))

    def passage_answer_text(self, question: str, passage: Passage) -> str:
        """One short generation: the answer to `question` given this passage alone."""
        # prompts.grounded with this passage alone, not prompts.single_passage: on SmolLM2-135M the
        # latter mostly copies the passage's first sentence, the former answers the question.
        prompt = self.generator.render_chat(prompts.grounded(question, [passage]))
        return self.generator.generate(GenerationRequest(
            prompt=prompt, max_new_tokens=self.cfg.passage_tokens, stop=("\n", ". "), suppress=(prompts.RET_TOKEN,))).text

    def read_passage_answer(self, question: str, passage: Passage, generated: str) -> PassageAnswer:
        """Interpret a one-passage generation: refusal? yes/no? is the entity really in the passage?"""
        text = answers.first_clause(generated).strip() or generated.strip()
        text = answers.polar_answer(question, text)
        unknown = answers.is_unknown(text)
        grounded = not unknown and (answers.polarity(text) is not None
                                    or answers.contains(passage.text, answers.core(text, question))
                                    or answers.contains(passage.text, text))
        # An entity the passage never mentions is the model's memory talking, not the passage.
        return PassageAnswer(passage.id, text, unknown or not grounded, grounded)

    def assess(self, question: str, passages: Sequence[Passage], document_answer: str,
               closed_book: Generation | None = None,
               passage_answers: Sequence[PassageAnswer] | None = None) -> Assessment:
        """Run the check; `passage_answers` may be given to reuse earlier one-passage answers (evals)."""
        start = time.perf_counter()
        passages = list(passages)[: self.cfg.max_passages]
        if not passages:
            return Assessment(Conflict(available=False, detail="no passages"), 0.0, 0.0,
                              elapsed_ms=(time.perf_counter() - start) * 1000)
        if closed_book is None or is_ret_generation(closed_book):
            closed_book = self.closed_book(question)
        memory = answers.polar_answer(question, answers.first_clause(closed_book.text).strip() or closed_book.text.strip())
        confidence = answer_confidence(closed_book, question)
        if passage_answers is None:
            passage_answers = [self.passage_answer(question, p) for p in passages]
        known = [pa for pa in passage_answers if not pa.unknown]
        same = lambda a, b: answers.same_answer(a, b, self.embedder, question)

        # memory vs documents
        memory_unknown = answers.is_unknown(memory)
        doc_unknown = answers.is_unknown(document_answer)
        # Text evidence that needs no model: is the memory answer written in a passage (token recall),
        # and is the passage about the question's subject at all? A model that ignores a passage
        # ("stubborn sloth") still leaves these signals intact.
        topic = [_recall(answers.content_words(question), p.text) for p in passages]
        mention = [_memory_mention(question, memory, p.text) for p in passages]
        features: dict[str, float] = {"confidence": confidence}
        features["disagree_grounded"] = 1.0 - same(memory, document_answer)
        agreements = {pa.passage_id: same(memory, pa.text) for pa in known}
        features["disagree_passages"] = 1.0 - max(agreements.values()) if agreements else 0.5
        features["mentioned"] = max(mention)
        features["on_topic"] = max(topic)
        features["memory_applies"] = float(not memory_unknown and not (doc_unknown and not known and max(topic) < 0.5))

        # between documents: two one-passage answers that differ, or on-topic passages of which one
        # states the model's answer and another does not
        pair, pair_same = None, 1.0
        for i, a in enumerate(known):
            for b in known[i + 1:]:
                s = same(a.text, b.text)
                if s < pair_same:
                    pair, pair_same = (a, b), s
        features["disagree_pair"] = 1.0 - pair_same if pair else 0.0
        features["grounded_pair"] = float(bool(pair) and pair[0].grounded and pair[1].grounded)
        on_topic = [i for i, t in enumerate(topic) if t >= 0.5]
        split = 0.0
        if len(on_topic) >= 2 and not memory_unknown:
            split = max(mention[i] for i in on_topic) - min(mention[i] for i in on_topic)
        features["support_split"] = split
        features["between_applies"] = float(bool(pair) or split > 0)
        memory_score, between_score, memory_flag, between_flag = self.decide(features)

        conflict_kw = {"parametric_answer": memory, "document_answer": document_answer,
                           "parametric_confidence": round(confidence, 4)}
        if between_flag:
            if pair and features["disagree_pair"] >= split:
                side_a = tuple(pa.passage_id for pa in known if same(pa.text, pair[0].text) >= 0.5)
                side_b = tuple(pa.passage_id for pa in known if pa.passage_id not in side_a)
                detail = f"passages answer {pair[0].text!r} vs {pair[1].text!r}"
            else:
                side_a = tuple(passages[i].id for i in on_topic if mention[i] >= 0.5)
                side_b = tuple(passages[i].id for i in on_topic if mention[i] < 0.5)
                detail = f"some passages state {memory!r}, others on the same subject do not"
            conflict = Conflict(flagged=True, kind="between_documents", score=round(between_score, 4),
                                passage_ids=side_a, other_passage_ids=side_b, **conflict_kw, detail=detail)
        elif memory_flag:
            against = tuple(pid for pid, s in agreements.items() if s < 0.5) or tuple(p.id for p in passages)
            conflict = Conflict(flagged=True, kind="memory_vs_documents", score=round(memory_score, 4),
                                passage_ids=against, **conflict_kw,
                                detail=f"model memory ({confidence:.2f} confident) says {memory!r}; documents disagree")
        else:
            reason = ("closed-book answer not confident" if memory_score >= self.thresholds["memory_vs_documents"]
                      else "memory and documents agree" if known or not doc_unknown else "documents do not answer")
            conflict = Conflict(flagged=False, kind=None, score=round(max(memory_score, between_score), 4),
                                passage_ids=tuple(pa.passage_id for pa in known), **conflict_kw, detail=reason)
        return Assessment(conflict, memory_score, between_score, features, tuple(passage_answers), closed_book,
                          elapsed_ms=(time.perf_counter() - start) * 1000)


def _recall(words: Sequence[str], text: str) -> float:
    """Share of `words` that occur in `text` (normalised tokens); 0 for no words."""
    if not words:
        return 0.0
    present = set(answers.tokens(text))
    return sum(_present(w, present) for w in words) / len(words)


def _present(word: str, present: set[str]) -> bool:
    """Exact token, or the same stem for longer words ("america" ~ "americas", "french" ~ "frenchman")."""
    if word in present:
        return True
    return len(word) >= 5 and any(len(t) >= 5 and (t.startswith(word) or word.startswith(t)) for t in present)


def _memory_mention(question: str, memory: str, text: str) -> float:
    """How much of the closed-book answer a passage states. For yes/no questions: a "yes" memory is
    stated when the passage holds all the question's content words; a "no" memory cannot be read off text."""
    if answers.is_polar_question(question):
        pol = answers.polarity(memory)
        return float(_recall(answers.content_words(question), text) == 1.0) if pol else 0.5
    return _recall(answers.core(memory, question).split(), text)
