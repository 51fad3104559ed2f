"""`adaptrag eval workload` (registered by evals/cli.py): see evals/workload/run.py for what it measures.

    adaptrag eval workload --corpus DIR --cases FILE [--mode adaptive,always,never] [--records FILE [--resume]]
                           [--out FILE] [--format md] [--limit N] [--index DIR] [--floors FILE]

Exit codes: 0 done (and every floor held), 1 a metric fell below its floor in `--floors`, 2 a user error
(missing corpus, malformed cases file, bad setting).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from evals.workload.cases import WorkloadError, load_cases
from evals.workload.run import MODES, parse_modes, read_records, run, summarize


def register(sub: Any, add_common_args: Any) -> None:
    w = sub.add_parser("workload", help="the product on a user-like workload: success per kind, flags, abstention",
                       description="Index a corpus, ask every case through the full answer path (conflict check "
                                   "on) and report success per kind, false flags, abstention and latency per mode.")
    w.add_argument("--corpus", required=True, help="folder of documents to index for this workload")
    w.add_argument("--cases", required=True, help="cases JSONL: id, kind, question, answers")
    w.add_argument("--mode", default=",".join(MODES), help="comma-separated: adaptive, always, never (default all)")
    w.add_argument("--limit", type=int, help="only the first N cases")
    w.add_argument("--records", metavar="FILE", help="write one JSON line per case and mode")
    w.add_argument("--resume", action="store_true", help="with --records: keep its records, ask only the rest")
    w.add_argument("--floors", metavar="FILE", help="exit 1 when a metric is below its floor (or above its ceiling)")
    w.add_argument("--out", metavar="FILE", help="also write the report to FILE")
    w.add_argument("--format", choices=("json", "md"), default="json",
                   help="md: a Markdown report with plots (written beside --out)")
    w.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_common_args(w)
    w.set_defaults(func=cmd_workload)


def cmd_workload(args: argparse.Namespace) -> int:
    from rag.cli_common import config_from_args

    modes = parse_modes(args.mode)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        raise WorkloadError(f"corpus folder {corpus} does not exist or is not a folder; pass the folder of "
                            "documents the cases ask about (build them with `python -m evals.workload.build`)")
    cases = load_cases(args.cases)
    if args.limit is not None:
        if args.limit < 1:
            raise WorkloadError(f"--limit must be at least 1, got {args.limit}")
        cases = cases[: args.limit]
    if args.resume and not args.records:
        raise WorkloadError("--resume needs --records FILE (the records to continue)")
    floors = _read_floors(args.floors) if args.floors else None

    tmp = None if args.index else tempfile.mkdtemp(prefix="adaptrag-workload-")
    try:
        index_dir = args.index or str(Path(tmp) / "index")
        cfg = config_from_args(args, {"index.path": index_dir, "conflict.enabled": True})
        indexed = _index(cfg, corpus, progress=not args.no_progress)
        from rag.pipeline import Pipeline

        pipeline = Pipeline.from_config(cfg)
        records_file = Path(args.records) if args.records else None
        kept = read_records(records_file) if records_file and args.resume else []
        ids = {c.id for c in cases}
        kept = [r for r in kept if r.id in ids and r.mode in modes]
        if records_file is not None:
            records_file.parent.mkdir(parents=True, exist_ok=True)
            records_file.write_text("".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in kept),
                                    encoding="utf-8")
            handle = records_file.open("a", encoding="utf-8")
        else:
            handle = None

        def on_record(rec: Any) -> None:
            if handle is not None:
                handle.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
                handle.flush()

        try:
            new = run(pipeline, cases, modes, done=[(r.id, r.mode) for r in kept], on_record=on_record,
                      progress=not args.no_progress)
        finally:
            if handle is not None:
                handle.close()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    order = {(c.id, m): i for i, (c, m) in enumerate((c, m) for c in cases for m in modes)}
    records = sorted(kept + new, key=lambda r: order.get((r.id, r.mode), 0))
    report: dict[str, Any] = {
        "benchmark": "workload", "corpus": str(corpus), "cases": str(args.cases), "n_cases": len(cases),
        "model": cfg.model.name, "backend": cfg.model.backend, "top_k": cfg.retrieval.top_k,
        "conflict_check": True, "index": indexed, **summarize(records, modes),
    }
    failed: list[str] = []
    if floors is not None:
        failed = check_floors(report, floors)
        report["floors"] = {"file": str(args.floors), "failed": failed}
    latencies = {m: [r.latency_ms for r in records if r.mode == m and r.error is None] for m in modes}
    _emit(report, args, latencies)
    for line in failed:
        print(f"workload gate: {line}", file=sys.stderr)
    return 1 if failed else 0


def _index(cfg: Any, corpus: Path, progress: bool) -> dict[str, Any]:
    from indexing.index import Index

    index = Index.open(cfg)
    try:
        report = index.add([str(corpus)], progress=progress)
        stats = index.stats()
    finally:
        index.close()
    skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
    if skipped:
        print(f"workload: {len(skipped)} corpus file(s) skipped: " + "; ".join(skipped[:5]), file=sys.stderr)
    return {"documents": stats.get("documents"), "chunks": stats.get("chunks"), "skipped": skipped,
            "seconds": round(report.timings_s.get("total", 0.0), 2)}


def _read_floors(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkloadError(f"floors file {path} does not exist") from None
    except json.JSONDecodeError as e:
        raise WorkloadError(f"floors file {path} is not valid JSON ({e})") from None
    if not isinstance(data.get("metrics"), dict):
        raise WorkloadError(f"floors file {path} needs a \"metrics\" object of dotted key -> {{floor|ceiling}}")
    return data


def lookup(report: dict[str, Any], dotted: str) -> Any:
    """`always.by_kind.document.success` -> report["modes"]["always"]["by_kind"]["document"]["success"]."""
    node: Any = report["modes"]
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_floors(report: dict[str, Any], floors: dict[str, Any]) -> list[str]:
    """Lines naming each metric below its floor or above its ceiling (empty: the gate holds)."""
    failed = []
    for key, bound in floors["metrics"].items():
        value = lookup(report, key)
        if value is None:
            failed.append(f"{key}: not in the report (mode not run?)")
        elif "floor" in bound and value < bound["floor"]:
            failed.append(f"{key} = {value} is below its floor {bound['floor']} (measured {bound.get('measured')})")
        elif "ceiling" in bound and value > bound["ceiling"]:
            failed.append(f"{key} = {value} is above its ceiling {bound['ceiling']} (measured {bound.get('measured')})")
    return failed


def _emit(report: dict[str, Any], args: argparse.Namespace, latencies: dict[str, list[float]]) -> None:
    out = Path(args.out) if args.out else None
    if args.format == "md":
        from evals.workload.report import render

        text = render(report, out, latencies=latencies)
    else:
        text = json.dumps(report, indent=2, ensure_ascii=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    print(text)
