"""Measure when-to-retrieve policies on PopQA, batched (the CPU-budget twin of `adaptrag eval popqa`).

Per question, three generations are computed once and cached (resumable JSONL per part):
- closed: the base model's closed-book answer (rag.prompts.closed_book) and its mean token log-prob;
- grounded: the base model's answer from the question's given PopQA passage (rag.prompts.grounded);
- router: the router adapter's answer to Adapt-LLM's prompt with <RET> suppressed, and P(<RET>) at
  the first position from the raw distribution (one call, exactly as rag/decide.py does).
Every policy is then a choice per question between `closed`/`router` (no retrieval) and `grounded`
(retrieval), with the same passages for every mode:
never | always | popularity (s_pop < t) | confidence (mean log-prob < t) | adaptive (P(<RET>) >= t) | oracle.
Thresholds are tuned on the router-dev questions (PopQA train half, never trained on) and applied to
the eval half.

    python -m adapt.router.measure --model smollm2-135m --data ../shared/data/popqa/dev.jsonl \\
        --dev 100 --eval 300 --out runs/router-smollm2 [--parts closed,grounded,router]

Generation is batched with left padding (greedy), so texts can differ in rare ties from the
one-at-a-time generator; the thresholds and P(<RET>) use the same first-position distribution as
rag/decide.py.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adapt.router.data import is_router_dev
from evals.data import bucket, popqa_split
from evals.metrics import alias_match, exact_match, token_f1
from rag import prompts
from rag.decide import ROUTER_ADAPTER, ret_probability
from rag.types import Passage

PARTS = ("closed", "grounded", "router")
NEW_TOKENS = 20


def popqa_rows(path: str | Path, split: str, limit: int) -> list[dict[str, Any]]:
    """`split`: eval (the eval half) or dev (router-dev questions of the train half); file order."""
    rows = [json.loads(line) for line in Path(path).expanduser().open(encoding="utf-8") if line.strip()]
    if split == "eval":
        rows = [r for r in rows if popqa_split(str(r["id"])) == "eval"]
    else:
        rows = [r for r in rows if popqa_split(str(r["id"])) == "train" and is_router_dev(str(r["id"]))]
    return rows[:limit] if limit else rows


def messages_for(part: str, row: dict[str, Any]):
    if part == "closed":
        return prompts.closed_book(row["question"])
    if part == "router":
        return prompts.closed_book(row["question"], router=True)
    passage = Passage(id=str(row["id"]), source="popqa", title="", text=row["passage"], start=0,
                      end=len(row["passage"]), score=1.0)
    return prompts.grounded(row["question"], [passage])


def batched_generate(model: Any, tokenizer: Any, rendered: Sequence[str], new_tokens: int,
                     suppress: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Greedy texts, mean token log-prob and the first-position top-20 log-probs of a batch.

    `suppress`: strings whose first token is never generated; log-probs stay the raw distribution
    (as the generator backends report them).
    """
    import torch

    from rag.generators.common import token_text

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    try:
        enc = tokenizer(list(rendered), return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            banned = [tokenizer(x, add_special_tokens=False).input_ids[0] for x in suppress]
            out = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False, pad_token_id=pad,
                                 output_logits=True, return_dict_in_generate=True, suppress_tokens=banned or None)
    finally:
        tokenizer.padding_side = side
    eos = {tokenizer.eos_token_id, pad}
    new = out.sequences[:, enc.input_ids.shape[1]:]
    logps = [torch.log_softmax(step.float(), dim=-1) for step in out.logits]
    results = []
    for i in range(new.shape[0]):
        ids, lps = [], []
        for t in range(new.shape[1]):
            tok = int(new[i, t])
            if tok in eos:
                break
            ids.append(tok)
            lps.append(float(logps[t][i, tok]))
        vals, idx = torch.topk(logps[0][i], 20)
        top: dict[str, float] = {}
        for v, j in zip(vals.tolist(), idx.tolist()):
            text = token_text(tokenizer, j)
            top[text] = max(v, top.get(text, -math.inf))
        results.append({"text": tokenizer.decode(ids, skip_special_tokens=True).strip(),
                        "mean_logprob": sum(lps) / len(lps) if lps else -math.inf, "top0": top})
    return results


