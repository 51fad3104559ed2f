"""Vector stores behind one Protocol: embedded Qdrant Edge (default), qdrant-client local mode, a Qdrant server.

The index keeps one *generation* folder per committed version (see indexing/index.py). Embedded stores
live inside it, so a writer `fork`s the committed store into a new generation and readers keep using the
old one; a server store is shared by all generations (`shared = True`), so stale points are deleted only
after the new generation is committed and readers drop ids their generation does not know.

Why Qdrant Edge by default (evals/bench_retrieval.py, `--engines`): qdrant-client's local mode commits
each point to sqlite and brute-forces queries in numpy; Qdrant Edge is Qdrant's Rust engine in-process.
Edge has no write-ahead log here (wal_enabled=False): durability comes from flush() before the
generation is committed, and without the WAL's file lock several processes can open one shard to read.

    store = make_store(cfg.index, folder, dim=384, writable=True); store.upsert(ids, vectors, payloads)
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from rag.config import IndexConfig

UPSERT_BATCH = 512  # points per write call: qdrant-client local mode commits sqlite once per call


class StoreError(RuntimeError):
    """The vector store cannot be opened or used; the message says what to do."""

    user_error = True  # rag/cli.py prints one line for it instead of a traceback


class VectorStore(Protocol):
    """Dense vectors keyed by chunk id (a UUID string), with the chunk's metadata as payload."""

    shared: ClassVar[bool]  # True: one store for all generations (server); False: one copy per generation

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def search(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]: ...

    def count(self) -> int: ...

    def commit(self) -> None:
        """Make every write durable (and build search structures) before the generation is published."""

    def close(self) -> None: ...


class EdgeStore:
    """Qdrant Edge (qdrant-edge-py): Qdrant's engine in-process, one shard folder per generation."""

    shared: ClassVar[bool] = False
    HNSW_MIN_POINTS = 20_000  # below this, exact search is faster than building a graph

    def __init__(self, folder: Path, dim: int, writable: bool, hnsw: bool = False) -> None:
        try:
            import qdrant_edge as qe
        except ImportError:
            raise StoreError("qdrant-edge-py is not installed: pip install qdrant-edge-py") from None
        self._qe = qe
        self.writable = writable
        self.hnsw = hnsw
        shard = folder / "vectors"
        try:
            if (shard / "edge_config.json").exists():
                self.shard = qe.EdgeShard.load(str(shard))
            elif writable:
                # indexing_threshold=1 KB: optimize() builds the HNSW graph; it only runs when hnsw is on (commit)
                optimizers = qe.EdgeOptimizersConfig(indexing_threshold=1) if hnsw else None
                config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine),
                                       wal_enabled=False, optimizers=optimizers)
                self.shard = qe.EdgeShard.create(str(shard), config)
            else:
                raise StoreError(f"no vector store in {folder}")
        except StoreError:
            raise
        except Exception as e:  # noqa: BLE001 - the Rust engine raises plain Exception
            raise StoreError(f"cannot open the embedded Qdrant store in {shard}: {e}") from None

    @staticmethod
    def fork(src: Path, dst: Path) -> None:
        copy_tree(src / "vectors", dst / "vectors")

    def upsert(self, ids, vectors, payloads) -> None:
        qe = self._qe
        for i in range(0, len(ids), UPSERT_BATCH):
            points = [qe.Point(pid, vec.tolist(), payload)
                      for pid, vec, payload in zip(ids[i:i + UPSERT_BATCH], vectors[i:i + UPSERT_BATCH],
                                                   payloads[i:i + UPSERT_BATCH], strict=True)]
            self.shard.update(qe.UpdateOperation.upsert_points(points))

    def delete(self, ids) -> None:
        for i in range(0, len(ids), UPSERT_BATCH):
            self.shard.update(self._qe.UpdateOperation.delete_points(list(ids[i:i + UPSERT_BATCH])))

    def search(self, vector, limit) -> list[tuple[str, float]]:
        qe = self._qe
        hits = self.shard.query(qe.QueryRequest(limit=limit, query=qe.Query.Nearest(vector.tolist()),
                                                with_payload=False))
        return [(str(h.id), float(h.score)) for h in hits]

    def count(self) -> int:
        return int(self.shard.count(self._qe.CountRequest(exact=True)))

    def commit(self) -> None:
        if self.hnsw and self.count() >= self.HNSW_MIN_POINTS:
            self.shard.optimize()
        self.shard.flush()

    def close(self) -> None:
        self.shard.close()


