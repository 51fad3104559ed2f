"""Retrieval only: recall@k of the passage holding the answer, on a workload's document questions.

    python -m evals.passage_recall --corpus evals/workloads/fictional/corpus \
        --cases evals/workloads/fictional/test.jsonl --k 3,5 [--index DIR] [--out FILE] [--misses]

The corpus is indexed into a fresh temporary index (or `--index DIR`, reused when it already holds the
corpus) with the resolved config, then each case of the kinds in `RECALL_KINDS` (document, no_conflict:
their aliases name a fact one passage states) is searched with the configured retriever. A case is a hit
at k when an alias is in one of the first k passages, the rule `eval workload` uses for `passage_hit`
(evals/workload/run.py), so this number and that one agree at k = retrieval.top_k. It runs without the
generator: seconds instead of the workload's hour, which is what tuning chunking and fusion needs.

It also counts, over the first retrieval.top_k passages holding an alias, those whose part the model reads
(rag/evidence.py `focus`, at most 480 characters of a longer chunk) still holds it: `held_in_part_read` of
`held_in_top_k`. A passage found but cut to the wrong sentences is an answer the model never sees.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.metrics import alias_match
from evals.workload.cases import Case, load_cases
from evals.workload.run import RECALL_KINDS


@dataclass(frozen=True)
class Miss:
    """A case whose answer was not in the first max(k) passages: what came back instead."""

    id: str
    question: str
    answers: tuple[str, ...]
    rank: int | None  # 1-based rank of the first passage holding an alias within the depth searched; None: none
    top: tuple[str, ...]  # "title | text[:80]" of the passages the generator would see


def recall_cases(cases: Sequence[Case]) -> list[Case]:
    """The cases whose aliases a retrieved passage should hold."""
    return [c for c in cases if c.kind in RECALL_KINDS and c.answers]


def first_hit(texts: Sequence[str], answers: Sequence[str]) -> int | None:
    """1-based rank of the first text holding an alias, or None."""
    return next((i for i, t in enumerate(texts, start=1) if alias_match(t, answers)), None)


def measure(retriever: Any, cases: Sequence[Case], ks: Sequence[int], miss_k: int = 3, depth: int = 20,
            counts: Callable[[Any], bool] | None = None) -> dict[str, Any]:
    """recall@k for each k over `cases` (already filtered), plus the misses: cases not hit within `miss_k`
    (the passages the generator sees, retrieval.top_k). `counts(passage)`: whether a passage may be a hit at
    all (evals/distractors.py: not a generated distractor); default every passage.

    `depth` passages are fetched per question so a miss says how far down the answer was (a rank of 8 is
    a fusion problem; no rank at all is a chunking or embedding one).
    """
    from rag.evidence import focus, question_terms

    ranks: list[int | None] = []
    misses: list[Miss] = []
    held = read = 0
    for c in cases:
        passages = retriever.search(c.question, top_k=max(depth, *ks))
        rank = first_hit([p.text if counts is None or counts(p) else "" for p in passages], c.answers)
        holding = [p for p in passages[:miss_k] if (counts is None or counts(p)) and alias_match(p.text, c.answers)]
        held += len(holding)
        read += sum(alias_match(focus(p, question_terms(c.question)).text, c.answers) for p in holding)
        ranks.append(rank)
        if rank is None or rank > miss_k:
            misses.append(Miss(c.id, c.question, c.answers, rank,
                               tuple(f"{p.title} | {p.text[:80]}" for p in passages[:miss_k])))
    n = len(cases)
    out: dict[str, Any] = {"n": n}
    for k in ks:
        hits = sum(1 for r in ranks if r is not None and r <= k)
        out[f"recall@{k}"] = round(hits / n, 4) if n else None
        out[f"hits@{k}"] = hits
    found = [r for r in ranks if r is not None]
    out[f"found_within_{depth}"] = len(found)
    out["held_in_top_k"], out["held_in_part_read"] = held, read
    out["misses"] = [m.__dict__ for m in misses]
    return out


def index_corpus(cfg: Any, corpus: Sequence[Path], embedder: Any = None, progress: bool = False) -> None:
    """Index `corpus` folders into `cfg`'s index (unchanged files are skipped by the index itself)."""
    from indexing.index import Index

    index = Index.open(cfg, embedder=embedder)
    try:
        report = index.add([str(p) for p in corpus], progress=progress)
    finally:
        index.close()
    if report.errors:
        raise RuntimeError(f"corpus did not index cleanly: {[(s.path, s.reason) for s in report.errors]}")


def parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(k) for k in text.split(",") if k.strip()})
    except ValueError:
        raise SystemExit(f"--k must be comma-separated positive integers, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise SystemExit(f"--k must be comma-separated positive integers, got {text!r}")
    return ks


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.passage_recall", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, nargs="+", type=Path, help="folder(s) of documents to index")
    ap.add_argument("--cases", required=True, type=Path, help="workload cases JSONL (document/no_conflict are used)")
    ap.add_argument("--k", default="3,5", help="comma-separated k values (default 3,5)")
    ap.add_argument("--index", type=Path, help="index folder to build or reuse (default: a temporary one)")
    ap.add_argument("--misses", action="store_true", help="also print each miss with its top passages")
    ap.add_argument("--out", type=Path, help="also write the JSON report here")
    args = ap.parse_args(argv)
    from rag.config import load_config
    from rag.retrieval import open_retriever

    ks = parse_ks(args.k)
    cases = recall_cases(load_cases(args.cases))
    tmp = None if args.index else Path(tempfile.mkdtemp(prefix="adaptrag-recall-"))
    try:
        cfg = load_config(overrides={"index.path": str(args.index or tmp / "index"), "inject.index_inputs": "off"})
        index_corpus(cfg, args.corpus)
        report = {"cases": str(args.cases), "retrieval": cfg.retrieval.method,
                  **measure(open_retriever(cfg), cases, ks, miss_k=cfg.retrieval.top_k)}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if not args.misses:
        report["misses"] = [m["id"] for m in report["misses"]]
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
