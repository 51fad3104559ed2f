"""`adaptrag index add|ls|rm|stats`: manage the document index from the shell.

    adaptrag index add docs/ notes/*.md --index ~/myindex
    adaptrag index ls
    adaptrag index rm docs/old.txt
    adaptrag index stats --json

The index folder comes from --index, else $ADAPTRAG_INDEX, else ~/.local/share/adaptrag/index;
--qdrant-url (or $ADAPTRAG_QDRANT_URL) uses a Qdrant server for the vectors. Standalone:
`python -m indexing.cli add PATH...`.

Exit codes (README "Exit codes"): 0 everything was indexed / removed; 1 the run finished but some files
were skipped (each is named with its reason) or a path to remove was not in the index; 2 and above the run
failed and the index is unchanged: 2 bad configuration or an index that cannot be used, 3 index in use by
another writer, 4 disk full, 5 index folder read-only or not permitted, 70 internal error (a bug: rerun
with `adaptrag -v index ...` for the traceback), 130 interrupted. Every failure is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence

EXIT_OK, EXIT_SKIPPED, EXIT_CONFIG, EXIT_BUSY, EXIT_DISK_FULL, EXIT_READ_ONLY = 0, 1, 2, 3, 4, 5
EXIT_INTERNAL, EXIT_INTERRUPTED = 70, 130  # 70: EX_SOFTWARE of sysexits.h


def shown(text: str) -> str:
    """A name as one safe terminal line: newlines, escapes and other control characters spelled out."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


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
    add.add_argument("--follow-symlinks", action="store_true",
                     help="also index what symlinks inside the named folders point to outside them")
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
    from indexing.index import DiskFull, IndexBusy, IndexFailure, IndexReadOnly
    from indexing.store import StoreError
    from indexing.writer import disk_fault
    from rag.cli_common import config_from_args
    from rag.config import ConfigError

    def fail(message: str, code: int) -> int:
        print(f"error: {shown(message)}", file=sys.stderr)
        return code

    try:
        cfg = config_from_args(args, {"index.lock_timeout_s": getattr(args, "wait", None)})
        return args.index_handler(cfg, args)
    except ConfigError as e:
        return fail(str(e), EXIT_CONFIG)
    except IndexBusy as e:
        return fail(str(e), EXIT_BUSY)
    except DiskFull as e:
        return fail(str(e), EXIT_DISK_FULL)
    except IndexReadOnly as e:
        return fail(str(e), EXIT_READ_ONLY)
    except (IndexFailure, StoreError) as e:
        return fail(str(e), EXIT_CONFIG)
    except KeyboardInterrupt:
        print("interrupted: the index is unchanged (the previous version is still in use)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - a bug or an unforeseen fault: one line, its own exit code
        index = getattr(args, "index", None) or os.environ.get("ADAPTRAG_INDEX") or "the index"
        fault = disk_fault(e, index)
        if isinstance(fault, DiskFull):
            return fail(str(fault), EXIT_DISK_FULL)
        if isinstance(fault, IndexReadOnly):
            return fail(str(fault), EXIT_READ_ONLY)
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        return fail(f"internal error ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); the index is "
                    "unchanged. This is a bug: please report it with the traceback printed by `adaptrag -v index ...`",
                    EXIT_INTERNAL)


def _add(cfg, args) -> int:
    from indexing.index import Index

    def notice(path: str, message: str) -> None:
        print(f"note: {shown(path)}: {message}", file=sys.stderr, flush=True)

    report = Index.open(cfg).add(args.paths, progress=not args.no_progress and sys.stderr.isatty(),
                                 follow_symlinks=args.follow_symlinks, on_notice=notice)
    for w in report.warnings:
        print(f"warning: {shown(w.path)}: {shown(w.message)}", file=sys.stderr)
    for s in report.errors:
        print(f"error: {shown(s.path)}: {shown(s.reason)}", file=sys.stderr)
    unsupported = [s for s in report.skipped if not s.error]
    for s in unsupported:  # every file is named: a count by extension hid which ones
        print(f"skipped: {shown(s.path)}: {shown(s.reason)}", file=sys.stderr)
    if len(unsupported) > 5:
        kinds = Counter(os.path.splitext(s.path)[1] or "(none)" for s in unsupported)
        print(f"skipped {len(unsupported)} files of unsupported types: "
              + ", ".join(f"{shown(k)} ({n})" for k, n in kinds.most_common()), file=sys.stderr)
    t = report.timings_s
    print(f"index {shown(str(cfg.index_path()))}: {len(report.added)} added, {len(report.updated)} updated, "
          f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
          f"{report.chunks_added} chunks written, {report.chunks_removed} removed in {t.get('total', 0):.1f}s")
    if report.translator_inputs:
        print(f"DyPRAG: stored the translator inputs of {report.translator_inputs} chunk(s) for {cfg.model.name} "
              f"in {t.get('dyprag', 0):.1f}s (inject.index_inputs={cfg.inject.index_inputs})")
    if report.errors:
        print(f"{len(report.errors)} file(s) skipped because of errors: "
              + ", ".join(shown(s.path) for s in report.errors[:10]) + (" ..." if len(report.errors) > 10 else ""),
              file=sys.stderr)
        return EXIT_SKIPPED
    return EXIT_OK


def _ls(cfg, args) -> int:
    from indexing.index import Index

    docs = Index.open(cfg, readonly=True).documents()
    for d in docs:
        if args.json:
            print(json.dumps({"doc_id": d.doc_id, "source": d.source, "title": d.title, "chunks": d.chunks,
                              "chars": d.chars, "content_hash": d.content_hash, "added_at": d.added_at}))
        else:
            print(f"{d.chunks:6d} chunks  {shown(d.source)}" + (f"  ({shown(d.title)})" if d.title else ""))
    if not args.json:
        print(f"{len(docs)} document(s) in {shown(str(cfg.index_path()))}")
    return 0


def _rm(cfg, args) -> int:
    from indexing.index import Index

    report = Index.open(cfg).remove(args.paths)
    for src in report.removed:
        print(f"removed: {shown(src)}")
    for p in report.not_found:
        print(f"error: {shown(p)}: not in the index (see `adaptrag index ls`)", file=sys.stderr)
    print(f"{len(report.removed)} document(s), {report.chunks_removed} chunks removed from "
          f"{shown(str(cfg.index_path()))}")
    return EXIT_SKIPPED if report.not_found else EXIT_OK


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
    parser.add_argument("-v", "--verbose", action="store_true", help="print the traceback of an internal error")
    register(parser.add_subparsers(dest="command", required=True))
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = [a for a in argv if a in ("-v", "--verbose")]
    args = parser.parse_args([*verbose, "index", *(a for a in argv if a not in verbose)])
    quiet_third_party(verbose=bool(verbose))
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main_index())
