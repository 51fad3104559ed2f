"""Retrieval benchmark: recall of BM25 / dense / hybrid, indexing throughput, query latency, peak memory.

    .venv/bin/python -m evals.bench_retrieval --data /work/shared/data --out bench_retrieval.json

Settings (all through the real `Index`/`open_retriever` code paths, real MiniLM embeddings unless noted):
  popqa    every popqa/dev.jsonl `passage` is a document; recall@1/@5 per method for every question (a hit is
           a retrieved chunk containing an answer alias, case-insensitive) beside the given top-1 passage;
           indexing throughput split into embedding vs store (+ BM25 rebuild, commit); hybrid latency.
  mixed    the harder setting: PopQA + NQ + SQuAD passages + `--real-distractors` chunks of other real text
           (Python's HTML documentation, `apt-get install python3-doc`; Python sources as a fallback), all
           embedded with MiniLM; recall for the PopQA, NQ and SQuAD questions.
  big      `--big` chunks (the same distractor text, repeated with a marker) indexed through the same writer in a
           child process whose peak RSS is reported. Embedding 100k chunks with MiniLM on 2 shared cores takes
           hours, so these chunks get *hash-projection vectors* (signed feature hashing of their words, 384-d):
           store time, BM25 rebuild, commit, hybrid latency (query embedding excluded) and memory are real.
  engines  store-side upsert throughput and exact-query latency of Qdrant Edge vs qdrant-client local mode.
Hybrid fusion weights are swept offline from the same candidate lists (RRF is cheap) and reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from evals.metrics import percentile

# (dense weight, bm25 weight, rrf_k) fusions swept offline; the default config is (1.0, 0.3, 1)
WEIGHTS = [(1.0, 1.0, 60), (1.0, 0.5, 60), (0.5, 1.0, 60), (1.0, 0.25, 60), (1.0, 0.3, 1), (1.0, 0.75, 1),
           (1.0, 0.3, 10), (1.0, 1.0, 1)]


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def config(index: Path, **extra):
    from rag.config import load_config

    return load_config(env={}, overrides={"index.path": str(index), **extra})


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "n": len(ms)}


def hit(texts: list[str], answers: list[str]) -> bool:
    aliases = [a.lower() for a in answers if a.strip()]
    return any(a in t.lower() for t in texts for a in aliases)


# ---------------------------------------------------------------------------------------------------------------
def evaluate(index, questions: list[dict], embedder, candidates: int = 50) -> dict:
    """Recall@1/@5 for bm25, dense, hybrid (several weights) from one set of candidate lists per question."""
    from rag.config import RetrievalConfig
    from rag.retrieval.fusion import rrf
    from rag.retrieval.search import HybridRetriever

    t = time.perf_counter()
    qvecs = embedder.embed([q["question"] for q in questions])
    embed_ms = (time.perf_counter() - t) * 1000 / max(len(questions), 1)
    dense, bm25 = [], []
    for q, v in zip(questions, qvecs, strict=True):
        dense.append(index.dense_search(v, candidates))
        bm25.append(index.bm25_search(q["question"], candidates))
    ids = {cid for ranking in dense + bm25 for cid, _ in ranking}
    text = {cid: c.text for cid, c in index.chunks_by_id(list(ids)).items()}

    def recall(rankings: list[list[str]]) -> dict[str, float]:
        out = {}
        for k in (1, 5):
            out[f"recall@{k}"] = float(np.mean([hit([text[c] for c in r[:k]], q["answers"])
                                                for r, q in zip(rankings, questions, strict=True)]))
        return out

    result = {"n": len(questions), "query_embedding_ms": embed_ms,
              "bm25": recall([[c for c, _ in r] for r in bm25]), "dense": recall([[c for c, _ in r] for r in dense])}
    sweep = {}
    for wd, wb, k in WEIGHTS:
        fused = [[c for c, _, _ in rrf({"dense": d, "bm25": b}, {"dense": wd, "bm25": wb}, k)]
                 for d, b in zip(dense, bm25, strict=True)]
        sweep[f"dense={wd},bm25={wb},rrf_k={k}"] = recall(fused)
    result["hybrid_sweep"] = sweep
    # the real retriever with the default config (a row of the sweep), plus its latency
    retriever = HybridRetriever(index, RetrievalConfig(top_k=5, candidates=candidates))
    lat, got = [], []
    for q, v in zip(questions, qvecs, strict=True):
        t = time.perf_counter()
        passages = retriever.search(q["question"], 5, query_vector=v)
        lat.append((time.perf_counter() - t) * 1000)
        got.append([p.text for p in passages])
    result["hybrid"] = {f"recall@{k}": float(np.mean([hit(g[:k], q["answers"])
                                                      for g, q in zip(got, questions, strict=True)])) for k in (1, 5)}
    result["hybrid_latency_ms"] = percentiles(lat)
    best_single = {k: max(result["bm25"][k], result["dense"][k]) for k in ("recall@1", "recall@5")}
    result["hybrid_at_least_best_single"] = all(result["hybrid"][k] >= best_single[k] for k in best_single)
    return result


def add_timed(index, paths) -> dict:
    report = index.add(paths, progress=False)
    t = report.timings_s
    n = report.chunks_added
    store_side = t.get("store", 0) + t.get("bm25", 0) + t.get("commit", 0)
    return {"chunks": n, "documents": len(report.added), "errors": [s.reason for s in report.errors][:5],
            "seconds": {k: round(v, 3) for k, v in t.items()},
            "embed_chunks_per_s": n / t["embed"] if t.get("embed") else None,
            "store_chunks_per_s": n / t["store"] if t.get("store") else None,
            "store_side_chunks_per_s": n / store_side if store_side else None}


# ---------------------------------------------------------------------------------------------------------------
def popqa_setting(data: Path, work: Path, limit: int | None, embedder) -> dict:
    from indexing.index import Index

    rows = read_jsonl(data / "popqa" / "dev.jsonl")[:limit]
    passages = list(dict.fromkeys(r["passage"] for r in rows))
    write_jsonl(work / "popqa_passages.jsonl", ({"id": f"popqa{i}", "text": p} for i, p in enumerate(passages)))
    index = Index.open(config(work / "popqa-index"), embedder=embedder)
    indexing = add_timed(index, [work / "popqa_passages.jsonl"])
    result = evaluate(index, rows, embedder)
    result["given_top1_passage_hit"] = float(np.mean([hit([r["passage"]], r["answers"]) for r in rows]))
    result["indexing"] = indexing
    result["documents"] = len(passages)
    return result


def distractor_texts(sources: list[Path], tokenizer, chunk_tokens: int = 200) -> list[dict]:
    """Pre-chunked distractor documents (~one chunk each) from HTML docs, or .py sources as a fallback."""
    from indexing.chunking import Chunker
    from indexing.loaders import load_paths

    chunker = Chunker(tokenizer, chunk_tokens, 0)
    out = []
    for src in sources:
        html = sorted(src.rglob("*.html"))
        if html:
            docs = load_paths(html).documents
        else:
            from indexing.loaders import Document

            docs = [Document(str(p), str(p), p.stem, p.read_text(errors="replace"), "", str(p))
                    for p in sorted(src.rglob("*.py"))[:3000] if p.stat().st_size < 2_000_000]
        for d in docs:
            for c in chunker.chunk(d):
                if len(c.text) > 200:
                    out.append({"title": c.title, "text": c.text, "source": f"{d.source}:{c.start}"})
    return out


def mixed_setting(data: Path, work: Path, distractors: list[dict], n_real: int, limit: int | None, embedder) -> dict:
    from indexing.index import Index

    popqa = read_jsonl(data / "popqa" / "dev.jsonl")[:limit]
    nq = read_jsonl(data / "nq" / "train_passages_partial.jsonl")
    squad = read_jsonl(data / "squad" / "train_passages_partial.jsonl")
    extra = list(dict.fromkeys([r["gold_passage"] for r in nq + squad] + [r["retrieved_passage"] for r in nq
                                                                          if r.get("retrieved_passage")]))
    write_jsonl(work / "qa_passages.jsonl", ({"id": f"qa{i}", "text": p} for i, p in enumerate(extra)))
    write_jsonl(work / "distractors.jsonl", ({"id": f"d{i}", **d} for i, d in enumerate(distractors[:n_real])))
    index = Index.open(config(work / "mixed-index"), embedder=embedder)
    indexing = add_timed(index, [work / "popqa_passages.jsonl", work / "qa_passages.jsonl", work / "distractors.jsonl"])
    result = {"indexing": indexing, "chunks": index.stats()["chunks"],
              "distractor_chunks": min(n_real, len(distractors))}
    for name, qs in (("popqa", popqa), ("nq", nq), ("squad", squad)):
        result[name] = evaluate(index, qs, embedder)
    return result


class CachingEmbedder:
    """MiniLM with a text -> vector cache: the mixed setting re-uses the PopQA passages' and questions' vectors
    (so its embedding throughput is not reported; the popqa setting's is)."""

    def __init__(self, embedder) -> None:
        self.inner, self.tokenizer, self.dim, self.cache = embedder, embedder.tokenizer, embedder.dim, {}

    def embed(self, texts) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---------------------------------------------------------------------------------------------------------------
class HashEmbedder:
    """Signed feature hashing of words into unit vectors: a cheap stand-in for MiniLM at 100k chunks (see docstring)."""

    def __init__(self, tokenizer, dim: int = 384) -> None:
        self.tokenizer, self.dim, self.name = tokenizer, dim, "minilm-l6"

    def embed(self, texts) -> np.ndarray:
        from indexing.bm25 import tokenize

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in tokenize(text):
                h = zlib.crc32(tok.encode())
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def big_setting(work: Path, n_big: int, questions: list[dict], distractors_file: Path) -> dict:
    """Runs in a child process (see main): index n_big chunks with hash vectors, measure latency and peak RSS."""
    from transformers import AutoTokenizer

    from indexing.index import Index
    from indexing.loaders import Document  # noqa: F401 - import cost counted like in the CLI
    from rag.config import RetrievalConfig
    from rag.models import resolve_model
    from rag.retrieval.search import HybridRetriever

    base = read_jsonl(distractors_file)
    rows = iter({"id": f"b{i}", "title": base[i % len(base)]["title"],
             "text": base[i % len(base)]["text"] + (f" (copy {i // len(base)})" if i >= len(base) else "")}
            for i in range(n_big))
    parts = []
    for start in range(0, n_big, 10_000):  # files of 10k chunks (~7 MB): one 100k file would exceed max_file_mb
        parts.append(work / f"big-{start // 10_000:03d}.jsonl")
        write_jsonl(parts[-1], (next(rows) for _ in range(min(10_000, n_big - start))))
    embedder = HashEmbedder(AutoTokenizer.from_pretrained(str(resolve_model("minilm-l6").path)))
    rss_before = rss_mb()
    index = Index.open(config(work / "big-index"), embedder=embedder)
    indexing = add_timed(index, parts)
    rss_index = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (work / "one.txt").write_text("A single new document added to a large index: the incremental cost.")
    incremental = add_timed(index, [work / "one.txt"])
    reader = Index.open(config(work / "big-index"), readonly=True, embedder=embedder)
    retriever = HybridRetriever(reader, RetrievalConfig(top_k=5))
    vecs = embedder.embed([q["question"] for q in questions])
    for q, v in zip(questions[:5], vecs, strict=False):  # warm-up: first query loads mmaps
        retriever.search(q["question"], 5, query_vector=v)
    lat, lat_dense, lat_bm25 = [], [], []
    for q, v in zip(questions, vecs, strict=True):
        t = time.perf_counter()
        retriever.search(q["question"], 5, query_vector=v)
        lat.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        reader.dense_search(v, 50)
        lat_dense.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        reader.bm25_search(q["question"], 50)
        lat_bm25.append((time.perf_counter() - t) * 1000)
    return {"chunks": reader.stats()["chunks"], "bytes_on_disk": reader.stats()["bytes_on_disk"],
            "vectors": "hash projection (not MiniLM)", "indexing": indexing, "incremental_add_one_file": incremental,
            "hybrid_latency_ms": percentiles(lat), "dense_latency_ms": percentiles(lat_dense),
            "bm25_latency_ms": percentiles(lat_bm25),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_rss_after_indexing_mb": rss_index, "rss_before_indexing_mb (libraries, tokenizer)": rss_before}


def engines_setting(work: Path, n: int) -> dict:
    """Store-side throughput and exact query latency: Qdrant Edge vs qdrant-client local mode."""
    from indexing.store import EdgeStore, LocalClientStore

    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [f"{i:08x}-0000-0000-0000-000000000000" for i in range(n)]
    payloads = [{"chunk_id": i, "text": "x" * 600} for i in ids]
    out = {}
    for name, make in (("edge", lambda f: EdgeStore(f, 384, True)),
                       ("qdrant-client-local", lambda f: LocalClientStore(f, 384, True, "bench"))):
        folder = work / f"engine-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        store = make(folder)
        t = time.perf_counter()
        store.upsert(ids, vecs, payloads)
        store.commit()
        upsert_s = time.perf_counter() - t
        lat = []
        for v in vecs[:100]:
            t = time.perf_counter()
            store.search(v, 50)
            lat.append((time.perf_counter() - t) * 1000)
        store.close()
        out[name] = {"points": n, "upsert_points_per_s": n / upsert_s, "query_ms": percentiles(lat)}
    return out


# ---------------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder (popqa/, nq/, squad/)")
    parser.add_argument("--out", type=Path, help="write the JSON report here too")
    parser.add_argument("--work", type=Path, help="folder for the benchmark indexes (default: a temp folder)")
    parser.add_argument("--limit", type=int, help="only the first N PopQA rows (quick runs)")
    parser.add_argument("--real-distractors", type=int, default=5000, help="MiniLM-embedded distractor chunks (mixed)")
    parser.add_argument("--big", type=int, default=100_000, help="chunks in the large store/latency setting; 0 = skip")
    parser.add_argument("--engines", type=int, default=20_000, help="points for the engine comparison; 0 = skip")
    parser.add_argument("--distractor-source", type=Path, nargs="*",
                        default=[Path("/usr/share/doc/python3-doc/html"), Path(os.__file__).parent])
    parser.add_argument("--only-big", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_retrieval_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.only_big:
        questions = read_jsonl(args.data / "popqa" / "dev.jsonl")[:500]
        print(json.dumps(big_setting(work, args.big, questions, work / "distractor_pool.jsonl")))
        return 0

    from indexing.embed import Embedder

    embedder = CachingEmbedder(Embedder.shared("minilm-l6"))
    report: dict = {"machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}, "work": str(work)}
    sources = [s for s in args.distractor_source if s.exists()]
    pool = distractor_texts(sources[:1], embedder.tokenizer)
    rng = np.random.default_rng(0)  # a random sample of all documentation pages, not the first pages only
    pool = [pool[i] for i in rng.permutation(len(pool))]
    write_jsonl(work / "distractor_pool.jsonl", pool)
    report["distractor_source"] = [str(s) for s in sources[:1]]
    report["distractor_pool_chunks"] = len(pool)
    if args.engines:
        report["engines"] = engines_setting(work, args.engines)
        print(json.dumps({"engines": report["engines"]}), flush=True)
    report["popqa"] = popqa_setting(args.data, work, args.limit, embedder)
    print(json.dumps({"popqa": report["popqa"]}), flush=True)
    report["mixed"] = mixed_setting(args.data, work, pool, args.real_distractors, args.limit, embedder)
    print(json.dumps({"mixed": report["mixed"]}), flush=True)
    if args.big:
        child = subprocess.run([sys.executable, "-m", "evals.bench_retrieval", "--data", str(args.data), "--work",
                                str(work), "--big", str(args.big), "--only-big"], capture_output=True, text=True, check=False)
        if child.returncode != 0:
            report["big"] = {"error": child.stderr[-3000:]}
        else:
            report["big"] = json.loads(child.stdout.strip().splitlines()[-1])
    report["machine"]["load_avg_end"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
