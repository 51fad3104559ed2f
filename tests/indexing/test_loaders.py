"""Loaders: every supported type yields clean text; every bad input is a per-file skip with a reason."""

from __future__ import annotations

import logging
import os
import re
import socket
from pathlib import Path

import pytest

from indexing.loaders import decode, html_text, load_file, load_paths, markdown_text, path_key


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with `text` in its text layer (Helvetica), with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_supported_types(corpus: Path):
    (corpus / "doc.pdf").write_bytes(minimal_pdf("Vienna is the capital of Austria."))
    result = load_paths([corpus])
    assert not result.skipped
    by_source = {d.source.rsplit("/", 1)[-1]: d for d in result.documents}
    assert set(by_source) == {"paris.txt", "berlin.md", "rome.html", "more.jsonl#madrid", "lisbon", "doc.pdf"}
    assert "Vienna is the capital of Austria." in by_source["doc.pdf"].text
    rome = by_source["rome.html"]
    assert rome.title == "Rome" and "Colosseum" in rome.text
    assert "scriptword" not in rome.text and "color:red" not in rome.text and "Rome\nRome is" not in rome.title
    berlin = by_source["berlin.md"]
    assert berlin.title == "Berlin" and [h.text for h in berlin.headings] == ["Berlin", "History"]
    assert berlin.text[berlin.headings[1].start:].startswith("History\n") and "#" not in berlin.text
    lisbon = by_source["lisbon"]
    assert lisbon.title == "" and lisbon.doc_id.endswith("more.jsonl#lisbon")
    assert by_source["more.jsonl#madrid"].title == "Madrid"


