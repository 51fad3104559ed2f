"""The document index: manifest + vector store + BM25, versioned by generation folders.

Layout of an index folder:

    CURRENT           name of the committed generation ("gen-000004"), replaced atomically
    writer.lock       exclusive lock of the one writer (filelock); writer.pid says who holds it
    gen-000004/       meta.sqlite (documents + chunks), vectors/ (embedded Qdrant), bm25/ (bm25s),
                      dyprag/ (DyPRAG translator inputs per chunk, when configured: indexing/translator_inputs.py)

A writer copies the committed generation into a new folder, applies its changes there, flushes
everything and only then points CURRENT at it. A writer killed at any moment therefore leaves the
previous generation untouched (and the next writer deletes the half-written one); readers open the
committed generation and keep reading it while a writer works. The previous generation is kept so
that a reader that opened it just before a commit can finish. With a Qdrant server (index.qdrant_url)
the vectors are shared by all generations: new points are written before the commit, stale ones
deleted after it, and readers ignore ids their generation's manifest does not know.

    idx = Index.open(load_config()); report = idx.add(["docs/"]); idx.stats()
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexing.bm25 import BM25Index
from indexing.generations import committed_generation
from indexing.loaders import FileWarning, Skipped, iter_files, iter_loaded, path_key, printable_name
from indexing.manifest import DocumentInfo, Manifest
from indexing.store import VectorStore, make_store, store_kind
from indexing.writer import DiskFull, IndexBusy, IndexFailure, IndexReadOnly, Writer, WriteTarget, disk_fault
from rag.config import Config
from rag.types import Chunk

__all__ = ["AddReport", "DiskFull", "Index", "IndexBusy", "IndexFailure", "IndexReadOnly", "RemoveReport"]

LONG_FILE_MB = 5.0  # files with more text than this get a notice before they are indexed
# Only used to tell the user what to expect. indexing/bench_memory.py on the 2-core machine: a MB of English
# text is ~1,170 chunks (58,601 for 50 MB), and MiniLM embeds ~9 chunks per CPU-second: ~130 CPU-s per MB,
# ~65 s per MB with both cores free.
SECONDS_PER_MB = 65.0


@dataclass(frozen=True)
class AddReport:
    """What one `add` did."""

    added: tuple[str, ...] = ()  # sources of new documents
    updated: tuple[str, ...] = ()  # sources whose content changed (chunks replaced)
    unchanged: tuple[str, ...] = ()  # sources skipped because their content hash is indexed already
    removed: tuple[str, ...] = ()  # JSONL lines that disappeared from a re-added file
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[FileWarning, ...] = ()  # indexed files with something to say (pypdf's complaints)
    chunks_added: int = 0
    chunks_removed: int = 0
    translator_inputs: int = 0  # chunks run through the base model for DyPRAG (inject.index_inputs)
    timings_s: dict[str, float] = field(default_factory=dict)  # load, chunk, embed, store, bm25, commit, total

    @property
    def errors(self) -> tuple[Skipped, ...]:
        return tuple(s for s in self.skipped if s.error)


@dataclass(frozen=True)
class RemoveReport:
    removed: tuple[str, ...] = ()
    chunks_removed: int = 0
    not_found: tuple[str, ...] = ()


class Index:
    """Open with `Index.open(cfg)`; see the module docstring for the on-disk layout and safety."""

    def __init__(self, cfg: Config, readonly: bool, embedder=None, translator_encoder=None) -> None:
        self.cfg = cfg
        self.path = cfg.index_path()
        self.readonly = readonly
        self.kind = store_kind(cfg.index)
        self._embedder = embedder
        # (model, tokenizer) computing DyPRAG translator inputs (indexing/translator_inputs.py); None = the
        # generator's base model, loaded when a chunk first needs it
        self.translator_encoder = translator_encoder
        self.generation: str | None = None
        self.manifest: Manifest | None = None
        self._store: VectorStore | None = None
        self._bm25: BM25Index | None = None
        self._current_stat: tuple[int, int] | None = None
        self._lock = threading.RLock()  # app threads search while another thread's add reopens the generation

    @classmethod
    def open(cls, cfg: Config, readonly: bool = False, embedder=None, translator_encoder=None) -> Index:
        """Open (and for writers, create) the index folder of `cfg`. Readers of a missing index see it empty."""
        index = cls(cfg, readonly, embedder, translator_encoder)
        if not readonly:
            try:
                index.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise disk_fault(e, index.path) or IndexFailure(
                    f"cannot create index folder {index.path}: {e.strerror or e}") from None
        index._open_current()
        return index

    # ---- reading ---------------------------------------------------------------------------------

    def _read_current(self) -> str | None:
        folder = committed_generation(self.path)
        return folder.name if folder else None

    def _open_current(self) -> None:
        with self._lock:
            self._reopen()

    def _reopen(self) -> None:
        self.close()
        self.generation = self._read_current()
        self._current_stat = self._stat_current()
        if self.generation:
            self.manifest = Manifest(self.path / self.generation / "meta.sqlite", readonly=True)
            info = self.manifest.get_info()
            if info.get("embedding_model") not in (None, self.cfg.index.embedding_model):
                raise IndexFailure(f"index {self.path} was built with embedding model {info['embedding_model']!r}, "
                                  f"not {self.cfg.index.embedding_model!r}: use that model or another --index folder")

    def _stat_current(self) -> tuple[int, int] | None:
        try:
            st = (self.path / "CURRENT").stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def refresh(self) -> bool:
        """Reopen if a writer committed a new generation since; True if it did."""
        with self._lock:
            if self._stat_current() == self._current_stat:
                return False
            self._open_current()
            return True

    @property
    def embedder(self):
        if self._embedder is None:
            from indexing.embed import Embedder

            self._embedder = Embedder.shared(self.cfg.index.embedding_model, self.cfg.index.embed_batch_size)
        return self._embedder

    def store(self) -> VectorStore | None:
        if self._store is None and self.generation:
            self._store = make_store(self.cfg.index, self.path / self.generation, self.embedder.dim, writable=False,
                                     kind=self.kind)
        return self._store

    def bm25(self) -> BM25Index:
        if self._bm25 is None:
            folder = self.path / self.generation / "bm25" if self.generation else None
            self._bm25 = BM25Index.load(folder) if folder else BM25Index([], None)
        return self._bm25

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        with self._lock:
            return self._dense_search(vector, k)

    def _dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        store = self.store()
        if store is None or k <= 0:
            return []
        if not store.shared:
            return store.search(vector, k)
        hits = store.search(vector, 2 * k)  # a shared server may hold points of other generations
        known = self.chunks_by_id([h[0] for h in hits])
        return [h for h in hits if h[0] in known][:k]

    def bm25_search(self, query: str, k: int) -> list[tuple[str, float]]:
        with self._lock:
            return self.bm25().search(query, k)

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, Chunk]:
        with self._lock:
            return self.manifest.chunks_by_id(ids) if self.manifest else {}

    def first_chunks(self, doc_ids: Sequence[str]) -> dict[str, Chunk]:
        """doc_id -> that document's first chunk."""
        with self._lock:
            return self.manifest.first_chunks(doc_ids) if self.manifest else {}

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            return self.manifest.documents() if self.manifest else []

    def document(self, doc_id: str) -> DocumentInfo | None:
        with self._lock:
            return self.manifest.document(doc_id) if self.manifest else None

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in document order ([] if it is not indexed)."""
        with self._lock:
            return self.manifest.chunks_of(doc_id) if self.manifest else []

    def stats(self) -> dict:
        with self._lock:
            docs, chunks = self.manifest.counts() if self.manifest else (0, 0)
        return {
            "documents": docs, "chunks": chunks, "bytes_on_disk": _disk_bytes(self.path),
            "embedding_model": self.cfg.index.embedding_model, "vector_store": self.kind,
            "qdrant_url": self.cfg.index.qdrant_url, "path": str(self.path), "generation": self.generation,
        }

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self.manifest is not None:
            self.manifest.close()
        self._store, self.manifest, self._bm25 = None, None, None

    # ---- writing ---------------------------------------------------------------------------------

    def add(self, paths: Sequence[str | os.PathLike], progress: bool = True, follow_symlinks: bool = False,
            on_notice: Callable[[str, str], None] | None = None) -> AddReport:
        """Index files/folders/globs; unchanged documents cost nothing, changed ones are replaced.

        Files are read, chunked and embedded one at a time, so memory is bounded by the largest file, not
        by the corpus. Symlinks found inside the named folders that point outside them are skipped unless
        `follow_symlinks`. `on_notice(path, message)` hears about a file before it takes long (> LONG_FILE_MB).
        Raises `DiskFull` / `IndexReadOnly` (one-line messages) when the disk refuses; the index is unchanged.
        """
        try:
            return self._add(paths, progress, follow_symlinks, on_notice)
        except Exception as e:
            fault = disk_fault(e, self.path)
            if fault is None:
                raise
            raise fault from e

    def _add(self, paths, progress, follow_symlinks, on_notice) -> AddReport:
        t0 = time.perf_counter()
        files = list(iter_files(paths, follow_symlinks))
        t_load = time.perf_counter() - t0
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        vanished: list[str] = []
        skipped: list[Skipped] = []
        warnings: list[FileWarning] = []
        chunks_added = chunks_removed = 0
        with self._writer() as w:
            w.progress = progress  # a changed document's old chunks are removed before the bar's first chunk
            old = self.manifest.hashes() if self.manifest else {}
            done: set[str] = set()
            loads = iter_loaded(paths, self.cfg.index.max_file_mb, follow_symlinks, files=files)
            while True:
                t = time.perf_counter()
                loaded = next(loads, None)
                t_load += time.perf_counter() - t
                if loaded is None:
                    break
                if loaded.skipped is not None:
                    skipped.append(loaded.skipped)
                warnings.extend(loaded.warnings)
                if not loaded.documents:
                    continue
                chars = sum(len(d.text) for d in loaded.documents)
                if on_notice and chars > LONG_FILE_MB * 1024 * 1024:
                    on_notice(loaded.path, f"{chars / 1024 / 1024:.0f} MB of text: indexing it takes roughly "
                                           f"{_duration(chars / 1024 / 1024 * SECONDS_PER_MB)}")
                for doc in loaded.documents:
                    if doc.doc_id in done:
                        continue  # the same document named twice in one run
                    done.add(doc.doc_id)
                    if old.get(doc.doc_id) == doc.content_hash:
                        unchanged.append(doc.source)
                        continue
                    if doc.doc_id in old:
                        chunks_removed += w.remove([doc.doc_id])
                        updated.append(doc.source)
                    else:
                        added.append(doc.source)
                    chunks_added += w.write_document(doc, progress)
                if self.manifest:  # JSONL lines that disappeared from a re-added file
                    gone = [d for d in self.manifest.docs_of_files([loaded.path]) if d not in done]
                    chunks_removed += w.remove(gone)
                    vanished.extend(gone)
            doc = loaded = None  # the last document's text is not needed while the BM25 index is built
            if w.begun:
                chunks_added += w.flush()
                w.commit()
        timings = {"load": t_load, **(w.timings if w.begun else {}), "total": time.perf_counter() - t0}
        return AddReport(
            added=tuple(added), updated=tuple(updated), unchanged=tuple(unchanged), removed=tuple(vanished),
            skipped=tuple(skipped), warnings=tuple(warnings), chunks_added=chunks_added,
            chunks_removed=chunks_removed, translator_inputs=w.inputs.encoded if w.begun else 0, timings_s=timings)

    def remove(self, paths: Sequence[str | os.PathLike]) -> RemoveReport:
        """Remove documents by the path they were added by (a file, or a folder: everything under it), by
        JSONL doc id or by source. A symlink is matched by its own path, whatever it resolves to now."""
        try:
            return self._remove(paths)
        except Exception as e:
            fault = disk_fault(e, self.path)
            if fault is None:
                raise
            raise fault from e

    def _remove(self, paths: Sequence[str | os.PathLike]) -> RemoveReport:
        with self._writer() as w:
            docs = self.documents()
            removed: list[DocumentInfo] = []
            not_found: list[str] = []
            for raw in paths:
                given = printable_name(os.fspath(raw))
                target = path_key(raw)
                hit = [d for d in docs if d.file == target or d.file.startswith(target.rstrip("/") + "/")
                       or d.doc_id in (given, target) or d.source == given]
                removed.extend(hit)
                if not hit:
                    not_found.append(given)
            ids = list(dict.fromkeys(d.doc_id for d in removed))
            if not ids:
                return RemoveReport(not_found=tuple(not_found))
            chunks = w.remove(ids)
            w.commit()
        return RemoveReport(tuple(dict.fromkeys(d.source for d in removed)), chunks, tuple(not_found))

    def _writer(self) -> Writer:
        if self.readonly:
            raise IndexFailure(f"index {self.path} was opened read-only")
        return Writer(WriteTarget(self.path, self.cfg, self.kind, lambda: self.embedder, self._reopen_committed,
                                  self.translator_encoder))

    def _reopen_committed(self) -> str | None:
        self._open_current()
        return self.generation


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _disk_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512  # sparse files: real usage
            except OSError:
                pass
    return total
