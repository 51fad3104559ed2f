"""The `adaptrag` command line.

    adaptrag index add docs/            # indexing (indexing/cli.py)
    adaptrag ask "Who wrote Dracula?" --json
    adaptrag eval popqa --data ../shared/data/popqa/dev.jsonl --limit 100
    adaptrag adapt train ...            # the <RET> router (adapt/cli.py)
    adaptrag dyprag train ...           # the DyPRAG translator (adapt/dyprag/cli.py)
    adaptrag models                     # registered models and whether they are installed

Settings come from --config FILE (TOML), ADAPTRAG_* variables and the flags below; see rag/config.py.
User errors (bad settings, missing models, a server that is down) print one readable line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from rag.cli_common import add_common_args, config_from_args, quiet_third_party
from rag.config import Config, ConfigError, DyPRAGMode, Mode

EXIT_USER_ERROR = 2


# Subcommand groups that live in other packages: (module, attribute).
_GROUPS = (
    ("indexing.cli", "register"),
    ("evals.cli", "register"),
    ("adapt.cli", "register"),
    ("adapt.dyprag.cli", "register"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adaptrag", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = sub.add_parser("ask", help="answer a question", description="Answer a question from memory or documents.")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=get_args(Mode), help="when to retrieve (decide.mode, $ADAPTRAG_MODE; "
                     "default: adaptive)")
    ask.add_argument("--dyprag", choices=get_args(DyPRAGMode), help="DyPRAG parameter injection (inject.dyprag, "
                     "$ADAPTRAG_DYPRAG; default: off)")
    ask.add_argument("--top-k", type=int, help="passages to retrieve (retrieval.top_k; default: 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object: answer, retrieved, ret_probability, "
                     "abstained, passages, citations, conflict, timings_ms (README: \"ask --json\")")
    ask.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    add_common_args(ask)
    ask.set_defaults(func=cmd_ask)

    models = sub.add_parser("models", help="list registered models and whether they are installed")
    add_common_args(models)
    models.set_defaults(func=cmd_models)

    show = sub.add_parser("config", help="print the resolved settings as JSON")
    add_common_args(show)
    show.set_defaults(func=cmd_config)

    for module, attr in _GROUPS:
        try:
            register = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name and module.startswith(e.name):  # that part of adaptrag is not built yet
                continue
            raise
        register(sub)
    return parser


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.pipeline import Pipeline

    cfg = ask_config(args)
    if args.index and not cfg.index.qdrant_url and not Path(args.index).expanduser().exists():
        raise ConfigError(f"the index folder {args.index} does not exist: build it with `adaptrag index add "
                          f"--index {args.index} PATH`, or leave out --index to ask the default index")
    pipeline = Pipeline.from_config(cfg)
    on_token = None
    if args.stream and not args.json:
        def on_token(piece: str) -> None:
            sys.stdout.write(piece)
            sys.stdout.flush()
    answer = pipeline.answer(args.question, mode=cfg.decide.mode, dyprag=cfg.inject.dyprag, on_token=on_token)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    if args.stream:
        print()
    threshold = getattr(getattr(pipeline, "decider", None), "threshold", None)
    print(render_text(answer, with_answer=not args.stream, threshold=threshold))
    return 0


def ask_config(args: argparse.Namespace) -> Config:
    """The settings of `ask`: its own flags are the dedicated twins of decide.mode, inject.dyprag, retrieval.top_k."""
    return config_from_args(args, {"decide.mode": args.mode, "inject.dyprag": args.dyprag,
                                   "retrieval.top_k": args.top_k})


def render_text(answer, with_answer: bool = True, threshold: float | None = None) -> str:
    """A terminal rendering: conflict warning first, then the answer, why it came from where, sources, timings.

    `threshold` is the router's P(<RET>) threshold (`pipeline.decider.threshold`), shown beside P(<RET>).
    """
    from rag.explain import decision_words, disagreement, memory_words, source_name

    by_id = {p.id: (i, p) for i, p in enumerate(answer.passages, start=1)}

    def sources(ids) -> str:
        return ", ".join(source_name(by_id[i][1].source) if i in by_id else i for i in ids) or "your documents"

    lines: list[str] = []
    d = disagreement(answer)
    if d is not None and d.kind == "memory_vs_documents":
        conf = f" ({d.second.confidence:.0%} confident)" if d.second.confidence is not None else ""
        lines.append(f"!! {d.title}: documents say '{d.first.value or '?'}' ({sources(d.first.passage_ids)}), "
                     f"memory says '{d.second.value or '?'}'{conf} [score {d.score:.2f}]")
    elif d is not None:
        lines.append(f"!! {d.title}: '{d.first.value or '?'}' ({sources(d.first.passage_ids)}) vs "
                     f"'{d.second.value or '?'}' ({sources(d.second.passage_ids)}) [score {d.score:.2f}]")
    if with_answer:
        lines.append(answer.answer)
    lines.append(f"-- {decision_words(answer, threshold)}")
    if d is None and answer.conflict.available and answer.conflict.memory_status:
        memory = memory_words(answer)
        lines.append(f"-- no conflict found{'; ' + memory if memory else ''}")
    if answer.passages and (answer.abstained or answer.answered_from != "documents"):
        n = len(answer.passages)
        lines.append(f"   searched {n} passage{'s' if n != 1 else ''}, none answers: "
                     f"{sources(p.id for p in answer.passages)}")
    for cit in answer.citations:
        if cit.from_memory:
            lines.append(f"   - {cit.sentence!r}: from model memory")
        else:
            n = by_id[cit.passage_id][0] if cit.passage_id in by_id else "?"
            lines.append(f"   - {cit.sentence!r}: [{n}] {cit.source} chars {cit.start}-{cit.end}")
    for w in answer.warnings:
        lines.append(f"   warning: {w}")
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings_ms.items() if "_" not in k)
    if stages:
        lines.append(f"-- {stages}")
    return "\n".join(lines)


def cmd_models(args: argparse.Namespace) -> int:
    from rag.models import REGISTRY, ModelNotFound, resolve_model

    cfg = config_from_args(args)
    for name, m in REGISTRY.items():
        try:
            where = str(resolve_model(name, cfg.model_cache()).file) if m.packages and _installed(m) else None
        except ModelNotFound as e:
            where = None
            status = f"error: {e}"
        else:
            status = where or f"not installed: {m.pip}"
        print(f"{name:22} {m.kind:22} {status}")
    return 0


def _installed(m) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(p) is not None for p in m.packages)


def cmd_config(args: argparse.Namespace) -> int:
    import dataclasses

    cfg = config_from_args(args)
    print(json.dumps(dataclasses.asdict(cfg), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    quiet_third_party(args.verbose)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # user errors get one line; programming errors keep their traceback
        if _is_user_error(e):
            print(f"adaptrag: error: {e}", file=sys.stderr)
            return EXIT_USER_ERROR
        raise


def _is_user_error(e: Exception) -> bool:
    from rag.generators.base import GeneratorError
    from rag.models import ModelNotFound
    from rag.pipeline import PipelineError

    user = (ConfigError, ModelNotFound, GeneratorError, PipelineError, FileNotFoundError, PermissionError)
    return isinstance(e, user) or getattr(e, "user_error", False)


if __name__ == "__main__":
    sys.exit(main())
