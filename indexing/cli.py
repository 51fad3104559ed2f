"""`adaptrag index add|ls|rm|stats`: manage the document index from the shell.

    adaptrag index add docs/ notes/*.md --index ~/myindex
    adaptrag index ls
    adaptrag index rm docs/old.txt
    adaptrag index stats --json

The index folder comes from --index, else $ADAPTRAG_INDEX, else ~/.local/share/adaptrag/index;
--qdrant-url (or $ADAPTRAG_QDRANT_URL) uses a Qdrant server for the vectors. Exit codes: 0 ok,
1 something was skipped for an error or not found, 2 bad configuration, 3 index in use, 130 interrupted.
Standalone: `python -m indexing.cli add PATH...`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence

EXIT_SKIPPED, EXIT_CONFIG, EXIT_BUSY, EXIT_INTERRUPTED = 1, 2, 3, 130


def register(subparsers) -> None:
    """Add the `index` command (with add/ls/rm/stats) to an argparse subparsers object; runs via `args.func(args)`."""
    parser = subparsers.add_parser("index", help="manage the document index (add, ls, rm, stats)",
                                   description="Manage the document index.")
    sub = parser.add_subparsers(dest="index_command", required=True, metavar="{add,ls,rm,stats}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", metavar="DIR", help="index folder (default: $ADAPTRAG_INDEX or "
                        "~/.local/share/adaptrag/index)")
    common.add_argument("--qdrant-url", metavar="URL", help="use a Qdrant server for the vectors")
    common.add_argument("--config", metavar="TOML", help="configuration file (default: $ADAPTRAG_CONFIG)")
    common.add_argument("--model", help="generator whose DyPRAG translator inputs are stored (inject.index_inputs; "
                        "default: $ADAPTRAG_MODEL)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any setting by dotted key, e.g. --set index.chunk_tokens=128 (repeatable)")
    add = sub.add_parser("add", parents=[common], help="index files, folders (recursive) and globs")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--no-progress", action="store_true", help="no progress bar")
    add.add_argument("--wait", type=float, metavar="SECONDS", help="wait this long for another writer")
    add.set_defaults(func=_dispatch, index_handler=_add)
    ls = sub.add_parser("ls", parents=[common], help="list indexed documents")
    ls.add_argument("--json", action="store_true", help="one JSON object per document")
    ls.set_defaults(func=_dispatch, index_handler=_ls)
    rm = sub.add_parser("rm", parents=[common], help="remove documents (file, folder, or JSONL doc id)")
    rm.add_argument("paths", nargs="+", metavar="PATH")
    rm.add_argument("--wait", type=float, metavar="SECONDS", help="wait this long for another writer")
    rm.set_defaults(func=_dispatch, index_handler=_rm)
    stats = sub.add_parser("stats", parents=[common], help="documents, chunks, size on disk, embedding model")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=_dispatch, index_handler=_stats)


def _dispatch(args: argparse.Namespace) -> int:
    from indexing.index import IndexBusy, IndexFailure
    from indexing.store import StoreError
    from rag.cli_common import config_from_args
    from rag.config import ConfigError

    try:
        cfg = config_from_args(args, {"index.lock_timeout_s": getattr(args, "wait", None)})
        return args.index_handler(cfg, args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except IndexBusy as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BUSY
    except (IndexFailure, StoreError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("interrupted: the index is unchanged (the previous version is still in use)", file=sys.stderr)
        return EXIT_INTERRUPTED


def _add(cfg, args) -> int:
    from indexing.index import Index

    report = Index.open(cfg).add(args.paths, progress=not args.no_progress and sys.stderr.isatty())
    for s in report.errors:
        print(f"error: {s.path}: {s.reason}", file=sys.stderr)
    unsupported = [s for s in report.skipped if not s.error]
    if len(unsupported) <= 5:
        for s in unsupported:
            print(f"skipped: {s.path}: {s.reason}", file=sys.stderr)
    else:
        kinds = Counter(os.path.splitext(s.path)[1] or "(none)" for s in unsupported)
        print(f"skipped {len(unsupported)} files of unsupported types: "
              + ", ".join(f"{k} ({n})" for k, n in kinds.most_common()), file=sys.stderr)
    t = report.timings_s
    print(f"index {cfg.index_path()}: {len(report.added)} added, {len(report.updated)} updated, "
          f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
          f"{report.chunks_added} chunks written, {report.chunks_removed} removed in {t.get('total', 0):.1f}s")
    if report.translator_inputs:
        print(f"DyPRAG: stored the translator inputs of {report.translator_inputs} chunk(s) for {cfg.model.name} "
              f"in {t.get('dyprag', 0):.1f}s (inject.index_inputs={cfg.inject.index_inputs})")
    if report.errors:
        print(f"{len(report.errors)} file(s) skipped because of errors: "
              + ", ".join(s.path for s in report.errors[:10]) + (" ..." if len(report.errors) > 10 else ""),
              file=sys.stderr)
        return EXIT_SKIPPED
    return 0


def _ls(cfg, args) -> int:
    from indexing.index import Index

    docs = Index.open(cfg, readonly=True).documents()
    for d in docs:
        if args.json:
            print(json.dumps({"doc_id": d.doc_id, "source": d.source, "title": d.title, "chunks": d.chunks,
                              "chars": d.chars, "content_hash": d.content_hash, "added_at": d.added_at}))
        else:
            print(f"{d.chunks:6d} chunks  {d.source}" + (f"  ({d.title})" if d.title else ""))
    if not args.json:
        print(f"{len(docs)} document(s) in {cfg.index_path()}")
    return 0


def _rm(cfg, args) -> int:
    from indexing.index import Index

    report = Index.open(cfg).remove(args.paths)
    for src in report.removed:
        print(f"removed: {src}")
    for p in report.not_found:
        print(f"error: {p}: not in the index (see `adaptrag index ls`)", file=sys.stderr)
    print(f"{len(report.removed)} document(s), {report.chunks_removed} chunks removed from {cfg.index_path()}")
    return EXIT_SKIPPED if report.not_found else 0


def _stats(cfg, args) -> int:
    from indexing.index import Index

    stats = Index.open(cfg, readonly=True).stats()
    if args.json:
        print(json.dumps(stats))
    else:
        for key, value in stats.items():
            print(f"{key:16s} {value}")
    return 0


def main_index(argv: Sequence[str] | None = None) -> int:
    """Run `index ...` without the top-level CLI (python -m indexing.cli add PATH...)."""
    from rag.cli_common import quiet_third_party

    parser = argparse.ArgumentParser(prog="adaptrag")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["index", *(sys.argv[1:] if argv is None else argv)])
    quiet_third_party(verbose=False)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main_index())
