"""ui.render: escaping, citation links, highlighted spans, banners, badges (pure functions)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rag.types import Citation, Conflict
from tests.ui.fakes import DOC, HOSTILE, memory_answer, passage, retrieved_answer
from ui import render

TAG = re.compile(r"<\s*/?\s*([a-zA-Z]+)")
OURS = {"div", "span", "a", "b", "br", "mark", "table", "tr", "td", "details", "summary", "p"}


def tags(html: str) -> set[str]:
    return {t.lower() for t in TAG.findall(html)}


def test_highlight_span_is_passage_relative():
    p = passage()  # starts at offset 100 in its document
    c = Citation("s", p.id, 100 + DOC.index("It lies"), 100 + DOC.index("Seine.") + len("Seine."))
    spans = render.highlight_spans(p, [c])
    assert [p.text[s:e] for s, e in spans] == ["It lies on the Seine."]
    html = render.highlighted_text_html(p.text, spans)
    assert '<mark class="ar-span">It lies on the Seine.</mark>' in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "script" not in tags(html)


def test_spans_clipped_merged_and_other_passages_ignored():
    p = passage()
    cits = [Citation("a", p.id, 90, 105), Citation("b", p.id, 103, 110), Citation("c", "other", 100, 120),
            Citation("d", None, -1, -1), Citation("e", p.id, 100 + len(DOC) - 3, 100 + len(DOC) + 50)]
    assert render.highlight_spans(p, cits) == [(0, 10), (len(DOC) - 3, len(DOC))]


def test_answer_links_markers_and_marks_memory_sentences():
    a = retrieved_answer()
    html = render.answer_html(a, "t7")
    assert '<a class="ar-cite" href="#t7-p1">[1]</a>' in html
    assert 'class="ar-memory"' in html and "from model memory" in html
    # the memory span wraps exactly the unsupported sentence
    assert re.search(r'class="ar-memory"[^>]*>It is also famous for cheese\.', html)
    cards = render.passages_html(a, "t7")
    assert 'id="t7-p1"' in cards and ">france.txt<" in cards and "<mark" in cards
    assert "docs/france.txt" not in cards  # the document's name, never the server path


def test_missing_marker_is_added_and_unknown_marker_is_plain():
    text = "Paris is the capital [9]."
    p = passage()
    a = replace(retrieved_answer(), answer=text, citations=(
        Citation(text, p.id, 100, 130, sentence_start=0, sentence_end=len(text), cited=False),))
    html = render.answer_html(a, "x")
    assert "[9]" in html and 'href="#x-p9"' not in html  # names no passage
    assert 'href="#x-p1">[1]</a>' in html  # supported but uncited: the marker is added


def test_untrusted_text_is_inert_everywhere():
    p = passage(text=HOSTILE, start=0)
    conflict = Conflict(flagged=True, kind="memory_vs_documents", parametric_answer=HOSTILE,
                        document_answer=HOSTILE, score=0.9, passage_ids=(p.id,), detail=HOSTILE)
    a = replace(retrieved_answer(conflict=conflict), answer=HOSTILE, passages=(replace(p, title=HOSTILE,
                source=HOSTILE),), citations=(Citation(HOSTILE, p.id, 0, 20, sentence_start=0,
                                                        sentence_end=len(HOSTILE)),),
                warnings=(HOSTILE,), mode=HOSTILE)
    for html in (render.answer_html(a, "a"), render.passages_html(a, "a"), render.conflict_html(a, "a"),
                 render.badge_html(a, "adaptive"), render.streaming_html(HOSTILE), render.plain_html(HOSTILE)):
        assert tags(html) <= OURS, html
        assert "onerror=" not in html.replace("onerror=&quot;", "")  # only as escaped text
        assert 'href="javascript' not in html
        assert "&lt;img" in html or "&lt;" in html


def test_conflict_banner_shows_both_sides_and_score():
    conflict = Conflict(flagged=True, kind="memory_vs_documents", parametric_answer="Paris",
                        document_answer="Lyon", score=0.83, passage_ids=("p2",), parametric_confidence=0.7)
    html = render.conflict_html(retrieved_answer(conflict=conflict), "t1")
    assert "ar-conflict" in html and "0.83" in html and "Paris" in html and "Lyon" in html
    assert 'href="#t1-p2"' in html and ">lyon.txt<" in html and "confidence 0.70" in html
    assert "“Lyon is a city.”" in html  # what the document side says, not only where


def test_conflict_status_lines_never_fake():
    assert "conflict check not available" in render.conflict_html(memory_answer(), "t")
    assert "no conflict detected" in render.conflict_html(retrieved_answer(), "t")
    between = Conflict(flagged=True, kind="between_documents", document_answer="Paris", score=0.6,
                       passage_ids=("p1",), other_passage_ids=("p2",))
    html = render.conflict_html(retrieved_answer(conflict=between), "t")
    assert "Documents disagree" in html and 'href="#t-p1"' in html and 'href="#t-p2"' in html


def test_badges():
    assert "answered from memory" in render.badge_html(memory_answer(0.05), "adaptive")
    assert "P(&lt;RET&gt;) = 0.05" in render.badge_html(memory_answer(0.05), "adaptive")
    assert "searched documents" in render.badge_html(retrieved_answer(), "adaptive")
    fell_back = memory_answer(None, mode="always", warnings=("no router adapter: fell back to always",))
    html = render.badge_html(fell_back, "adaptive")
    assert "router not available" in html and "fell back" in html and "P(&lt;RET&gt;)" not in html
    assert "router not available" in render.badge_html(memory_answer(None), "adaptive")
    assert "router not used" in render.badge_html(memory_answer(None, mode="never"), "never")


def test_latency_footer():
    html = render.latency_html({"retrieve": 12.4, "generate": 100.0, "conflict": 5.0}, 55.0, 180.0)
    assert "retrieval 12 ms" in html and "generation 100 ms" in html and "conflict check 5 ms" in html
    assert "first token 55 ms" in html and "wall 180 ms" in html


def test_source_links_only_for_web_urls():
    assert render.source_html("https://example.org/a?b=1").startswith('<a class="ar-source" href="https://example.org')
    for bad in ("javascript:alert(1)", "data:text/html,<script>x</script>", 'https://x.org/" onclick="x',
                "JaVaScRiPt:alert(1)", "/home/user/doc.txt"):
        html = render.source_html(bad)
        assert "<a" not in html and html.startswith('<span class="ar-source">'), html


MARKDOWN = "## Summary\n\n**Paris** is the capital [1].\n\n- one *item*\n- `code`\n\n[docs](https://example.org/x)"
INJECTIONS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "[click](javascript:window.__pwned=3)",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![img](javascript:alert(1))",
    '<a href="javascript:alert(1)">a</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "[ref]: javascript:alert(1)\n\n[ref]",
    "<svg onload=alert(1)>",
    "```\n<script>alert(1)</script>\n```",
]


def test_answers_render_as_markdown():
    a = replace(retrieved_answer(), answer=MARKDOWN, citations=())
    html = render.answer_html(a, "t1")
    assert "<h2>Summary</h2>" in html and "<strong>Paris</strong>" in html and "<em>item</em>" in html
    assert "<li>" in html and "<code>code</code>" in html
    assert '<a class="ar-cite" href="#t1-p1">[1]</a>' in html
    assert 'href="https://example.org/x" rel="noopener noreferrer nofollow" target="_blank"' in html


@pytest.mark.parametrize("payload", INJECTIONS)
def test_markdown_answers_keep_injections_inert(payload):
    a = replace(retrieved_answer(), answer=f"Intro **bold**. {payload} end", citations=())
    html = render.answer_html(a, "t1")
    assert "<strong>bold</strong>" in html  # Markdown still renders around it
    allowed = OURS | {"strong", "em", "code", "pre", "ul", "ol", "li", "h1", "h2", "h3", "blockquote", "hr"}
    assert tags(html) <= allowed, html
    for tag in re.findall(r"<[a-zA-Z][^>]*>", html):  # real tags only; escaped text is &lt;...
        assert not re.search(r"\son\w+\s*=", tag), tag  # no event-handler attribute
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):""", tag, re.IGNORECASE), tag


