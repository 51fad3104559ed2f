"""Our QA metrics beside ragas: answer correctness, latency percentiles, per-bucket aggregation.

- Scores of one answer against gold aliases: `alias_match` (the PopQA / Adapt-LLM metric: any accepted
  alias, lower-cased and stripped of surrounding whitespace, is a substring of the lower-cased answer),
  `exact_match` and `token_f1` (SQuAD-style, best over aliases, on rag/answer_match.py's normalisation).
  The one home of these: the router's training data, the DyPRAG bench and the conflict cases import them.
- `percentile`: linear interpolation between order statistics (numpy's default); `rounded` for reports.
- `QARecord` is one evaluated question; `summarize(records)` gives the `eval popqa` report keys.

Hand-computed cases are in tests/evals/test_metrics.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evals.data import BUCKETS, bucket
from rag.answer_match import f1_tokens, normalize, tokens
from rag.types import Answer

__all__ = [
    "QARecord",
    "alias_match",
    "attribution_counts",
    "auroc",
    "core_metrics",
    "exact_match",
    "latency_summary",
    "percentile",
    "rounded",
    "summarize",
    "token_f1",
]


def alias_match(answer: str, aliases: Iterable[str]) -> bool:
    """PopQA accuracy (Mallen et al.; Adapt-LLM): any alias, lower-cased, is a substring of the lower-cased answer.

    Aliases are stripped first: a stray space in the data (" Paris") must not make "Paris." a miss; a blank
    alias never matches.
    """
    text = answer.lower()
    return any(alias.strip().lower() in text for alias in aliases if alias.strip())


def exact_match(answer: str, aliases: Iterable[str]) -> bool:
    """SQuAD exact match: the normalised answer equals some normalised alias."""
    norm = normalize(answer)
    return any(norm == normalize(alias) for alias in aliases)


def token_f1(answer: str, aliases: Iterable[str]) -> float:
    """SQuAD token F1 of the answer against the best-matching alias."""
    pred = tokens(answer)
    return max((f1_tokens(pred, tokens(alias)) for alias in aliases), default=0.0)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear interpolation; None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_summary(values: Sequence[float]) -> dict[str, float | None]:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    return {"p50": rounded(p50), "p95": rounded(p95), "mean": rounded(sum(values) / len(values)) if values else None}


def attribution_counts(answer: Answer, aliases: Sequence[str]) -> tuple[int, int]:
    """(cited sentences, cited sentences whose cited passage span contains an alias).

    A citation's start/end are offsets in the source document, as are the passage's; the span is
    cut out of the passage text. A span outside the passage falls back to the whole passage.
    """
    by_id = {p.id: p for p in answer.passages}
    cited = supported = 0
    for c in answer.citations:
        if c.passage_id is None:
            continue
        cited += 1
        p = by_id.get(c.passage_id)
        if p is None:
            continue
        lo, hi = c.start - p.start, c.end - p.start
        span = p.text[lo:hi] if 0 <= lo < hi <= len(p.text) else p.text
        supported += alias_match(span, aliases)
    return cited, supported


@dataclass(frozen=True)
class QARecord:
    """One question's outcome, the unit every aggregate below is computed from."""

    id: str
    question: str
    answers: tuple[str, ...]
    answer: str
    retrieved: bool
    correct: bool  # alias_match
    em: bool
    f1: float
    s_pop: float | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    conflict_available: bool = False
    conflict_flagged: bool = False
    cited: int = 0  # cited sentences (see attribution_counts)
    cited_supported: int = 0
    confidence: float | None = None  # closed-book answer's exp(mean token log-prob), when known
    ret_probability: float | None = None

    @classmethod
    def from_answer(cls, qid: str, answers: Sequence[str], ans: Answer, s_pop: float | None = None,
                    confidence: float | None = None) -> QARecord:
        cited, supported = attribution_counts(ans, answers)
        return cls(
            id=qid, question=ans.question, answers=tuple(answers), answer=ans.answer, retrieved=ans.retrieved,
            correct=alias_match(ans.answer, answers), em=exact_match(ans.answer, answers),
            f1=token_f1(ans.answer, answers), s_pop=s_pop, timings_ms=dict(ans.timings_ms),
            prompt_tokens=ans.prompt_tokens, conflict_available=ans.conflict.available,
            conflict_flagged=ans.conflict.flagged, cited=cited, cited_supported=supported,
            confidence=confidence if confidence is not None else ans.conflict.parametric_confidence,
            ret_probability=ans.ret_probability,
        )

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["answers"], d["timings_ms"] = list(self.answers), dict(self.timings_ms)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> QARecord:
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kw["answers"] = tuple(kw.get("answers", ()))
        return cls(**kw)


def rounded(x: float | None, nd: int = 4) -> float | None:
    """`x` rounded to `nd` digits for a JSON report; None stays None."""
    return None if x is None else round(float(x), nd)


def _mean(xs: Sequence[float]) -> float | None:
    return rounded(sum(xs) / len(xs)) if xs else None


def core_metrics(records: Sequence[QARecord]) -> dict[str, Any]:
    """accuracy, exact_match, f1, retrieval_rate over `records` (None when empty)."""
    return {
        "n": len(records),
        "accuracy": _mean([float(r.correct) for r in records]),
        "exact_match": _mean([float(r.em) for r in records]),
        "f1": _mean([r.f1 for r in records]),
        "retrieval_rate": _mean([float(r.retrieved) for r in records]),
    }


def summarize(records: Sequence[QARecord], mode: str) -> dict[str, Any]:
    """The `eval popqa` report for one mode (keys promised in ARCHITECTURE.md, then extras)."""
    report: dict[str, Any] = {"mode": mode, **core_metrics(records)}
    report["by_popularity"] = {
        b: core_metrics([r for r in records if bucket(r.s_pop) == b]) for b in BUCKETS
        if any(bucket(r.s_pop) == b for r in records)
    }
    report["latency_ms"] = latency_summary([r.timings_ms["total"] for r in records if "total" in r.timings_ms])
    stages = sorted({k for r in records for k in r.timings_ms if k != "total"})
    report["latency_by_stage_ms"] = {
        s: latency_summary([r.timings_ms[s] for r in records if s in r.timings_ms]) for s in stages
    }
    report["by_retrieval"] = {
        "retrieved": core_metrics([r for r in records if r.retrieved]),
        "not_retrieved": core_metrics([r for r in records if not r.retrieved]),
    }
    correct_cited = [r for r in records if r.correct and r.cited]
    cited = sum(r.cited for r in correct_cited)
    report["attribution_precision"] = rounded(sum(r.cited_supported for r in correct_cited) / cited) if cited else None
    report["attribution_cited_sentences"] = cited
    checked = [r for r in records if r.conflict_available]
    report["conflict_flag_rate"] = _mean([float(r.conflict_flagged) for r in checked])
    report["conflict_checked"] = len(checked)
    report["tokens_per_question"] = _mean([float(r.prompt_tokens) for r in records])
    return report


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with ties counted half); None with one class only."""
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))
