"""Run `eval workload` over several workload folders and write one combined report.

    python -m evals.workload.suite --workloads evals/workloads/fictional evals/workloads/reference \
        runs/workloads/popqa --split test --mode adaptive,always,never --out-dir runs/baseline

Per workload it runs `adaptrag eval workload --corpus W/corpus --cases W/<split>.jsonl --records
OUT/<name>.records.jsonl --resume` (so a cut-off run continues where it stopped), then summarises all
records together (success is the mean over kinds of the pooled cases) and per workload, into
OUT/<name>.json and OUT/<name>.md (with plots; --name, default "workload"). Extra settings pass through `--set KEY=VALUE`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from evals.workload.report import render
from evals.workload.run import MODES, parse_modes, read_records, summarize


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", required=True, type=Path, help="workload folders")
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--mode", default=",".join(MODES))
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--title", default="Workload benchmark")
    parser.add_argument("--limit", type=int, help="first N cases of each workload")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--model", help="generator (default: the configured one)")
    parser.add_argument("--report-only", action="store_true", help="no model calls: combine the saved records")
    parser.add_argument("--records-dir", type=Path, action="append", default=[],
                        help="with --report-only: also look for <workload>.records.jsonl here (repeatable)")
    parser.add_argument("--name", default="workload", help="report file name: OUT/<name>.md, .json, plots")
    args = parser.parse_args(argv)
    modes = parse_modes(args.mode)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    from rag.cli import main as adaptrag

    per: dict[str, dict] = {}
    records = []
    for w in args.workloads:
        rec_file = args.out_dir / f"{w.name}.records.jsonl"
        out = args.out_dir / f"{w.name}.json"
        if not args.report_only:
            cmd = ["eval", "workload", "--corpus", str(w / "corpus"), "--cases", str(w / f"{args.split}.jsonl"),
                   "--mode", ",".join(modes), "--records", str(rec_file), "--resume", "--out", str(out)]
            cmd += [x for s in args.set for x in ("--set", s)]
            cmd += ["--model", args.model] if args.model else []
            cmd += ["--limit", str(args.limit)] if args.limit else []
            code = adaptrag(cmd)
            if code not in (0, 1):
                return code
        if args.report_only and not rec_file.exists():
            rec_file = next((d / rec_file.name for d in args.records_dir if (d / rec_file.name).exists()), rec_file)
        recs = read_records(rec_file)
        records += recs
        per[w.name] = summarize(recs, modes)
    report = {"benchmark": "workload suite", "split": args.split, "workloads": [str(w) for w in args.workloads],
              "settings": args.set, **summarize(records, modes), "per_workload": per}
    metas = [d / f"{w.name}.json" for w in args.workloads for d in [args.out_dir, *args.records_dir]]
    meta = next((json.loads(m.read_text()) for m in metas if m.exists()), {})
    report.update({k: meta[k] for k in ("model", "backend", "top_k") if k in meta})
    report["n_cases"] = len({r.id for r in records})
    (args.out_dir / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    latencies = {m: [r.latency_ms for r in records if r.mode == m and r.error is None] for m in modes}
    text = render({**report, "corpus": ", ".join(w.name for w in args.workloads), "cases": f"{args.split} split"},
                  args.out_dir / f"{args.name}.md", title=args.title, latencies=latencies)
    for name, rep in per.items():
        text += f"\n## Workload `{name}`\n\n" + "\n".join(render(rep, None).splitlines()[4:]) + "\n"
    (args.out_dir / f"{args.name}.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
