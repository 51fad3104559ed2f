"""The router's cost-aware calibration objective: the fewest retrievals whose quality is near the best.

Issue 17: an adaptive system pays only if it skips retrieval where memory suffices. Maximising
PopQA accuracy alone picked a threshold that retrieved for 98% of questions (and for greetings and
arithmetic), because on long-tail PopQA retrieving is never much worse. So the threshold is chosen
on two dev sets together:

- PopQA router-dev (the held-out third of PopQA's train half): accuracy of the routed system, a
  question counting as right when it is not retrieved and the base model's closed-book answer is
  right, or when it is retrieved and its given passage contains an answer alias;
- the committed workloads' dev split (evals/workloads/{fictional,reference}/dev.jsonl): decision
  accuracy, the mean over kinds of the share decided as the kind wants (skip for self_contained and
  known, retrieve for the other five), so small kinds count as much as large ones.

quality(t) = mean of the two; retrieval(t) = mean of the two retrieval rates. The chosen threshold
is the one with the lowest retrieval among those whose quality is within `tolerance` (default 1
point) of the best; ties go to the higher quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from adapt.router.decision import RETRIEVE_KINDS

TOLERANCE = 0.01  # quality points (0-1 scale) we give up for fewer retrievals


@dataclass(frozen=True)
class PopQAItem:
    p_ret: float
    closed_correct: bool  # the base model's closed-book answer contains an alias
    retrieved_correct: bool  # proxy: the given passage contains an alias


@dataclass(frozen=True)
class WorkloadItem:
    p_ret: float
    kind: str


@dataclass(frozen=True)
class Point:
    threshold: float
    quality: float
    retrieval: float
    popqa_accuracy: float
    popqa_retrieval: float
    workload_decision_accuracy: float
    workload_retrieval: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def point(t: float, popqa: Sequence[PopQAItem], workload: Sequence[WorkloadItem]) -> Point:
    """The objective at threshold `t` (retrieve iff P(<RET>) >= t)."""
    p_acc = sum(x.retrieved_correct if x.p_ret >= t else x.closed_correct for x in popqa) / len(popqa)
    p_ret = sum(x.p_ret >= t for x in popqa) / len(popqa)
    per_kind: dict[str, list[bool]] = {}
    for x in workload:
        per_kind.setdefault(x.kind, []).append((x.p_ret >= t) == (x.kind in RETRIEVE_KINDS))
    w_acc = sum(sum(v) / len(v) for v in per_kind.values()) / len(per_kind)
    w_ret = sum(x.p_ret >= t for x in workload) / len(workload)
    return Point(t, (p_acc + w_acc) / 2, (p_ret + w_ret) / 2, p_acc, p_ret, w_acc, w_ret)


def curve(popqa: Sequence[PopQAItem], workload: Sequence[WorkloadItem]) -> list[Point]:
    """The objective at every distinct P(<RET>) of either set (plus never-retrieve), lowest threshold first."""
    if not popqa or not workload:
        raise ValueError(f"calibration needs both sets; got {len(popqa)} PopQA and {len(workload)} workload items")
    ts = sorted({0.0, *(x.p_ret for x in popqa), *(x.p_ret for x in workload)}) + [1.0 + 1e-9]
    return [point(t, popqa, workload) for t in ts]


def choose(points: Sequence[Point], tolerance: float = TOLERANCE) -> Point:
    """Lowest retrieval among points within `tolerance` of the best quality (ties: higher quality)."""
    best = max(p.quality for p in points)
    eligible = [p for p in points if p.quality >= best - tolerance - 1e-12]
    return min(eligible, key=lambda p: (p.retrieval, -p.quality, p.threshold))


def thinned(points: Sequence[Point], step: float = 0.02) -> list[dict[str, float]]:
    """The curve on a grid of thresholds (for the card): the first point at or above each grid value."""
    out, grid = [], 0.0
    for p in points:
        if p.threshold >= grid:
            out.append(p.as_dict())
            while grid <= p.threshold:
                grid += step
    return out
