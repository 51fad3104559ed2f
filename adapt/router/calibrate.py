"""Pick the router's P(<RET>) threshold on a cost-aware objective and store it in the model card.

The objective (adapt/router/objective.py): the lowest retrieval rate whose quality is within a
tolerance (default 1 point) of the best, measured on two dev sets together, neither ever trained on:
- PopQA router-dev: the held-out third of PopQA's train half (`adapt.router.data.is_router_dev`);
- the committed workloads' dev split (evals/workloads/{fictional,reference}/dev.jsonl).
Before issue 17 the threshold maximised PopQA accuracy alone and the router retrieved for 98% of
PopQA and for greetings and arithmetic.

Costs (shared 2-core CPU): P(<RET>) is one forward pass per question (adapt/router/decision.py); the
base model's closed-book answers to the PopQA dev questions are generated once and cached for every
adapter (default ~/.local/share/adaptrag/router/<model>/popqa-closed/dev.closed.jsonl). A retrieved PopQA
question counts as right when its given passage contains an answer alias: a proxy, because generating
277 grounded answers costs about an hour on the shared machine.

    adaptrag adapt calibrate --model smollm2-135m [--calibrate-limit N] [--tolerance 0.01]

The card also records how well P(<RET>) ranks the questions the base model answers right closed-book
(AUROC, 1 = every known question below every unknown one): the router's skill apart from the threshold.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from adapt.router import decision, measure, objective
from adapt.router.measure import closed_cache
from adapt.router.train import read_card, write_card
from evals.metrics import alias_match, auroc
from rag.decide import ROUTER_ADAPTER


def calibrate(generator: Any, adapter_dir: str | Path, data_dir: str | Path, limit: int = 0,
              cache_dir: str | Path | None = None, batch_size: int = 16,
              tolerance: float = objective.TOLERANCE) -> dict[str, Any]:
    """Choose the threshold on `limit` router-dev questions (0 = all) and the workload dev split.

    Returns:
        The updated card (also written to adapter_dir/router_card.json).
    """
    adapter_dir = Path(adapter_dir).expanduser()
    card = read_card(adapter_dir)
    rows = measure.popqa_rows(Path(data_dir).expanduser() / "popqa" / "dev.jsonl", "dev", limit)
    cache = Path(cache_dir).expanduser() if cache_dir else closed_cache(generator.info.name)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    measure.run_part(generator, "closed", rows, cache / "dev.closed.jsonl", batch_size)
    with (cache / "dev.closed.jsonl").open(encoding="utf-8") as f:
        closed = {r["id"]: r for r in map(json.loads, f)}
    generator.load_adapter(ROUTER_ADAPTER, str(adapter_dir))
    p_popqa = decision.first_position_p_ret(generator, [r["question"] for r in rows], ROUTER_ADAPTER, batch_size)
    cases = decision.workload_cases("dev")
    p_work = decision.first_position_p_ret(generator, [c["question"] for c in cases], ROUTER_ADAPTER, batch_size)
    known = [alias_match(closed[str(r["id"])]["text"], r["answers"]) for r in rows]
    popqa = [objective.PopQAItem(p, k, alias_match(r.get("passage") or "", r["answers"]))
             for r, p, k in zip(rows, p_popqa, known, strict=True)]
    work = [objective.WorkloadItem(p, c["kind"]) for c, p in zip(cases, p_work, strict=True)]
    points = objective.curve(popqa, work)
    chosen = objective.choose(points, tolerance)
    skill = auroc([-p for p in p_popqa], known)
    card["threshold"] = chosen.threshold
    card["answer_with_adapter"] = bool(card.get("settings", {}).get("context_examples", False))
    card["calibration"] = {
        "objective": "lowest retrieval rate (mean of PopQA and workload rates) whose quality (mean of PopQA "
                     "routed accuracy and workload decision accuracy) is within the tolerance of the best; "
                     "ties -> higher quality (adapt/router/objective.py)",
        "tolerance": tolerance,
        "sets": {
            "popqa": f"{len(rows)} router-dev questions (PopQA train half, never trained on); not retrieved: the "
                     "base model's closed-book answer; retrieved: right iff the given passage contains an alias",
            "workload": f"{len(cases)} cases of evals/workloads/{{fictional,reference}}/dev.jsonl; decision accuracy "
                        f"= mean over kinds (retrieve for {', '.join(decision.RETRIEVE_KINDS)}; skip for "
                        f"{', '.join(decision.MEMORY_KINDS)})",
        },
        "chosen": chosen.as_dict(),
        "best_quality": round(max(p.quality for p in points), 4),
        "always_retrieve": points[0].as_dict(),
        "curve": objective.thinned(points),
        "workload_dev_by_kind": decision.by_kind(cases, p_work, chosen.threshold),
        "auroc_closed_book_correct": {"router_p_ret": None if skill is None else round(skill, 3)},
        "seconds": round(time.perf_counter() - t0, 1),
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
