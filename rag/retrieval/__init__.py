"""Retrieval over the document index: dense (Qdrant), BM25 and hybrid (weighted reciprocal-rank fusion).

    retriever = open_retriever(load_config())       # method from cfg.retrieval.method, read-only
    passages = retriever.search("Who wrote Dracula?", top_k=3)

Every retriever returns `rag.types.Passage`s with the chunk's source, title, exact character span, the
score its ranking used and the per-retriever raw scores (`scores["dense"]` cosine, `scores["bm25"]`;
a key is absent when that retriever did not return the chunk among its candidates).
"""

from __future__ import annotations

from typing import Protocol

from rag.config import Config
from rag.types import Passage


class Retriever(Protocol):
    def search(self, query: str, top_k: int | None = None) -> list[Passage]: ...


def open_retriever(cfg: Config, embedder=None) -> Retriever:
    """The retriever `cfg.retrieval.method` names, over the committed index at `cfg.index_path()`."""
    from indexing.index import Index
    from rag.retrieval.search import RETRIEVERS

    if cfg.retrieval.method not in RETRIEVERS:
        from rag.config import ConfigError

        raise ConfigError(f"invalid value {cfg.retrieval.method!r} for retrieval.method; "
                          f"allowed: {', '.join(RETRIEVERS)}")
    index = Index.open(cfg, readonly=True, embedder=embedder)
    return RETRIEVERS[cfg.retrieval.method](index, cfg.retrieval)


__all__ = ["Retriever", "open_retriever"]