class QdrantClientStore:
    """qdrant-client: local mode (path=, one process per folder) or a Qdrant server (url=)."""

    def __init__(self, collection: str, dim: int, writable: bool, *, path: Path | None = None,
                 url: str | None = None, client: Any = None) -> None:
        from qdrant_client import QdrantClient, models

        self._models = models
        self.collection = collection
        self.where = url or str(path)
        try:
            if client is None:
                client = QdrantClient(url=url, timeout=30) if url else QdrantClient(path=str(path))
            self.client = client
            exists = self.client.collection_exists(collection)
        except Exception as e:  # noqa: BLE001 - connection errors, a folder locked by another process
            raise StoreError(f"cannot open Qdrant at {self.where}: {e}") from None
        if exists:
            size = self.client.get_collection(collection).config.params.vectors.size
            if size != dim:
                raise StoreError(f"Qdrant collection {collection!r} at {self.where} holds {size}-d vectors, but the "
                                 f"embedding model makes {dim}-d ones: use another index.collection")
        elif writable:
            self.client.create_collection(collection, vectors_config=models.VectorParams(
                size=dim, distance=models.Distance.COSINE))
        else:
            raise StoreError(f"Qdrant at {self.where} has no collection {collection!r}: run `adaptrag index add` first")

    def upsert(self, ids, vectors, payloads) -> None:
        for i in range(0, len(ids), UPSERT_BATCH):
            self.client.upsert(self.collection, points=self._models.Batch(
                ids=list(ids[i:i + UPSERT_BATCH]), vectors=vectors[i:i + UPSERT_BATCH].tolist(),
                payloads=list(payloads[i:i + UPSERT_BATCH])), wait=True)

    def delete(self, ids) -> None:
        for i in range(0, len(ids), UPSERT_BATCH):
            self.client.delete(self.collection, points_selector=self._models.PointIdsList(
                points=list(ids[i:i + UPSERT_BATCH])), wait=True)

    def search(self, vector, limit) -> list[tuple[str, float]]:
        hits = self.client.query_points(self.collection, query=vector.tolist(), limit=limit, with_payload=False)
        return [(str(h.id), float(h.score)) for h in hits.points]

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def commit(self) -> None:
        pass  # every call above waited for the server / committed to sqlite

    def close(self) -> None:
        self.client.close()


class LocalClientStore(QdrantClientStore):
    shared: ClassVar[bool] = False

    def __init__(self, folder: Path, dim: int, writable: bool, collection: str) -> None:
        super().__init__(collection, dim, writable, path=folder / "qdrant")

    @staticmethod
    def fork(src: Path, dst: Path) -> None:
        copy_tree(src / "qdrant", dst / "qdrant")


class ServerStore(QdrantClientStore):
    """A Qdrant server (index.qdrant_url) whose collection every generation shares."""

    shared: ClassVar[bool] = True

    def __init__(self, url: str, dim: int, writable: bool, collection: str, client: Any = None) -> None:
        """`client`: an open QdrantClient to use instead of connecting to `url` (the tests pass qdrant-client's
        local mode as the server's stand-in)."""
        super().__init__(collection, dim, writable, url=url, client=client)

    @staticmethod
    def fork(src: Path, dst: Path) -> None:
        pass  # the server's collection is shared by all generations


EMBEDDED_STORES = ("edge", "qdrant-local")  # values of index.vector_store


def store_kind(cfg: IndexConfig) -> str:
    """The backend an index config selects: 'server' when a URL is set, else index.vector_store."""
    if cfg.qdrant_url:
        return "server"
    if cfg.vector_store not in EMBEDDED_STORES:
        raise StoreError(f"unknown index.vector_store {cfg.vector_store!r}; allowed: {', '.join(EMBEDDED_STORES)}")
    return cfg.vector_store


_BACKENDS: dict[str, tuple[Any, Any]] = {  # kind -> (open(cfg, folder, dim, writable), fork(src, dst))
    "edge": (lambda cfg, folder, dim, w: EdgeStore(folder, dim, w, hnsw=cfg.hnsw), EdgeStore.fork),
    "qdrant-local": (lambda cfg, folder, dim, w: LocalClientStore(folder, dim, w, cfg.collection),
                     LocalClientStore.fork),
    "server": (lambda cfg, folder, dim, w: ServerStore(cfg.qdrant_url or "", dim, w, cfg.collection),
               ServerStore.fork),
}


def _backend(kind: str) -> tuple[Any, Any]:
    if kind not in _BACKENDS:
        raise StoreError(f"unknown vector store {kind!r}; allowed: {', '.join(_BACKENDS)}")
    return _BACKENDS[kind]