def test_globs_and_recursion(tmp_path: Path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("deep text")
    (tmp_path / "a" / "top.txt").write_text("top text")
    (tmp_path / "a" / ".hidden.txt").write_text("hidden")
    assert len(load_paths([tmp_path / "a"]).documents) == 2
    assert [Path(d.source).name for d in load_paths([str(tmp_path / "a" / "**" / "*.md")]).documents] == ["deep.md"]
    missing = load_paths([str(tmp_path / "nothing" / "*.txt")])
    assert missing.skipped[0].error and "no file matches" in missing.skipped[0].reason


def reasons(tmp_path: Path, **kw) -> dict[str, tuple[str, bool]]:
    result = load_paths([tmp_path], **kw)
    return {Path(s.path).name: (s.reason, s.error) for s in result.skipped}


def test_bad_inputs_are_reported_and_skipped(tmp_path: Path):
    (tmp_path / "good.txt").write_text("A good document about owls.")
    (tmp_path / "binary.txt").write_bytes(b"ELF\x00\x01\x02" * 10)
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "blank.md").write_text("   \n\n ")
    (tmp_path / "latin.txt").write_bytes("Café crème à Zürich".encode("cp1252"))
    (tmp_path / "garbage.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "bad.jsonl").write_text('{"text": "ok line"}\nnot json\n{"title": "no text"}\n')
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    os.mkfifo(tmp_path / "fifo.txt")
    (tmp_path / "loop").symlink_to(tmp_path)  # a folder symlink back to its parent
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")  # a file symlink to itself (ELOOP)
    got = reasons(tmp_path)
    assert got["binary.txt"] == ("binary file (contains NUL bytes)", True)
    assert got["empty.md"] == ("empty file", True)
    assert got["blank.md"][1] and "no text" in got["blank.md"][0]
    assert "undecodable" in got["garbage.txt"][0] and got["garbage.txt"][1]
    assert got["image.png"][1] is False and "unsupported file type '.png'" in got["image.png"][0]
    assert got["bad.jsonl"][1] and "2 JSONL line(s) skipped" in got["bad.jsonl"][0]
    assert got["broken.pdf"][1] and "cannot parse" in got["broken.pdf"][0]
    assert got["fifo.txt"] == ("not a regular file (device, FIFO or socket)", True)
    assert "symlink loop" in got["loop"][0] and got["loop"][1]
    assert "looping symlink" in got["self.txt"][0]
    docs = {Path(d.file).name for d in load_paths([tmp_path]).documents}
    assert docs == {"good.txt", "latin.txt", "bad.jsonl"}  # the rest is indexed


def test_too_large(tmp_path: Path):
    (tmp_path / "big.txt").write_text("word " * 100_000)
    reason, error = reasons(tmp_path, max_file_mb=0.1)["big.txt"]
    assert error and "too large" in reason and "index.max_file_mb=0.1" in reason


def test_unreadable(tmp_path: Path):
    folder = tmp_path / "folder.txt"  # reading a folder fails even for root
    folder.mkdir()
    docs, skip = load_file(folder)
    assert not docs and skip.error and skip.reason.startswith("unreadable")
    path = tmp_path / "secret.txt"
    path.write_text("secret")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not block reads (FIFO/loop cases cover unreadable input)")
        docs, skip = load_file(path)
        assert not docs and skip.error and "unreadable" in skip.reason
    finally:
        path.chmod(0o644)


def test_socket_is_skipped(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.txt"))
    try:
        assert reasons(tmp_path)["s.txt"][0].startswith("not a regular file")
    finally:
        sock.close()


def test_decode_order():
    assert decode("\ufeffhé".encode()) == "hé"
    assert decode("naïve".encode("cp1252")) == "naïve"
    with pytest.raises(UnicodeDecodeError):
        decode(bytes(range(0x80, 0x100)))


def test_html_heading_offsets():
    body, title, headings = html_text("<title>T</title><h1>Alpha</h1><p>one</p><h2>Beta</h2><p>two</p>")
    assert title == "T"
    assert [(body[h.start:h.start + len(h.text)], h.text) for h in headings] == [("Alpha", "Alpha"), ("Beta", "Beta")]


def test_html_doctype_and_processing_instructions_are_not_text():
    page = '<?xml version="1.0"?><!DOCTYPE html><html><head><title>T</title></head><body><p>Cairo</p></body></html>'
    body, title, _ = html_text(page)
    assert body.strip() == "Cairo" and title == "T"


def test_deep_nesting_is_no_recursion_error(tmp_path: Path):
    (tmp_path / "deep.html").write_text("<div>" * 3000 + "Deep text about tapirs." + "</div>" * 3000)
    (tmp_path / "open.html").write_text("<b><i>" * 3000 + "Unclosed tags about ibexes.")
    (tmp_path / "deep.jsonl").write_text("[" * 5000 + "]" * 5000 + '\n{"text": "A good line about lemurs."}\n')
    result = load_paths([tmp_path])
    texts = {Path(d.file).name: d.text for d in result.documents}
    assert texts["deep.html"].strip() == "Deep text about tapirs."
    assert texts["open.html"].strip() == "Unclosed tags about ibexes."
    assert texts["deep.jsonl"] == "A good line about lemurs."
    (skip,) = result.skipped
    assert Path(skip.path).name == "deep.jsonl" and "1 (JSON nested too deep)" in skip.reason


def test_html_block_structure_survives_the_iterative_walk():
    body, _, headings = html_text("<h1>Top</h1><div><p>one <b>bold</b> two</p><ul><li>a</li><li>b</li></ul></div>"
                                  "<p>end</p>")
    assert body == "Top\none bold two\n• a\n• b\nend\n" and [h.text for h in headings] == ["Top"]


def test_html_lists_and_tables_read_as_text():
    body, _, headings = html_text("<h2>Items</h2><ol><li><p>first</p></li><li>second</li></ol><ul><li>dot</li></ul>"
                                  "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>")
    assert body == "Items\n1. first\n2. second\n• dot\na | b\n1 | 2\n"
    assert [(h.text, h.level) for h in headings] == [("Items", 2)]


def test_markdown_becomes_the_text_a_reader_sees():
    md = ("---\ntitle: Field notes\ndate: 2024\n---\n# Kenya\n\nThe **capital** is *Nairobi*; see [the atlas](http://x.org/a_(b))"
          " and ![a map](map.png). Keep snake_case and 2 * 3 and \\*stars\\*.\n\nEconomy\n-------\n\n"
          "- tea & coffee\n* flowers\n  + roses\n1. one\n\n> quoted `code`\n\n| crop | share |\n|---|--:|\n"
          "| tea | 20% |\n\n```\n# not a heading **kept**\n```\n\n***\n\n## People ##\n\n[1]: http://x.org\n")
    body, title, headings = markdown_text(md)
    assert title == "Field notes"
    assert body.split("\n") == [
        "Kenya", "", "The capital is Nairobi; see the atlas and a map. Keep snake_case and 2 * 3 and *stars*.", "",
        "Economy", "", "• tea & coffee", "• flowers", "  • roses", "1. one", "", "quoted code", "", "crop | share",
        "tea | 20%", "", "# not a heading **kept**", "", "", "People", "", ""]
    assert [(h.text, h.level) for h in headings] == [("Kenya", 1), ("Economy", 2), ("People", 2)]
    assert all(body[h.start:h.start + len(h.text)] == h.text for h in headings)
    assert markdown_text("## Only a section\n\ntext")[1] == "Only a section"  # no h1: the first heading
    assert markdown_text("no headings")[1:] == ("", ())


def test_utf16_and_utf32_are_text_not_binary(tmp_path: Path):
    text = "Ein Text über Zürich, 東京 and Paris."
    for name, data in {"bom16.txt": text.encode("utf-16"), "le.txt": text.encode("utf-16-le"),
                       "be.md": text.encode("utf-16-be"), "bom32.txt": text.encode("utf-32")}.items():
        (tmp_path / name).write_bytes(data)
    result = load_paths([tmp_path])
    assert not result.skipped
    assert {Path(d.file).name: d.text for d in result.documents} == dict.fromkeys(
        ["bom16.txt", "le.txt", "be.md", "bom32.txt"], text)
    assert decode("Plain ASCII".encode("utf-16-le")) == "Plain ASCII"
    assert decode(b"ELF\x00\x01\x02" * 20).count("\x00") == 20  # NULs, not UTF-16: load_file calls it binary


def test_a_utf16_mark_before_8bit_text_is_skipped_not_indexed_as_cjk(tmp_path: Path):
    """A file starting with a UTF-16 mark whose bytes are plain 8-bit text decoded to a run of CJK characters and
    was indexed as such (a new user's test file): it is undecodable, and says so; real UTF-16 still reads."""
    (tmp_path / "latin.txt").write_bytes(b"\xff\xfe\xfd garbage \x80\x81")
    (tmp_path / "real.txt").write_bytes("\ufeff東京は日本の首都です。".encode("utf-16-le"))
    result = load_paths([tmp_path])
    assert [Path(d.file).name for d in result.documents] == ["real.txt"]
    assert [(Path(s.path).name, s.reason.split(":")[0]) for s in result.skipped] == [("latin.txt", "undecodable")]


def test_jsonl_ids_default_to_line_numbers_that_never_collide(tmp_path: Path):
    (tmp_path / "ids.jsonl").write_text(
        '{"text": "one"}\n{"id": 1, "text": "explicit one"}\n{"id": null, "text": "null a"}\n'
        '{"id": null, "text": "null b"}\n{"id": "line-1", "text": "looks like a default"}\n'
        '{"id": 1, "text": "repeated"}\n{"id": [1], "text": "a list id"}\n{"id": true, "text": "a bool id"}\n')
    result = load_paths([tmp_path])
    key = path_key(tmp_path / "ids.jsonl")
    assert {d.doc_id[len(key) + 1:]: d.text for d in result.documents} == {
        "line-1-2": "one", "1": "explicit one", "line-3": "null a", "line-4": "null b", "line-1": "looks like a default"}
    (skip,) = result.skipped
    assert skip.reason == ("3 JSONL line(s) skipped: 6 (duplicate id '1', first on line 2), 7 ('id' must be a string "
                           "or an integer), 8 ('id' must be a string or an integer)")


def test_jsonl_lone_surrogates_become_replacement_characters(tmp_path: Path):
    (tmp_path / "s.jsonl").write_text('{"id": "a\\udcff", "text": "x \\ud800 y", "title": "\\udfff"}\n')
    (doc,) = load_paths([tmp_path]).documents
    assert doc.text == "x \ufffd y" and doc.title == "\ufffd" and doc.doc_id.endswith("#a\ufffd")
    doc.doc_id.encode("utf-8")  # sqlite and Qdrant accept it


def test_non_utf8_file_names_get_printable_keys(tmp_path: Path):
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff.txt")
    with open(raw, "wb") as f:
        f.write(b"Named in Latin-1.")
    (doc,) = load_paths([tmp_path]).documents
    assert doc.doc_id == doc.source == doc.file == f"{tmp_path}/caf\\xe9 \\xff.txt"
    assert doc.title == "caf\\xe9 \\xff" and path_key(os.fsdecode(raw)) == doc.doc_id


def test_pdf_warnings_name_their_file(tmp_path: Path, caplog):
    data = minimal_pdf("Vienna is the capital of Austria.")
    data = re.sub(rb"startxref\n(\d+)", lambda m: b"startxref\n%d" % (int(m.group(1)) + 7), data)
    (tmp_path / "shifted.pdf").write_bytes(data)
    with caplog.at_level(logging.WARNING):
        result = load_paths([tmp_path])
    assert [d.text for d in result.documents] == ["Vienna is the capital of Austria."]
    assert result.warnings and all(w.path == path_key(tmp_path / "shifted.pdf") for w in result.warnings)
    assert any("startxref" in w.message for w in result.warnings)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]  # not also printed without a name


def test_large_html_is_skipped_with_a_hint(tmp_path: Path, monkeypatch):
    import indexing.loaders

    monkeypatch.setattr(indexing.loaders, "MAX_HTML_MB", 0.01)
    (tmp_path / "big.html").write_text("<p>word</p>" * 2000)
    (skip,) = load_paths([tmp_path]).skipped
    assert "HTML page too large" in skip.reason and skip.error


def test_a_plain_text_file_is_titled_by_its_title_line_or_email_subject(tmp_path: Path):
    (tmp_path / "green_valley_minutes.txt").write_text(
        "GREEN VALLEY FARM COOPERATIVE\nMinutes of the monthly members' meeting\n\nThe first delivery is in June.\n")
    (tmp_path / "exam.txt").write_text("From: Dr Okonjo <a@b.example>\nTo: students\nSubject: CHEM 204 final exam\n\n"
                                       "Dear all, the exam is on 16 December.\n")
    (tmp_path / "notes.txt").write_text("This file opens with a sentence. It has no title line.\n")
    titles = {Path(d.source).name: d.title for d in load_paths([tmp_path]).documents}
    assert titles == {"green_valley_minutes.txt": "GREEN VALLEY FARM COOPERATIVE (green_valley_minutes)",
                      "exam.txt": "CHEM 204 final exam", "notes.txt": "notes"}


def test_a_plain_text_title_names_its_file_without_the_apps_upload_tag(tmp_path: Path):
    """The app stores an upload as "email_rota-1797ea7b.txt"; a passage card shows "(email_rota)", not the tag."""
    email = tmp_path / "email_rota-1797ea7b.txt"
    email.write_text("From: Priya <priya@example.org>\nSubject: Weekend rota for the bakery\n\nHi all,\nHere it is.\n")
    (doc,), _ = load_file(email)
    assert doc.title == "Weekend rota for the bakery (email_rota)"
    plain = tmp_path / "rota-notes.txt"
    plain.write_text("Some notes on the rota, with no title line.\n")
    assert load_file(plain)[0][0].title == "rota-notes"


def test_a_markdown_or_html_title_names_its_file_when_the_name_says_more(tmp_path: Path):
    """A user's name for a file often names what the document is about: "marsh_lane_tenancy_summary.md" titled
    "Tenancy Agreement — My Summary" is about Marsh Lane, which no chunk of its house rules says."""
    (tmp_path / "marsh_lane_tenancy_summary.md").write_text("# Tenancy Agreement — My Summary\n\nRent is £950.\n")
    (tmp_path / "rome.html").write_text("<html><title>Rome</title><body><p>Rome has the Colosseum.</p></body></html>")
    titles = {Path(d.source).name: d.title for d in load_paths([tmp_path]).documents}
    assert titles == {"marsh_lane_tenancy_summary.md": "Tenancy Agreement — My Summary (marsh_lane_tenancy_summary)",
                      "rome.html": "Rome"}
