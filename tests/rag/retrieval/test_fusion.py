"""Weighted reciprocal-rank fusion: the formula, weights, ties and missing documents."""

from __future__ import annotations

import pytest

from rag.retrieval.fusion import rrf


def test_formula_and_order():
    fused = rrf({"dense": [("a", 0.9), ("b", 0.8), ("c", 0.1)], "bm25": [("c", 7.0), ("a", 3.0)]},
                {"dense": 1.0, "bm25": 1.0}, rrf_k=60)
    got = {d: s for d, s, _ in fused}
    assert got["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert got["b"] == pytest.approx(1 / 62)
    assert got["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert [d for d, _, _ in fused] == ["a", "c", "b"]
    assert fused[0][2] == {"dense": 0.9, "bm25": 3.0} and fused[2][2] == {"dense": 0.8}


def test_weights_change_the_winner():
    rankings = {"dense": [("x", 0.5), ("y", 0.4)], "bm25": [("y", 2.0), ("x", 1.0)]}
    assert rrf(rankings, {"dense": 2.0, "bm25": 1.0}, 0)[0][0] == "x"  # 2/1 + 1/2 vs 2/2 + 1/1
    assert rrf(rankings, {"dense": 1.0, "bm25": 2.0}, 0)[0][0] == "y"
    assert rrf(rankings, {"dense": 1.0, "bm25": 0.0}, 60)[0][0] == "x"


def test_ties_prefer_the_first_ranking_and_empty_inputs():
    fused = rrf({"dense": [("d1", 0.3)], "bm25": [("b1", 4.0)]}, {"dense": 1, "bm25": 1}, 60)
    assert [d for d, _, _ in fused] == ["d1", "b1"]
    assert rrf({"dense": [], "bm25": []}, {}, 60) == []
    with pytest.raises(ValueError, match="rrf_k"):
        rrf({}, {}, -1)
