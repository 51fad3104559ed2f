"""ui.documents_panel: rows from a real index, search, delete (with the uploaded copy) and re-index."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ui import resources
from ui.documents_panel import delete_document, filter_rows, group_documents, reindex_job
from ui.uploads import UploadNames, save_upload


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    from rag.config import load_config

    monkeypatch.delenv("RAGAPP_DATA", raising=False)
    return load_config(env={"ADAPTRAG_INDEX": str(tmp_path / "index")})


def test_rows_search_delete_and_reindex_on_a_real_index(cfg, tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text("# Alpha\n\nAlpha is the first letter of the Greek alphabet.")
    (docs / "lines.jsonl").write_text('{"id": "a", "text": "Line one."}\n{"id": "b", "text": "Line two."}\n')
    uploads = resources.upload_folder(cfg)
    stored = save_upload(uploads, "名前.txt", b"The lantern festival is in October.", 1000)
    names = UploadNames(resources.data_folder(cfg) / "uploads.sqlite")
    names.add(stored, "名前.txt")
    index = resources.open_index(cfg)
    index.add([docs, stored], progress=False)
    index.close()

    stats, documents = resources.index_snapshot(cfg)
    rows = group_documents(documents, names.all())
    by_name = {r.name: r for r in rows}
    assert set(by_name) == {"alpha.md", "lines.jsonl", "名前.txt"}  # one row per file, the upload's own name
    assert by_name["lines.jsonl"].kind == "jsonl" and len(by_name["lines.jsonl"].doc_ids) == 2
    assert by_name["lines.jsonl"].chunks == 2 and stats["documents"] == 4
    assert [r.name for r in filter_rows(rows, "JSONL")] == ["lines.jsonl"]
    assert [r.name for r in filter_rows(rows, "名前")] == ["名前.txt"]

    message = delete_document(cfg, by_name["名前.txt"], uploads, names)
    assert "Deleted 名前.txt" in message
    assert not stored.exists() and names.all() == {}  # the uploaded copy and its name go too
    message = delete_document(cfg, by_name["lines.jsonl"], uploads, names)
    assert (docs / "lines.jsonl").exists()  # a file the user indexed from disk stays on disk
    stats, documents = resources.index_snapshot(cfg)
    assert [r.name for r in group_documents(documents)] == ["alpha.md"] and stats["documents"] == 1

    (docs / "alpha.md").write_text("# Alpha\n\nAlpha is now the name of a brand new rocket.")
    job = reindex_job(cfg, group_documents(documents)[0]).start()
    job.join(120)
    state = job.snapshot()
    assert state.finished and not state.failed, state
    index = resources.open_index(cfg, readonly=True)
    try:
        texts = [c.text for c in index.chunks_by_id([h[0] for h in index.bm25_search("rocket", 3)]).values()]
    finally:
        index.close()
    assert any("rocket" in t for t in texts)


def test_reindex_of_a_vanished_file_says_what_to_do(cfg, tmp_path: Path):
    f = tmp_path / "gone.txt"
    f.write_text("Soon gone.")
    index = resources.open_index(cfg)
    index.add([f], progress=False)
    index.close()
    row = group_documents(resources.index_snapshot(cfg)[1])[0]
    f.unlink()
    job = reindex_job(cfg, row).start()
    job.join(60)
    for _ in range(20):
        if job.snapshot().finished:
            break
        time.sleep(0.1)
    failed = job.snapshot().failed
    assert len(failed) == 1 and "the file is gone" in failed[0].message and "delete the document" in failed[0].message
