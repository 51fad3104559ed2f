"""indexing.document_text: a cited passage's whole document, re-read and checked, else what the index stored.

Most tests write a real manifest (sqlite) by hand from documents the real loader read, cut into overlapping
chunks of sentences the way indexing/chunking.py packs them; the last one goes through a real `Index.add`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexing.chunking import chunk_id, sentence_spans
from indexing.document_text import document_text, read_indexed, stitch
from indexing.loaders import Document, load_file
from indexing.manifest import Manifest
from rag.types import Chunk, Passage

SENTENCES = [f"Sentence number {i} talks about the river Vell{'a' * (i % 3)}." for i in range(12)]
TEXT = "Intro line.\n\n" + " ".join(SENTENCES[:6]) + "\n\n" + "  ".join(SENTENCES[6:]) + "\n"


def chunks_of(doc: Document, per_chunk: int = 3, overlap: int = 1) -> list[Chunk]:
    """Overlapping chunks of whole sentences, with exact spans: doc.text[start:end] == text."""
    spans = sentence_spans(doc.text)
    out, i = [], 0
    while i < len(spans):
        group = spans[i:i + per_chunk]
        start, end = group[0][0], group[-1][1]
        out.append(Chunk(chunk_id(doc.doc_id, start, end, doc.text[start:end]), doc.doc_id, doc.source, doc.title, doc.text[start:end],
                         start, end))
        if i + per_chunk >= len(spans):
            break
        i += per_chunk - overlap
    return out


def index_files(tmp_path: Path, *files: Path) -> tuple[Manifest, dict[str, list[Chunk]]]:
    """A manifest of `files` as `adaptrag index add` would record them (documents, hashes, chunks)."""
    manifest = Manifest(tmp_path / "meta.sqlite", readonly=False)
    chunks: dict[str, list[Chunk]] = {}
    for f in files:
        docs, skipped = load_file(f)
        assert skipped is None and docs
        for doc in docs:
            chunks[doc.doc_id] = chunks_of(doc)
            manifest.add_chunks(chunks[doc.doc_id])
            manifest.add_document(doc.doc_id, doc.source, doc.title, doc.file, doc.content_hash,
                                  len(chunks[doc.doc_id]), len(doc.text))
    manifest.commit()
    return manifest, chunks


def as_passage(c: Chunk) -> Passage:
    return Passage(id=c.id, source=c.source, title=c.title, text=c.text, start=c.start, end=c.end, score=0.5)


def located(doc, p: Passage) -> str:
    return doc.text[p.start - doc.offset:p.end - doc.offset]


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "notes.txt"
    path.parent.mkdir()
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_the_whole_document_is_read_from_its_file_with_the_passage_at_its_offsets(tmp_path, notes):
    manifest, chunks = index_files(tmp_path, notes)
    (cs,) = chunks.values()
    assert len(cs) >= 3
    p = as_passage(cs[2])  # a chunk in the middle
    doc = document_text(manifest, p)
    assert (doc.origin, doc.status, doc.offset) == ("file", "ok", 0)
    assert doc.text == TEXT and doc.length == len(TEXT) and len(doc.text) > 3 * len(p.text)  # not just the chunk
    assert located(doc, p) == p.text and doc.title == "notes"


def test_markdown_offsets_point_into_the_text_a_reader_sees(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text("---\ntitle: Guide\n---\n# Rivers\n\nThe **Vella** river is *long*. It has `two` mouths.\n\n"
                    "## Bridges\n\n- The old bridge is wooden.\n- The new bridge is steel.\n", encoding="utf-8")
    manifest, chunks = index_files(tmp_path, path)
    p = as_passage(chunks[next(iter(chunks))][-1])
    doc = document_text(manifest, p)
    assert doc.origin == "file" and located(doc, p) == p.text
    assert "**" not in doc.text and "---" not in doc.text  # the loader's text, not the raw Markdown
    assert doc.text == load_file(path)[0][0].text


def test_a_jsonl_line_is_its_own_document(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [{"id": "a", "text": "Alpha is first. " * 3}, {"id": "b", "text": " ".join(SENTENCES), "title": "Bee"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    manifest, chunks = index_files(tmp_path, path)
    p = as_passage(chunks[f"{path}#b"][1])
    doc = document_text(manifest, p)
    assert doc.origin == "file" and doc.text == rows[1]["text"] and doc.title == "Bee" and located(doc, p) == p.text


def test_a_deleted_file_falls_back_to_the_stored_chunks_and_says_so(tmp_path, notes):
    manifest, chunks = index_files(tmp_path, notes)
    p = as_passage(next(iter(chunks.values()))[2])
    notes.unlink()
    doc = document_text(manifest, p)
    assert (doc.origin, doc.status) == ("index", "missing")
    assert located(doc, p) == p.text
    assert " ".join(doc.text.split()) == " ".join(TEXT.split())  # all of it, up to whitespace


def test_an_edited_file_is_not_trusted(tmp_path, notes):
    manifest, chunks = index_files(tmp_path, notes)
    p = as_passage(next(iter(chunks.values()))[1])
    notes.write_text("Inserted first. " + TEXT, encoding="utf-8")  # every offset moved
    doc = document_text(manifest, p)
    assert (doc.origin, doc.status) == ("index", "changed") and located(doc, p) == p.text
    notes.write_text(TEXT + "Appended.\n", encoding="utf-8")  # offsets still fit, but the file is not what was indexed
    assert document_text(manifest, p).status == "changed"


def test_a_file_that_no_longer_parses_is_unreadable_with_the_loaders_reason(tmp_path, notes):
    manifest, chunks = index_files(tmp_path, notes)
    p = as_passage(next(iter(chunks.values()))[0])
    notes.write_bytes(b"\x00\x01binary\x00" * 10)
    doc = document_text(manifest, p)
    assert (doc.origin, doc.status) == ("index", "unreadable") and "binary" in doc.detail
    assert located(doc, p) == p.text


def test_a_passage_cut_from_its_chunk_is_found_in_the_document(tmp_path, notes):
    manifest, chunks = index_files(tmp_path, notes)
    c = next(iter(chunks.values()))[1]
    cut = Passage(id=c.id, source=c.source, title=c.title, text=c.text[5:40], start=c.start + 5, end=c.start + 40,
                  score=0.5)  # as the pipeline truncates a passage that does not fit the context window
    doc = document_text(manifest, cut)
    assert doc.origin == "file" and located(doc, cut) == cut.text


def test_a_passage_no_longer_in_the_index_is_shown_alone(tmp_path, notes):
    manifest, chunks = index_files(tmp_path, notes)
    c = next(iter(chunks.values()))[1]
    for p in (Passage(id="gone", source=str(notes), title="t", text=c.text, start=c.start, end=c.end, score=0.1),
              Passage(id=c.id, source=c.source, title="t", text=c.text + "!", start=c.start, end=c.end + 1,
                      score=0.1)):  # an id reused for other text is not the same passage
        doc = document_text(manifest, p)
        assert (doc.origin, doc.status, doc.text, doc.offset, doc.length) == (
            "passage", "not_indexed", p.text, p.start, None)


def test_read_indexed_reports_a_missing_file(tmp_path, notes):
    manifest, _ = index_files(tmp_path, notes)
    info = manifest.documents()[0]
    assert read_indexed(info)[0] == "ok"
    notes.unlink()
    assert read_indexed(info) == ("missing", "", None)


def test_stitch_keeps_every_offset():
    text = "One two.   Three four five.\n\nSix.\tSeven eight."
    spans = sentence_spans(text)
    chunks = [Chunk(str(i), "d", "s", "t", text[s:e], s, e) for i, (s, e) in enumerate(spans)]
    chunks.append(Chunk("x", "d", "s", "t", text[spans[0][0]:spans[1][1]], spans[0][0], spans[1][1]))  # overlap
    stitched, offset = stitch(list(reversed(chunks)))
    assert offset == 0 and len(stitched) == len(text)
    for c in chunks:
        assert stitched[c.start - offset:c.end - offset] == c.text
    assert stitch([]) is None


def test_through_a_real_index(cfg, notes, embedder):
    """`Index.add` (chunker, manifest) and `document_text` agree on what a passage's offsets mean."""
    from indexing.index import Index

    index = Index.open(cfg, embedder=embedder)
    index.add([notes], progress=False)
    index.close()
    reader = Index.open(cfg, readonly=True, embedder=embedder)
    try:
        (info,) = reader.documents()
        stored = reader.chunks_of(info.doc_id)
        assert stored and reader.document(info.doc_id) == info
        p = as_passage(stored[-1])
        doc = document_text(reader, p)
        assert (doc.origin, doc.text) == ("file", TEXT) and located(doc, p) == p.text
        notes.unlink()
        doc = document_text(reader, p)
        assert doc.status == "missing" and located(doc, p) == p.text
    finally:
        reader.close()
