"""ui.render: escaping, citation links, highlighted spans, banners, badges (pure functions)."""

from __future__ import annotations

import re
from dataclasses import replace

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
