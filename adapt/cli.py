"""`adaptrag adapt ...`: build the `<RET>` router's training data and train it.

    adaptrag adapt build-data --model smollm2-135m --data ../shared/data        # label with the base model
    adaptrag adapt train --model smollm2-135m                                    # LoRA + threshold + model card
    adaptrag adapt calibrate --model smollm2-135m                                # re-pick the threshold only
    python -m adapt.router.decision --adapter DIR --split test --out FILE         # retrieval rate per workload kind

The lead's rag/cli.py calls `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.config import Config, default_data_home

DEFAULT_DATA = "../shared/data"


def register(subparsers: Any) -> None:
    from rag.cli_common import add_common_args

    ad = subparsers.add_parser("adapt", help="train the <RET> router (Adapt-LLM)", description=__doc__.split("\n\n")[0])
    sub = ad.add_subparsers(dest="adapt_command", metavar="ADAPT", required=True)

    b = sub.add_parser("build-data", help="label training questions with the base model (resumable)")
    b.add_argument("--data", default=DEFAULT_DATA, help=f"shared data folder (default {DEFAULT_DATA})")
    b.add_argument("--out", metavar="DIR", help="output folder (default ~/.local/share/adaptrag/router/<model>)")
    b.add_argument("--sources", default="requests,world,fiction,popqa,nq,squad",
                   help="comma-separated: requests, world, fiction, popqa (PopQA train half), nq, squad")
    b.add_argument("--answer-share", type=float, default=0.45,
                   help="share of answer examples after balancing (0 = keep every example)")
    b.add_argument("--limit", type=int, default=0, help="label at most this many questions (0 = all)")
    b.add_argument("--per-source", default="", metavar="SRC=N,...",
                   help="at most N questions of a source, e.g. popqa=200,nq=60 (default: all)")
    b.add_argument("--batch-size", type=int, default=16)
    add_common_args(b)
    b.set_defaults(func=cmd_build_data)

    t = sub.add_parser("train", help="train the router LoRA, calibrate its threshold, write adapter + card")
    t.add_argument("--data", default=DEFAULT_DATA, help="shared data folder (for the calibration questions)")
    t.add_argument("--examples", metavar="DIR", help="build-data output folder (default as build-data)")
    t.add_argument("--out", metavar="DIR", help="adapter folder (default adapt/router/adapters/<model>)")
    # Defaults are the CPU-budget settings of the shipped smollm2-135m router; Adapt-LLM's own are
    # --epochs 3 --lr 3e-4 --top-layers 0 --context-examples (r=8, alpha=16, dropout 0.05 on q/v either way).
    t.add_argument("--epochs", type=float, default=2.0)
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--rank", type=int, default=8, help="LoRA rank (alpha = 2 x rank)")
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--top-layers", type=int, default=8, help="LoRA on the last N decoder layers only; 0 = all")
    t.add_argument("--max-examples", type=int, default=0, help="cap on training examples (0 = all)")
    t.add_argument("--context-examples", action="store_true",
                   help="also train Adapt-LLM's context examples (passage -> answer; ~5x the CPU time)")
    t.add_argument("--max-tokens", type=int, default=256, help="truncate examples to this many tokens")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--calibrate-limit", type=int, default=0,
                   help="router-dev questions for the threshold (default 0 = all 277)")
    t.add_argument("--tolerance", type=float, default=0.01,
                   help="quality the threshold may give up for fewer retrievals (default 0.01 = 1 point)")
    add_common_args(t)
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("calibrate", help="re-pick the threshold of a trained router on the router-dev questions")
    c.add_argument("--data", default=DEFAULT_DATA)
    c.add_argument("--adapter", metavar="DIR", help="adapter folder (default adapt/router/adapters/<model>)")
    c.add_argument("--calibrate-limit", type=int, default=0, help="router-dev questions (default 0 = all 277)")
    c.add_argument("--tolerance", type=float, default=0.01,
                   help="quality the threshold may give up for fewer retrievals (default 0.01 = 1 point)")
    add_common_args(c)
    c.set_defaults(func=cmd_calibrate)


def data_dir_for(model: str) -> Path:
    return default_data_home() / "router" / Path(model).name


def make_hf_generator(cfg: Config):
    """The in-process generator (training and labelling need the model's weights)."""
    from rag.generators import make_generator

    if cfg.model.backend != "hf":
        print(f"note: adapt uses the in-process hf backend, not {cfg.model.backend}", file=sys.stderr)
    return make_generator(_hf_model(cfg), cfg.generation)


def _hf_model(cfg: Config):
    """The configured model, in-process and in float32: training, labels and calibration were measured in it
    (bfloat16 is the answer path's default for speed, not measured for training)."""
    import dataclasses

    return dataclasses.replace(cfg.model, backend="hf", dtype="float32")


def cmd_build_data(args: argparse.Namespace) -> int:
    from adapt.router.data import build_data, load_questions
    from rag.cli_common import config_from_args

    cfg = config_from_args(args)
    caps = {k.strip(): int(v) for k, v in (x.split("=", 1) for x in args.per_source.split(",") if x.strip())}
    questions = load_questions(args.data, [s.strip() for s in args.sources.split(",") if s.strip()],
                               per_source=caps)
    if args.limit:
        questions = questions[: args.limit]
    out = Path(args.out) if args.out else data_dir_for(cfg.model.name)
    stats = build_data(make_hf_generator(cfg), questions, out, batch_size=args.batch_size,
                       answer_share=args.answer_share)
    print(json.dumps(stats | {"out": str(out)}, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from adapt.router.calibrate import calibrate
    from adapt.router.train import TrainSettings, default_adapter_dir, train_router
    from rag.cli_common import config_from_args

    cfg = config_from_args(args)
    examples = Path(args.examples) if args.examples else data_dir_for(cfg.model.name)
    out = Path(args.out) if args.out else default_adapter_dir(cfg.model.name)
    settings = TrainSettings(epochs=args.epochs, lr=args.lr, rank=args.rank, alpha=2 * args.rank,
                             batch_size=args.batch_size, max_tokens=args.max_tokens, seed=args.seed,
                             top_layers=args.top_layers, max_examples=args.max_examples,
                             context_examples=args.context_examples)
    gen = make_hf_generator(cfg)
    train_router(gen, examples, out, settings)
    card = calibrate(gen, out, args.data, limit=args.calibrate_limit, tolerance=args.tolerance)
    print(json.dumps(card, indent=2))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from adapt.router.calibrate import calibrate
    from adapt.router.train import default_adapter_dir
    from rag.cli_common import config_from_args

    cfg = config_from_args(args)
    out = Path(args.adapter) if args.adapter else default_adapter_dir(cfg.model.name)
    card = calibrate(make_hf_generator(cfg), out, args.data, limit=args.calibrate_limit, tolerance=args.tolerance)
    print(json.dumps(card, indent=2))
    return 0
