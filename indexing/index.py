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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexing.bm25 import BM25Index
from indexing.generations import committed_generation
from indexing.loaders import Skipped, load_paths
from indexing.manifest import DocumentInfo, Manifest
from indexing.store import VectorStore, make_store, store_kind
from indexing.writer import IndexBusy, IndexFailure, Writer, WriteTarget
from rag.config import Config
from rag.types import Chunk

__all__ = ["AddReport", "Index", "IndexBusy", "IndexFailure", "RemoveReport"]


@dataclass(frozen=True)
class AddReport:
    """What one `add` did."""

    added: tuple[str, ...] = ()  # sources of new documents
    updated: tuple[str, ...] = ()  # sources whose content changed (chunks replaced)
    unchanged: tuple[str, ...] = ()  # sources skipped because their content hash is indexed already
    removed: tuple[str, ...] = ()  # JSONL lines that disappeared from a re-added file
    skipped: tuple[Skipped, ...] = ()
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
                raise IndexFailure(f"cannot create index folder {index.path}: {e.strerror or e}") from None
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

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            return self.manifest.documents() if self.manifest else []

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

    def add(self, paths: Sequence[str | os.PathLike], progress: bool = True) -> AddReport:
        """Index files/folders/globs; unchanged documents cost nothing, changed ones are replaced."""
        t0 = time.perf_counter()
        loaded = load_paths(paths, self.cfg.index.max_file_mb)
        t_load = time.perf_counter() - t0
        with self._writer() as w:
            old = self.manifest.hashes() if self.manifest else {}
            prior = self.manifest.docs_of_files(loaded.files) if self.manifest else {}
            new_ids = {d.doc_id for d in loaded.documents}
            todo = list({d.doc_id: d for d in loaded.documents if old.get(d.doc_id) != d.content_hash}.values())
            unchanged = tuple(d.source for d in loaded.documents if old.get(d.doc_id) == d.content_hash)
            vanished = [doc for doc in prior if doc not in new_ids]
            if not todo and not vanished:
                return AddReport(unchanged=unchanged, skipped=tuple(loaded.skipped),
                                 timings_s={"load": t_load, "total": time.perf_counter() - t0})
            replaced = [d.doc_id for d in todo if d.doc_id in old] + vanished
            removed_chunks = w.remove(replaced)
            added_chunks = w.write(todo, progress)
            w.commit()
        return AddReport(
            added=tuple(d.source for d in todo if d.doc_id not in old),
            updated=tuple(d.source for d in todo if d.doc_id in old), unchanged=unchanged, removed=tuple(vanished),
            skipped=tuple(loaded.skipped), chunks_added=added_chunks, chunks_removed=removed_chunks,
            translator_inputs=w.inputs.encoded, timings_s={"load": t_load, **w.timings, "total": time.perf_counter() - t0})

    def remove(self, paths: Sequence[str | os.PathLike]) -> RemoveReport:
        """Remove documents by file path, folder (everything under it), doc id or source."""
        with self._writer() as w:
            docs = self.documents()
            removed: list[DocumentInfo] = []
            not_found: list[str] = []
            for raw in paths:
                target = os.path.abspath(os.fspath(raw))
                hit = [d for d in docs if d.file == target or d.file.startswith(target.rstrip("/") + "/")
                       or d.doc_id == os.fspath(raw) or d.source == os.fspath(raw)]
                removed.extend(hit)
                if not hit:
                    not_found.append(os.fspath(raw))
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


def _disk_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512  # sparse files: real usage
            except OSError:
                pass
    return total
