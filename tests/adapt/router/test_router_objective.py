"""The cost-aware calibration objective (adapt/router/objective.py) on hand-made items."""

from __future__ import annotations

import pytest

from adapt.router.objective import PopQAItem, WorkloadItem, choose, curve, point, thinned

POPQA = [
    PopQAItem(0.2, closed_correct=True, retrieved_correct=True),  # known, the passage agrees: skipping is free
    PopQAItem(0.5, closed_correct=False, retrieved_correct=True),  # retrieval helps
    PopQAItem(0.9, closed_correct=False, retrieved_correct=False),  # nothing helps
]
WORK = [WorkloadItem(0.1, "self_contained"), WorkloadItem(0.3, "known"), WorkloadItem(0.6, "document"),
        WorkloadItem(0.95, "unanswerable")]


def test_point_counts_quality_and_retrieval_on_both_sets():
    p = point(0.4, POPQA, WORK)
    assert p.popqa_accuracy == pytest.approx(2 / 3) and p.popqa_retrieval == pytest.approx(2 / 3)
    assert p.workload_decision_accuracy == 1.0 and p.workload_retrieval == 0.5
    assert p.quality == pytest.approx((2 / 3 + 1) / 2) and p.retrieval == pytest.approx((2 / 3 + 0.5) / 2)


def test_choose_takes_the_fewest_retrievals_within_the_tolerance():
    pts = curve(POPQA, WORK)
    assert pts[0].threshold == 0.0 and pts[0].workload_retrieval == 1.0  # always retrieve comes first
    best = choose(pts, tolerance=0.0)
    assert best.workload_decision_accuracy == 1.0 and 0.3 < best.threshold <= 0.5
    # giving up a lot of quality buys never-retrieve
    assert choose(pts, tolerance=1.0).retrieval == 0.0


def test_curve_needs_both_sets_and_thins_to_a_grid():
    with pytest.raises(ValueError, match="both sets"):
        curve([], WORK)
    grid = thinned(curve(POPQA, WORK), step=0.25)
    assert [g["threshold"] for g in grid] == [0.0, 0.3, 0.5, 0.9, 1.0]
