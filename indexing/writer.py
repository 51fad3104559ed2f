"""One write transaction on an index folder: lock, fork the committed generation, edit it, commit.

Used by `indexing.index.Index.add/remove` through a `WriteTarget` (the folder, settings, embedder and a way
to reopen the committed generation), so the writer does not depend on the index class; see
indexing/index.py for the layout and the safety argument.
The commit point is the atomic replacement of the CURRENT file, after every file of the new generation
was flushed and fsynced; anything before it can be killed without harming the committed generation.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

import numpy as np

from indexing.bm25 import BM25Index
from indexing.chunking import Chunker
from indexing.loaders import Document
from indexing.manifest import Manifest
from indexing.store import fork_store, make_store
from indexing.translator_inputs import GenerationInputs
from indexing.translator_inputs import fork as fork_inputs
from rag.config import Config
from rag.types import Chunk

EMBED_GROUP = 256  # chunks embedded and written per step (bounded memory, steady progress bar)


class IndexFailure(RuntimeError):
    """A user-facing index problem (wrong model, unwritable folder); the message says what to do."""


class IndexBusy(IndexFailure):
    """Another process holds the writer lock of this index."""


class ChunkEmbedder(Protocol):
    """What the writer needs of indexing.embed.Embedder."""

    dim: int
    tokenizer: Any

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class WriteTarget:
    """The index a `Writer` edits."""

    path: Path  # the index folder (CURRENT, writer.lock, gen-N/)
    cfg: Config
    kind: str  # vector store kind, indexing.store.store_kind(cfg.index)
    embedder: Callable[[], ChunkEmbedder]  # loads the embedder when the transaction starts
    reopen: Callable[[], str | None]  # reopen the committed generation for this process; returns its name
    translator_encoder: tuple[Any, Any] | None = None  # (model, tokenizer) for DyPRAG inputs; None = shared


class Writer:
    """One write transaction: lock, fork the committed generation, edit, commit by swapping CURRENT."""

    def __init__(self, target: WriteTarget) -> None:
        self.target = target
        self.timings: dict[str, float] = {"chunk": 0.0, "embed": 0.0, "store": 0.0, "bm25": 0.0, "commit": 0.0}
        self.stale: list[str] = []  # server store: points to delete once the new generation is committed

    def __enter__(self) -> Self:
        from filelock import FileLock, Timeout

        idx = self.target
        self.lock = FileLock(str(idx.path / "writer.lock"), timeout=idx.cfg.index.lock_timeout_s)
        try:
            self.lock.acquire(timeout=idx.cfg.index.lock_timeout_s or 0.01)
        except Timeout:
            try:
                pid = (idx.path / "writer.pid").read_text().strip()
            except OSError:
                pid = "unknown"
            raise IndexBusy(f"index {idx.path} is in use by another process (pid {pid}); wait for it to finish "
                            f"or set index.lock_timeout_s to wait") from None
        try:
            return self._begin()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _begin(self) -> Self:
        idx = self.target
        (idx.path / "writer.pid").write_text(str(os.getpid()))
        self.old = idx.reopen()  # the committed generation may have changed while we waited
        self.embedder = idx.embedder()
        number = max([int(p.name[4:]) for p in idx.path.glob("gen-*") if p.name[4:].isdigit()] + [0]) + 1
        for leftover in idx.path.glob("gen-*"):  # half-written generations of killed writers
            if leftover.name != self.old and leftover.name[4:].isdigit() and int(leftover.name[4:]) > _gen_no(self.old):
                shutil.rmtree(leftover, ignore_errors=True)
        self.name = f"gen-{number:06d}"
        self.folder = idx.path / self.name
        self.folder.mkdir()
        if self.old:
            shutil.copyfile(idx.path / self.old / "meta.sqlite", self.folder / "meta.sqlite")
            fork_store(idx.kind, idx.path / self.old, self.folder)
            fork_inputs(idx.path / self.old, self.folder)
        self.inputs = GenerationInputs(idx.cfg, self.folder, encoder=idx.translator_encoder)
        if self.inputs.enabled:
            self.timings["dyprag"] = 0.0
        self.manifest = Manifest(self.folder / "meta.sqlite", readonly=False)
        info = self.manifest.get_info()
        model = idx.cfg.index.embedding_model
        if info.get("embedding_model", model) != model:
            raise IndexFailure(f"index {idx.path} was built with {info['embedding_model']!r}, not {model!r}")
        self.manifest.set_info({"embedding_model": model, "vector_store": idx.kind})
        self.store = make_store(idx.cfg.index, self.folder, self.embedder.dim, writable=True, kind=idx.kind)
        return self

    def remove(self, doc_ids: Sequence[str]) -> int:
        ids = self.manifest.chunk_ids(doc_ids)
        t = time.perf_counter()
        if self.store.shared:
            self.stale.extend(ids)
        else:
            self.store.delete(ids)
        self.manifest.remove_documents(doc_ids)
        self.inputs.remove(ids)
        self.timings["store"] += time.perf_counter() - t
        return len(ids)

    def write(self, docs: Sequence[Document], progress: bool) -> int:
        """Chunk every document, then embed and store the chunks group by group; returns the chunks written.

        The progress bar counts chunks embedded, the step that takes the time, so its rate and "left" are
        honest: chunking all documents first (fast) gives the bar its total before the first embedding.
        """
        from tqdm import tqdm

        cfg = self.target.cfg.index
        chunker = Chunker(self.embedder.tokenizer, cfg.chunk_tokens, cfg.chunk_overlap)
        chunks: list[Chunk] = []
        for doc in docs:
            t = time.perf_counter()
            doc_chunks = chunker.chunk(doc)
            self.timings["chunk"] += time.perf_counter() - t
            self.manifest.add_document(doc.doc_id, doc.source, doc.title, doc.file, doc.content_hash,
                                       len(doc_chunks), len(doc.text))
            chunks.extend(doc_chunks)
        bar = tqdm(total=len(chunks), unit="chunk", desc="embedding", disable=not progress, leave=False)
        # DyPRAG translator inputs: one base-model pass per new chunk, far slower than embedding: own bar
        dyprag_bar = tqdm(total=len(chunks), unit="chunk", desc=f"DyPRAG inputs ({self.target.cfg.model.name})",
                          leave=False, disable=not (progress and self.inputs.enabled))
        total = 0
        for i in range(0, len(chunks), EMBED_GROUP):
            total += self._flush(chunks[i:i + EMBED_GROUP], bar, dyprag_bar)
        bar.close()
        dyprag_bar.close()
        return total

    def _flush(self, chunks: list[Chunk], bar=None, dyprag_bar=None) -> int:
        if not chunks:
            return 0
        t = time.perf_counter()
        step = self.target.cfg.index.embed_batch_size  # the bar moves once per embedding batch
        parts = []
        for i in range(0, len(chunks), step):
            parts.append(self.embedder.embed([embed_text(c) for c in chunks[i:i + step]]))
            if bar is not None:
                bar.update(len(parts[-1]))
        vectors = np.concatenate(parts)
        t2 = time.perf_counter()
        self.store.upsert([c.id for c in chunks], vectors, [payload(c) for c in chunks])
        self.manifest.add_chunks(chunks)
        self.timings["embed"] += t2 - t
        self.timings["store"] += time.perf_counter() - t2
        if self.inputs.enabled:
            t = time.perf_counter()
            self.inputs.add(chunks, dyprag_bar)
            self.timings["dyprag"] += time.perf_counter() - t
        return len(chunks)

    def commit(self) -> None:
        t = time.perf_counter()
        ids, texts = zip(*self.manifest.iter_chunk_texts(), strict=True) if self.manifest.counts()[1] else ((), ())
        BM25Index.build(list(ids), list(texts)).save(self.folder / "bm25")
        self.timings["bm25"] += time.perf_counter() - t
        t = time.perf_counter()
        self.inputs.save()
        self.store.commit()
        self.store.close()
        self.manifest.commit()
        self.manifest.close()
        _fsync_tree(self.folder)
        idx = self.target
        tmp = idx.path / "CURRENT.tmp"
        with open(tmp, "w") as f:
            f.write(self.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, idx.path / "CURRENT")  # the commit point
        _fsync_dir(idx.path)
        self.committed = True
        if self.stale:  # shared server store: readers of the new generation no longer need these points
            store = make_store(idx.cfg.index, self.folder, self.embedder.dim, writable=True, kind=idx.kind)
            try:
                store.delete(self.stale)
            finally:
                store.close()
        for p in idx.path.glob("gen-*"):  # keep the new and the previous generation (open readers)
            if p.name not in (self.name, self.old):
                shutil.rmtree(p, ignore_errors=True)
        self.timings["commit"] += time.perf_counter() - t

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if not getattr(self, "committed", False) and hasattr(self, "folder"):
                for closer in (getattr(self, "store", None), getattr(self, "manifest", None)):
                    with contextlib.suppress(Exception):  # already failing; the folder is discarded anyway
                        closer and closer.close()
                shutil.rmtree(self.folder, ignore_errors=True)  # nothing half-written survives (kill -9: next writer)
            self.target.reopen()
        finally:
            if hasattr(self, "lock"):
                self.lock.release()


def embed_text(chunk: Chunk) -> str:
    """What the dense model sees: the heading/title gives a chunk its topic."""
    return chunk.text if not chunk.title or chunk.text.startswith(chunk.title) else f"{chunk.title}\n{chunk.text}"


def payload(chunk: Chunk) -> dict:
    return {"chunk_id": chunk.id, "doc_id": chunk.doc_id, "source": chunk.source, "title": chunk.title,
            "text": chunk.text, "start": chunk.start, "end": chunk.end}


def _gen_no(name: str | None) -> int:
    return int(name[4:]) if name else 0


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                fd = os.open(os.path.join(root, f), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
