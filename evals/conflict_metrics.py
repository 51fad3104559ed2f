"""Scores of the knowledge-conflict check on labelled cases (`adaptrag eval conflicts`).

Per kind (memory_vs_documents, between_documents): n, precision, recall, f1, auroc and false_alarm_rate
(the share of label-"none" cases flagged as that kind); overall: the grounded answer's accuracy on flagged vs
unflagged cases, the check's added latency, and the per-kind f1 / false alarms by case source.
Hand-computed cases are in tests/evals/conflicts/test_conflict_cases.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evals.conflict_cases import LABELS, Case
from evals.metrics import alias_match, auroc, percentile, rounded
from rag import answer_match
from rag.conflict import KINDS


@dataclass
class Record:
    case: Case
    memory_score: float = 0.0
    between_score: float = 0.0
    flagged: bool = False
    kind: str | None = None
    document_answer: str = ""
    parametric_answer: str = ""
    added_ms: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def kind_metrics(records: Sequence[Record], kind: str) -> dict[str, Any]:
    gold = [r.case.label == kind for r in records]
    pred = [r.flagged and r.kind == kind for r in records]
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum(p and not g for g, p in zip(gold, pred))
    fn = sum(g and not p for g, p in zip(gold, pred))
    none = [r for r in records if r.case.label == "none"]
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0 if precision is not None else None
    scores = [r.memory_score if kind == "memory_vs_documents" else r.between_score for r in records]
    false_alarms = sum(r.flagged and r.kind == kind for r in none)
    return {"n": sum(gold), "precision": rounded(precision), "recall": rounded(recall), "f1": rounded(f1),
            "auroc": rounded(auroc(scores, gold)), "false_alarm_rate": rounded(false_alarms / len(none) if none else None),
            "predicted": sum(pred)}


def summarize(records: Sequence[Record]) -> dict[str, Any]:
    report: dict[str, Any] = {"n": len(records), "labels": {lab: sum(r.case.label == lab for r in records)
                                                           for lab in LABELS}}
    for kind in KINDS:
        report[kind] = kind_metrics(records, kind)
    none = [r for r in records if r.case.label == "none"]
    report["false_alarm_rate_any"] = rounded(sum(r.flagged for r in none) / len(none) if none else None)
    scored = [r for r in records if r.case.aliases]
    acc: dict[str, Any] = {}
    for name, group in (("flagged", [r for r in scored if r.flagged]), ("unflagged", [r for r in scored if not r.flagged])):
        acc[name] = {"n": len(group), "accuracy": rounded(sum(_correct(r) for r in group) / len(group) if group else None)}
    report["answer_accuracy"] = acc
    lat = [r.added_ms for r in records]
    report["added_latency_ms"] = {"mean": rounded(sum(lat) / len(lat) if lat else None, 1),
                                  "p50": rounded(percentile(lat, 50), 1), "p95": rounded(percentile(lat, 95), 1)}
    by_source: dict[str, Any] = {}
    for src in sorted({r.case.source for r in records}):
        sub = [r for r in records if r.case.source == src]
        by_source[src] = {"n": len(sub), **{k: {m: kind_metrics(sub, k)[m] for m in ("f1", "false_alarm_rate")}
                                            for k in KINDS}}
    report["by_source"] = by_source
    return report


def _correct(r: Record) -> bool:
    if r.case.aliases in (("yes",), ("no",)):
        return answer_match.polarity(answer_match.polar_answer(r.case.question, r.document_answer)) == (r.case.aliases[0] == "yes")
    return alias_match(r.document_answer, r.case.aliases)
