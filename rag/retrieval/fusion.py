"""Weighted reciprocal-rank fusion (Cormack et al. 2009) of several rankings.

fused(d) = sum over retrievers r of weight_r / (rrf_k + rank_r(d)), ranks starting at 1; a document
missing from a ranking gets nothing from it. Ties are broken by the first ranking that has the document
(dense before bm25), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def rrf(rankings: Mapping[str, Sequence[tuple[str, float]]], weights: Mapping[str, float],
        rrf_k: int = 60) -> list[tuple[str, float, dict[str, float]]]:
    """Fuse rankings {name: [(id, score), ...best first]} -> [(id, fused score, {name: raw score})], best first."""
    if rrf_k < 0:
        raise ValueError(f"rrf_k must be >= 0. Currently, it is {rrf_k}")
    fused: dict[str, float] = {}
    raw: dict[str, dict[str, float]] = {}
    order: dict[str, tuple[int, int]] = {}
    for r, (name, ranking) in enumerate(rankings.items()):
        weight = weights.get(name, 1.0)
        for rank, (doc, score) in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (rrf_k + rank)
            raw.setdefault(doc, {})[name] = score
            order.setdefault(doc, (r, rank))
    ids = sorted(fused, key=lambda d: (-fused[d], order[d]))
    return [(d, fused[d], raw[d]) for d in ids]
