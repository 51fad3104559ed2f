"""Dense, BM25 and hybrid retrieval over a real index (embedded Qdrant + bm25s + MiniLM), and the LangChain adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexing.index import Index
from rag.config import load_config
from rag.retrieval import open_retriever
from rag.retrieval.fusion import rrf
from rag.retrieval.langchain import AdaptragRetriever
from rag.types import Passage

DOCS = {
    "volcano.txt": "Mount Etna is an active volcano on the east coast of Sicily. It erupts frequently.",
    "bread.md": "# Baking\n\nSourdough bread uses a fermented starter of flour and water.",
    "code.txt": "The zx81 error code E7731 means the tape loader failed to sync.",
    "whales.html": "<title>Whales</title><p>The blue whale is the largest animal known to have lived.</p>",
    "policy.txt": "Home Contents Policy HLC-2093341\nHarbourline Insurance\n\n" + "Cover lasts a year. " * 120
                  + "\n\nVoluntary excess: £250.",
}


@pytest.fixture(scope="module")
def index_cfg(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("retrieval")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    cfg = load_config(env={}, overrides={"index.path": str(root / "index")})
    Index.open(cfg, embedder=embedder).add([docs], progress=False)
    return cfg


def retriever(cfg, embedder, method: str, **kw):
    from dataclasses import replace

    from rag.retrieval.search import RETRIEVERS

    index = Index.open(cfg, readonly=True, embedder=embedder)
    return RETRIEVERS[method](index, replace(cfg.retrieval, method=method, **kw))


def test_dense_finds_paraphrase(index_cfg, embedder):
    top = retriever(index_cfg, embedder, "dense").search("largest mammal in the ocean", 1)[0]
    assert isinstance(top, Passage) and "blue whale" in top.text
    assert top.title == "Whales" and set(top.scores) == {"dense"} and 0 < top.score <= 1


def test_bm25_finds_rare_token_and_spans_are_exact(index_cfg, embedder):
    top = retriever(index_cfg, embedder, "bm25").search("E7731", 2)
    assert len(top) == 1 and "tape loader" in top[0].text and top[0].scores["bm25"] > 0
    source_text = Path(top[0].source).read_text()
    assert source_text[top[0].start:top[0].end] == top[0].text


def test_a_later_chunk_carries_its_document_s_opening_as_its_head(index_cfg, embedder):
    """The policy's excess line is in a later chunk; its head is the document's first chunk (which names the
    policy), and a first chunk has no head."""
    found = retriever(index_cfg, embedder, "bm25").search("voluntary excess policy", 5)
    later = next(p for p in found if "Voluntary excess" in p.text)
    assert later.start > 0 and later.head.startswith("Home Contents Policy HLC-2093341\nHarbourline Insurance")
    first = next(p for p in found if p.source == later.source and p.start == 0)
    assert first.head == ""


def test_hybrid_equals_rrf_of_both_rankings(index_cfg, embedder):
    hybrid = retriever(index_cfg, embedder, "hybrid", dense_weight=1.0, bm25_weight=0.5, rrf_k=10)
    query = "Sicily volcano eruption"
    got = hybrid.search(query, 4)
    index = hybrid.index
    expected = rrf({"dense": index.dense_search(index.embedder.embed([query])[0], 50),
                    "bm25": index.bm25_search(query, 50)}, {"dense": 1.0, "bm25": 0.5}, 10)[:4]
    assert [p.id for p in got] == [e[0] for e in expected]
    assert [p.score for p in got] == pytest.approx([e[1] for e in expected])
    assert "Etna" in got[0].text and set(got[0].scores) == {"dense", "bm25"}


def test_open_retriever_uses_config_and_top_k(index_cfg, embedder):
    cfg = load_config(env={}, overrides={"index.path": str(index_cfg.index_path()), "retrieval.top_k": 2})
    r = open_retriever(cfg, embedder=embedder)
    assert len(r.search("bread starter")) == 2
    with pytest.raises(ValueError, match="top_k must be greater than 0"):
        r.search("x", 0)


def test_langchain_adapter(index_cfg, embedder):
    lc = AdaptragRetriever(retriever=open_retriever(index_cfg, embedder=embedder), top_k=1)
    docs = lc.invoke("sourdough")
    assert len(docs) == 1 and "Sourdough" in docs[0].page_content
    meta = docs[0].metadata
    assert meta["title"] == "Baking (bread)" and meta["source"].endswith("bread.md")  # the file name says more and meta["end"] > meta["start"]
    assert docs[0].id == meta["id"]


# Bad input (issue 15): questions unlike the corpus return passages or none, never an exception.
LONG_QUESTION = ("I have been wondering about this for a long time and would like a careful, complete answer " * 22
                 + "about the blue whale: how large is it?")
BAD_QUESTIONS = {
    "other language": "¿Cuál es el mamífero más grande del océano?",
    "other script": "地球上最大的动物是什么？",
    "one word": "volcano",
    "long": LONG_QUESTION,
    "only punctuation": "?!...",
    "only stop words": "what is the",
}


@pytest.mark.parametrize("method", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize("kind", sorted(BAD_QUESTIONS))
def test_bad_questions_return_passages_or_none(index_cfg, embedder, method, kind):
    question = BAD_QUESTIONS[kind]
    got = retriever(index_cfg, embedder, method).search(question, 3)
    assert isinstance(got, list) and len(got) <= 3 and all(isinstance(p, Passage) for p in got)
    for p in got:  # whatever comes back is a real chunk with its exact span
        assert Path(p.source).name in DOCS and p.end > p.start and p.text.strip()
    if method == "bm25" and kind in ("other language", "other script", "only punctuation", "only stop words"):
        assert got == []  # no shared word: BM25 has nothing to say (not an error, not a random chunk)
    if method != "bm25":
        assert len(got) == 3  # the dense ranking always has neighbours


def test_bad_questions_still_find_what_they_ask_for(index_cfg, embedder):
    hybrid = retriever(index_cfg, embedder, "hybrid")
    assert len(LONG_QUESTION) >= 2000
    # MiniLM reads only the first 256 tokens of this question; BM25 still sees "blue whale" at its end
    assert "blue whale" in hybrid.search(LONG_QUESTION, 1)[0].text
    assert "Etna" in hybrid.search("volcano", 1)[0].text
    # MiniLM is an English model: a Spanish question gets neighbours, but weaker ones than the same question in
    # English (a low score an abstention rule can see)
    dense = retriever(index_cfg, embedder, "dense")
    english = dense.search("What is the largest mammal in the ocean?", 1)[0]
    assert "blue whale" in english.text
    assert dense.search(BAD_QUESTIONS["other language"], 1)[0].score < english.score


def test_a_long_query_is_embedded_in_windows(embedder):
    import numpy as np

    short = embedder.embed_query("How large is the blue whale?")
    assert np.allclose(short, embedder.embed(["How large is the blue whale?"])[0])  # short: unchanged
    long = embedder.embed_query(LONG_QUESTION)
    head = embedder.embed([LONG_QUESTION])[0]  # what the model alone reads: the first 256 tokens
    assert abs(float(np.linalg.norm(long)) - 1) < 1e-5
    assert float(long @ short) > float(head @ short) + 0.1  # the question at the end counts
