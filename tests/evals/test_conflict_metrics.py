"""evals/conflict_metrics.py: the per-kind scores of the conflict check, hand-computed."""

from __future__ import annotations

import pytest

from evals import conflict_cases as cc
from evals import conflict_metrics
from evals.metrics import auroc


def record(label: str, flagged_kind: str | None, mem: float, btw: float) -> conflict_metrics.Record:
    case = cc.Case("q", ("p",), label, ("a",), "t", label + str(mem))
    return conflict_metrics.Record(case, mem, btw, flagged_kind is not None, flagged_kind, "a", "a", 10.0)


def test_metrics_per_kind():
    records = [record("memory_vs_documents", "memory_vs_documents", 0.9, 0.1),
               record("memory_vs_documents", None, 0.4, 0.1),
               record("none", "memory_vs_documents", 0.6, 0.1),
               record("none", None, 0.1, 0.1),
               record("between_documents", "between_documents", 0.2, 0.9)]
    report = conflict_metrics.summarize(records)
    m = report["memory_vs_documents"]
    assert (m["n"], m["precision"], m["recall"], m["f1"]) == (2, 0.5, 0.5, 0.5)
    assert m["false_alarm_rate"] == 0.5
    assert m["auroc"] == pytest.approx(5 / 6, abs=1e-4)
    b = report["between_documents"]
    assert (b["n"], b["precision"], b["recall"], b["false_alarm_rate"], b["auroc"]) == (1, 1.0, 1.0, 0.0, 1.0)
    assert report["answer_accuracy"]["flagged"]["n"] == 3
    assert report["added_latency_ms"]["p50"] == 10.0


def test_auroc_edge_cases():
    assert auroc([0.1, 0.2], [True, True]) is None
    assert auroc([0.5, 0.5], [True, False]) == 0.5
