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
from collections import deque
from collections.abc import Iterator

from indexing.loaders import Document
from rag.types import Chunk

# A sentence ends after ., ! or ? (plus closing quotes/brackets) followed by whitespace, or at a newline.
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s)|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences (whitespace trimmed, empty ones dropped)."""
    return list(iter_sentence_spans(text))


def iter_sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """`sentence_spans`, lazily: a 50 MB document never holds all its spans at once."""
    pos = 0
    for m in _BOUNDARY.finditer(text):
        span = _trimmed(text, pos, m.end())
        if span:
            yield span
        pos = m.end()
    span = _trimmed(text, pos, len(text))
    if span:
        yield span


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut a span longer than `max_chars` at whitespace (in its second half) or, failing that, hard."""
    while end - start > max_chars:
        cut = start + max_chars
        space = max(text.rfind(" ", start + max_chars // 2, cut), text.rfind("\n", start + max_chars // 2, cut))
        if space > start:
            cut = space
        span = _trimmed(text, start, cut)
        if span:
            yield span
        start = cut
        while start < end and text[start].isspace():
            start += 1
    span = _trimmed(text, start, end)
    if span:
        yield span


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    """Stable id (a UUID string, as Qdrant wants): same document, span and text -> same id."""
    key = f"{doc_id}\x00{start}\x00{end}\x00{text}".encode("utf-8", "surrogatepass")  # any str, even a lone surrogate
    return str(uuid.UUID(hex=hashlib.sha256(key).hexdigest()[:32]))


class Chunker:
    """Splits documents into `Chunk`s measured in tokens of the embedding model's (fast) tokenizer.

    Memory stays bounded for any document: sentences are produced lazily, tokenized in batches of at
    most `TOKENIZE_CHARS` characters, and only the sentences of the chunk being packed are held. No chunk
    is longer than `chunk_tokens * MAX_CHARS_PER_TOKEN` characters: a 5 MB line without spaces is one
    [UNK] token to WordPiece, and would otherwise be one 5 MB chunk.
    """

    MAX_CHARS_PER_TOKEN = 10  # English averages ~4.5 chars per MiniLM token; a run of 10+ is not prose
    TOKENIZE_CHARS = 256 * 1024  # characters per tokenizer call (its Encoding objects cost ~100x the text)

    def __init__(self, tokenizer, chunk_tokens: int = 200, overlap: int = 40) -> None:
        if chunk_tokens <= 0:
            raise ValueError(f"index.chunk_tokens must be greater than 0. Currently, it is {chunk_tokens}")
        if not 0 <= overlap < chunk_tokens:
            raise ValueError(f"index.chunk_overlap must be >= 0 and < index.chunk_tokens ({chunk_tokens}). "
                             f"Currently, it is {overlap}")
        self.tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap
        self.max_chars = chunk_tokens * self.MAX_CHARS_PER_TOKEN

    def chunk(self, doc: Document) -> list[Chunk]:
        """Chunks of one document, in order."""
        return list(self.iter_chunks(doc))

    def iter_chunks(self, doc: Document) -> Iterator[Chunk]:
        """Chunks of one document, in order, produced lazily (what the index writer streams)."""
        starts = [h.start for h in doc.headings]
        for start, end in self._spans(doc.text):
            text = doc.text[start:end]
            h = bisect.bisect_right(starts, start) - 1
            title = doc.headings[h].text if h >= 0 else doc.title
            yield Chunk(chunk_id(doc.doc_id, start, end, text), doc.doc_id, doc.source, title, text, start, end)

    def _spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Greedy packing of pieces (start, end, tokens) into chunk spans, with overlap."""
        pieces = self._pieces(text)
        buf: deque[tuple[int, int, int]] = deque()  # pieces from the current chunk's first one on
        exhausted = False

        def fill(n: int) -> bool:  # make buf[n] exist if the document has it
            nonlocal exhausted
            while len(buf) <= n and not exhausted:
                try:
                    buf.append(next(pieces))
                except StopIteration:
                    exhausted = True
            return len(buf) > n

        while fill(0):
            j, used = 0, 0
            while fill(j) and (j == 0 or (used + buf[j][2] <= self.chunk_tokens
                                          and buf[j][1] - buf[0][0] <= self.max_chars)):
                used += buf[j][2]
                j += 1
            yield buf[0][0], buf[j - 1][1]
            if not fill(j):
                return
            # overlap: restart at the earliest trailing sentences that fit in `overlap` tokens
            k, back = j, 0
            while k - 1 > 0 and back + buf[k - 1][2] <= self.overlap:
                back += buf[k - 1][2]
                k -= 1
            for _ in range(k):
                buf.popleft()

    def _pieces(self, text: str) -> Iterator[tuple[int, int, int]]:
        """Sentences with their token counts; sentences longer than a chunk are cut by tokens."""
        batch: list[tuple[int, int]] = []
        size = 0
        for s, e in iter_sentence_spans(text):
            for span in split_long(text, s, e, self.max_chars):
                batch.append(span)
                size += span[1] - span[0]
                if size >= self.TOKENIZE_CHARS:
                    yield from self._count(text, batch)
                    batch, size = [], 0
        yield from self._count(text, batch)

    def _count(self, text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
        if not spans:
            return
        enc = self.tokenizer([text[s:e] for s, e in spans], add_special_tokens=False, return_attention_mask=False,
                             return_token_type_ids=False, verbose=False)
        counts = [len(ids) for ids in enc["input_ids"]]
        del enc
        for (s, e), n in zip(spans, counts, strict=True):
            if n <= self.chunk_tokens:
                yield s, e, max(n, 1)
            else:
                yield from self._cut(text, s, e)

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
