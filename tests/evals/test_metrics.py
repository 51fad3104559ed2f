"""Metric functions against hand-computed cases."""

from __future__ import annotations

import pytest

from evals.metrics import (
    QARecord,
    alias_match,
    attribution_counts,
    core_metrics,
    exact_match,
    latency_summary,
    percentile,
    summarize,
    token_f1,
)
from rag.types import Answer, Citation, Conflict, Passage


def test_alias_match_is_lowercased_substring():
    assert alias_match("It was born in OULU, Finland.", ["Oulu", "Uleåborg"])
    assert not alias_match("Helsinki", ["Oulu", "Uleåborg"])
    assert not alias_match("anything", ["", "  "])  # empty aliases never match
    assert alias_match("The capital is PARIS.", ["Paris", "City of Light"])


def test_alias_match_ignores_whitespace_around_an_alias():
    # the router's copy stripped aliases and the answer path's did not: " Paris " missed "Paris." there
    assert alias_match("Paris.", [" Paris "])
    assert alias_match("It is Paris", ["Paris\n"])
    assert not alias_match("Lyon", ["Paris", " ", "\t"])
    assert alias_match("Parisian", ["Paris "])  # still a plain substring test, as PopQA defines it


def test_exact_match_and_f1_hand_computed():
    assert exact_match("The Beatles.", ["Beatles"])
    assert not exact_match("The Beatles were a band", ["Beatles"])
    # pred tokens: [new, york, city] vs gold [new, york]: P = 2/3, R = 1, F1 = 0.8
    assert token_f1("New York City", ["New York"]) == pytest.approx(0.8)
    # best alias wins: vs "Big Apple" F1 = 0
    assert token_f1("New York City", ["Big Apple", "New York"]) == pytest.approx(0.8)
    assert token_f1("", ["Paris"]) == 0.0
    assert exact_match("The Paris.", ["paris"]) and not exact_match("Paris, France", ["Paris"])
    assert token_f1("Paris France", ["Paris"]) == pytest.approx(2 / 3)
    assert token_f1("x", []) == 0.0


def test_percentile_linear_interpolation():
    xs = [10.0, 20.0, 30.0, 40.0]
    assert percentile(xs, 50) == pytest.approx(25.0)  # position 1.5
    assert percentile(xs, 95) == pytest.approx(38.5)  # position 2.85 -> 30 + 0.85 * 10
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert latency_summary(xs) == {"p50": 25.0, "p95": 38.5, "mean": 25.0}


def _rec(i: int, correct: bool, retrieved: bool, s_pop: float, total: float, **kw) -> QARecord:
    return QARecord(id=str(i), question="q", answers=("a",), answer="a" if correct else "b", retrieved=retrieved,
                    correct=correct, em=correct, f1=1.0 if correct else 0.0, s_pop=s_pop,
                    timings_ms={"total": total, "generate": total / 2}, prompt_tokens=100 * (i + 1), **kw)


def test_summarize_hand_computed():
    recs = [
        _rec(0, True, True, 500, 100.0, conflict_available=True, conflict_flagged=True, cited=2, cited_supported=1),
        _rec(1, False, True, 5_000, 200.0, conflict_available=True),
        _rec(2, True, False, 50_000, 300.0),
        _rec(3, False, False, 500_000, 400.0, cited=3, cited_supported=3),  # wrong: attribution ignored
    ]
    s = summarize(recs, "always")
    assert (s["n"], s["mode"], s["accuracy"], s["exact_match"], s["f1"], s["retrieval_rate"]) == (
        4, "always", 0.5, 0.5, 0.5, 0.5)
    assert s["by_popularity"]["<1k"] == {"n": 1, "accuracy": 1.0, "exact_match": 1.0, "f1": 1.0,
                                         "retrieval_rate": 1.0}
    assert s["by_popularity"][">100k"]["accuracy"] == 0.0
    assert s["latency_ms"]["p50"] == 250.0 and s["latency_ms"]["p95"] == pytest.approx(385.0)
    assert s["latency_by_stage_ms"]["generate"]["p50"] == 125.0
    assert s["by_retrieval"]["retrieved"]["accuracy"] == 0.5 and s["by_retrieval"]["not_retrieved"]["n"] == 2
    assert s["attribution_precision"] == 0.5 and s["attribution_cited_sentences"] == 2
    assert s["conflict_flag_rate"] == 0.5 and s["conflict_checked"] == 2
    assert s["tokens_per_question"] == 250.0
    assert core_metrics([])["accuracy"] is None


def test_attribution_counts_cuts_the_cited_span_out_of_the_passage():
    p = Passage(id="p1", source="doc", title="", text="Ada was born in London. She died in 1852.", start=100,
                end=141, score=1.0)
    ans = Answer(question="q", answer="Born in London [1]. Died 1852 [1]. Memory.", retrieved=True, mode="always",
                 passages=(p,), citations=(
                     Citation("Born in London [1].", "p1", 100, 123),  # "Ada was born in London."
                     Citation("Died 1852 [1].", "p1", 124, 141),  # "She died in 1852." (no alias)
                     Citation("Memory.", None, -1, -1),
                 ), conflict=Conflict(available=False))
    assert attribution_counts(ans, ["London"]) == (2, 1)
    rec = QARecord.from_answer("x", ["London"], ans, s_pop=10.0)
    assert rec.correct and rec.cited == 2 and rec.cited_supported == 1 and rec.s_pop == 10.0
    assert QARecord.from_json(rec.to_json()) == rec
