"""The `adaptrag eval` command group: popqa, ragas, report, gate, conflicts.

    adaptrag eval popqa --data ../shared/data/popqa/dev.jsonl --limit 300 --mode never,always --ragas --out popqa.json
    adaptrag eval popqa ... --mode never,always,confidence,popularity,oracle --format md --out report.md
    adaptrag eval ragas --data qa.jsonl --mode always [--judge-url URL --judge-model NAME] --out ragas.json
    adaptrag eval report popqa.json ragas.json --out report.md
    adaptrag eval gate --data ../shared/data            # exit 1 when a metric is below evals/floors.json
    adaptrag eval conflicts --data ../shared/data/popqa/dev.jsonl --limit 330 --out conflicts.json
    adaptrag eval conflicts --data ... --fit --calibration-out calib.json   # refit on the dev half

Every subcommand prints one JSON report (or Markdown with --format md) and writes it with --out FILE.
`rag/cli.py` calls `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evals.data import SAMPLES, SPLITS, EvalDataError


def register(subparsers: Any) -> None:
    from rag.cli_common import add_common_args

    ev = subparsers.add_parser("eval", help="benchmarks and quality gates (PopQA, ragas, conflicts)",
                               description=__doc__.split("\n\n")[0])
    sub = ev.add_subparsers(dest="eval_command", metavar="EVAL", required=True)

    p = sub.add_parser("popqa", help="accuracy, EM, F1, retrieval rate, latency on PopQA per mode")
    p.add_argument("--data", help="PopQA JSONL (../shared/data/popqa/dev.jsonl)")
    p.add_argument("--limit", type=int, default=300, help="questions (default 300)")
    p.add_argument("--mode", default="never,always",
                   help="comma-separated: never, always, adaptive, confidence, popularity, oracle")
    p.add_argument("--passages", choices=("given", "index"), default="given",
                   help="given: each question's own PopQA passage (same for every mode); index: search the index")
    p.add_argument("--split", choices=SPLITS, default="eval", help="PopQA half to evaluate on (default eval)")
    p.add_argument("--sample", choices=SAMPLES, default="natural",
                   help="natural mix, or stratified: equal numbers per s_pop bucket")
    p.add_argument("--offset", type=int, default=0, help="skip this many questions of the hash order")
    p.add_argument("--tune-limit", type=int, default=200,
                   help="train-half questions to tune the confidence/popularity thresholds on (default 200)")
    p.add_argument("--ragas", action="store_true", help="also score each pipeline mode with ragas' deterministic metrics")
    p.add_argument("--concurrency", type=int, default=1,
                   help="questions in flight at once, with --backend openai (vLLM batches them; default 1)")
    p.add_argument("--records", metavar="FILE", help="write one JSON line per question and mode")
    p.add_argument("--from-records", nargs="+", metavar="FILE",
                   help="no model calls: rebuild the report from saved --records files (e.g. shards run in parallel)")
    p.add_argument("--tune-records", nargs="+", metavar="FILE",
                   help="with --from-records: never/always records of train-half questions for the thresholds")
    _output_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_popqa)

    r = sub.add_parser("ragas", help="score answers with ragas (deterministic; LLM-judged with --judge-url)")
    r.add_argument("--data", required=True, help="PopQA JSONL or {question, answers, passages?} JSONL")
    r.add_argument("--limit", type=int, default=50, help="questions (default 50)")
    r.add_argument("--mode", choices=("never", "always", "adaptive"), default="always")
    r.add_argument("--passages", choices=("given", "index", "auto"), default="auto",
                   help="given: the file's reference passages; index: search; auto: given when the file has them")
    r.add_argument("--split", choices=SPLITS, default="all", help="PopQA half (default all)")
    r.add_argument("--judge-url", help="OpenAI-compatible server for the LLM-judged metrics, e.g. http://127.0.0.1:8000/v1")
    r.add_argument("--judge-model", help="model name on the judge server")
    r.add_argument("--judge-max-tokens", type=int, default=512)
    r.add_argument("--judge-strictness", type=int, default=1, help="answer_relevancy questions per answer")
    _output_args(r)
    add_common_args(r)
    r.set_defaults(func=cmd_ragas)

    rep = sub.add_parser("report", help="render JSON reports (popqa, ragas, gate) as Markdown with plots")
    rep.add_argument("inputs", nargs="+", help="JSON reports written with --out")
    rep.add_argument("--out", help="Markdown file; PNG plots are written beside it")
    rep.add_argument("--title", default="adaptrag evaluation")
    rep.set_defaults(func=cmd_report)

    g = sub.add_parser("gate", help="CI quality gate: fail when a metric drops below evals/floors.json")
    g.add_argument("--data", required=True, help="the shared data folder (holds popqa/dev.jsonl)")
    g.add_argument("--floors", default=None, help="floors file (default evals/floors.json)")
    g.add_argument("--measure", type=int, metavar="SLICES",
                   help="re-measure instead of checking: SLICES disjoint slices + a repeat; writes the floors file")
    g.add_argument("--limit", type=int, default=40, help="questions per mode when measuring (default 40)")
    g.add_argument("--from-records", nargs="+", metavar="FILE",
                   help="with --measure: slice values from a saved `eval popqa --mode never,always --records` run")
    g.add_argument("--repeat-records", metavar="FILE",
                   help="with --measure: the repeat of slice 0 from a saved `eval popqa --limit LIMIT --records` run "
                        "('none': not measured)")
    _output_args(g)
    add_common_args(g)
    g.set_defaults(func=cmd_gate)

    c = sub.add_parser("conflicts", help="knowledge-conflict benchmark (counter-memory cases)",
                       description="Score the knowledge-conflict check on counter-memory cases "
                                   "(evals/conflict_runner.py says how they are built).")
    c.add_argument("--data", help="PopQA-style JSONL to build cases from (../shared/data/popqa/dev.jsonl)")
    c.add_argument("--cases", metavar="FILE", help="score these JSONL cases instead of building them: "
                   '{"question", "passages": [text, ...], "label": "none"|"memory_vs_documents"|"between_documents"}')
    c.add_argument("--no-countryinfo", action="store_true", help="do not build cases from countryinfo facts")
    c.add_argument("--limit", type=int, default=330, help="cases to build/score (default 330)")
    c.add_argument("--fit", action="store_true", help="refit the score's logistic coefficients and thresholds on the "
                   "dev half and write them to --calibration-out")
    c.add_argument("--calibration-out", metavar="FILE", help="where --fit writes the calibration JSON (required with "
                   "--fit; point conflict.calibration at it, or name rag/conflict_calibration.json to replace the "
                   "shipped one)")
    c.add_argument("--records", metavar="FILE", help="write one JSON line per case")
    c.add_argument("--cache", metavar="FILE",
                   help="generation cache (JSON): reused when it exists, updated as cases run; for re-scoring")
    c.add_argument("--out", metavar="FILE", help="also write the report to FILE")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common_args(c)
    c.set_defaults(func=cmd_conflicts)

    from evals.workload.cli import register as register_workload

    register_workload(sub, add_common_args)


def _output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="FILE", help="also write the report to FILE")
    p.add_argument("--format", choices=("json", "md"), default="json",
                   help="md: a Markdown report (plots are written beside --out)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def emit(report: Mapping[str, Any], args: argparse.Namespace, title: str = "adaptrag evaluation") -> None:
    """Print the report (JSON or Markdown) and write it to --out."""
    out = Path(args.out) if getattr(args, "out", None) else None
    if getattr(args, "format", "json") == "md":
        from evals.report import render_markdown

        text = render_markdown([report], out, title=title)
    else:
        text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    print(text)


def _pipeline(args: argparse.Namespace, overrides: Mapping[str, Any] | None = None) -> Any:
    from rag.cli_common import config_from_args
    from rag.pipeline import Pipeline

    return Pipeline.from_config(config_from_args(args, dict(overrides or {})))


def _check_limit(n: int | None, flag: str = "--limit") -> None:
    if n is not None and n <= 0:
        raise EvalDataError(f"{flag} must be greater than 0. Currently, it is {n}")


def cmd_popqa(args: argparse.Namespace) -> int:
    from evals.data import load_qa, select
    from evals.popqa import PopQARunner, evaluate, parse_modes

    _check_limit(args.limit)
    modes = parse_modes(args.mode)
    if args.from_records:
        return _popqa_from_records(args, modes)
    if not args.data:
        raise EvalDataError("eval popqa needs --data FILE (or --from-records FILE...)")
    data = load_qa(args.data)
    examples = select(data, limit=args.limit, split=args.split, sample=args.sample, offset=args.offset)
    tune_split = "train" if args.split == "eval" else "eval"
    tune = select(data, limit=args.tune_limit, split=tune_split, sample=args.sample) if args.tune_limit > 0 else []
    pipeline = _pipeline(args)
    if args.concurrency > 1 and pipeline.cfg.model.backend != "openai":
        raise EvalDataError("--concurrency > 1 needs --backend openai (a server that batches requests); the "
                            "in-process model answers one question at a time")
    runner = PopQARunner(pipeline, passages=args.passages, progress=not args.no_progress,
                         concurrency=args.concurrency)
    records_file = open(args.records, "w", encoding="utf-8") if args.records else None  # noqa: SIM115

    def on_records(mode: str, recs: list) -> None:
        if records_file is not None:
            for rec in recs:
                records_file.write(json.dumps({"mode": mode, **rec.to_json()}, ensure_ascii=False) + "\n")

    try:
        result = evaluate(runner, examples, modes, tune, on_records=on_records)
    finally:
        if records_file is not None:
            records_file.close()
    first = result["modes"][modes[0]]
    report: dict[str, Any] = {
        **first, "modes": result["modes"], "model": pipeline.generator.info.name, "data": str(args.data),
        "split": args.split, "sample": args.sample, "passages": args.passages, "offset": args.offset,
        **{k: v for k, v in result.items() if k != "modes"},
    }
    if tune:
        report["tune"] = {"split": tune_split, "n": len(tune)}
    if args.ragas:
        from evals.ragas_eval import ragas_scores

        report["ragas"] = {m: ragas_scores(runner.samples[m]) for m in modes if m in runner.samples}
    emit(report, args, title=f"PopQA: {report['model']}")
    return 0


def _popqa_from_records(args: argparse.Namespace, modes: list[str]) -> int:
    from evals.popqa import PIPELINE_MODES, combine, read_records
    from evals.ragas_eval import RagasSample, ragas_scores

    runs = read_records(args.from_records)
    missing = [m for m in modes if m in PIPELINE_MODES and m not in runs]
    if any(m not in PIPELINE_MODES for m in modes):
        missing += [m for m in ("never", "always") if m not in runs]
    if missing:
        raise EvalDataError(f"the records have no {', '.join(sorted(set(missing)))} run; they have {', '.join(runs)}")
    tune = read_records(args.tune_records) if args.tune_records else {}
    coverage = None
    if args.sample == "stratified":  # the stratified subset of the recorded questions: no model calls
        runs, coverage = _stratified_records(runs, args)
    result = combine({m: runs[m] for m in PIPELINE_MODES if m in runs}, modes, tune)
    report: dict[str, Any] = {**result["modes"][modes[0]], "modes": result["modes"],
                              "records": [str(x) for x in args.from_records], "sample": args.sample,
                              **{k: v for k, v in result.items() if k != "modes"}}
    if coverage is not None:
        report["stratified"] = coverage
    if tune:
        report["tune"] = {"records": [str(x) for x in args.tune_records], "n": len(tune.get("never", []))}
    if args.ragas:  # the answers alone: the string metrics (contexts are not kept in records)
        report["ragas"] = {m: ragas_scores([RagasSample(r.id, r.question, r.answer, r.answers) for r in runs[m]])
                           for m in modes if m in PIPELINE_MODES}
    emit(report, args, title="PopQA")
    return 0


def _stratified_records(runs: dict[str, list], args: argparse.Namespace) -> tuple[dict[str, list], dict[str, Any]]:
    """Keep the records of the stratified sample (equal numbers per s_pop bucket) of `--data`'s `--split`.

    The sample is drawn from the questions every run recorded, so never/always/adaptive stay paired.
    """
    from evals.data import BUCKETS, bucket, load_qa, select

    if not args.data:
        raise EvalDataError("--sample stratified with --from-records needs --data FILE (for the s_pop buckets)")
    recorded = set.intersection(*({r.id for r in recs} for recs in runs.values()))
    pool = [e for e in load_qa(args.data) if e.id in recorded]
    chosen = select(pool, limit=args.limit, split=args.split, sample="stratified")
    ids = {e.id for e in chosen}
    per_bucket = {b: sum(bucket(e.s_pop) == b for e in chosen) for b in BUCKETS}
    return ({m: [r for r in recs if r.id in ids] for m, recs in runs.items()},
            {"n": len(ids), "recorded_questions": len(recorded), "per_bucket": per_bucket})


def cmd_ragas(args: argparse.Namespace) -> int:
    from evals.data import load_qa, select
    from evals.metrics import summarize
    from evals.popqa import PopQARunner
    from evals.ragas_eval import Judge, ragas_scores

    _check_limit(args.limit)
    if bool(args.judge_url) != bool(args.judge_model):
        raise EvalDataError("--judge-url and --judge-model go together (the judge server and its model name)")
    examples = select(load_qa(args.data), limit=args.limit, split=args.split)
    passages = args.passages
    if passages == "auto":
        passages = "given" if all(e.passages for e in examples) else "index"
    judge = Judge(args.judge_url, args.judge_model, max_tokens=args.judge_max_tokens,
                  strictness=args.judge_strictness) if args.judge_url else None
    pipeline = _pipeline(args)
    runner = PopQARunner(pipeline, passages=passages, progress=not args.no_progress)
    records = runner.run(examples, args.mode)
    scores = ragas_scores(runner.samples[args.mode], judge, pipeline.cfg.index.embedding_model)
    report = {**summarize(records, args.mode), **scores, "model": pipeline.generator.info.name,
              "data": str(args.data), "passages": passages}
    emit(report, args, title=f"ragas: {report['model']}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from evals.report import render_markdown

    reports = []
    for name in args.inputs:
        try:
            reports.append(json.loads(Path(name).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise EvalDataError(f"report {name} does not exist") from None
        except json.JSONDecodeError as e:
            raise EvalDataError(f"report {name} is not JSON ({e.msg}); write it with --out FILE") from None
    out = Path(args.out) if args.out else None
    text = render_markdown(reports, out, title=args.title)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    print(text)
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    from evals.gate import FLOORS_FILE, data_file, measure_floors, run_gate

    floors = Path(args.floors) if args.floors else FLOORS_FILE

    def make(overrides: Mapping[str, Any]) -> Any:
        return _pipeline(args, overrides)

    if args.measure:
        _check_limit(args.limit)
        if not data_file(args.data).is_file():
            raise EvalDataError(f"{data_file(args.data)} not found: --measure needs the PopQA data")
        result = measure_floors(make, args.data, args.measure, args.limit, records_file=args.from_records,
                                repeat_file=args.repeat_records, progress=not args.no_progress)
        floors.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        emit(result, args)
        return 0
    result = run_gate(make, args.data, floors, progress=not args.no_progress)
    emit(result, args, title="Quality gate")
    if result.get("skipped"):
        print(result["message"], file=sys.stderr)
        return 0
    for c in result["checks"]:
        if not c["ok"]:
            print(f"quality gate: FAIL {c['message']}", file=sys.stderr)
    print(f"quality gate: {'passed' if result['passed'] else 'FAILED'} ({len(result['checks'])} metrics, "
          f"{result['seconds']} s)", file=sys.stderr)
    return 0 if result["passed"] else 1


def cmd_conflicts(args: argparse.Namespace) -> int:
    from evals.conflict_cases import CaseError, countryinfo_facts, interleave, load_cases, popqa_facts
    from evals.conflict_runner import ConflictOptions, evaluate
    from rag.cli_common import config_from_args

    if args.fit and not args.calibration_out:
        print("error: --fit writes the fitted calibration to an explicit file: add --calibration-out FILE",
              file=sys.stderr)
        return 2
    if not args.cases and not args.data and args.no_countryinfo:
        print("error: nothing to score: give --data PATH, --cases FILE, or drop --no-countryinfo", file=sys.stderr)
        return 2
    try:
        options = ConflictOptions(
            limit=args.limit, fit_out=Path(args.calibration_out) if args.fit else None,
            records=Path(args.records) if args.records else None, cache=Path(args.cache) if args.cache else None,
            progress=not args.no_progress)
    except ValueError as e:
        print(f"error: --{e}", file=sys.stderr)
        return 2
    try:
        cfg = config_from_args(args)
        cases = load_cases(Path(args.cases))[: args.limit] if args.cases else None
        facts = []
        if cases is None:
            sources = [] if args.no_countryinfo else [countryinfo_facts()]
            if args.data:
                if not Path(args.data).exists():
                    raise CaseError(f"--data {args.data} does not exist")
                sources.append(popqa_facts(Path(args.data)))
            facts = interleave(*sources)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    emit(evaluate(cfg, cases, facts, options), args, title="adaptrag knowledge-conflict evaluation")
    return 0