def test_memory_marks_survive_markdown_lists():
    text = "Facts:\n\n- Paris is the capital [1].\n- It is famous for cheese."
    s2 = text.index("It is")
    p = passage()
    a = replace(retrieved_answer(), answer=text, citations=(
        Citation("Paris is the capital [1].", p.id, 100, 130, sentence_start=text.index("Paris"),
                 sentence_end=text.index("Paris") + len("Paris is the capital [1]."), cited=True),
        Citation("It is famous for cheese.", None, -1, -1, sentence_start=s2, sentence_end=len(text))))
    html = render.answer_html(a, "t")
    assert html.count("<li>") == 2  # the memory mark did not break the list
    assert re.search(r'<li><span class="ar-memory"[^>]*>It is famous for cheese\.', html)


def test_sentinel_characters_in_untrusted_text_are_dropped():
    a = replace(retrieved_answer(), answer="a \ue0001\ue001 b \ue002<b>x</b>\ue003", citations=())
    html = render.answer_html(a, "t")
    assert "ar-memory" not in html and 'class="ar-cite"' not in html and "&lt;b&gt;" in html


def test_passage_card_names_the_document_and_expands_to_the_chunk():
    text = "# France\n\n## Overview\n\n" + "Filler words here. " * 20 + "Paris is the **capital**. " + "More. " * 60
    p = passage(text=text, start=0, source="/srv/data/index-app/uploads/upload-1a2b3c4d.txt")
    start = text.index("Paris")
    a = replace(retrieved_answer(), passages=(p,), citations=(
        Citation("s", p.id, start, start + len("Paris is the **capital**."), sentence_start=0, sentence_end=1),))
    html = render.passages_html(a, "t", names=lambda source: "名前.txt" if source == p.source else "")
    assert "名前.txt" in html and "/srv/data" not in html and "upload-1a2b3c4d" not in html
    summary = html[html.index("<summary>"):html.index("</summary>")]
    assert '<mark class="ar-span">Paris is the capital.</mark>' in summary  # readable: no Markdown marks
    assert "## Overview" not in summary and summary.count("More.") < 60  # an excerpt, not the chunk
    full = html[html.index("</summary>"):]
    assert "## Overview" in full and full.count("More.") == 60  # the full chunk when expanded


