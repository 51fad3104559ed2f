"""The workload report from hand-made records: per-kind rates, false flags, recall, abstention, latency."""

from __future__ import annotations

import itertools
import json

from evals.workload.cli import check_floors
from evals.workload.run import WorkloadRecord, summarize, summarize_mode

IDS = itertools.count()


def rec(kind, mode="always", success=False, flagged=False, ck=None, abstained=False, retrieved=True, ms=1000.0,
        error=None):
    return WorkloadRecord(id=f"c{next(IDS)}", kind=kind, mode=mode, question="q", success=success, conflict_flagged=flagged,
                          conflict_kind=ck, abstained=abstained, retrieved=retrieved, latency_ms=ms, error=error,
                          timings_ms={"total": ms, "conflict": ms / 2})


def test_summary_rates_by_hand():
    records = [
        rec("document", success=True), rec("document", flagged=True, ck="between_documents"),
        rec("known", success=True, retrieved=False, ms=200.0), rec("self_contained", abstained=True, ms=300.0),
        rec("unanswerable", abstained=True, success=True), rec("unanswerable"),
        rec("memory_conflict", flagged=True, ck="memory_vs_documents", success=True),
        rec("document_conflict", flagged=True, ck="memory_vs_documents"),
        rec("no_conflict", error="RuntimeError: boom", ms=5.0),
    ]
    s = summarize_mode(records)
    assert s["n"] == 9
    assert s["by_kind"]["document"] == {"n": 2, "success": 0.5, "retrieval_rate": 1.0, "flag_rate": 0.5,
                                        "abstain_rate": 0.0, "latency_ms_p50": 1000.0}
    # success = mean over the 7 kinds: document .5, known 1, self 0, unanswerable .5, memory 1, doc-conflict 0, no 0
    assert s["success"] == round(3.0 / 7, 4)
    assert s["false_flag_rate"] == round(1 / 5, 4)  # 1 flag among document x2, known, self_contained, no_conflict
    assert s["conflict_recall"] == 0.5  # the document_conflict flag has the wrong kind
    assert s["abstain_recall"] == 0.5
    assert s["false_abstain_rate"] == 0.0  # self_contained is not in the denominator; document/no_conflict/known are
    assert s["retrieval_rate"] == round(8 / 9, 4)
    assert s["errors"] == 1 and s["latency_ms"]["p50"] == 1000.0  # the failed case's time is left out
    assert s["stage_ms_mean"]["conflict"] == round((1000 * 6 + 200 + 300) / 2 / 8, 1)


def test_modes_and_latency_ratios():
    records = [rec("known", mode="never", ms=1000.0), rec("known", mode="always", ms=3000.0),
               rec("known", mode="adaptive", ms=1500.0)]
    report = summarize(records, ["adaptive", "always", "never"])
    assert report["ratios"] == {"always_over_never_latency": 3.0, "adaptive_over_never_latency": 1.5,
                                "adaptive_over_always_latency": 0.5}
    assert json.loads(json.dumps(report)) == report


def test_floors_and_ceilings():
    report = summarize([rec("document", success=True), rec("known")], ["always"])
    floors = {"metrics": {"always.success": {"floor": 0.4}, "always.false_flag_rate": {"ceiling": 0.1},
                          "never.success": {"floor": 0.1}}}
    failed = check_floors(report, floors)
    assert failed == ["never.success: not in the report (mode not run?)"]
    failed = check_floors(report, {"metrics": {"always.by_kind.known.success": {"floor": 0.5, "measured": 1.0}}})
    assert failed == ["always.by_kind.known.success = 0.0 is below its floor 0.5 (measured 1.0)"]


def test_passage_recall_counts_only_retrieved_document_answers():
    from evals.workload.run import summarize_mode

    records = [WorkloadRecord(id="a", kind="document", mode="always", question="q", passage_hit=True),
               WorkloadRecord(id="b", kind="no_conflict", mode="always", question="q", passage_hit=False),
               WorkloadRecord(id="c", kind="known", mode="always", question="q", passage_hit=None)]
    s = summarize_mode(records)
    assert s["passage_recall"] == 0.5 and s["by_kind"]["document"]["passage_recall"] == 1.0
    assert "passage_recall" not in s["by_kind"]["known"]
