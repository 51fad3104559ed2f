"""The shared vector-store test suite: every `indexing.store.VectorStore` backend subclasses `VectorStoreSuite`
and provides `open_store(folder, writable)`, which opens that backend's store for one generation folder.

    class TestEdge(VectorStoreSuite):
        @pytest.fixture
        def open_store(self):
            return lambda folder, writable: EdgeStore(folder, DIM, writable)

Embedded stores keep one copy per generation folder; a server store is one collection that every generation
shares (`shared = True`). The suite checks both contracts: what a write does, what survives close and
reopen, and what a fork into a new generation folder shares.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from indexing.store import StoreError

DIM = 8


def point_ids(n: int) -> list[str]:
    """Chunk ids as the index makes them: UUID strings."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"chunk-{i}")) for i in range(n)]


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def payloads(ids: list[str]) -> list[dict]:
    return [{"chunk_id": cid, "text": f"text of {cid}"} for cid in ids]


class VectorStoreSuite:
    """Subclasses provide the `open_store` fixture: (folder: Path, writable: bool) -> VectorStore."""

    @pytest.fixture
    def generation(self, tmp_path: Path) -> Path:
        folder = tmp_path / "gen-000001"
        folder.mkdir()
        return folder

    def _filled(self, open_store, folder: Path, n: int = 20):
        ids, vectors = point_ids(n), unit_vectors(n)
        store = open_store(folder, True)
        store.upsert(ids, vectors, payloads(ids))
        return store, ids, vectors

    def test_search_finds_the_nearest_point_first_with_cosine_scores(self, open_store, generation):
        store, ids, vectors = self._filled(open_store, generation)
        try:
            hits = store.search(vectors[7], 3)
            assert hits[0][0] == ids[7]  # ids come back exactly as written
            assert hits[0][1] == pytest.approx(1.0, abs=1e-4)
            assert len(hits) == 3 and hits[0][1] >= hits[1][1] >= hits[2][1]
            expected = sorted(range(len(ids)), key=lambda i: -float(vectors[i] @ vectors[7]))[:3]
            assert [h[0] for h in hits] == [ids[i] for i in expected]
            assert len(store.search(vectors[0], 100)) == len(ids)
        finally:
            store.close()

    def test_count_delete_and_upsert_of_an_existing_id(self, open_store, generation):
        store, ids, vectors = self._filled(open_store, generation)
        try:
            assert store.count() == 20
            store.delete(ids[:5])
            assert store.count() == 15
            assert ids[0] not in [h[0] for h in store.search(vectors[0], 20)]
            store.upsert([ids[10]], vectors[[12]], payloads([ids[10]]))  # same id, new vector: replaced
            assert store.count() == 15
            hits = store.search(vectors[12], 2)
            assert {h[0] for h in hits} == {ids[10], ids[12]}
            assert hits[1][1] == pytest.approx(1.0, abs=1e-4)  # both are now the same vector
            store.delete([])  # nothing to delete is no error
        finally:
            store.close()

    def test_committed_points_survive_close_and_a_read_only_reopen(self, open_store, generation):
        store, ids, vectors = self._filled(open_store, generation)
        store.commit()
        store.close()
        reader = open_store(generation, False)
        try:
            assert reader.count() == 20
            assert reader.search(vectors[4], 1)[0][0] == ids[4]
        finally:
            reader.close()

    def test_a_read_only_open_of_nothing_fails_clearly(self, open_store, generation):
        with pytest.raises(StoreError):
            open_store(generation, False)

    def test_a_fork_shares_the_store_exactly_when_the_backend_says_so(self, open_store, generation):
        store, ids, _ = self._filled(open_store, generation)
        store.commit()
        store.close()
        new = generation.parent / "gen-000002"
        new.mkdir()
        type(store).fork(generation, new)
        writer = open_store(new, True)
        writer.delete(ids[:1])
        writer.commit()
        writer.close()
        old = open_store(generation, False)
        try:
            assert old.count() == (19 if type(store).shared else 20)  # a server's collection is one for all
        finally:
            old.close()
