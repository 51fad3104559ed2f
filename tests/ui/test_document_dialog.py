"""ui.document_dialog: reading a cited document for the dialog never fails the page (the dialog itself: test_app.py)."""

from __future__ import annotations

from indexing.writer import IndexFailure
from rag.config import load_config
from tests.ui.fakes import passage
from ui import document_dialog, resources


def test_an_index_that_cannot_be_opened_leaves_the_passage_and_says_why(tmp_path, monkeypatch):
    def broken(cfg, readonly=False):
        raise IndexFailure("index was built with embedding model 'other', not 'minilm-l6'")

    monkeypatch.setattr(resources, "open_index", broken)
    p = passage()
    doc = document_dialog.read_document(load_config(env={"ADAPTRAG_INDEX": str(tmp_path / "index")}), p)
    assert (doc.origin, doc.status, doc.text, doc.offset) == ("passage", "unreadable", p.text, p.start)
    assert "embedding model 'other'" in doc.detail


def test_an_index_without_the_passage_shows_the_passage(tmp_path):
    p = passage()
    doc = document_dialog.read_document(load_config(env={"ADAPTRAG_INDEX": str(tmp_path / "index")}), p)
    assert (doc.origin, doc.status, doc.text) == ("passage", "not_indexed", p.text)
