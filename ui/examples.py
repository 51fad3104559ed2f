"""Example questions for the empty chat page, drawn from the index's own documents.

For a few documents spread over the index, the first chunk is read back (a BM25 search for
the document's title, kept to that document's chunks) and one of its sentences is turned into
a question: "Its capital is Paris." in a document titled France -> "What is the capital of
France?". A document with no such sentence gives "What do the documents say about TITLE?".

    example_questions(index, index.documents(), n=3)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_SENTENCE = re.compile(r"[^.!?\n]{8,200}[.!?]")
_ITS = re.compile(r"^\s*(?:Its|Their)\s+((?:[a-z]+\s){0,3}[a-z]+)\s+(is|are|was|were)\s+\S", re.IGNORECASE)
_THE_OF = re.compile(r"^\s*The\s+((?:[a-z]+\s){0,3}[a-z]+\s+of\s+[A-Z][\w' -]{1,40}?)\s+(is|are|was|were)\s+\S")
_HEADING = re.compile(r"(?m)^\s{0,3}#{1,6}\s+.*$")


def question_from_text(title: str, text: str) -> str:
    """One question a document answers, from its first suitable sentence; a generic one otherwise."""
    title = " ".join(title.split())[:60]
    body = _HEADING.sub(" ", text)
    for m in _SENTENCE.finditer(body):
        sentence = " ".join(m.group(0).split())
        its = _ITS.match(sentence)
        if its and title:
            return f"What {its.group(2).lower()} the {its.group(1).lower()} of {title}?"
        the_of = _THE_OF.match(sentence)
        if the_of:
            return f"What {the_of.group(2)} the {the_of.group(1)}?"
    return f"What do the documents say about {title}?" if title else "What are the documents about?"


def _words(name: str) -> str:
    """A file-like title as words: "france_capital.txt" -> "france capital txt"."""
    return " ".join(re.sub(r"[_\-.]+", " ", name).split())


def spread(items: Sequence[Any], n: int) -> list[Any]:
    """n items evenly spread over `items` (all of them when there are n or fewer)."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _doc_text(index: Any, doc: Any) -> str:
    """The first chunk of `doc` that a title search finds (Index public API only); "" if none."""
    try:
        hits = index.bm25_search(_words(doc.title or doc.source.rsplit("/", 1)[-1]), 10)
        chunks = index.chunks_by_id([h[0] for h in hits])
    except Exception:  # noqa: BLE001 - examples are a nicety; never break the page
        return ""
    own = sorted((c for c in chunks.values() if c.doc_id == doc.doc_id), key=lambda c: c.start)
    return own[0].text if own else ""


def example_questions(index: Any, documents: Sequence[Any], n: int = 3) -> list[str]:
    """Up to n distinct questions, one per document, from documents spread over the index."""
    by_title = sorted(documents, key=lambda d: (d.title or d.source).lower())
    out: list[str] = []
    for doc in spread(by_title, max(n * 2, n)):
        q = question_from_text(_words(doc.title or doc.source.rsplit("/", 1)[-1]), _doc_text(index, doc))
        if q not in out:
            out.append(q)
    return spread(out, n)
