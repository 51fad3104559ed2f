"""Pick the router's P(<RET>) threshold on held-out dev questions and store it in the model card.

Dev questions: the router-dev third of PopQA's train half (`adapt.router.data.is_router_dev`),
never used for training and never part of the eval half. For each, the base model's closed-book
answer, its grounded answer from the given passage and the router's P(<RET>) + direct answer are
computed (adapt/router/measure.py, cached and resumable); the threshold that maximises the routed
system's accuracy is chosen (ties: the one that retrieves least).

    adaptrag adapt calibrate --model smollm2-135m [--calibrate-limit N]   (default: all 277 router-dev questions)

The card also records how well P(<RET>) ranks the questions the base model answers right closed-book
(AUROC, 1 = every known question below every unknown one): the router's skill apart from the threshold.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from adapt.router import measure
from adapt.router.train import read_card, write_card
from evals.metrics import alias_match, auroc
from rag.config import default_data_home
from rag.decide import ROUTER_ADAPTER


def calibrate(generator: Any, adapter_dir: str | Path, data_dir: str | Path, limit: int = 0,
              cache_dir: str | Path | None = None, batch_size: int = 8) -> dict[str, Any]:
    """Tune the threshold on `limit` router-dev questions (0 = all); returns the updated card."""
    adapter_dir = Path(adapter_dir).expanduser()
    card = read_card(adapter_dir)
    rows = measure.popqa_rows(Path(data_dir).expanduser() / "popqa" / "dev.jsonl", "dev", limit)
    cache = Path(cache_dir) if cache_dir else default_data_home() / "router" / adapter_dir.name / "calibration"
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    generator.load_adapter(ROUTER_ADAPTER, str(adapter_dir))
    (cache / "dev.router.jsonl").unlink(missing_ok=True)  # the router part belongs to this adapter only
    for part in ("router", "closed", "grounded"):
        measure.run_part(generator, part, rows, cache / f"dev.{part}.jsonl", batch_size)
    generator._select_adapter(None)  # leave the generator as we found it: base model active
    dev = measure.load_records(rows, cache, "dev")
    t = measure.thresholds(dev)
    pols = measure.policies(t["popularity"], t["confidence"], t["adaptive"])
    summary = {name: {k: v for k, v in measure.metrics(dev, pols[name]).items() if k != "by_popularity"}
               for name in ("never", "always", "adaptive", "confidence", "popularity", "oracle")}
    card["threshold"] = float(min(max(t["adaptive"], 0.0), 1.0 + 1e-9))
    card["answer_with_adapter"] = bool(card.get("settings", {}).get("context_examples", False))
    card["calibration"] = {
        "questions": len(dev), "split": "PopQA train half, router-dev third (never trained on)",
        "objective": "max accuracy of the routed system; ties -> fewer retrievals",
        "retrieved_answer": "base model, grounded prompt, the question's given PopQA passage",
        "baseline_thresholds": {"popularity_s_pop": t["popularity"], "confidence_mean_logprob": t["confidence"]},
        "dev_metrics": summary, "seconds": round(time.perf_counter() - t0, 1),
        "auroc_closed_book_correct": ranking_skill(dev),
    }
    write_card(adapter_dir, card)
    return card


def ranking_skill(dev: list[dict[str, Any]]) -> dict[str, float | None]:
    """AUROC for "the base model's closed-book answer is right" of each when-to-retrieve score (higher = knows)."""
    known = [alias_match(r["closed"]["text"], r["answers"]) for r in dev]
    scores = {"router_p_ret": [-r["router"]["p_ret"] for r in dev],
              "confidence_mean_logprob": [r["closed"]["mean_logprob"] for r in dev],
              "popularity_s_pop": [r["s_pop"] or 0.0 for r in dev]}
    return {name: None if (a := auroc(s, known)) is None else round(a, 3) for name, s in scores.items()}
