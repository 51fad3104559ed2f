"""One write transaction on an index folder: lock, fork the committed generation, edit it, commit.

Used by `indexing.index.Index.add/remove` through a `WriteTarget` (the folder, settings, embedder and a way
to reopen the committed generation), so the writer does not depend on the index class; see
indexing/index.py for the layout and the safety argument.
The commit point is the atomic replacement of the CURRENT file, after every file of the new generation
was flushed and fsynced; anything before it can be killed without harming the committed generation.

Faults of the disk are messages, not tracebacks: a full disk is `DiskFull`, a read-only or forbidden index
folder is `IndexReadOnly` (both name the folder and the cause). Free space is checked before the fork and
before each batch is written, because the embedded Qdrant writes through mmap: a write into a full disk is
a SIGBUS that kills the process with no message at all. The failed generation is deleted at once (freeing
the space); one left by a killed writer is deleted when the next writer starts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

import numpy as np

from indexing.bm25 import BM25Index
from indexing.chunking import Chunker, retrieval_text
from indexing.loaders import Document
from indexing.manifest import Manifest
from indexing.store import fork_store, fs_type, make_store, sparse_holes
from indexing.translator_inputs import GenerationInputs
from indexing.translator_inputs import fork as fork_inputs
from rag.config import Config
from rag.types import Chunk

EMBED_GROUP = 256  # chunks embedded and written per step (bounded memory, steady progress bar)
# Free space kept in hand beyond each write's estimate. Qdrant grows its mmap files in steps, and a fault on
# an mmap page is a SIGBUS, not an error (tests/indexing/test_faults.py fills a tmpfs to check).
RESERVE_BYTES = 16 * 1024 * 1024
MB = 1024 * 1024


class IndexFailure(RuntimeError):
    """A user-facing index problem (wrong model, unwritable folder); the message says what to do."""

    user_error = True  # rag/cli.py prints one line for it instead of a traceback


class IndexBusy(IndexFailure):
    """Another process holds the writer lock of this index."""


class DiskFull(IndexFailure):
    """The disk holding the index has no room for this write; the committed generation is untouched."""


class IndexReadOnly(IndexFailure):
    """The index folder cannot be written (read-only file system, no permission); it can still be read."""


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def disk_fault(e: BaseException, path: Path | str) -> IndexFailure | None:
    """The one-line `DiskFull` / `IndexReadOnly` for an exception raised while writing index `path`, or None
    when it is some other problem. Knows OSError, sqlite's and shutil's errors, and the Rust engine's text."""
    if isinstance(e, IndexFailure):
        return None
    code = getattr(e, "errno", None)
    text = str(e)
    if code in _FULL or "No space left on device" in text or "os error 28" in text or "disk is full" in text \
            or "Disk quota exceeded" in text:
        return DiskFull(f"the disk holding index {path} is full ({_cause(e)}): free some space or use another "
                        "--index folder; the index is unchanged")
    if code in _READ_ONLY or "Read-only file system" in text or "os error 30" in text \
            or (isinstance(e, sqlite3.OperationalError) and "readonly" in text):
        return IndexReadOnly(f"cannot write index {path} ({_cause(e)}): it can still be searched; to add or "
                             "remove documents use a writable --index folder")
    return None


