"""Near-duplicate distractors: does the one relevant passage survive thousands of look-alike chunks?

    python -m evals.distractors --workload evals/workloads/fictional --chunks 5000 --k 3,5 [--index DIR] [--out FILE]
    python -m evals.distractors --workload evals/workloads/reference --chunks 5000

The workload's corpus is indexed together with generated documents written from the workload's own
templates (evals/workload/fiction.py profiles and handbooks; evals/workload/reference.py country sheets) about
other, invented entities: "Project Marwick is led by Tove Calbrook ..." beside the one handbook that says who
leads Project Ormstead. Distractors are added until the chunker (the index's own, same settings) counts
`--chunks` of them. Invented names never reuse a word of the real corpus, so no distractor is about an entity a
question asks about; their values (months, years, numbers) do repeat the real ones, which is why a hit must
come from the real corpus: a passage counts when it holds an answer alias *and* is not a distractor. Then
recall@k is measured as in evals/passage_recall.py, on the workload's document and no_conflict cases.

Issue 15 asks for this with 5,000 distractors: a user's corpus of many similar records (one page per
customer, per product) must not drown the page a question is about.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from evals.passage_recall import index_corpus, measure, parse_ks, recall_cases
from evals.workload.cases import load_cases
from evals.workload.fiction import FIRST, HEAD, MONTHS, ORG_KIND, PRODUCTS, TAIL, Org, handbook, profile
from evals.workload.reference import sheet

FOLDER = "distractors"  # the generated documents' folder name; a passage under it is never a hit
MIDDLE = ["", "a", "e", "i", "o", "en", "er", "is", "ul", "an", "ow", "ith"]  # a bigger name space than HEAD+TAIL
REGIONS = [("Europe", "Northern Europe"), ("Africa", "Eastern Africa"), ("Asia", "South-Eastern Asia"),
           ("Americas", "South America"), ("Oceania", "Polynesia")]


class Invented:
    """Invented words from the workload's syllables that are not a word of the real corpus (seeded)."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken  # lower-cased words of the real corpus

    def word(self) -> str:
        while True:
            w = self.rng.choice(HEAD) + self.rng.choice(MIDDLE) + self.rng.choice(TAIL)
            if w.lower() not in self.taken:
                return w

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.word()}"


def corpus_words(corpus: Path) -> set[str]:
    """Lower-cased words of every file under `corpus` (PDF streams are read as Latin-1: their text is plain)."""
    words: set[str] = set()
    for path in corpus.rglob("*"):
        if path.is_file():
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", path.read_bytes().decode("latin-1")))
    return words


def fictional_documents(rng: random.Random, names: Invented) -> Iterator[tuple[str, str]]:
    """(file name, text) pairs: a profile and a handbook of one invented organisation at a time."""
    n = 0
    while True:
        n += 1
        suffix = rng.choice(sorted(ORG_KIND))
        name = f"{names.word()} {suffix}"
        o = Org(name=name, slug=f"{name.lower().replace(' ', '-')}-{n}", kind=ORG_KIND[suffix], town=names.word(),
                founded=rng.randint(1890, 2015), founder=names.person(), ceo=names.person(),
                product=rng.choice(PRODUCTS), employees=rng.randint(12, 900), leave=rng.randint(20, 35),
                opens=f"{rng.randint(6, 9)}:{rng.choice(['00', '30'])}", extension=str(rng.randint(2000, 8999)),
                project=names.word(), lead=names.person(),
                deadline=f"{rng.choice(MONTHS)} {rng.randint(2027, 2031)}", budget=rng.randint(40, 900))
        yield f"{o.slug}-profile.md", profile(o)
        yield f"{o.slug}-handbook.txt", handbook(o)


def reference_documents(rng: random.Random, names: Invented) -> Iterator[tuple[str, str]]:
    """(file name, text) pairs: reference sheets (md, html, txt) of invented countries with plausible facts."""
    n = 0
    while True:
        n += 1
        name = names.word()
        region, subregion = rng.choice(REGIONS)
        f = {"name": name, "official": f"Republic of {name}", "capital": names.word(), "region": region,
             "subregion": subregion, "population": rng.randint(100_000, 90_000_000),
             "area": rng.randint(1_000, 2_000_000), "borders": [names.word() for _ in range(rng.randint(0, 4))],
             "languages": [f"{names.word()}ish"], "currencies": [f"{name} {rng.choice(['Dollar', 'Franc', 'Mark'])}"],
             "calling": [str(rng.randint(200, 999))], "demonym": f"{name}ian", "tld": [f".{name[:2].lower()}"],
             "timezones": [f"UTC+0{rng.randint(1, 9)}:00"], "native": name,
             "provinces": [names.word() for _ in range(rng.randint(3, 8))]}
        path, content = sheet(name, f, ("md", "html", "txt")[n % 3])
        yield f"{n}-{Path(path).name}", str(content)


