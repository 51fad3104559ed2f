"""Tokens/s of the in-process (hf) backend per setting: threads (1 vs every core) x dtype (float32 vs
bfloat16), and a batch of 4 prompts against the same 4 one after another (issue 16).

    nice -n 10 .venv/bin/python -u -m evals.bench_speed --data /work/shared/data/popqa/dev.jsonl --out speed.json

Prompts are ~`--prompt-tokens` tokens of PopQA passages followed by a question, with no stop string, so
each answer runs until EOS or `--max-new-tokens`. Settings run interleaved, prompt by prompt, so that load
from other processes hits them alike; the 1-minute load average is recorded beside each number, because
on a shared CPU every number moves with whatever else runs.

Per setting:
- prompt tok/s: prompt tokens / prefill time of single requests; decode tok/s: new tokens after the first
  / the rest of the time;
- sequential s: wall time of the `--batch` prompts one after another; batched s: the same prompts through
  one `generate_batch` call (one left-padded forward per step); bf16 also reports how often its greedy text
  equals float32's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.bench_latency import Item, load_items

DTYPES = ("float32", "bfloat16")


def long_prompts(gen: Any, items: Sequence[Item], prompt_tokens: int) -> list[str]:
    """One chat prompt per item: passages (this item's first, then the next ones) cut to ~`prompt_tokens`, then its question."""
    from rag.generators import ChatMessage

    tok = gen.tokenizer
    prompts = []
    for i, item in enumerate(items):
        body, j = "", i
        while len(tok(body, add_special_tokens=False).input_ids) < prompt_tokens - 40:
            body += items[j % len(items)].passage + "\n"
            j += 1
        body = tok.decode(tok(body, add_special_tokens=False).input_ids[: prompt_tokens - 40])
        prompts.append(gen.render_chat([ChatMessage("user", f"{body}\nQuestion: {item.question}\nAnswer:")]))
    return prompts


def rates(gens: Sequence[Any]) -> dict[str, float]:
    """Prompt and decode tokens/s over single-request generations (the first new token comes with the prefill)."""
    prompt_s = sum(g.timings_ms["prompt"] for g in gens) / 1000
    decode_s = sum(g.timings_ms["decode"] for g in gens) / 1000
    return {
        "prompt_tokens_mean": statistics.fmean(g.prompt_tokens for g in gens),
        "new_tokens_mean": statistics.fmean(len(g.tokens) for g in gens),
        "prompt_tokens_per_s": sum(g.prompt_tokens for g in gens) / prompt_s,
        "decode_tokens_per_s": sum(max(0, len(g.tokens) - 1) for g in gens) / max(decode_s, 1e-9),
    }


def measure(model: str, items: Sequence[Item], prompt_tokens: int, max_new: int, batch: int, rounds: int) -> dict[str, Any]:
    """Every (dtype, threads) setting on the same prompts, interleaved; see the module docstring."""
    import torch

    from rag.config import ModelConfig
    from rag.generators import GenerationRequest
    from rag.generators.hf import HFGenerator, available_cores

    cores = available_cores()
    threads = sorted({1, cores})
    gens = {d: HFGenerator(ModelConfig(name=model, dtype=d, threads=1)) for d in DTYPES}  # type: ignore[arg-type]
    prompts = long_prompts(gens["float32"], items, prompt_tokens)
    requests = [GenerationRequest(p, max_new_tokens=max_new) for p in prompts]
    settings = [(d, t) for d in DTYPES for t in threads]
    key = {s: f"{s[0]}/{s[1]}t" for s in settings}
    singles: dict[str, list[Any]] = {k: [] for k in key.values()}
    seq_s: dict[str, list[float]] = {k: [] for k in key.values()}
    batch_s: dict[str, list[float]] = {k: [] for k in key.values()}
    loads: dict[str, list[float]] = {k: [] for k in key.values()}
    for d, t in settings:  # warm-up, not measured
        torch.set_num_threads(t)
        gens[d].generate_batch(requests[:2])
    for k0 in range(0, batch * rounds, batch):  # round r: prompts r*batch .. (r+1)*batch - 1
        group = requests[k0 : k0 + batch]
        for d, t in settings:
            k = key[d, t]
            torch.set_num_threads(t)
            t0 = time.perf_counter()
            singles[k] += [gens[d].generate(r) for r in group]
            seq_s[k].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            batched = gens[d].generate_batch(group)
            batch_s[k].append(time.perf_counter() - t0)
            loads[k].append(os.getloadavg()[0])
            same = all(a.text == b.text for a, b in zip(batched, singles[k][-len(group):]))
            print(f"{k}: sequential {seq_s[k][-1]:.1f} s, batched {batch_s[k][-1]:.1f} s, same text {same}, "
                  f"load {loads[k][-1]:.1f}", file=sys.stderr, flush=True)
    torch.set_num_threads(1)
    results: dict[str, Any] = {}
    for k in key.values():
        results[k] = rates(singles[k]) | {
            "prompts": len(singles[k]),
            "sequential_s_mean": statistics.fmean(seq_s[k]),
            "batched_s_mean": statistics.fmean(batch_s[k]),
            "batch_speedup": sum(seq_s[k]) / sum(batch_s[k]),
            "load_avg_1m": statistics.fmean(loads[k]),
        }
    for t in threads:
        fp32, bf16 = singles[f"float32/{t}t"], singles[f"bfloat16/{t}t"]
        results[f"bfloat16/{t}t"]["same_text_as_float32"] = sum(a.text == b.text for a, b in zip(fp32, bf16)) / len(fp32)
    return {"cores": cores, "batch": batch, "rounds": rounds, "settings": results}


def print_table(report: dict[str, Any]) -> None:
    print(f"batch of {report['batch']} prompts of ~{report['prompt_tokens']} tokens, {report['cores']} cores, "
          f"model {report['model']}")
    print("| setting | prompt tok | prompt tok/s | decode tok/s | new tok | sequential s | batched s | speedup | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, v in report["settings"].items():
        print(f"| {k} | {v['prompt_tokens_mean']:.0f} | {v['prompt_tokens_per_s']:.0f} | {v['decode_tokens_per_s']:.1f} | "
              f"{v['new_tokens_mean']:.0f} | {v['sequential_s_mean']:.1f} | {v['batched_s_mean']:.1f} | "
              f"{v['batch_speedup']:.2f}x | {v['load_avg_1m']:.1f} |")
    for k, v in report["settings"].items():
        if "same_text_as_float32" in v:
            print(f"{k}: greedy text identical to float32 on {v['same_text_as_float32']:.0%} of prompts")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="PopQA-style JSONL (question, passage, answers)")
    parser.add_argument("--model", default="smollm2-135m", help="registry name or path")
    parser.add_argument("--prompt-tokens", type=int, default=250, help="prompt length")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4, help="prompts per batched call")
    parser.add_argument("--rounds", type=int, default=1, help="batches per setting (different prompts each)")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    for name in ("prompt_tokens", "max_new_tokens", "batch", "rounds"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    if args.prompt_tokens <= 40:
        parser.error(f"--prompt-tokens must be > 40 (room for the question), got {args.prompt_tokens}")
    items = load_items(args.data, args.batch * args.rounds)
    report: dict[str, Any] = {"data": str(args.data), "model": args.model, "prompt_tokens": args.prompt_tokens,
                              "max_new_tokens": args.max_new_tokens, "load_avg_1m_start": os.getloadavg()[0]}
    report |= measure(args.model, items, args.prompt_tokens, args.max_new_tokens, args.batch, args.rounds)
    report["load_avg_1m_end"] = os.getloadavg()[0]
    print_table(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
