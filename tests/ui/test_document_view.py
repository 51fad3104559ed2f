"""ui.document_view: a cited document's text as safe HTML (span mapping, windows, escaping, notes); pure functions."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace

from indexing.document_text import DocumentText
from rag.types import Citation, Passage
from tests.ui.fakes import HOSTILE
from ui import document_view as view

SPAN = "The capital of France is <script>window.__pwned=1</script> Lyon."
CHUNK = SPAN + " <img src=x onerror=\"window.__pwned=2\"> It lies on the Rhone."


def make(before: str = "Intro.\n\n", after: str = "\n\nThe end.", **doc) -> tuple[DocumentText, Passage, Citation]:
    text = before + CHUNK + after
    start = len(before)
    p = Passage("p1", "/srv/corpus/lyon.md", "Lyon", CHUNK, start, start + len(CHUNK), 0.5)
    c = Citation(SPAN, "p1", start, start + len(SPAN), source=p.source, cited=True)
    values = {"text": text, "offset": 0, "length": len(text), "origin": "file", "status": "ok", "title": "Lyon"}
    values.update(doc)
    return DocumentText(**values), p, c


def marked(html: str) -> list[str]:
    return [html_lib.unescape(m) for m in re.findall(r'<mark class="ar-span">(.*?)</mark>', html)]


def shaded(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", "".join(re.findall(r'<span class="ar-docview-chunk">(.*?)</span>',
                                                                         html))))


def test_the_cited_span_is_marked_inside_the_shaded_passage_of_the_whole_text():
    doc, p, c = make()
    html = view.document_html(doc, p, view.cited_spans(p, [c]), "lyon.md")
    assert marked(html) == [SPAN]
    assert shaded(html) == CHUNK  # the passage, and only it
    body = html_lib.unescape(re.sub(r"<[^>]+>", "", html.split('<div class="ar-docview-text">', 1)[1]))
    assert body == doc.text  # the whole document: before and after the passage too
    assert html.count(f'id="{view.TARGET_ID}"') == 1
    assert html.index(view.TARGET_ID) < html.index("<mark")  # scrolled to: the cited span
    assert "Showing characters" not in html and "ar-notice" not in html


def test_offsets_of_stored_text_that_starts_inside_the_document_map_to_the_same_span():
    doc, p, c = make(before="x" * 500)
    moved = DocumentText(doc.text[300:], 300, doc.length, "index", "missing", title="Lyon")
    html = view.document_html(moved, p, view.cited_spans(p, [c]), "lyon.md")
    assert marked(html) == [SPAN] and shaded(html) == CHUNK


def test_untrusted_text_name_and_title_stay_text():
    doc, p, c = make(before=HOSTILE + "\n", title=HOSTILE)
    html = view.document_html(doc, p, view.cited_spans(p, [c]), HOSTILE)
    tags = {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z]+)", html)}
    assert tags <= {"div", "span", "mark"}, tags
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html and "&lt;img src=x onerror=" in html


def test_no_citation_scrolls_to_the_passage():
    doc, p, _ = make()
    html = view.document_html(doc, p, [], "lyon.md")
    assert marked(html) == [] and shaded(html) == CHUNK
    assert html.index(view.TARGET_ID) < html.index('class="ar-docview-chunk"')


def test_a_large_document_is_a_window_around_the_passage_with_a_note():
    doc, p, c = make(before="word " * 5_000 + "\n", after="\n" + "more words " * 5_000)
    html = view.document_html(doc, p, view.cited_spans(p, [c]), "lyon.md", max_chars=4_000)
    body = html_lib.unescape(re.sub(r"<[^>]+>", "", html.split('<div class="ar-docview-text">', 1)[1]))
    assert len(body) <= 4_000 + 4 and marked(html) == [SPAN]  # plus the two ellipses
    note = re.search(r"Showing characters ([\d,]+)–([\d,]+) of ([\d,]+)", html)
    assert note and int(note.group(3).replace(",", "")) == len(doc.text)
    start, end = (int(note.group(i).replace(",", "")) for i in (1, 2))
    assert start <= p.start and p.end <= end and body.strip(" …") == doc.text[start:end].strip()
    assert p.start - start <= view.CONTEXT_BEFORE  # the passage is near the top


def test_window_edges_fall_on_line_breaks_and_keep_the_focus():
    text = "".join(f"line {i:04d} of the document\n" for i in range(2_000))
    focus = (text.index("line 1000"), text.index("line 1001"))
    start, end = view.window(text, focus, max_chars=3_000)
    assert end - start <= 3_000 and start <= focus[0] and focus[1] <= end
    assert text[start - 1] == "\n" and text[end] == "\n"
    assert view.window("short", (0, 5)) == (0, 5)
    start, end = view.window(text, (len(text) - 10, len(text)), max_chars=3_000)  # at the very end
    assert end == len(text) and end - start >= 2_900


def test_notes_say_why_the_file_is_not_shown():
    doc, p, c = make()
    cases = {
        ("index", "missing"): "no longer where it was indexed",
        ("index", "changed"): "has changed since it was indexed",
        ("index", "unreadable"): "cannot be read now (binary file)",
        ("passage", "not_indexed"): "no longer in the index",
    }
    for (origin, status), words in cases.items():
        shown = DocumentText(p.text, p.start, None if origin == "passage" else doc.length, origin, status,
                             detail="binary file" if status == "unreadable" else "")
        html = view.document_html(shown, p, view.cited_spans(p, [c]), "lyon.md")
        note = html_lib.unescape(re.search(r'role="note">(.*?)</div>', html).group(1))
        assert words in note, note
        assert ("Showing the cited passage only." in note) == (origin == "passage")
        assert ("Showing the text as it was indexed" in note) == (origin == "index")
        assert marked(html) == [SPAN]
    assert view.status_note(doc, "lyon.md") == ""


def test_a_title_that_is_only_the_stored_file_name_is_not_repeated():
    doc, p, _ = make(title="lyon-1a2b3c4d")
    p = Passage(p.id, "/data/uploads/lyon-1a2b3c4d.md", p.title, p.text, p.start, p.end, p.score)
    html = view.document_html(doc, p, [], "Lyon notes.md")  # the name it was uploaded under
    assert "1a2b3c4d" not in html and ">Lyon notes.md<" in html
    assert " · Atlas" in view.document_html(replace(doc, title="Atlas"), p, [], "Lyon notes.md")