GENERATORS: dict[str, Callable[[random.Random, Invented], Iterator[tuple[str, str]]]] = {
    "fictional": fictional_documents, "reference": reference_documents}


def write_distractors(out: Path, style: str, corpus: Path, chunks: int, tokenizer, chunk_tokens: int,
                      overlap: int, seed: int = 15) -> int:
    """Write documents into `out` until they make `chunks` chunks (as the index will cut them); returns the count."""
    from indexing.chunking import Chunker
    from indexing.loaders import load_file

    if style not in GENERATORS:
        raise SystemExit(f"no distractor templates for workload {style!r}; known: {', '.join(GENERATORS)}")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    chunker = Chunker(tokenizer, chunk_tokens, overlap)
    total = 0
    for name, text in GENERATORS[style](rng, Invented(rng, corpus_words(corpus))):
        if total >= chunks:
            return total
        path = out / name
        path.write_text(text, encoding="utf-8")
        docs, _ = load_file(path)
        total += sum(len(chunker.chunk(d)) for d in docs)
    return total


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.distractors", description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", required=True, type=Path,
                    help="workload folder (corpus/, test.jsonl, manifest.json), e.g. evals/workloads/fictional")
    ap.add_argument("--cases", type=Path, help="cases JSONL (default: the workload's test.jsonl)")
    ap.add_argument("--chunks", type=int, default=5000, help="distractor chunks to add (default 5000)")
    ap.add_argument("--k", default="3,5", help="comma-separated k values (default 3,5)")
    ap.add_argument("--seed", type=int, default=15, help="seed of the invented documents")
    ap.add_argument("--index", type=Path, help="index folder to build or reuse (default: a temporary one)")
    ap.add_argument("--misses", action="store_true", help="print each miss with the passages that beat it")
    ap.add_argument("--out", type=Path, help="also write the JSON report here")
    args = ap.parse_args(argv)
    from indexing.embed import Embedder
    from indexing.loaders import path_key
    from rag.config import load_config
    from rag.retrieval import open_retriever

    if args.chunks < 0:
        raise SystemExit(f"--chunks must be >= 0, got {args.chunks}")
    ks = parse_ks(args.k)
    corpus = args.workload / "corpus"
    style = json.loads((args.workload / "manifest.json").read_text())["workload"]
    cases = recall_cases(load_cases(args.cases or args.workload / "test.jsonl"))
    tmp = Path(tempfile.mkdtemp(prefix="adaptrag-distractors-"))
    try:
        cfg = load_config(overrides={"index.path": str(args.index or tmp / "index"), "inject.index_inputs": "off"})
        embedder = Embedder.shared(cfg.index.embedding_model)
        # beside a reused index, so a second run finds the same files (same content: nothing to re-embed)
        folder = args.index.with_name(f"{args.index.name}-{FOLDER}") if args.index else tmp / FOLDER
        written = write_distractors(folder, style, corpus, args.chunks, embedder.tokenizer, cfg.index.chunk_tokens,
                                    cfg.index.chunk_overlap, args.seed)
        index_corpus(cfg, [corpus, folder], embedder=embedder, progress=sys.stderr.isatty())
        retriever = open_retriever(cfg, embedder=embedder)
        fake = path_key(folder) + "/"  # (not "inside the corpus": a JSONL line may name any `source`)
        report = {"workload": str(args.workload), "cases": str(args.cases or args.workload / "test.jsonl"),
                  "distractor_chunks": written, "seed": args.seed, "retrieval": cfg.retrieval.method,
                  "fusion": {"dense_weight": cfg.retrieval.dense_weight, "bm25_weight": cfg.retrieval.bm25_weight,
                             "rrf_k": cfg.retrieval.rrf_k},
                  **measure(retriever, cases, ks, miss_k=cfg.retrieval.top_k,
                            counts=lambda p: not p.source.startswith(fake))}
    finally:
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