def run_part(generator: Any, part: str, rows: Sequence[dict[str, Any]], out: Path, batch_size: int = 8) -> None:
    """Compute one part for every row not yet in out (append-only JSONL)."""
    from tqdm import tqdm

    done = {json.loads(line)["id"] for line in out.open(encoding="utf-8")} if out.exists() else set()
    todo = [r for r in rows if str(r["id"]) not in done]
    # The hf generator applies a loaded adapter to generator.model through hooks while `adapter_applied` is
    # held; batched decoding needs the model itself, so it runs inside that block.
    model = generator.model
    with generator.adapter_applied(ROUTER_ADAPTER if part == "router" else None), out.open("a", encoding="utf-8") as f:
        for i in tqdm(range(0, len(todo), batch_size), desc=f"{out.stem}", unit="batch"):
            chunk = todo[i:i + batch_size]
            t0 = time.perf_counter()
            rendered = [generator.render_chat(messages_for(part, r)) for r in chunk]
            suppress = (prompts.RET_TOKEN,) if part == "router" else ()
            results = batched_generate(model, generator.tokenizer, rendered, NEW_TOKENS, suppress)
            for r, res in zip(chunk, results, strict=True):
                rec = {"id": str(r["id"]), "text": res["text"], "mean_logprob": res["mean_logprob"],
                       "ms": (time.perf_counter() - t0) * 1000 / len(chunk)}
                if part == "router":
                    rec["p_ret"] = ret_probability(res["top0"])
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()


def load_records(rows: Sequence[dict[str, Any]], folder: Path, split: str) -> list[dict[str, Any]]:
    parts = {}
    for part in PARTS:
        path = folder / f"{split}.{part}.jsonl"
        parts[part] = {json.loads(x)["id"]: json.loads(x) for x in path.open()} if path.exists() else {}
    out = []
    for r in rows:
        qid = str(r["id"])
        if all(qid in parts[p] for p in PARTS):
            out.append({"id": qid, "answers": r["answers"], "s_pop": r.get("s_pop"),
                        **{p: parts[p][qid] for p in PARTS}})
    return out


# -- policies -------------------------------------------------------------------------------------

Policy = Callable[[dict[str, Any]], tuple[bool, str]]  # record -> (retrieved, answer text)


def _choose(rec: dict[str, Any], retrieve: bool, memory: str = "closed") -> tuple[bool, str]:
    return retrieve, rec["grounded"]["text"] if retrieve else rec[memory]["text"]


def policies(t_pop: float, t_conf: float, t_ret: float) -> dict[str, Policy]:
    return {
        "never": lambda r: _choose(r, False),
        "always": lambda r: _choose(r, True),
        "popularity": lambda r: _choose(r, (r["s_pop"] or 0) < t_pop),
        "confidence": lambda r: _choose(r, r["closed"]["mean_logprob"] < t_conf),
        "adaptive": lambda r: _choose(r, r["router"]["p_ret"] >= t_ret, memory="router"),
        "oracle": lambda r: _choose(r, not alias_match(r["closed"]["text"], r["answers"])),
    }


def metrics(records: Sequence[dict[str, Any]], policy: Policy) -> dict[str, Any]:
    rows = [(r, *policy(r)) for r in records]

    def summary(sel) -> dict[str, Any]:
        n = len(sel)
        if not n:
            return {"n": 0}
        return {
            "n": n,
            "accuracy": round(sum(alias_match(a, r["answers"]) for r, _, a in sel) / n, 4),
            "exact_match": round(sum(exact_match(a, r["answers"]) for r, _, a in sel) / n, 4),
            "f1": round(sum(token_f1(a, r["answers"]) for r, _, a in sel) / n, 4),
            "retrieval_rate": round(sum(ret for _, ret, _ in sel) / n, 4),
        }

    out = summary(rows)
    out["accuracy_retrieved"] = summary([x for x in rows if x[1]]).get("accuracy")
    out["accuracy_not_retrieved"] = summary([x for x in rows if not x[1]]).get("accuracy")
    out["by_popularity"] = {b: summary([x for x in rows if bucket(x[0]["s_pop"]) == b])
                            for b in ("<1k", "1k-10k", "10k-100k", ">100k")}
    return out


