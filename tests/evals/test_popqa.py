"""The PopQA runner and the router baselines, on hand-built answers.

The pipeline here is a neighbour of the unit under test (the runner and the routers), so a small stand-in
returns fixed `Answer`s; the real pipeline runs in test_cli.py.
"""

from __future__ import annotations

import pytest

from evals.data import load_qa
from evals.metrics import QARecord
from evals.popqa import PopQARunner, evaluate, oracle, parse_modes, route, sweep, tune_threshold
from rag.types import Answer, Conflict


def _rec(i: int, correct: bool, retrieved: bool, *, s_pop: float = 0.0, conf: float | None = None,
         total: float = 10.0) -> QARecord:
    return QARecord(id=str(i), question="q", answers=("a",), answer="a" if correct else "x", retrieved=retrieved,
                    correct=correct, em=correct, f1=float(correct), s_pop=s_pop, confidence=conf,
                    timings_ms={"total": total}, prompt_tokens=10)


# closed-book right for the two popular/confident questions; retrieval right for 0, 1, 3.
NEVER = [_rec(0, False, False, s_pop=10, conf=0.2), _rec(1, False, False, s_pop=20, conf=0.3),
         _rec(2, True, False, s_pop=5000, conf=0.9), _rec(3, True, False, s_pop=9000, conf=0.8)]
ALWAYS = [_rec(0, True, True, total=50.0), _rec(1, True, True, total=50.0), _rec(2, False, True, total=50.0),
          _rec(3, True, True, total=50.0)]


def test_oracle_takes_closed_book_when_right():
    o = oracle(NEVER, ALWAYS)
    assert [r.retrieved for r in o] == [True, True, False, False]
    assert sum(r.correct for r in o) == 4


def test_tune_threshold_picks_best_accuracy_then_least_retrieval():
    t = tune_threshold(NEVER, ALWAYS, "popularity")
    # retrieve when s_pop < t: t between 20 and 5000 gives 4/4 at 50% retrieval
    assert 20 < t["threshold"] < 5000 and t["tune_accuracy"] == 1.0 and t["tune_retrieval_rate"] == 0.5
    c = tune_threshold(NEVER, ALWAYS, "confidence")
    assert 0.3 < c["threshold"] < 0.8 and c["tune_accuracy"] == 1.0
    # when retrieval always wins, the threshold is "retrieve always" (JSON-safe None)
    worse_never = [_rec(i, False, False, s_pop=10 * i, conf=0.5) for i in range(4)]
    a = tune_threshold(worse_never, ALWAYS, "popularity")
    assert a["threshold"] is None and a["retrieve_always"] and a["tune_accuracy"] == 0.75


def test_route_pays_for_the_closed_book_run_when_asked():
    r = route(NEVER, ALWAYS, [True, False, False, False], pay_closed_book=True)
    assert r[0].timings_ms["total"] == 60.0 and r[0].prompt_tokens == 20 and r[1] is NEVER[1]
    assert route(NEVER, ALWAYS, [True] * 4, pay_closed_book=False)[0] is ALWAYS[0]


def test_sweep_spans_never_to_always():
    curve = sweep(NEVER, ALWAYS, "popularity")
    assert curve[0][0] == 0.0 and curve[-1][0] == 1.0
    assert [1.0, 0.75] in [list(p) for p in curve] and [0.5, 1.0] in [list(p) for p in curve]


class StandInPipeline:
    """Answers from memory correctly only for 'Paris'; with passages it copies the passage's first words."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def answer(self, question, *, mode=None, passages=None, **_):
        self.calls.append((question, mode, len(passages or ())))
        if mode == "never" or not passages:
            text = "Paris" if "France" in question else "I am not sure"
            return Answer(question=question, answer=text, retrieved=False, mode="never",
                          timings_ms={"decide": 5.0, "total": 6.0}, prompt_tokens=20,
                          conflict=Conflict(available=False))
        return Answer(question=question, answer=passages[0].text, retrieved=True, mode=mode, passages=tuple(passages),
                      timings_ms={"decide": 0.0, "retrieve": 0.0, "generate": 30.0, "total": 31.0}, prompt_tokens=80,
                      conflict=Conflict(available=True, flagged=False, parametric_confidence=0.9 if "France" in
                                        question else 0.1), warnings=("context window: left out 1",))


def test_runner_and_evaluate_all_modes(popqa_tiny):
    rows = load_qa(popqa_tiny)
    runner = PopQARunner(StandInPipeline(), passages="given", progress=False)
    result = evaluate(runner, rows, parse_modes("never,always,confidence,popularity,oracle"), tune_examples=rows)
    m = result["modes"]
    assert m["never"]["accuracy"] == 0.25 and m["never"]["retrieval_rate"] == 0.0
    assert m["always"]["accuracy"] == 1.0 and m["always"]["retrieval_rate"] == 1.0
    # the only confident question is the one answered right from memory: retrieve for the other three
    assert m["confidence"]["accuracy"] == 1.0 and m["confidence"]["retrieval_rate"] == 0.75
    assert m["oracle"]["retrieval_rate"] == 0.75 and result["oracle_gap_over_always"] == 0.0
    assert result["thresholds"]["confidence"]["tune_n"] == 4
    assert runner.pipeline.calls[0][2] == 0  # never: no passages handed over
    assert any(n == 1 for _, mode, n in runner.pipeline.calls if mode == "always")
    assert result["pipeline_warnings"] == {"context window": 8}
    assert len(runner.samples["always"]) == 4 and runner.samples["always"][0].retrieved_contexts


def test_parse_modes_rejects_unknown():
    assert parse_modes("never, always,never") == ["never", "always"]
    with pytest.raises(ValueError, match="allowed"):
        parse_modes("sometimes")
