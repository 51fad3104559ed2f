"""`adaptrag dyprag ...`: build teacher LoRAs and train the DyPRAG parameter translator.

    adaptrag dyprag build-teachers --data ../shared/data --work /tmp/dyprag --limit 64
    adaptrag dyprag train --work /tmp/dyprag [--out FILE]        # default: the model's translator path
    adaptrag dyprag bench --data ../shared/data --translator FILE --limit 300

All three are seeded and resumable (rerun the same command after an interruption) and show progress bars.
`rag/cli.py` calls `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("dyprag", help="DyPRAG: train the passage -> LoRA parameter translator")
    sub = group.add_subparsers(dest="dyprag_command", metavar="STEP", required=True)

    t = sub.add_parser("build-teachers", help="stage 1: one teacher LoRA per training passage (resumable)")
    _common(t)
    t.add_argument("--data", required=True, help="folder with squad/, nq/, popqa/ (e.g. ../shared/data)")
    t.add_argument("--sources", default="squad,nq,popqa",
                   help="comma-separated: squad, nq, popqa (popqa: only its TRAIN half by evals.data.popqa_split)")
    t.add_argument("--limit", type=int, default=420, help="training passages (default 420: ~15 min at ~2 s each)")
    t.add_argument("--steps", type=int, default=3, help="Adam steps per teacher (default 3)")
    t.add_argument("--lr", type=float, default=1e-2, help="teacher learning rate (default 1e-2)")
    t.add_argument("--passage-tokens", type=int, default=0,
                   help="also train on the passage text truncated to N tokens (default 0: QA pair only)")
    t.set_defaults(func=cmd_build_teachers)

    tr = sub.add_parser("train", help="stage 2: train the translator on the teachers (resumable)")
    _common(tr)
    tr.add_argument("--out", help="translator file (.safetensors); default: the model's default translator path")
    tr.add_argument("--epochs", type=int, default=2)
    tr.add_argument("--lr", type=float, default=3e-4, help="translator learning rate (default 3e-4)")
    tr.add_argument("--val-fraction", type=float, default=0.1, help="teachers held out for validation metrics")
    tr.set_defaults(func=cmd_train)

    b = sub.add_parser("bench", help="PopQA eval half: standard RAG vs DyPRAG inject vs combine (JSON report)")
    _common(b)
    b.add_argument("--data", required=True, help="folder with popqa/dev.jsonl")
    b.add_argument("--translator", help="translator file; default: the model's default translator path")
    b.add_argument("--limit", type=int, default=300, help="questions from the eval half (default 300)")
    b.add_argument("--modes", default="standard,inject,combine")
    b.add_argument("--max-new-tokens", type=int, default=16)
    b.add_argument("--out", help="also write the JSON report (and per-question rows beside it) here")
    b.add_argument("--split", choices=("eval", "dev"), default="eval",
                   help="eval: PopQA eval half (default); dev: train half minus the teacher passages, to calibrate")
    b.add_argument("--scales", default="",
                   help="injection scales for inject/combine, e.g. 0.25,0.5,1 (default: the translator's scale)")
    b.add_argument("--calibrate", action="store_true",
                   help="with --split dev: store the scale with the best combine accuracy in the translator manifest")
    b.set_defaults(func=cmd_bench)

    sh = sub.add_parser("ship", help="copy a trained translator, in float16, to where adaptrag ships it "
                                     "(adapt/dyprag/translators/<model>/)")
    sh.add_argument("--model", default="smollm2-135m", help="base model (registry name)")
    sh.add_argument("--translator", help="trained translator file; default: the model's default translator path")
    sh.set_defaults(func=cmd_ship)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="smollm2-135m", help="base model (registry name or path)")
    p.add_argument("--work", default="", help="work folder for teachers and checkpoints (default: a temp-like "
                   "folder under the data home: ~/.local/share/adaptrag/dyprag/<model>/work)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on a shared, oversubscribed CPU more threads spin and wait)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _setup(args: argparse.Namespace):
    import torch

    from rag.generators.hidden_states import load_base_model
    from rag.translator import default_translator_path

    torch.set_num_threads(max(1, args.threads))
    torch.manual_seed(args.seed)
    work = Path(args.work).expanduser() if args.work else default_translator_path(args.model).parent / "work"
    model, tok = load_base_model(args.model)
    return model, tok, work


def cmd_build_teachers(args: argparse.Namespace) -> int:
    from adapt.dyprag.teachers import TeacherConfig, build_teachers, load_items

    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    items = load_items(args.data, sources, args.limit, args.seed)
    model, tok, work = _setup(args)
    cfg = TeacherConfig(steps=args.steps, lr=args.lr, max_passage_tokens=args.passage_tokens, seed=args.seed)
    t0 = time.perf_counter()
    summary = build_teachers(model, tok, items, work, cfg, progress=not args.no_progress)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    summary["sources"] = sources
    print(json.dumps(summary, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from adapt.dyprag.train import TrainConfig, train_translator
    from rag.generators.hidden_states import base_model_sha256
    from rag.translator import default_translator_path

    model, tok, work = _setup(args)
    out = Path(args.out).expanduser() if args.out else default_translator_path(args.model)
    cfg = TrainConfig(epochs=args.epochs, lr=args.lr, seed=args.seed, val_fraction=args.val_fraction)
    manifest = train_translator(model, tok, work, out, cfg, args.model, base_model_sha256(args.model),
                                command=" ".join(sys.argv), progress=not args.no_progress)
    size = out.stat().st_size
    print(json.dumps({"translator": str(out), "bytes": size, "metrics": manifest.metrics}, indent=2))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import torch

    from adapt.dyprag.bench import choose_scale, run_bench
    from rag.config import load_config
    from rag.translator import read_manifest, translator_path, write_calibration

    torch.set_num_threads(max(1, args.threads))
    translator = Path(args.translator).expanduser() if args.translator else translator_path(
        load_config(env={}, overrides={"model.name": args.model}))
    if args.calibrate and args.split != "dev":
        raise SystemExit("--calibrate chooses the scale on dev questions; add --split dev")
    try:
        scales = [float(x) for x in args.scales.split(",") if x.strip()] or [read_manifest(translator).scale]
    except ValueError:
        raise SystemExit(f"--scales must be numbers separated by commas, got {args.scales!r}") from None
    if any(not x >= 0 for x in scales):
        raise SystemExit(f"--scales must be >= 0, got {args.scales!r}")
    report = run_bench(args.model, translator, args.data, limit=args.limit,
                       modes=[m.strip() for m in args.modes.split(",") if m.strip()],
                       max_new_tokens=args.max_new_tokens, out=args.out, progress=not args.no_progress,
                       split=args.split, scales=scales)
    if args.calibrate:
        calibration = choose_scale(report) | {"command": " ".join(sys.argv)}
        write_calibration(translator, calibration)
        report["calibration"] = calibration
    print(json.dumps(report, indent=2))
    return 0


def cmd_ship(args: argparse.Namespace) -> int:
    """The shipped copy keeps the manifest (training, metrics, calibrated scale) and records its storage dtype."""
    import torch

    from rag.translator import (
        default_translator_path,
        load_translator,
        save_translator,
        shipped_translator_path,
        write_calibration,
    )

    source = Path(args.translator).expanduser() if args.translator else default_translator_path(args.model)
    translator, manifest = load_translator(source, expect_model=args.model)
    out = shipped_translator_path(args.model)
    training = {**manifest.training, "stored_dtype": "float16", "shipped_from": source.name}
    save_translator(translator, out, training=training, metrics=manifest.metrics, dtype=torch.float16)
    if manifest.calibration:
        write_calibration(out, manifest.calibration)
    print(json.dumps({"translator": str(out), "bytes": out.stat().st_size, "scale": manifest.scale}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m adapt.dyprag.cli ...` without the adaptrag entry point."""
    parser = argparse.ArgumentParser(prog="adaptrag")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
