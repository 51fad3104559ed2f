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
    """Open the vector store of one generation folder (or the server) for `cfg`."""
    return _backend(kind or store_kind(cfg))[0](cfg, folder, dim, writable)


def fork_store(kind: str, src: Path, dst: Path) -> None:
    """Copy the committed generation's embedded store into a new generation folder."""
    _backend(kind)[1](src, dst)


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a store folder keeping sparse files sparse (Qdrant preallocates 32 MB mmap files)."""
    if not src.exists():
        return
    cp = shutil.which("cp")
    if cp and subprocess.run([cp, "-a", "--sparse=always", "--reflink=auto", str(src), str(dst)],
                             capture_output=True, check=False).returncode == 0:
        return
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
