"""Token-aware chunking with overlap that respects sentence boundaries and sections.

Sentences are packed greedily into chunks of at most `chunk_tokens` embedding-model tokens; the next
chunk starts with the trailing sentences of the previous one that fit in `overlap` tokens. A sentence
longer than a whole chunk is cut by token offsets. Every chunk keeps its exact character span:
`document.text[chunk.start:chunk.end] == chunk.text`.

Sections (the document's `headings`, found by the loaders) shape the packing: a heading is never the
last line of a chunk, and a section that does not fit in what is left of the current chunk starts a new
one at its heading (without overlap: the previous section's last sentences are not its context). Short
sections still share a chunk. Each chunk's `title` is the document title and the headings above its
first line ("Kenya › Economy"); `retrieval_text` puts it before the chunk text for the embedder and BM25,
so a chunk deep in a document still matches the document's subject.

    chunker = Chunker(embedder.tokenizer, chunk_tokens=200, overlap=40)
    chunks = chunker.chunk(document)
"""

from __future__ import annotations

import bisect
import hashlib
import re
import uuid
from collections import deque
from collections.abc import Iterator, Sequence

from indexing.loaders import Document, Heading
from rag.types import Chunk

TITLE_SEPARATOR = " › "  # between the document title and the headings in `Chunk.title`

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


_FILE_NAME = re.compile(r"\s*\([^()]*\)$")  # the file's name a title carries ("Baking (bread)": loaders._with_stem)


def heading_paths(title: str, headings: Sequence[Heading]) -> list[str]:
    """For each heading, the chunk title of its section: the document title, then the heading and those
    of lower level above it. A heading equal to the one before it in the path (a page's <h1> repeating
    its <title>, a Markdown file's "# Baking" repeating its title "Baking (bread)") is not repeated."""
    out: list[str] = []
    stack: list[Heading] = []
    for h in headings:
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        path = [title] if title.strip() else []
        for part in stack:
            before = path[-1].strip().lower() if path else ""
            if not path or part.text.strip().lower() not in (before, _FILE_NAME.sub("", before)):
                path.append(part.text.strip())
        out.append(TITLE_SEPARATOR.join(path))
    return out


def retrieval_text(title: str, text: str) -> str:
    """What the embedder and BM25 see for a chunk: its title line, then its text (the text alone when it
    already starts with the title). `Chunk.text` stays the document's own text, so spans stay exact."""
    if not title.strip() or text.startswith(title):
        return text
    return f"{title}\n{text}"


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
        titles = heading_paths(doc.title, doc.headings)
        for start, end in self._spans(doc.text, starts):
            text = doc.text[start:end]
            h = bisect.bisect_right(starts, start) - 1
            title = titles[h] if h >= 0 else doc.title
            yield Chunk(chunk_id(doc.doc_id, start, end, text), doc.doc_id, doc.source, title, text, start, end)

    def _spans(self, text: str, heading_starts: Sequence[int] = ()) -> Iterator[tuple[int, int]]:
        """Greedy packing of pieces (start, end, tokens, is heading) into chunk spans, with overlap."""
        pieces = self._pieces(text, heading_starts)
        buf: deque[tuple[int, int, int, bool]] = deque()  # pieces from the current chunk's first one on
        exhausted = False

        def fill(n: int) -> bool:  # make buf[n] exist if the document has it
            nonlocal exhausted
            while len(buf) <= n and not exhausted:
                try:
                    buf.append(next(pieces))
                except StopIteration:
                    exhausted = True
            return len(buf) > n

        def fits(j: int, used: int) -> bool:  # buf[j] fits after buf[0:j] of `used` tokens
            return used + buf[j][2] <= self.chunk_tokens and buf[j][1] - buf[0][0] <= self.max_chars

        def section_fits(j: int, used: int) -> bool:  # the whole section starting at buf[j] fits too
            while fill(j) and fits(j, used):
                used += buf[j][2]
                j += 1
                if not fill(j) or buf[j][3]:
                    return True
            return False

        while fill(0):
            j, used, content = 0, 0, False  # content: a non-heading piece is in the chunk
            while fill(j) and (j == 0 or fits(j, used)):
                if j > 0 and buf[j][3] and content and not section_fits(j, used):
                    break  # the next section starts a chunk of its own
                used += buf[j][2]
                content = content or not buf[j][3]
                j += 1
            while j > 1 and buf[j - 1][3] and fill(j):
                j -= 1  # a heading goes with its section, not at the end of a chunk
            yield buf[0][0], buf[j - 1][1]
            if not fill(j):
                return
            k = j
            if not buf[j][3]:  # overlap: restart at the earliest trailing sentences that fit in `overlap` tokens
                back = 0
                while k - 1 > 0 and back + buf[k - 1][2] <= self.overlap and not buf[k][3]:
                    back += buf[k - 1][2]
                    k -= 1  # ... of this section only: it stops at the section's heading
            for _ in range(k):
                buf.popleft()

    def _pieces(self, text: str, heading_starts: Sequence[int] = ()) -> Iterator[tuple[int, int, int, bool]]:
        """Sentences with their token counts and whether a heading starts them; sentences longer than a
        chunk are cut by tokens."""
        prev = 0  # a heading starts this piece when its offset lies between the last piece's end and this start
        for s, e, n in self._token_pieces(text):
            i = bisect.bisect_left(heading_starts, prev)
            yield s, e, n, i < len(heading_starts) and heading_starts[i] <= s
            prev = e

    def _token_pieces(self, text: str) -> Iterator[tuple[int, int, int]]:
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
