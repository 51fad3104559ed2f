"""The router's retrieval decision alone: P(<RET>) at the first position, batched, one forward pass.

Measuring the decision does not need the answer: rag/decide.py reads P(<RET>) from the first
generated position, and the decision is P(<RET>) >= threshold. A left-padded batch of prompts
gives every question's first-position distribution in one forward pass (about 20x cheaper than
generating 20 tokens), so old and new adapters can be compared on whole workloads and PopQA halves
on the shared 2-core machine.

Workload cases (evals/workloads/<name>/<split>.jsonl) carry a `kind`; the router should skip retrieval
for MEMORY_KINDS and retrieve for RETRIEVE_KINDS (issue 17's targets: <= 30% retrieval on
self_contained, <= 60% on known, >= 90% on the other five kinds).

    python -m adapt.router.decision --adapter old=DIR --adapter new=DIR --split test \\
        --out runs/router/decision.json [--popqa ../shared/data/popqa/dev.jsonl --popqa-eval 200]

With --popqa, it also reports the AUROC of P(<RET>) for the base model's closed-book correctness on
the first N eval-half PopQA questions (closed-book answers cached by `python -m adapt.router.measure
--parts closed`, in ~/.local/share/adaptrag/router/<model>/popqa-closed by default).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag import prompts
from rag.decide import TOP_LOGPROBS, ret_probability

MEMORY_KINDS = ("self_contained", "known")
RETRIEVE_KINDS = ("document", "no_conflict", "unanswerable", "memory_conflict", "document_conflict")
TARGETS = {"self_contained": ("<=", 0.30), "known": ("<=", 0.60)} | {k: (">=", 0.90) for k in RETRIEVE_KINDS}
WORKLOADS_DIR = Path(__file__).resolve().parents[2] / "evals" / "workloads"


def workload_cases(split: str, names: Sequence[str] = ("fictional", "reference"),
                   folder: str | Path = WORKLOADS_DIR) -> list[dict[str, Any]]:
    """Cases of the committed workloads' `split` (dev or test), in file order."""
    out = []
    for name in names:
        with (Path(folder) / name / f"{split}.jsonl").open(encoding="utf-8") as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


