"""evals/app_latency.py: the latency statistics of its report (the run itself needs the app's pipeline)."""

from __future__ import annotations

from evals.app_latency import _stats


def test_stats_hand_computed():
    assert _stats([]) == {}
    assert _stats([30.0, 10.0, 20.0, 40.0]) == {"mean": 25.0, "p50": 25.0, "max": 40.0, "min": 10.0}
