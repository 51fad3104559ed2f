"""A cited passage's whole document: re-read through the loader that indexed it, checked, else what the index stored.

Passage and citation offsets point into the document's *extracted* text (`Document.text`: Markdown as a
reader sees it, HTML's visible text, a PDF's text layer; indexing/loaders.py). So the document is opened
the way indexing read it, with `load_file`, and trusted only if it still is what was indexed:

1. the passage's chunk must still be in the index, holding the passage's text at its span (the passage is
   the chunk, or a part of it), which gives its document record (`file`, `content_hash`);
2. the file must exist, still yield that document, with the same content hash, and
   `text[passage.start:passage.end] == passage.text`.

When (2) fails (the file was moved, deleted, edited or no longer parses) the document is rebuilt from the
chunks the index stored (they overlap and cover all of it but the whitespace between sentences, which is
filled in so offsets stay exact). When (1) fails (the document was removed or re-indexed after the answer)
only the passage itself is left. Each result says which of these it is and why, for the UI to tell the user.

    doc = document_text(index, passage, max_file_mb=cfg.index.max_file_mb)
    doc.text[passage.start - doc.offset:passage.end - doc.offset] == passage.text  # in every case
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

from indexing.loaders import Document, Skipped, load_file
from indexing.manifest import DocumentInfo
from rag.types import Chunk, Passage

Status = Literal["ok", "missing", "changed", "unreadable", "not_indexed"]


class ChunkIndex(Protocol):
    """What this module reads of an `indexing.index.Index`."""

    def chunks_by_id(self, ids: list[str]) -> dict[str, Chunk]: ...

    def document(self, doc_id: str) -> DocumentInfo | None: ...

    def chunks_of(self, doc_id: str) -> list[Chunk]: ...


@dataclass(frozen=True)
class DocumentText:
    """A document's text with a passage located in it: `text[i]` is character `offset + i` of the document."""

    text: str
    offset: int  # document offset of text[0]: 0 for a re-read file, the first chunk's start for stored chunks
    length: int | None  # the whole document's length in characters; None when only the passage is known
    origin: Literal["file", "index", "passage"]  # re-read file / the chunks the index stored / the passage only
    status: Status  # "ok" when origin == "file", else why the file was not used
    detail: str = ""  # a loader's reason when the file could not be read ("unreadable")
    title: str = ""


def document_text(index: ChunkIndex, passage: Passage, max_file_mb: float = 50.0) -> DocumentText:
    """The text of `passage`'s document, as indexing read it; see the module docstring for the fallbacks."""
    chunk = index.chunks_by_id([passage.id]).get(passage.id)
    if chunk is None or not _within(passage, chunk):
        return DocumentText(passage.text, passage.start, None, "passage", "not_indexed", title=passage.title)
    info = index.document(chunk.doc_id)
    status, detail, doc = ("changed", "", None) if info is None else read_indexed(info, max_file_mb)
    if doc is not None and doc.text[passage.start:passage.end] == passage.text:
        return DocumentText(doc.text, 0, len(doc.text), "file", "ok", title=doc.title)
    if status == "ok":  # the same bytes, yet the loader reads them differently now (a newer parser)
        status = "changed"
    title = info.title if info else passage.title
    text, offset = stitch(index.chunks_of(chunk.doc_id)) or ("", 0)
    if text[passage.start - offset:passage.end - offset] != passage.text:  # not for a consistent manifest
        return DocumentText(passage.text, passage.start, None, "passage", status, detail, title)
    return DocumentText(text, offset, offset + len(text), "index", status, detail, title)


def _within(passage: Passage, chunk: Chunk) -> bool:
    """The passage is its chunk, or a part of it (the pipeline may cut a passage to fit the context window)."""
    return (chunk.start <= passage.start <= passage.end <= chunk.end
            and chunk.text[passage.start - chunk.start:passage.end - chunk.start] == passage.text)


def read_indexed(info: DocumentInfo, max_file_mb: float = 50.0) -> tuple[Status, str, Document | None]:
    """Re-read an indexed document from its file: (status, a loader's reason, the document if status is "ok")."""
    path = Path(info.file)
    try:
        st = path.stat()
    except OSError:
        return "missing", "", None
    if not path.is_file():
        return "missing", "", None
    documents, skipped = _load(os.fspath(path), st.st_size, st.st_mtime_ns, max_file_mb)
    doc = next((d for d in documents if d.doc_id == info.doc_id), None)
    if doc is None:
        return ("unreadable", skipped.reason, None) if skipped is not None and not documents else ("changed", "", None)
    if doc.content_hash != info.content_hash:
        return "changed", "", None
    return "ok", "", doc


@lru_cache(maxsize=2)  # a dialog redraws on every rerun while open: read (and parse) a file once per version
def _load(path: str, size: int, mtime_ns: int, max_file_mb: float) -> tuple[tuple[Document, ...], Skipped | None]:
    documents, skipped = load_file(Path(path), max_file_mb)  # size and mtime only key the cache
    return tuple(documents), skipped


def stitch(chunks: list[Chunk]) -> tuple[str, int] | None:
    """A document's text from its overlapping chunks: (text, offset of text[0]); None for no chunks.

    Chunks hold every sentence (indexing/chunking.py); what lies between two of them is the whitespace that
    trimming dropped, filled in with spaces (a line break where two or more characters are missing) so that
    every offset stays the document's own.
    """
    if not chunks:
        return None
    ordered = sorted(chunks, key=lambda c: (c.start, c.end))
    offset = ordered[0].start
    parts: list[str] = []
    cursor = offset
    for c in ordered:
        if c.end <= cursor:
            continue
        if c.start > cursor:
            gap = c.start - cursor
            parts.append(" " * gap if gap < 2 else " " * (gap - 1) + "\n")
            cursor = c.start
        parts.append(c.text[cursor - c.start:])
        cursor = c.end
    return "".join(parts), offset