def make_store(cfg: IndexConfig, folder: Path, dim: int, writable: bool, kind: str | None = None) -> VectorStore:
    """Open the vector store of one generation folder (or the server) for `cfg`.

    An embedded store on a read-only disk (or in a folder this user may not write) cannot be opened in
    place: the engines map their files writable. A reader then gets a private temporary copy (sparse, so it
    costs the vectors' real size) that is deleted when the store is closed.
    """
    kind = kind or store_kind(cfg)
    copy = not writable and kind != "server" and not readable_in_place(folder)
    if not copy:
        try:
            return _backend(kind)[0](cfg, folder, dim, writable)
        except StoreError as e:
            if writable or kind == "server" or not _denied(str(e)):
                raise
    return _TemporaryCopy(kind, lambda copy: _backend(kind)[0](cfg, copy, dim, False), folder)


def readable_in_place(folder: Path) -> bool:
    """False when mapping this generation's store in place could crash the reader, so it reads a copy.

    On tmpfs, a read of a hole in a sparse, shared mmap file allocates memory, and a failed allocation is a
    SIGBUS that kills the process without a word. Qdrant Edge preallocates sparse files and touches them
    when it loads: a one-chunk index (67 MB apparent, 1.2 MB allocated) died with "Bus error" on a 24 MB
    tmpfs, full or not. So a tmpfs with less free space than the holes is read through a temporary copy
    elsewhere (`_TemporaryCopy`); other file systems map holes on read without allocating.
    """
    if fs_type(folder) != "tmpfs":
        return True
    return _free(folder) >= sparse_holes(folder)


def sparse_holes(folder: Path) -> int:
    holes = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            holes += max(0, st.st_size - st.st_blocks * 512)
    return holes


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _disk_use(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def fs_type(path: Path) -> str:
    """File system type of the mount holding `path` (from /proc/self/mounts; "" when unknown)."""
    try:
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1:3] for line in f]
    except OSError:
        return ""
    real = os.path.realpath(path)
    best, kind = "", ""
    for point, fstype in mounts:
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), point)  # "\\040" is a space
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fstype
    return kind


def _denied(message: str) -> bool:
    return any(s in message for s in ("os error 30", "os error 13", "Read-only file system", "Permission denied",
                                      "readonly database"))


class _TemporaryCopy:
    """A read-only generation's store, opened from a temporary copy; closing deletes the copy."""

    def __init__(self, kind: str, open_store, folder: Path) -> None:
        import tempfile

        self._tmp = Path(tempfile.mkdtemp(prefix="adaptrag-readonly-"))
        try:
            if fs_type(self._tmp) == "tmpfs" and _free(self._tmp) < sparse_holes(folder) + _disk_use(folder):
                raise StoreError(f"the disk holding index {folder.parent} is full or read-only, and "
                                 f"{tempfile.gettempdir()} has no room for a copy to search: free some space")
            fork_store(kind, folder, self._tmp)
            self._store = open_store(self._tmp)
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        self.shared = self._store.shared
        logging.getLogger(__name__).info("index %s cannot be mapped in place (read-only, or a full tmpfs): "
                                         "searching a copy of its vectors in %s", folder, self._tmp)

    def __getattr__(self, name: str):
        if name == "_store":  # not set yet (a failed __init__)
            raise AttributeError(name)
        return getattr(self._store, name)

    def close(self) -> None:
        try:
            self._store.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)


def fork_store(kind: str, src: Path, dst: Path) -> None:
    """Copy the committed generation's embedded store into a new generation folder."""
    _backend(kind)[1](src, dst)


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a store folder keeping sparse files sparse (Qdrant preallocates 32 MB mmap files).

    Raises OSError (ENOSPC for a full disk) when the copy fails, never shutil.Error with a list of files.
    """
    if not src.exists():
        return
    cp = shutil.which("cp")
    if cp:
        done = subprocess.run([cp, "-a", "--sparse=always", "--reflink=auto", str(src), str(dst)],
                              check=False, capture_output=True)
        if done.returncode == 0:
            return
        message = done.stderr.decode(errors="replace").strip().splitlines()
        if any("No space left" in line or "Disk quota" in line for line in message):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
    shutil.rmtree(dst, ignore_errors=True)
    try:
        shutil.copytree(src, dst)
    except shutil.Error as e:  # a list of (src, dst, why) per file
        why = str(e.args[0][0][2]) if e.args and e.args[0] else str(e)
        code = errno.ENOSPC if "No space left" in why else errno.EIO
        raise OSError(code, why, str(dst)) from None

