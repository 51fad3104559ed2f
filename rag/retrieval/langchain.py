"""LangChain adapter: any adaptrag `Retriever` as a langchain-core `BaseRetriever`.

    from rag.retrieval.langchain import AdaptragRetriever
    lc = AdaptragRetriever.from_config(load_config())
    docs = lc.invoke("Who wrote Dracula?")   # langchain Documents; metadata has id, source, title, start, end, scores
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.config import Config
from rag.types import Passage


def passage_to_document(p: Passage) -> Document:
    return Document(page_content=p.text, id=p.id, metadata={
        "id": p.id, "source": p.source, "title": p.title, "start": p.start, "end": p.end,
        "score": p.score, "scores": dict(p.scores)})


class AdaptragRetriever(BaseRetriever):
    """Wraps a `rag.retrieval.Retriever`; `top_k` None = the retriever's configured top_k."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    top_k: int | None = None

    @classmethod
    def from_config(cls, cfg: Config, top_k: int | None = None) -> AdaptragRetriever:
        from rag.retrieval import open_retriever

        return cls(retriever=open_retriever(cfg), top_k=top_k)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [passage_to_document(p) for p in self.retriever.search(query, self.top_k)]
