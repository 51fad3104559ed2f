"""Attribution: map each answer sentence to the passage span that supports it.

For every sentence of the answer:
1. read the [n] markers the model wrote; markers naming no passage are dropped and counted;
2. score each candidate passage sentence (cited passages first, all passages otherwise; a sentence opening
   with "It"/"Its"/... also joined to the one before it) by lexical support (share of the answer sentence's
   content words found in it) and embedding similarity; a span that states the words beats one that only
   paraphrases them, and a heading supports nothing it does not state;
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
from rag.sentences import split_sentences
from rag.types import Citation, Passage

_MARKER = re.compile(r"\[(\d+)\]")
_MARKER_WITH_SPACE = re.compile(r"\s*\[\d+\]")  # "Nairobi [1]." -> "Nairobi."
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an the of in on at to for by with from and or is are was were be been it its this that as which who whom "  # noqa: SIM905 - a word list reads best as one string
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


# A sentence that leans on the one before it for its subject.
_REFERS_BACK = re.compile(r"(?:It|Its|They|Their|He|His|She|Her|This|These|Those)\b")


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
            text = _MARKER_WITH_SPACE.sub("", raw).strip()
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
        """Each passage sentence, and a sentence that opens with a pronoun ("Its deadline is September 2027.")
        joined to the one before it, which names what the pronoun stands for ("Project Marholt is led by ...")."""
        spans = []
        for i, p in enumerate(passages):
            sentences = split_sentences(p.text)
            for k, (s, e) in enumerate(sentences):
                spans.append(_Span(i, s, e, p.text[s:e]))
                if k > 0 and _REFERS_BACK.match(p.text, s):
                    start = sentences[k - 1][0]
                    spans.append(_Span(i, start, e, p.text[start:e]))
        return spans

    def _similarities(self, sentences: list[str], spans: list[_Span]) -> np.ndarray | None:
        if self.embedder is None or not sentences or not spans:
            return None
        vecs = self.embedder.embed(sentences + [sp.text for sp in spans])
        return vecs[: len(sentences)] @ vecs[len(sentences):].T  # [sentences, spans] cosine

    def _best(self, text: str, spans: list[_Span], sims: np.ndarray | None, only: set[int] | None):
        """The supporting span: one that states the sentence's words (the most of them, then the closest in
        meaning, then the shortest) before one that only paraphrases it (the closest in meaning). A span of
        fewer than three content words (a heading, a title) supports only a sentence whose words it all holds."""
        words = content_words(text)
        best: tuple[tuple[bool, float, float, int], _Span, float] | None = None
        for j, span in enumerate(spans):
            if only is not None and span.passage not in only:
                continue
            own = content_words(span.text)
            lexical = len(words & own) / len(words)
            if len(own) < 3 and lexical < 1.0:
                continue
            semantic = float(sims[j]) if sims is not None else 0.0
            states = lexical >= self.min_support
            score = lexical if states else semantic
            if score < self.min_support:
                continue
            key = (states, score, semantic if states else 0.0, -len(span.text))
            if best is None or key > best[0]:
                best = (key, span, max(lexical, semantic))
        return (best[1], best[2]) if best is not None else None
