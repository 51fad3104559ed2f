"""Every vector store against the shared suite (tests/indexing/store_suite.py), plus what only one shows.

`ServerStore` runs against qdrant-client's own local mode, the server's stand-in here (no Qdrant server
binary installs on this machine); set QDRANT_TEST_URL=http://HOST:6333 to run the suite against a real server.
"""

from __future__ import annotations

import os
import uuid

import pytest

from indexing.store import EdgeStore, LocalClientStore, ServerStore, StoreError, make_store, store_kind
from rag.config import IndexConfig
from tests.indexing.store_suite import DIM, VectorStoreSuite

COLLECTION = "adaptrag-test"


class TestEdgeStore(VectorStoreSuite):
    @pytest.fixture
    def open_store(self):
        return lambda folder, writable: EdgeStore(folder, DIM, writable)


class TestLocalClientStore(VectorStoreSuite):
    @pytest.fixture
    def open_store(self):
        return lambda folder, writable: LocalClientStore(folder, DIM, writable, COLLECTION)


class TestServerStoreOnLocalMode(VectorStoreSuite):
    """One "server" (a local-mode folder) for all generation folders, as one Qdrant server would be."""

    @pytest.fixture
    def open_store(self, tmp_path):
        from qdrant_client import QdrantClient

        server = tmp_path / "server"
        return lambda folder, writable: ServerStore("local-mode", DIM, writable, COLLECTION,
                                                    client=QdrantClient(path=str(server)))


@pytest.mark.integration
@pytest.mark.skipif(not os.environ.get("QDRANT_TEST_URL"), reason="set QDRANT_TEST_URL to a Qdrant server")
class TestServerStore(VectorStoreSuite):
    @pytest.fixture
    def open_store(self):
        from qdrant_client import QdrantClient

        url, collection = os.environ["QDRANT_TEST_URL"], f"adaptrag-test-{uuid.uuid4().hex[:8]}"
        yield lambda folder, writable: ServerStore(url, DIM, writable, collection)
        QdrantClient(url=url).delete_collection(collection)


def test_a_collection_of_another_width_is_refused(tmp_path):
    store = LocalClientStore(tmp_path, DIM, True, COLLECTION)
    store.close()
    with pytest.raises(StoreError, match=f"holds {DIM}-d vectors.*16-d"):
        LocalClientStore(tmp_path, 16, True, COLLECTION)


def test_the_config_picks_the_backend_and_names_the_valid_ones(tmp_path):
    assert store_kind(IndexConfig()) == "edge"
    assert store_kind(IndexConfig(vector_store="qdrant-local")) == "qdrant-local"
    assert store_kind(IndexConfig(qdrant_url="http://127.0.0.1:6333")) == "server"
    assert isinstance(make_store(IndexConfig(vector_store="qdrant-local"), tmp_path, DIM, writable=True),
                      LocalClientStore)
    with pytest.raises(StoreError, match="allowed: edge, qdrant-local, server"):
        make_store(IndexConfig(), tmp_path, DIM, writable=True, kind="faiss")


def test_an_unreachable_server_fails_clearly(tmp_path):
    with pytest.raises(StoreError, match="cannot open Qdrant at http://127.0.0.1:9"):
        ServerStore("http://127.0.0.1:9", DIM, True, COLLECTION)
