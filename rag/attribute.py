"""Attribution: map each answer sentence to the passage span that supports it.

For every sentence of the answer:
1. read the [n] markers the model wrote; markers naming no passage are dropped and counted;
2. score each candidate passage sentence (cited passages first, all passages otherwise) by
   lexical support (share of the answer sentence's content words found in it) and embedding
   similarity;
3. the best span above the support threshold becomes the citation, with character offsets
   into the source document (passage.start + offset inside the passage); a sentence with no
   supported span is labelled "from model memory" (passage_id None).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexing.embed import Embedder
from rag.types import Citation, Passage

_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+(?=\s|$)|$)|[^.!?\n]*[.!?]+", re.MULTILINE)
_TAIL = re.compile(r"(?:\s*\[\d+\])+")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an the of in on at to for by with from and or is are was were be been it its this that as which who whom "
    "what when where why how did does do has have had not no yes i you he she they we his her their our".split()
)


@dataclass(frozen=True)
class Attribution:
    citations: tuple[Citation, ...]
    dropped_citations: int  # [n] markers naming no passage


@dataclass(frozen=True)
class _Span:
    passage: int  # index into passages
    start: int  # offset inside passage.text
    end: int
    text: str


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (markers stay with their sentence)."""
    spans = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        if spans and start < spans[-1][1]:
            start = spans[-1][1]  # a marker already taken by the previous sentence
        # a marker right after the full stop ("Paris. [1]") belongs to this sentence
        tail = _TAIL.match(text, end)
        if tail:
            end = tail.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def content_words(text: str) -> set[str]:
    return {w for w in (t.lower() for t in _WORD.findall(text)) if w not in _STOP}


class Attributor:
    """Links answer sentences to supporting passage spans.

    Args:
        embedder: sentence embedder for paraphrase support; None = lexical support only.
        min_support: support score (0..1) a span needs to count as supporting a sentence.
    """

    def __init__(self, embedder: Embedder | None = None, min_support: float = 0.5) -> None:
        if not 0.0 < min_support <= 1.0:
            raise ValueError(f"min_support must be in (0, 1]. Currently, the min_support is {min_support}")
        self.embedder = embedder
        self.min_support = min_support

    def run(self, answer: str, passages: Sequence[Passage]) -> Attribution:
        sentences = split_sentences(answer)
        spans = self._passage_spans(passages)
        sims = self._similarities([_MARKER.sub("", answer[s:e]) for s, e in sentences], spans)
        citations: list[Citation] = []
        dropped = 0
        for i, (s, e) in enumerate(sentences):
            raw = answer[s:e]
            text = _MARKER.sub("", raw).strip()
            if not content_words(text):
                continue  # a bare marker or punctuation: nothing to attribute
            cited = []
            for n in (int(x) for x in _MARKER.findall(raw)):
                if 1 <= n <= len(passages):
                    cited.append(n - 1)
                else:
                    dropped += 1
            best = self._best(text, spans, sims[i] if sims is not None else None, set(cited)) if cited else None
            if best is None:
                best = self._best(text, spans, sims[i] if sims is not None else None, None)
            if best is None:
                citations.append(Citation(text, None, -1, -1, "", 0.0, s, e, bool(cited)))
                continue
            span, score = best
            p = passages[span.passage]
            citations.append(
                Citation(text, p.id, p.start + span.start, p.start + span.end, p.source, round(score, 4), s, e,
                         span.passage in cited)
            )
        return Attribution(tuple(citations), dropped)

    def _passage_spans(self, passages: Sequence[Passage]) -> list[_Span]:
        spans = []
        for i, p in enumerate(passages):
            for s, e in split_sentences(p.text):
                spans.append(_Span(i, s, e, p.text[s:e]))
        return spans

    def _similarities(self, sentences: list[str], spans: list[_Span]) -> np.ndarray | None:
        if self.embedder is None or not sentences or not spans:
            return None
        vecs = self.embedder.embed(sentences + [sp.text for sp in spans])
        return vecs[: len(sentences)] @ vecs[len(sentences):].T  # [sentences, spans] cosine

    def _best(self, text: str, spans: list[_Span], sims: np.ndarray | None, only: set[int] | None):
        words = content_words(text)
        best: tuple[_Span, float] | None = None
        for j, span in enumerate(spans):
            if only is not None and span.passage not in only:
                continue
            lexical = len(words & content_words(span.text)) / len(words)
            semantic = float(sims[j]) if sims is not None else 0.0
            score = max(lexical, semantic)
            if score >= self.min_support and (best is None or score > best[1]):
                best = (span, score)
        return best
