"""BM25 lexical index (bm25s, persisted beside the vector store).

bm25s precomputes a sparse score matrix, so queries are ~40x faster than rank-bm25 with the same
ranking; the price is that it is static: the index is rebuilt from all chunk texts on every add/remove
(measured in evals/bench_retrieval.py). Scoring is BM25 (k1=1.5, b=0.75) on lower-cased word tokens
without English stop words, with Lucene's IDF log(1 + (N - df + 0.5) / (df + 0.5)): unlike Robertson's
IDF (rank-bm25's BM25Okapi) it never drops to 0 for a term in half of the chunks, which made a word
unsearchable in a two-document index. tests/indexing/test_bm25.py checks the scores against rank-bm25's
BM25Okapi with that IDF plugged in, and the rankings against plain BM25Okapi.

    BM25Index.build(ids, texts).save(folder); BM25Index.load(folder).search("query", k=10)
    BM25Index.build(rows=cursor)      # (id, text) pairs read one at a time; the texts are not kept

Memory: the build never holds the chunk texts or their tokens as Python strings (a 50 MB file's ~12M
tokens would take ~800 MB that way): each text is tokenized, mapped to vocabulary ids and kept as an
int32 array, 4 bytes per token; bm25s sees each document as a short-lived list.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

K1 = 1.5  # term-frequency saturation (rank-bm25's default)
B = 0.75  # length normalisation (rank-bm25's default)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def _bm25s():
    """The bm25s module; it sets its own logger to DEBUG at import (a "Building index from tokens" line on
    every build), so its logger goes back to inheriting the application's level."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


_STOP: frozenset[str] | None = None


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without English stop words."""
    global _STOP
    if _STOP is None:
        _STOP = _stopwords()
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


class BM25Index:
    """Chunk ids and a bm25s retriever over their texts."""

    def __init__(self, ids: list[str], retriever) -> None:
        self.ids = ids
        self.retriever = retriever

    @classmethod
    def build(cls, ids: Sequence[str] = (), texts: Sequence[str] = (), *,
              rows: Iterable[tuple[str, str]] | None = None) -> BM25Index:
        """Build from parallel `ids` and `texts`, or from `rows` of (chunk id, text) read one at a time (see
        the module docstring for the memory this saves)."""
        bm25s = _bm25s()
        if rows is None:
            if len(ids) != len(texts):
                raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
            rows = zip(ids, texts, strict=True)
        chunk_ids: list[str] = []
        docs = _TokenIds()
        vocab: dict[str, int] = {}
        for cid, text in rows:
            chunk_ids.append(cid)
            docs.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokenize(text)), dtype=np.int32))
        if not chunk_ids:
            return cls([], None)
        if not vocab:  # only stop words everywhere: bm25s needs one vocabulary entry
            vocab[""] = 0
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 in bm25s when every chunk is stop words
            retriever.index((docs, vocab), show_progress=False)
        return cls(chunk_ids, retriever)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(folder))
        (folder / "ids.json").write_text(json.dumps(self.ids))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        bm25s = _bm25s()
        ids = json.loads((folder / "ids.json").read_text())
        retriever = bm25s.BM25.load(str(folder), mmap=False) if ids else None
        return cls(ids, retriever)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in `ids` order."""
        if self.retriever is None:
            return np.zeros(0, dtype=np.float32)
        tokens = self.retriever.get_tokens_ids(tokenize(query))
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        # bm25s's term-frequency part leaves out the constant (k1 + 1) of the classic formula; put it back so
        # scores equal rank-bm25's BM25Okapi (same ranking either way)
        return self.retriever.get_scores_from_ids(tokens) * np.float32(K1 + 1)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with score > 0, best first."""
        scores = self.scores(query)
        if scores.size == 0 or k <= 0:
            return []
        k = min(k, scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by position: deterministic
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def __len__(self) -> int:
        return len(self.ids)


class _TokenIds(list):
    """Documents as int32 arrays, handed to bm25s (which iterates them three times) as short-lived lists."""

    def __iter__(self) -> Iterator[list[int]]:
        for ids in super().__iter__():
            yield ids.tolist()