def tune(records: Sequence[dict[str, Any]], score: Callable[[dict[str, Any]], float], retrieve_if_high: bool,
         memory: str = "closed") -> float:
    """Threshold with the best accuracy on `records`; ties go to the lower retrieval rate."""
    values = sorted({score(r) for r in records})
    candidates = [-math.inf, math.inf, *values]
    best: tuple[float, float, float] | None = None
    for t in candidates:
        hits, retrieved = 0, 0
        for r in records:
            ret = score(r) >= t if retrieve_if_high else score(r) < t
            answer = r["grounded"]["text"] if ret else r[memory]["text"]
            hits += alias_match(answer, r["answers"])
            retrieved += ret
        key = (hits, -retrieved, t)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return best[2]


def thresholds(dev: Sequence[dict[str, Any]]) -> dict[str, float]:
    return {
        "popularity": tune(dev, lambda r: r["s_pop"] or 0.0, retrieve_if_high=False),
        "confidence": tune(dev, lambda r: r["closed"]["mean_logprob"], retrieve_if_high=False),
        "adaptive": tune(dev, lambda r: r["router"]["p_ret"], retrieve_if_high=True, memory="router"),
    }


def report(dev: Sequence[dict[str, Any]], ev: Sequence[dict[str, Any]], t: dict[str, float]) -> dict[str, Any]:
    pols = policies(t["popularity"], t["confidence"], t["adaptive"])
    return {
        "n_dev": len(dev), "n_eval": len(ev), "thresholds": t,
        "eval": {name: metrics(ev, pol) for name, pol in pols.items()},
        "dev": {name: metrics(dev, pol) for name, pol in pols.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--adapter", help="router adapter folder (default adapt/router/adapters/<model>)")
    p.add_argument("--data", default="../shared/data/popqa/dev.jsonl")
    p.add_argument("--dev", type=int, default=100, help="router-dev questions to tune thresholds on")
    p.add_argument("--eval", type=int, default=300, help="eval-half questions to report on")
    p.add_argument("--out", required=True, help="folder for the cached generations and report.json")
    p.add_argument("--parts", default=",".join(PARTS), help="which generations to (re)compute")
    p.add_argument("--splits", default="dev,eval")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = {"dev": popqa_rows(args.data, "dev", args.dev), "eval": popqa_rows(args.data, "eval", args.eval)}
    if not args.report_only:
        from rag.config import ModelConfig
        from rag.decide import ADAPTERS_DIR
        from rag.generators import make_generator

        gen = make_generator(ModelConfig(name=args.model, threads=args.threads))
        parts = [x for x in args.parts.split(",") if x]
        if "router" in parts:
            gen.load_adapter(ROUTER_ADAPTER, args.adapter or str(ADAPTERS_DIR / Path(args.model).name))
        for split in args.splits.split(","):
            for part in parts:
                run_part(gen, part, rows[split], out / f"{split}.{part}.jsonl", args.batch_size)
    dev, ev = load_records(rows["dev"], out, "dev"), load_records(rows["eval"], out, "eval")
    result = report(dev, ev, thresholds(dev))
    (out / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("n_dev", "n_eval", "thresholds")} |
                     {"eval": {m: {k: v for k, v in x.items() if k != "by_popularity"}
                               for m, x in result["eval"].items()}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def closed_cache(model: str) -> Path:
    """Where `model`'s closed-book PopQA answers live (they do not depend on the adapter, but they do on the base
    model: one folder per model, so one model's answers never label another's)."""
    from rag.config import default_data_home

    return default_data_home() / "router" / Path(model).name / "popqa-closed"
