"""Token-aware chunking with overlap that respects sentence boundaries.

Sentences are packed greedily into chunks of at most `chunk_tokens` embedding-model tokens; the next
chunk starts with the trailing sentences of the previous one that fit in `overlap` tokens. A sentence
longer than a whole chunk is cut by token offsets. Every chunk keeps its exact character span:
`document.text[chunk.start:chunk.end] == chunk.text`.

    chunker = Chunker(embedder.tokenizer, chunk_tokens=200, overlap=40)
    chunks = chunker.chunk(document)
"""

from __future__ import annotations

import bisect
import hashlib
import re
import uuid

from indexing.loaders import Document
from rag.types import Chunk

# A sentence ends after ., ! or ? (plus closing quotes/brackets) followed by whitespace, or at a newline.
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s)|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences (whitespace trimmed, empty ones dropped)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        _add_trimmed(text, pos, m.end(), spans)
        pos = m.end()
    _add_trimmed(text, pos, len(text), spans)
    return spans


def _add_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    """Stable id (a UUID string, as Qdrant wants): same document, span and text -> same id."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
    return str(uuid.UUID(hex=digest[:32]))


class Chunker:
    """Splits documents into `Chunk`s measured in tokens of the embedding model's (fast) tokenizer."""

    def __init__(self, tokenizer, chunk_tokens: int = 200, overlap: int = 40) -> None:
        if chunk_tokens <= 0:
            raise ValueError(f"index.chunk_tokens must be greater than 0. Currently, it is {chunk_tokens}")
        if not 0 <= overlap < chunk_tokens:
            raise ValueError(f"index.chunk_overlap must be >= 0 and < index.chunk_tokens ({chunk_tokens}). "
                             f"Currently, it is {overlap}")
        self.tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap

    def chunk(self, doc: Document) -> list[Chunk]:
        """Chunks of one document, in order."""
        pieces = self._pieces(doc.text)  # (start, end, tokens): sentences, long ones already cut
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(pieces):
            j, used = i, 0
            while j < len(pieces) and (j == i or used + pieces[j][2] <= self.chunk_tokens):
                used += pieces[j][2]
                j += 1
            spans.append((pieces[i][0], pieces[j - 1][1]))
            if j >= len(pieces):
                break
            # overlap: restart at the earliest trailing sentences that fit in `overlap` tokens
            k, back = j, 0
            while k - 1 > i and back + pieces[k - 1][2] <= self.overlap:
                back += pieces[k - 1][2]
                k -= 1
            i = k
        starts = [h.start for h in doc.headings]
        chunks = []
        for start, end in spans:
            text = doc.text[start:end]
            h = bisect.bisect_right(starts, start) - 1
            title = doc.headings[h].text if h >= 0 else doc.title
            cid = chunk_id(doc.doc_id, start, end, text)
            chunks.append(Chunk(cid, doc.doc_id, doc.source, title, text, start, end))
        return chunks

    def _pieces(self, text: str) -> list[tuple[int, int, int]]:
        spans = sentence_spans(text)
        if not spans:
            return []
        enc = self.tokenizer([text[s:e] for s, e in spans], add_special_tokens=False, verbose=False)
        counts = [len(ids) for ids in enc["input_ids"]]
        pieces: list[tuple[int, int, int]] = []
        for (s, e), n in zip(spans, counts, strict=True):
            if n <= self.chunk_tokens:
                pieces.append((s, e, max(n, 1)))
            else:
                pieces.extend(self._cut(text, s, e))
        return pieces

    def _cut(self, text: str, s: int, e: int) -> list[tuple[int, int, int]]:
        """Cut an over-long sentence into windows of `chunk_tokens - overlap` tokens (overlap comes from packing)."""
        enc = self.tokenizer(text[s:e], add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets = [(a, b) for a, b in enc["offset_mapping"] if b > a]
        step = max(1, self.chunk_tokens - self.overlap)
        out = []
        for i in range(0, len(offsets), step):
            window = offsets[i:i + step]
            a = s + window[0][0]
            b = s + (offsets[i + step][0] if i + step < len(offsets) else e - s)
            while b > a and text[b - 1].isspace():
                b -= 1
            out.append((a, b, len(window)))
        return out
