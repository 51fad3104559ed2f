"""DyPRAG benchmark on held-out PopQA: standard RAG vs DyPRAG-inject vs DyPRAG-combine (and closed book).

    adaptrag dyprag bench --data ../shared/data --translator FILE --limit 300 --out /tmp/dyprag-bench.json

Questions: the "eval" half of popqa/dev.jsonl (`evals.data.select(split="eval")`, the order every evaluation
uses), so none of them was used to build teachers. Every mode gets the same given passage (the Contriever
top-1 passage shipped with the question). Prompts are the answer path's own (`rag.prompts`):
- closed:   closed-book prompt, no deltas
- standard: grounded prompt with the passage, no deltas
- inject:   closed-book prompt, the translator's deltas injected (weights only)
- combine:  grounded prompt with the passage, deltas injected
Greedy decoding with the in-process transformers model; metrics from `evals.metrics` (PopQA alias accuracy,
EM, token F1). Added latency = passage encoding + translation + averaging (per question) and the generation time
difference with/without hooks. Per-question rows go to `<out>.rows.jsonl`; a rerun skips rows already there.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from evals.data import load_qa, select
from evals.metrics import alias_match, exact_match, latency_summary, token_f1
from rag import prompts
from rag.generators.hidden_states import base_model_sha256, load_base_model, passage_embeddings
from rag.generators.lora_hook import inject
from rag.inject import average_deltas

MODES = ("closed", "standard", "inject", "combine")
INJECTED = ("inject", "combine")  # the modes that carry translated deltas (and so an injection scale)


def _generate(model: Any, tok: Any, messages, max_new_tokens: int) -> tuple[str, float]:
    chat = [{"role": m.role, "content": m.content} for m in messages]
    prompt = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    t0 = time.perf_counter()
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tok.pad_token_id or tok.eos_token_id)
    ms = (time.perf_counter() - t0) * 1000
    text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    return text.strip().split("\n")[0].strip(), ms


def _label(mode: str, scale: float | None) -> str:
    """Report name of a mode: inject/combine carry their injection scale unless it is 1 (the reference's)."""
    return mode if scale is None or scale == 1.0 else f"{mode}@{scale:g}"


def bench_questions(data: str | Path, split: str, limit: int, manifest: Any | None) -> list[Any]:
    """eval: the PopQA eval half (never trained on). dev: the train half minus the translator's teacher passages,
    for choosing the injection scale; needs the manifest's list of training items to exclude them."""
    examples = load_qa(Path(data) / "popqa" / "dev.jsonl")
    if split == "eval":
        return select(examples, limit=limit, split="eval")
    if split != "dev":
        raise ValueError(f"unknown bench split {split!r}; allowed: eval, dev")
    items = (manifest.training.get("items") if manifest is not None else None)
    if items is None:
        raise ValueError("--split dev needs the translator manifest's training.items (the teacher passages) so "
                         "calibration questions are unseen; retrain with `adaptrag dyprag train`")
    seen = {i.split(":", 1)[1] for i in items if i.startswith("popqa:")}
    return [e for e in select(examples, split="train") if e.id not in seen][:limit or None]


def run_bench(model_name: str, translator_path: Path, data: str | Path, limit: int = 300,
              modes: Sequence[str] = ("standard", "inject", "combine"), max_new_tokens: int = 16,
              out: str | None = None, progress: bool = True, split: str = "eval",
              scales: Sequence[float] = (1.0,)) -> dict[str, Any]:
    """`scales`: injection scales to run inject/combine at (the passage's deltas are translated once)."""
    from tqdm import tqdm

    from rag.translator import load_translator

    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ValueError(f"unknown bench mode(s) {', '.join(bad)}; allowed: {', '.join(MODES)}")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model, tok = load_base_model(model_name)
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    translator = manifest = None
    if any(m in INJECTED for m in modes) or split == "dev":
        translator, manifest = load_translator(translator_path, expect_sha256=base_model_sha256(model_name),
                                               expect_model=model_name)
    examples = bench_questions(data, split, limit, manifest)
    rss_translator = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs = [(m, s) for m in modes for s in (scales if m in INJECTED else (None,))]
    rows_path = Path(out).with_suffix(".rows.jsonl") if out else None
    rows: dict[str, dict[str, Any]] = {}
    if rows_path and rows_path.exists():
        for line in rows_path.read_text().splitlines():
            r = json.loads(line)
            if r["mode"] in INJECTED:
                r.setdefault("scale", 1.0)  # rows written before scales existed
            rows[f"{r['id']}:{_label(r['mode'], r.get('scale'))}"] = r
    for ex in tqdm(examples, desc="dyprag bench", unit="question", disable=not progress):
        passage = ex.given_passages()[:1]
        generated, translate_ms = None, None
        for mode, scale in runs:
            key = f"{ex.id}:{_label(mode, scale)}"
            if key in rows:
                continue
            deltas = None
            if scale is not None:
                if generated is None:
                    t0 = time.perf_counter()
                    emb = torch.from_numpy(passage_embeddings(model, tok, [p.text for p in passage]))
                    with torch.no_grad():
                        generated = translator(emb)
                    translate_ms = (time.perf_counter() - t0) * 1000
                deltas = average_deltas(generated, translator.spec.rank, scale=scale)
            messages = prompts.grounded(ex.question, passage) if mode in ("standard", "combine") \
                else prompts.closed_book(ex.question)
            with inject(model, deltas):
                answer, gen_ms = _generate(model, tok, messages, max_new_tokens)
            row = {"id": ex.id, "mode": mode, "answer": answer, "gold": list(ex.answers),
                   "accuracy": alias_match(answer, ex.answers), "exact_match": exact_match(answer, ex.answers),
                   "f1": token_f1(answer, ex.answers), "generate_ms": round(gen_ms, 1),
                   "translate_ms": round(translate_ms, 1) if scale is not None else None}
            if scale is not None:
                row["scale"] = scale
            rows[key] = row
            if rows_path:
                with rows_path.open("a") as f:
                    f.write(json.dumps(row) + "\n")
    ids = {ex.id for ex in examples}
    report: dict[str, Any] = {
        "n": len(examples), "model": model_name, "modes": {},
        "split": "popqa eval half (evals.data.select)" if split == "eval"
        else "popqa train half minus the translator's teacher passages (dev, for the injection scale)",
        "peak_rss_mb": {"before_model": rss0 // 1024, "with_model": rss_model // 1024,
                        "with_translator": rss_translator // 1024,
                        "end": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024},
    }
    if translator is not None and manifest is not None:
        report |= {"translator": str(translator_path), "translator_bytes": translator_path.stat().st_size,
                   "translator_parameters": translator.num_parameters(), "translator_training": manifest.training,
                   "translator_metrics": manifest.metrics, "translator_scale": manifest.scale}
    for mode, scale in runs:
        label = _label(mode, scale)
        rs = [r for r in rows.values() if _label(r["mode"], r.get("scale")) == label and r["id"] in ids]
        if not rs:
            continue
        report["modes"][label] = {
            "n": len(rs), "scale": scale,
            "accuracy": round(sum(r["accuracy"] for r in rs) / len(rs), 4),
            "exact_match": round(sum(r["exact_match"] for r in rs) / len(rs), 4),
            "f1": round(sum(r["f1"] for r in rs) / len(rs), 4),
            "generate_ms": latency_summary([r["generate_ms"] for r in rs]),
            "translate_ms": latency_summary([r["translate_ms"] for r in rs]) if scale is not None else None,
        }
    if out:
        Path(out).write_text(json.dumps(report, indent=2) + "\n")
    return report


def choose_scale(report: dict[str, Any], mode: str = "combine") -> dict[str, Any]:
    """The scale whose `mode` run has the best accuracy, then F1, then the smaller scale; with the evidence."""
    runs = [m for label, m in report["modes"].items() if label.split("@")[0] == mode]
    if not runs:
        raise ValueError(f"the bench report has no {mode} runs to choose a scale from")
    best = max(runs, key=lambda m: (m["accuracy"], m["f1"], -m["scale"]))
    standard = report["modes"].get("standard")
    return {"scale": best["scale"], "objective": f"{mode} accuracy, then F1, then the smaller scale",
            "questions": report["n"], "split": report["split"],
            "by_scale": {f"{m['scale']:g}": {k: m[k] for k in ("accuracy", "exact_match", "f1")} for m in runs},
            "standard": {k: standard[k] for k in ("accuracy", "exact_match", "f1")} if standard else None}