def first_position_p_ret(generator: Any, questions: Sequence[str], adapter: str | None,
                         batch_size: int = 16) -> list[float]:
    """P(<RET>) for each question, as rag/decide.py computes it (top-20 log-probs, raw distribution).

    `adapter`: a name registered with generator.load_adapter (the in-process hf backend).
    """
    import torch

    from rag.generators.common import token_text

    tok = generator.tokenizer
    rendered = [generator.render_chat(prompts.closed_book(q, router=True)) for q in questions]
    side, tok.padding_side = tok.padding_side, "left"
    out: list[float] = []
    try:
        for i in range(0, len(rendered), batch_size):
            enc = tok(rendered[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
            # left padding: positions must count real tokens only, as generate() does
            pos = (enc.attention_mask.cumsum(-1) - 1).clamp(min=0)
            with generator.adapter_applied(adapter), torch.inference_mode():
                logits = generator.model(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                                         position_ids=pos, logits_to_keep=1).logits[:, -1].float()
            logp = torch.log_softmax(logits, dim=-1)
            vals, idx = torch.topk(logp, TOP_LOGPROBS, dim=-1)
            for row_v, row_i in zip(vals.tolist(), idx.tolist(), strict=True):
                top: dict[str, float] = {}
                for v, j in zip(row_v, row_i, strict=True):
                    text = token_text(tok, j)
                    top[text] = max(v, top.get(text, -math.inf))
                out.append(ret_probability(top))
    finally:
        tok.padding_side = side
    return out


def by_kind(cases: Sequence[dict[str, Any]], p_ret: Sequence[float], threshold: float) -> dict[str, Any]:
    """Per kind: n, retrieval rate at `threshold`, median P(<RET>), and whether issue 17's target holds."""
    out: dict[str, Any] = {}
    for kind in (*MEMORY_KINDS, *RETRIEVE_KINDS):
        ps = [p for c, p in zip(cases, p_ret, strict=True) if c["kind"] == kind]
        if not ps:
            continue
        rate = sum(p >= threshold for p in ps) / len(ps)
        op, bound = TARGETS[kind]
        out[kind] = {"n": len(ps), "retrieval_rate": round(rate, 4), "median_p_ret": round(statistics.median(ps), 4),
                     "target": f"{op} {bound:.0%}", "met": rate <= bound if op == "<=" else rate >= bound}
    return out


def decision_accuracy(cases: Sequence[dict[str, Any]], p_ret: Sequence[float], threshold: float) -> float:
    """Mean over kinds of the share of cases decided as the kind wants (retrieve or not)."""
    per_kind: dict[str, list[bool]] = {}
    for c, p in zip(cases, p_ret, strict=True):
        per_kind.setdefault(c["kind"], []).append((p >= threshold) == (c["kind"] in RETRIEVE_KINDS))
    return sum(sum(v) / len(v) for v in per_kind.values()) / len(per_kind)


def popqa_auroc(generator: Any, adapter: str, args: argparse.Namespace, batch_size: int) -> dict[str, Any]:
    """AUROC of -P(<RET>) for "the base model's closed-book answer is right" on eval-half PopQA questions."""
    from adapt.router.measure import closed_cache, popqa_rows
    from evals.metrics import alias_match, auroc

    folder = Path(args.closed_cache) if args.closed_cache else closed_cache(generator.info.name)
    with (folder / "eval.closed.jsonl").open(encoding="utf-8") as f:
        closed = {r["id"]: r for r in map(json.loads, f)}
    rows = [r for r in popqa_rows(args.popqa, "eval", args.popqa_eval) if str(r["id"]) in closed]
    ps = first_position_p_ret(generator, [r["question"] for r in rows], adapter, batch_size)
    known = [alias_match(closed[str(r["id"])]["text"], r["answers"]) for r in rows]
    value = auroc([-p for p in ps], known)
    return {"n": len(rows), "closed_book_correct": sum(known), "auroc": None if value is None else round(value, 3),
            "median_p_ret": round(statistics.median(ps), 4) if ps else None}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--adapter", action="append", required=True, metavar="[NAME=]DIR",
                   help="router adapter folder; repeat to compare (e.g. old=DIR new=DIR)")
    p.add_argument("--split", default="test", help="workload split: dev or test")
    p.add_argument("--threshold", type=float, help="default: each adapter card's threshold")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--out", required=True, help="JSON report (P(<RET>) per case and the per-kind table)")
    p.add_argument("--popqa", help="PopQA dev.jsonl: also the AUROC on the eval half")
    p.add_argument("--popqa-eval", type=int, default=200, help="first N eval-half questions (file order)")
    p.add_argument("--closed-cache", help="folder with eval.closed.jsonl (default: adapt calibrate's cache)")
    args = p.parse_args(argv)
    from adapt.router.train import read_card
    from rag.config import ModelConfig
    from rag.generators import make_generator

    gen = make_generator(ModelConfig(name=args.model, threads=args.threads))
    cases = workload_cases(args.split)
    report: dict[str, Any] = {"split": args.split, "n": len(cases), "adapters": {}}
    for spec in args.adapter:
        name, _, folder = spec.rpartition("=")
        name = name or Path(folder).name
        gen.load_adapter(name, folder)
        ps = first_position_p_ret(gen, [c["question"] for c in cases], name, args.batch_size)
        t = args.threshold if args.threshold is not None else float(read_card(folder).get("threshold") or 0.5)
        report["adapters"][name] = {"folder": folder, "threshold": t, "by_kind": by_kind(cases, ps, t),
                                    "decision_accuracy": round(decision_accuracy(cases, ps, t), 4),
                                    "p_ret": {c["id"]: round(x, 5) for c, x in zip(cases, ps, strict=True)}}
        if args.popqa:
            report["adapters"][name]["popqa_eval"] = popqa_auroc(gen, name, args, args.batch_size)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({n: {"threshold": a["threshold"], "by_kind": a["by_kind"]}
                      for n, a in report["adapters"].items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
