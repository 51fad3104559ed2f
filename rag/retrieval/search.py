"""The three retrievers over an open `indexing.index.Index`: dense, BM25 and hybrid.

Settings (depths, weights) come from `RetrievalConfig` in `__init__`; `search(query, top_k)` takes the
data. Each call first checks whether a writer committed a new index generation and reopens if so, so a
long-running app sees documents added while it runs. `query_vector=` lets benchmarks time search
without the query embedding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexing.index import Index
from rag.config import RetrievalConfig
from rag.retrieval.fusion import rrf
from rag.types import Passage

HEAD_CHARS = 500  # of a document's first chunk, kept beside its later chunks (`Passage.head`)


class _Base:
    name = ""

    def __init__(self, index: Index, cfg: RetrievalConfig | None = None) -> None:
        self.index = index
        self.cfg = cfg or RetrievalConfig()

    def _top_k(self, top_k: int | None) -> int:
        k = self.cfg.top_k if top_k is None else top_k
        if k <= 0:
            raise ValueError(f"top_k must be greater than 0. Currently, the top_k is {k}")
        return k

    def _passages(self, ranked: Sequence[tuple[str, float, dict[str, float]]]) -> list[Passage]:
        chunks = self.index.chunks_by_id([r[0] for r in ranked])
        found = [c for c in (chunks.get(r[0]) for r in ranked) if c is not None]
        firsts = self.index.first_chunks([c.doc_id for c in found])
        out = []
        for cid, score, scores in ranked:
            c = chunks.get(cid)
            if c is not None:  # a shared server may return points of newer generations
                first = firsts.get(c.doc_id)
                head = first.text[:HEAD_CHARS] if first is not None and first.id != c.id else ""
                out.append(Passage(c.id, c.source, c.title, c.text, c.start, c.end, float(score), dict(scores),
                                   head=head))
        return out

    def _embed(self, query: str, query_vector: np.ndarray | None) -> np.ndarray:
        return self.index.embedder.embed_query(query) if query_vector is None else query_vector


class DenseRetriever(_Base):
    """Nearest neighbours of the query embedding in the vector store (cosine)."""

    name = "dense"

    def search(self, query: str, top_k: int | None = None, query_vector: np.ndarray | None = None) -> list[Passage]:
        k = self._top_k(top_k)
        self.index.refresh()
        hits = self.index.dense_search(self._embed(query, query_vector), k)
        return self._passages([(cid, s, {"dense": s}) for cid, s in hits])


class BM25Retriever(_Base):
    """BM25 over chunk texts (bm25s)."""

    name = "bm25"

    def search(self, query: str, top_k: int | None = None, query_vector: np.ndarray | None = None) -> list[Passage]:
        k = self._top_k(top_k)
        self.index.refresh()
        hits = self.index.bm25_search(query, k)
        return self._passages([(cid, s, {"bm25": s}) for cid, s in hits])


class HybridRetriever(_Base):
    """Dense and BM25 candidates (cfg.candidates each) fused by weighted reciprocal rank."""

    name = "hybrid"

    def search(self, query: str, top_k: int | None = None, query_vector: np.ndarray | None = None) -> list[Passage]:
        k = self._top_k(top_k)
        self.index.refresh()
        depth = max(self.cfg.candidates, k)
        rankings = {}
        if self.cfg.dense_weight > 0:
            rankings["dense"] = self.index.dense_search(self._embed(query, query_vector), depth)
        if self.cfg.bm25_weight > 0:
            rankings["bm25"] = self.index.bm25_search(query, depth)
        fused = rrf(rankings, {"dense": self.cfg.dense_weight, "bm25": self.cfg.bm25_weight}, self.cfg.rrf_k)
        return self._passages(fused[:k])


RETRIEVERS = {"dense": DenseRetriever, "bm25": BM25Retriever, "hybrid": HybridRetriever}
