"""Fitting the conflict check's calibration: logistic coefficients per kind, then the flag thresholds.

Both come from the "dev" half of the cases (`evals.conflict_cases.split_of`, a hash of the fact), so the
"test" half measures them unseen. The result is the JSON that `conflict.calibration` names
(rag/conflict_calibration.json ships one); `adaptrag eval conflicts --fit --calibration-out FILE` writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.conflict_cases import split_of
from evals.conflict_metrics import Record, summarize
from rag.conflict import KINDS


def fit_logistic(rows: Sequence[dict[str, float]], labels: Sequence[bool], names: Sequence[str],
                 l2: float = 0.1, steps: int = 3000, lr: float = 0.5) -> dict[str, float]:
    """L2-regularised logistic regression by gradient descent (numpy; a few hundred rows)."""
    import numpy as np

    x = np.array([[row[n] for n in names] for row in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]] / len(y)
        w -= lr * grad
    return {"bias": round(float(w[0]), 4), **{n: round(float(v), 4) for n, v in zip(names, w[1:])}}


# Thresholds are chosen on the dev half for the best mean F1 of the two kinds with at most this share of
# agreeing cases flagged: half the 10% false-alarm floor, leaving room for the held-out half.
FALSE_ALARM_TARGET = 0.05
THRESHOLD_GRID = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.30 ... 0.95


def fit_calibration(records: Sequence[Record], checker: Any) -> dict[str, Any]:
    """Logistic coefficients per kind, then flag thresholds, all from the dev half of `records`.

    `checker` (a ConflictChecker) re-decides the recorded features under each candidate threshold pair.
    """
    from rag.conflict import BETWEEN_FEATURES, MEMORY_FEATURES

    dev = [r for r in records if split_of(r.case.group) == "dev"]
    # memory: conflict vs agreeing evidence, on single-passage cases; between: every case with two answers.
    mem = [r for r in dev if r.case.label in ("none", "memory_vs_documents")]
    btw = [r for r in dev if r.features.get("grounded_pair") is not None]
    calib: dict[str, Any] = {
        "memory_vs_documents": fit_logistic([r.features for r in mem],
                                            [r.case.label == "memory_vs_documents" for r in mem], MEMORY_FEATURES),
        "between_documents": fit_logistic([r.features for r in btw],
                                          [r.case.label == "between_documents" for r in btw], BETWEEN_FEATURES),
    }
    calib["thresholds"] = fit_thresholds(dev, checker, calib)
    calib["fitted_on"] = {"cases": len(dev), "memory_rows": len(mem), "between_rows": len(btw),
                          "split": "dev half of sha256('conflicts:' + question) % 2",
                          "threshold_rule": f"best mean F1 with false alarms <= {FALSE_ALARM_TARGET} on the dev half",
                          "command": "adaptrag eval conflicts --data ../shared/data/popqa/dev.jsonl --fit "
                                      "--calibration-out rag/conflict_calibration.json"}
    return calib


def fit_thresholds(dev: Sequence[Record], checker: Any, calib: dict[str, Any]) -> dict[str, float]:
    """The (memory, between) threshold pair of THRESHOLD_GRID with the best mean F1 on `dev` among pairs
    whose false-alarm rate is at most FALSE_ALARM_TARGET (the lowest false-alarm pair if none is)."""
    from dataclasses import replace as dc_replace

    saved = checker.calibration
    best: tuple[tuple[float, float], dict[str, float]] | None = None
    try:
        for tm in THRESHOLD_GRID:
            for tb in THRESHOLD_GRID:
                checker.calibration = {**calib, "thresholds": {"memory_vs_documents": tm, "between_documents": tb}}
                decided = []
                for r in dev:
                    ms, bs, mf, bf = checker.decide(r.features)
                    kind = "between_documents" if bf else "memory_vs_documents" if mf else None
                    decided.append(dc_replace(r, memory_score=ms, between_score=bs, flagged=kind is not None,
                                              kind=kind))
                s = summarize(decided)
                f1 = sum(s[k]["f1"] or 0.0 for k in KINDS) / len(KINDS)
                fa = s["false_alarm_rate_any"] or 0.0
                key = (1.0 if fa <= FALSE_ALARM_TARGET else -fa, f1)
                if best is None or key > best[0]:
                    best = (key, {"memory_vs_documents": tm, "between_documents": tb})
    finally:
        checker.calibration = saved
    assert best is not None
    return best[1]