def test_abstained_answers_are_a_notice_not_a_sourced_answer():
    from ui.answer_json import answer_from_json, is_abstained

    data = {**retrieved_answer().to_json(), "abstained": True, "answer": "The documents do not say."}
    a = answer_from_json(data)
    assert is_abstained(a, data) and not is_abstained(a, {"abstained": False})
    html = render.abstained_html(a)
    assert "ar-notice" in html and "do not contain this information" in html and "ar-cite" not in html
    assert "not in the documents" in render.badge_html(a, "adaptive", abstained=True)


def test_conflict_banner_and_pending_slot_reserve_the_same_space():
    conflict = Conflict(flagged=True, kind="memory_vs_documents", parametric_answer="Paris",
                        document_answer="Lyon", score=0.83, passage_ids=("p2",))
    banner = render.conflict_html(retrieved_answer(conflict=conflict), "t1")
    assert banner.startswith('<div class="ar-slot">') and render.pending_slot_html("x").startswith(
        '<div class="ar-slot">')
    assert "ar-slot{min-height" in render.STYLE


def test_a_file_name_title_is_not_repeated_on_the_card():
    p = passage(source="/data/app/uploads/notes-1a2b3c4d.txt")
    a = replace(retrieved_answer(), passages=(replace(p, title="notes-1a2b3c4d"),), citations=())
    html = render.passages_html(a, "t", names=lambda s: "notes.txt")
    assert "notes.txt" in html and "1a2b3c4d" not in html
