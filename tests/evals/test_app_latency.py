"""evals/app_latency.py: the latency statistics of its report (the run itself needs the app's pipeline)."""

from __future__ import annotations

from evals.app_latency import _stats


def test_stats_hand_computed():
    assert _stats([]) == {}
    assert _stats([30.0, 10.0, 20.0, 40.0]) == {"mean": 25.0, "p50": 25.0, "max": 40.0, "min": 10.0}


def test_modes_are_interleaved_question_by_question_with_the_first_rotating():
    """Mode by mode, the mode measured last came out 14-37% slower on the same questions: they are interleaved."""
    from evals.app_latency import measure
    from rag.types import Answer

    asked: list[tuple[str, str]] = []

    class Pipeline:  # the neighbour; the order of asking and the report's shape are the unit
        def answer(self, question, mode, on_token):
            asked.append((question, mode))
            on_token("ok")
            return Answer(question=question, answer="ok", retrieved=mode != "never", mode=mode)

    report = measure(Pipeline(), ["q1", "q2", "q3"], ["always", "never", "adaptive"])
    assert asked == [("q1", "always"), ("q1", "never"), ("q1", "adaptive"), ("q2", "never"), ("q2", "adaptive"),
                     ("q2", "always"), ("q3", "adaptive"), ("q3", "always"), ("q3", "never")]
    assert [m["mode"] for m in report] == ["always", "never", "adaptive"]
    assert all(m["n"] == 3 and [r["question"] for r in m["answers"]] == ["q1", "q2", "q3"] for m in report)
    assert report[1]["answers"][0]["retrieved"] is False and report[0]["first_token_ms"]["max"] >= 0