def _cause(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror if not e.filename else f"{e.strerror}: {e.filename}"
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def check_space(path: Path, need: int) -> None:
    """Raise `DiskFull` unless the file system of `path` has `need` bytes (+ the reserve) free."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    if free < need + RESERVE_BYTES:
        raise DiskFull(f"not enough free space for index {path}: {free / MB:.1f} MB free, about "
                       f"{(need + RESERVE_BYTES) / MB:.1f} MB needed: free some space or use another --index "
                       "folder; the index is unchanged")


def tree_bytes(folder: Path) -> int:
    """Bytes a folder really uses (sparse files count their allocated blocks)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
    return total


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
        self.progress = False  # show the embedding bar (set by Index.add before the first remove or write)

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
        except OSError as e:  # after Timeout, which is an OSError too
            del self.lock  # never acquired: nothing to release
            raise disk_fault(e, idx.path) or e from None
        try:
            return self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _start(self) -> Self:
        """Holding the lock: note our pid, reread the committed generation, delete what killed writers left."""
        idx = self.target
        (idx.path / "writer.pid").write_text(str(os.getpid()))
        self.old = idx.reopen()  # the committed generation may have changed while we waited
        self.number = max([int(p.name[4:]) for p in idx.path.glob("gen-*") if p.name[4:].isdigit()] + [0]) + 1
        for leftover in idx.path.glob("gen-*"):  # half-written generations of killed writers
            if leftover.name != self.old and leftover.name[4:].isdigit() and int(leftover.name[4:]) > _gen_no(self.old):
                shutil.rmtree(leftover, ignore_errors=True)
        for stray in idx.path.glob("CURRENT.tmp"):
            stray.unlink(missing_ok=True)
        return self

    @property
    def begun(self) -> bool:
        """True once the new generation exists (an add with nothing to change never creates one)."""
        return hasattr(self, "folder")

    def begin(self, progress: bool = False) -> None:
        """Fork the committed generation into a new folder (once; `remove` and `write_document` call it)."""
        if self.begun:
            return
        progress = progress or self.progress
        idx = self.target
        need = 0
        if self.old:  # the copy; on tmpfs also the holes of the sparse store files, which loading it touches
            old = idx.path / self.old
            need = tree_bytes(old) + (sparse_holes(old) if fs_type(idx.path) == "tmpfs" else 0)
        check_space(idx.path, need)
        self.embedder = idx.embedder()
        self.name = f"gen-{self.number:06d}"
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
        from tqdm import tqdm

        self.chunker = Chunker(self.embedder.tokenizer, idx.cfg.index.chunk_tokens, idx.cfg.index.chunk_overlap)
        self.pending: list[Chunk] = []
        # One bar counting chunks embedded, the step that takes the time; documents are chunked as they stream
        # in, so its total grows with them and reaches the number of chunks written.
        self.bar = tqdm(total=0, unit="chunk", desc="embedding", disable=not progress, leave=False)
        # DyPRAG translator inputs: one base-model pass per new chunk, far slower than embedding: own bar
        self.dyprag_bar = tqdm(total=0, unit="chunk", desc=f"DyPRAG inputs ({idx.cfg.model.name})", leave=False,
                               disable=not (progress and self.inputs.enabled))

    def remove(self, doc_ids: Sequence[str]) -> int:
        if not doc_ids:
            return 0
        self.begin()
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
        """Chunk, embed and store documents; returns the number of chunks written."""
        total = sum(self.write_document(doc, progress) for doc in docs)
        return total + self.flush()

    def write_document(self, doc: Document, progress: bool = False) -> int:
        """Add one document's chunks, streamed: a 50 MB document holds ~EMBED_GROUP chunks at a time.

        Returns the chunks flushed by this call; `flush()` (or `commit()`) writes the rest.
        """
        self.begin(progress)
        flushed = count = 0
        chunks = self.chunker.iter_chunks(doc)
        while True:
            t = time.perf_counter()
            chunk = next(chunks, None)
            self.timings["chunk"] += time.perf_counter() - t
            if chunk is None:
                break
            self.pending.append(chunk)
            count += 1
            if len(self.pending) >= EMBED_GROUP:
                flushed += self.flush()
        self.manifest.add_document(doc.doc_id, doc.source, doc.title, doc.file, doc.content_hash, count,
                                   len(doc.text))
        return flushed

    def flush(self) -> int:
        """Embed and store the pending chunks; returns how many."""
        chunks, self.pending = getattr(self, "pending", []), []
        if chunks:
            for bar in (self.bar, self.dyprag_bar):
                bar.total += len(chunks)
                bar.refresh()
        return self._flush(chunks, getattr(self, "bar", None), getattr(self, "dyprag_bar", None))

    def _flush(self, chunks: list[Chunk], bar=None, dyprag_bar=None) -> int:
        if not chunks:
            return 0
        # what this batch adds on disk: the text twice (Qdrant payload, sqlite), the vector, ~1 KB of overhead
        check_space(self.target.path, sum(3 * len(c.text) + 4 * self.embedder.dim + 1024 for c in chunks))
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
        self.flush()
        for bar in (self.bar, self.dyprag_bar):
            bar.close()
        t = time.perf_counter()
        check_space(self.target.path, 2 * self.manifest.total_chars())  # BM25: ids, vocabulary, score matrix
        BM25Index.build(rows=self.manifest.iter_retrieval_texts()).save(self.folder / "bm25")
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
    """What the dense model sees: the title line gives a chunk its topic (indexing.chunking.retrieval_text)."""
    return retrieval_text(chunk.title, chunk.text)


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
