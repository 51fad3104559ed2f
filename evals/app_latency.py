"""Measure what a chat user waits for: time to first token and total time per answer.

Runs questions through the app's own streaming path (`ui.streaming.AnswerStream` around
`Pipeline.answer`) with the configured model (default smollm2-135m, in-process) and prints a
JSON report per mode. The first question of each run also pays for loading; it is reported
separately as `warmup` and left out of the statistics.

    .venv/bin/python -m evals.app_latency --index /tmp/idx --mode always --mode never -n 5
    .venv/bin/python -m evals.app_latency --index /tmp/idx --questions-file qs.txt --out latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from evals.metrics import percentile
from evals.workload.run import rotated
from rag.cli_common import quiet_third_party
from rag.config import ConfigError, load_config
from ui.streaming import AnswerStream

DEFAULT_QUESTIONS = (
    "What is the capital of France?", "Who wrote Dracula?", "How high is Mount Kilimanjaro?",
    "What is the capital of Japan?", "Which river flows through Cairo?", "What language is spoken in Brazil?",
    "What is the largest city in India?", "When did Norway become independent?",
)


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {"mean": round(sum(values) / len(values), 1), "p50": round(percentile(values, 50), 1),
            "max": round(ordered[-1], 1), "min": round(ordered[0], 1)}


def ask_once(pipeline, question: str, mode: str) -> dict:
    """One question in `mode`: time to first streamed token and total, as the app sees them."""
    stream = AnswerStream(lambda on_token: pipeline.answer(question, mode=mode, on_token=on_token)).start()
    for _ in stream.partials():
        pass
    answer = stream.result()
    return {"question": question, "first_token_ms": round(stream.first_token_ms or 0.0, 1),
            "total_ms": round(stream.total_ms or 0.0, 1), "retrieved": answer.retrieved,
            "stages_ms": {k: v for k, v in answer.timings_ms.items() if not k.startswith("generate_")}}


def measure(pipeline, questions: list[str], modes: list[str]) -> list[dict]:
    """Ask each question once in every mode, question by question, the mode asked first rotating (a machine
    that drifts over a run, or a cold first asking, then weighs on every mode alike: mode by mode, the mode
    measured last came out 14-37% slower on the same questions)."""
    rows: dict[str, list[dict]] = {m: [] for m in modes}
    for i, q in enumerate(questions):
        for mode in rotated(modes, i):
            rows[mode].append(ask_once(pipeline, q, mode))
    return [{"mode": m, "n": len(rows[m]), "first_token_ms": _stats([r["first_token_ms"] for r in rows[m]]),
             "total_ms": _stats([r["total_ms"] for r in rows[m]]), "answers": rows[m]} for m in modes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="index folder (default: ADAPTRAG_INDEX or the default index)")
    parser.add_argument("--model", help="model name or path (default: the configured one)")
    parser.add_argument("--mode", action="append", choices=("adaptive", "always", "never"),
                        help="retrieval mode(s) to measure; repeatable (default: adaptive)")
    parser.add_argument("-n", type=int, default=5, help="questions per mode (default 5)")
    parser.add_argument("--questions-file", type=Path, help="one question per line")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    args = parser.parse_args(argv)
    quiet_third_party(verbose=False)
    try:
        cfg = load_config(overrides={"index.path": args.index, "model.name": args.model})
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    questions = (args.questions_file.read_text().splitlines() if args.questions_file else list(DEFAULT_QUESTIONS))
    questions = [q for q in questions if q.strip()][: args.n]
    from rag.pipeline import Pipeline

    t0 = time.perf_counter()
    pipeline = Pipeline.from_config(cfg)
    load_ms = (time.perf_counter() - t0) * 1000
    modes = args.mode or ["adaptive"]
    warm = ask_once(pipeline, questions[0], modes[0]) if questions else None
    report = {"model": cfg.model.name, "backend": cfg.model.backend, "index": str(cfg.index_path()),
              "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(),
              "load_ms": round(load_ms, 1), "warmup": warm, "modes": measure(pipeline, questions, modes)}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
