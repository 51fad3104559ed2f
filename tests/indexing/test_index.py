"""The index on real embedded Qdrant (Edge) + bm25s + real MiniLM: incremental add, change, remove."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from indexing.index import Index
from rag.config import ConfigError, load_config
from rag.retrieval.search import BM25Retriever, DenseRetriever
from tests.indexing.conftest import make_config


def sources(index: Index) -> set[str]:
    return {Path(d.source).name if d.source.startswith("/") else d.source for d in index.documents()}


def test_add_readd_change_remove(cfg, corpus: Path, embedder):
    idx = Index.open(cfg, embedder=embedder)
    report = idx.add([corpus], progress=False)
    assert len(report.added) == 5 and not report.errors and report.chunks_added == 5
    assert sources(idx) == {"paris.txt", "berlin.md", "rome.html", "more.jsonl#madrid", "https://example.org/lisbon"}
    stats = idx.stats()
    assert (stats["documents"], stats["chunks"], stats["embedding_model"]) == (5, 5, "minilm-l6")
    assert stats["bytes_on_disk"] > 0
    gen = idx.generation

    again = idx.add([corpus], progress=False)  # unchanged: no work, no new generation
    assert len(again.unchanged) == 5 and not again.added and again.chunks_added == 0
    assert idx.generation == gen and "embed" not in again.timings_s

    (corpus / "paris.txt").write_text("Paris hosts the Louvre, the most visited art museum.")
    changed = idx.add([corpus], progress=False)
    assert [Path(s).name for s in changed.updated] == ["paris.txt"] and changed.chunks_removed == 1
    assert idx.generation != gen
    dense = DenseRetriever(idx)
    assert "Louvre" in dense.search("famous art museum in Paris", 1)[0].text
    bm25 = BM25Retriever(idx)
    assert not any("Eiffel" in p.text for p in bm25.search("Eiffel Tower", 5))  # old chunks gone from BM25 ...
    assert not any("Eiffel" in p.text for p in dense.search("Eiffel Tower completed 1889", 5))  # ... and Qdrant

    # a JSONL line that disappears is removed when its file is re-added
    (corpus / "more.jsonl").write_text('{"id": "madrid", "title": "Madrid", "text": "Madrid is the capital of Spain. '
                                       'The Prado is a museum."}\n')
    shrunk = idx.add([corpus / "more.jsonl"], progress=False)
    assert shrunk.removed and "https://example.org/lisbon" not in sources(idx)

    removed = idx.remove([corpus / "berlin.md", corpus / "nope.txt"])
    assert [Path(s).name for s in removed.removed] == ["berlin.md"] and removed.not_found == (str(corpus / "nope.txt"),)
    assert "berlin.md" not in sources(idx)
    assert not any("Berlin" in p.text for p in bm25.search("Berlin Wall", 5))
    assert not any("Berlin" in p.text for p in dense.search("Berlin Wall", 5))
    assert idx.stats()["chunks"] == idx.store().count() == len(idx.bm25()) == 3

    idx.remove([corpus])  # a folder removes everything under it
    assert idx.documents() == [] and dense.search("anything", 3) == [] and bm25.search("Prado", 3) == []
    assert len(list(cfg.index_path().glob("gen-*"))) <= 2  # old generations are cleaned up


def test_bad_files_skipped_rest_indexed(cfg, corpus: Path, embedder):
    (corpus / "bin.txt").write_bytes(b"\x00\x01" * 50)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "big.txt").write_text("x " * 200_000)
    (corpus / "loop").symlink_to(corpus)
    (corpus / "notes.docx").write_bytes(b"PK")
    report = Index.open(make_config(cfg.index_path(), index__max_file_mb=0.1), embedder=embedder).add(
        [corpus], progress=False)
    assert len(report.added) == 5
    assert {Path(s.path).name for s in report.errors} == {"bin.txt", "empty.md", "big.txt", "loop"}
    assert [Path(s.path).name for s in report.skipped if not s.error] == ["notes.docx"]


def test_readonly_open_of_missing_index_is_empty(tmp_path: Path, embedder):
    idx = Index.open(make_config(tmp_path / "none"), readonly=True, embedder=embedder)
    assert idx.documents() == [] and idx.stats()["chunks"] == 0
    assert DenseRetriever(idx).search("q", 3) == [] and BM25Retriever(idx).search("q", 3) == []
    assert not (tmp_path / "none").exists()


def test_reader_sees_new_generation(cfg, corpus: Path, embedder):
    writer = Index.open(cfg, embedder=embedder)
    writer.add([corpus / "paris.txt"], progress=False)
    reader = Index.open(cfg, readonly=True, embedder=embedder)
    retriever = BM25Retriever(reader)
    assert retriever.search("Colosseum", 3) == []
    writer.add([corpus / "rome.html"], progress=False)
    assert "Colosseum" in retriever.search("Colosseum", 3)[0].text  # refreshed on the next search


def test_qdrant_client_local_backend(tmp_path: Path, corpus: Path, embedder):
    cfg = make_config(tmp_path / "ix", index__vector_store="qdrant-local")
    idx = Index.open(cfg, embedder=embedder)
    idx.add([corpus], progress=False)
    (corpus / "paris.txt").write_text("Paris hosts the Louvre.")
    idx.add([corpus], progress=False)
    reader = Index.open(cfg, readonly=True, embedder=embedder)
    assert "Louvre" in DenseRetriever(reader).search("art museum Paris", 1)[0].text
    assert reader.store().count() == 5


@pytest.mark.parametrize("key,value,message", [
    ("index.vector_store", "faiss", "allowed: edge, qdrant-local"),
    ("index.hnsw", "maybe", "allowed: true, false"),
    ("index.chunk_overlap", 500, "index.chunk_overlap"),
    ("index.max_file_mb", -1, "must be >= 0"),
    ("index.lock_timeout_s", "soon", "expected float"),
    ("retrieval.method", "sparse", "allowed: hybrid, dense, bm25"),
])
def test_config_validation(key, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(env={}, overrides={key: value})


def test_stats_json_is_serialisable(cfg, embedder):
    assert json.loads(json.dumps(Index.open(cfg, embedder=embedder).stats()))["documents"] == 0
    assert os.path.isdir(cfg.index_path())


def test_shared_store_code_path(tmp_path: Path, corpus: Path, embedder, monkeypatch):
    """The server code path (one collection shared by all generations: deferred deletes, readers filter ids)
    on qdrant-client's local mode, since no Qdrant server runs here; only the client's transport differs."""
    from indexing import store as store_mod

    shared_dir = tmp_path / "qdrant-server"

    class PathServer(store_mod.QdrantClientStore):
        shared = True

        def __init__(self, url, dim, writable, collection):
            super().__init__(collection, dim, writable, path=shared_dir)

    monkeypatch.setitem(store_mod._BACKENDS, "server", (
        lambda cfg, folder, dim, w: PathServer(cfg.qdrant_url, dim, w, cfg.collection), store_mod.ServerStore.fork))
    cfg = make_config(tmp_path / "ix", index__qdrant_url="http://qdrant.invalid:6333")
    writer = Index.open(cfg, embedder=embedder)
    writer.add([corpus], progress=False)
    (corpus / "paris.txt").write_text("Paris hosts the Louvre, the most visited art museum.")
    report = writer.add([corpus], progress=False)
    assert report.chunks_removed == 1
    reader = Index.open(cfg, readonly=True, embedder=embedder)
    assert reader.kind == "server" and not any(p.name == "qdrant" for p in (tmp_path / "ix").rglob("*"))
    hits = DenseRetriever(reader).search("Eiffel Tower Paris", 5)
    assert not any("Eiffel" in p.text for p in hits) and any("Louvre" in p.text for p in hits)
    assert reader.store().count() == 5  # the stale point was deleted after the commit


def test_edge_hnsw_option(tmp_path: Path, corpus: Path, embedder, monkeypatch):
    from indexing.store import EdgeStore

    monkeypatch.setattr(EdgeStore, "HNSW_MIN_POINTS", 1)  # build the graph even for five chunks
    cfg = make_config(tmp_path / "ix", index__hnsw=True)
    Index.open(cfg, embedder=embedder).add([corpus], progress=False)
    reader = Index.open(cfg, readonly=True, embedder=embedder)
    assert reader.store().shard.info().indexed_vectors_count == 5
    assert "Seine" in DenseRetriever(reader).search("river through Paris", 1)[0].text
