"""The per-generation manifest: documents (with content hashes) and their chunks, in one sqlite file.

Each committed generation folder holds `meta.sqlite`; a writer copies it into the next generation and
edits the copy, so readers of the committed generation never see a half-written manifest.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from indexing.chunking import retrieval_text
from rag.types import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, file TEXT NOT NULL,
    content_hash TEXT NOT NULL, chunks INTEGER NOT NULL, chars INTEGER NOT NULL, added_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS documents_file ON documents(file);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


def readonly_uri(path: Path) -> str:
    """`file:` URI of a path, escaped (pathlib quotes every byte outside the URI-safe set)."""
    return Path(path).absolute().as_uri()


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document as `adaptrag index ls` shows it."""

    doc_id: str
    source: str
    title: str
    file: str
    content_hash: str
    chunks: int
    chars: int
    added_at: float  # unix time


class Manifest:
    """sqlite-backed documents + chunks of one generation."""

    def __init__(self, path: Path, readonly: bool) -> None:
        self.path = path
        if readonly:
            # a URI, so every byte of the path is percent-escaped: a raw "#", "?" or "%" in an index folder's name
            # would end the file name early (and sqlite would open, even create, the cut-off path)
            self.db = sqlite3.connect(f"{readonly_uri(path)}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.executescript(SCHEMA)
            self.db.commit()

    def close(self) -> None:
        self.db.close()

    def get_info(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM info"))

    def set_info(self, values: dict[str, str]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO info VALUES (?, ?)", list(values.items()))

    def documents(self) -> list[DocumentInfo]:
        rows = self.db.execute("SELECT doc_id, source, title, file, content_hash, chunks, chars, added_at "
                               "FROM documents ORDER BY source, doc_id")
        return [DocumentInfo(*row) for row in rows]

    def document(self, doc_id: str) -> DocumentInfo | None:
        row = self.db.execute("SELECT doc_id, source, title, file, content_hash, chunks, chars, added_at "
                              "FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return DocumentInfo(*row) if row else None

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in document order (they overlap: see indexing/chunking.py)."""
        rows = self.db.execute('SELECT id, doc_id, source, title, text, start, "end" FROM chunks '
                               'WHERE doc_id = ? ORDER BY start, "end"', (doc_id,))
        return [Chunk(*row) for row in rows]

    def first_chunks(self, doc_ids: Sequence[str]) -> dict[str, Chunk]:
        """doc_id -> the document's first chunk (its head: title lines, a letter's heading, a form's policy number)."""
        out: dict[str, Chunk] = {}
        for d in dict.fromkeys(doc_ids):
            row = self.db.execute('SELECT id, doc_id, source, title, text, start, "end" FROM chunks '
                                  'WHERE doc_id = ? ORDER BY start, "end" LIMIT 1', (d,)).fetchone()
            if row is not None:
                out[d] = Chunk(*row)
        return out

    def hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT doc_id, content_hash FROM documents"))

    def docs_of_files(self, files: Iterable[str]) -> dict[str, str]:
        """doc_id -> file for documents read from these files."""
        out: dict[str, str] = {}
        for f in files:
            out.update(self.db.execute("SELECT doc_id, file FROM documents WHERE file = ?", (f,)))
        return out

    def chunk_ids(self, doc_ids: Sequence[str]) -> list[str]:
        ids: list[str] = []
        for d in doc_ids:
            ids.extend(r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id = ?", (d,)))
        return ids

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        self.db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in doc_ids])
        self.db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in doc_ids])

    def add_chunks(self, chunks: Sequence[Chunk]) -> None:
        self.db.executemany(
            'INSERT OR REPLACE INTO chunks (id, doc_id, source, title, text, start, "end") '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(c.id, c.doc_id, c.source, c.title, c.text, c.start, c.end) for c in chunks])

    def add_document(self, doc_id: str, source: str, title: str, file: str, content_hash: str, chunks: int,
                     chars: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (doc_id, source, title, file, content_hash, chunks, chars, time.time()))

    def iter_chunk_texts(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute("SELECT id, text FROM chunks ORDER BY rowid")

    def iter_retrieval_texts(self) -> Iterator[tuple[str, str]]:
        """(chunk id, title line + text) in insertion order: what BM25 indexes, the same text the embedder saw
        (indexing.chunking.retrieval_text), so a chunk matches its document's title words too."""
        for cid, title, text in self.db.execute("SELECT id, title, text FROM chunks ORDER BY rowid"):
            yield cid, retrieval_text(title, text)

    def total_chars(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(LENGTH(text)), 0) FROM chunks").fetchone()[0])

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i:i + 500])
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f'SELECT id, doc_id, source, title, text, start, "end" FROM chunks '
                                       f"WHERE id IN ({marks})", part):
                out[row[0]] = Chunk(*row)
        return out

    def counts(self) -> tuple[int, int]:
        docs = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def commit(self) -> None:
        self.db.commit()
