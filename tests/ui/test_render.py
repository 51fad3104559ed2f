"""ui.render: escaping, citation links, highlighted spans, banners, badges (pure functions)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rag.types import Citation, Conflict
from tests.ui.fakes import (
    DOC,
    HOSTILE,
    abstained_answer,
    between_conflict_answer,
    memory_answer,
    memory_conflict_answer,
    memory_fallback_answer,
    passage,
    retrieved_answer,
)
from ui import render

TAG = re.compile(r"<\s*/?\s*([a-zA-Z]+)")
OURS = {"div", "span", "a", "b", "br", "mark", "table", "tr", "td", "details", "summary", "p"}


def tags(html: str) -> set[str]:
    return {t.lower() for t in TAG.findall(html)}


def text(html: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace folded."""
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", html)).split())


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


def test_memory_conflict_banner_names_values_and_sources():
    html = render.conflict_html(memory_conflict_answer(), "t1", names=lambda s: "")
    assert 'class="ar-conflict ar-conflict-memory"' in html and "ar-conflict-between" not in html
    seen = text(html)
    assert "Your documents disagree with the model's memory" in seen
    assert "Your documents say Osaka (asia_atlas.md[1]); the model's memory says Tokyo (92% confident)" in seen
    assert "<b>Osaka</b>" in html and "<b>Tokyo</b>" in html  # the values stand out
    assert 'href="#t1-p1"' in html and "0.83" in html
    assert "asia_atlas.md “The capital of Japan is Osaka.”" in seen  # what the document says: its cited span


def test_between_documents_banner_is_another_kind_and_names_both_sides():
    html = render.conflict_html(between_conflict_answer(), "t", names=lambda s: "")
    assert 'class="ar-conflict ar-conflict-between"' in html and "ar-conflict-memory" not in html
    seen = text(html)
    assert "Your documents disagree with each other" in seen
    assert "Cora Grisby (halworth-profile.md[1]) vs Pavel Galthorne (halworth-handbook.md[2])" in seen
    assert 'href="#t-p1"' in html and 'href="#t-p2"' in html
    assert "John Smith" in seen  # the model's memory, folded under the evidence


def test_the_two_banner_kinds_look_different_in_both_themes():
    memory = re.search(r"\.ar-conflict-memory\{[^}]*\}", render.STYLE).group(0)
    between = re.search(r"\.ar-conflict-between\{[^}]*\}", render.STYLE).group(0)
    colour = re.compile(r"#[0-9a-f]{6}")
    assert set(colour.findall(memory)).isdisjoint(colour.findall(between))
    assert "currentColor" in memory and "currentColor" in between  # mixed with the theme's text colour


def test_banner_uses_the_names_users_know_and_falls_back_without_detail():
    a = between_conflict_answer()
    names = {"/corpus/halworth-profile.md": "Profile.md", "/corpus/halworth-handbook.md": "手册.md"}
    seen = text(render.conflict_html(a, "t", names=lambda s: names.get(s, "")))
    assert "(Profile.md[1]) vs Pavel Galthorne (手册.md[2])" in seen
    legacy = replace(a, conflict=replace(a.conflict, detail="", document_answer="Cora Grisby"))  # stored before
    seen = text(render.conflict_html(legacy, "t"))
    assert "Cora Grisby (halworth-profile.md[1]) vs — (halworth-handbook.md[2])" in seen


def test_conflict_status_lines_never_fake():
    assert "conflict check not available" in render.conflict_html(memory_answer(), "t")
    assert "no conflict found" in render.conflict_html(retrieved_answer(), "t")


def test_no_conflict_shows_memory_value_only_when_it_agrees():
    unsure = Conflict(available=True, score=0.9, parametric_answer="$10", parametric_confidence=0.31,
                      document_answer="£19.99", memory_status="unsure", detail="memory not confident enough to compare")
    seen = text(render.conflict_html(retrieved_answer(unsure), "t"))
    assert "no conflict found between your documents" in seen and "$10" not in seen
    assert "or with the model's memory" not in seen  # it was not compared: the line below says so
    assert "the model's memory was not sure enough to compare (31% confident)" in seen
    agrees = replace(unsure, parametric_answer="Paris", parametric_confidence=0.9, memory_status="agrees")
    seen = text(render.conflict_html(retrieved_answer(agrees), "t"))
    assert "no conflict found between your documents, or with the model's memory" in seen
    assert "the model's memory agrees (90% confident): Paris" in seen
    stored = replace(unsure, memory_status="")  # saved before the status: its detail still says why
    assert "$10" not in text(render.conflict_html(retrieved_answer(stored), "t"))


def test_sources_are_the_cited_passages_and_the_rest_fold_as_searched():
    cards = render.passages_html(retrieved_answer(), "t", names=lambda s: "")
    shown, folded = cards.split('<details class="ar-searched">', 1)
    assert "france.txt" in shown and "ar-passage-cited" in shown and "lyon.txt" not in shown
    assert folded.startswith('<summary class="ar-status">also searched: 1 passage not cited</summary>')
    assert "lyon.txt" in folded
    flagged = between_conflict_answer()  # both sides of a conflict stay in view, cited or not
    assert "ar-searched" not in render.passages_html(flagged, "t", names=lambda s: "")


def test_conflict_banner_in_the_reserved_slot_for_both_kinds():
    for a in (memory_conflict_answer(), between_conflict_answer()):
        assert render.conflict_html(a, "t").startswith('<div class="ar-slot">')


def test_badges_explain_the_decision_in_words():
    seen = text(render.badge_html(memory_answer(0.12), "adaptive", threshold=0.607))
    assert "answered from memory" in seen
    assert "answered from memory: the model was confident (P(<RET>) 0.12 < threshold 0.61)" in seen
    # the router wanted documents, but the index had none: not "confident"
    seen = text(render.badge_html(memory_answer(0.87), "adaptive", threshold=0.607))
    assert "answered from memory: no passages were found, though the model was unsure (P(<RET>) 0.87 ≥ " \
           "threshold 0.61)" in seen
    seen = text(render.badge_html(retrieved_answer(), "adaptive", threshold=0.607))
    assert "searched documents" in seen
    assert "searched your documents: the model was unsure (P(<RET>) 0.87 ≥ threshold 0.61)" in seen
    assert "searched your documents: the model was unsure (P(<RET>) 0.87)" in text(
        render.badge_html(retrieved_answer(), "adaptive"))  # no threshold known: P(<RET>) alone
    always = replace(retrieved_answer(), mode="always", ret_probability=None)
    assert "searched your documents (mode always)" in text(render.badge_html(always, "always"))
    fell_back = memory_answer(None, mode="always", warnings=("no router adapter: fell back to always",))
    seen = text(render.badge_html(replace(fell_back, retrieved=True), "adaptive"))
    assert "no router for this model: mode always" in seen and "P(<RET>)" not in seen
    assert "answered from memory (mode never)" in text(render.badge_html(memory_answer(None, mode="never"), "never"))
    # adaptive without a router call: nothing to look up ("Hi!"), or documents that name the subject
    assert "answered from memory: the request names nothing to look up" in text(
        render.badge_html(memory_answer(None), "adaptive"))
    peru = replace(memory_answer(None), question="What is the capital of Peru?", memory_confidence=0.72)
    assert "answered from memory: the model's memory was sure (72% confident), and nothing in your documents is " \
           "about it" in text(render.badge_html(peru, "adaptive"))  # a named subject, an index finding nothing
    assert "searched your documents: your documents name what you asked about" in text(
        render.badge_html(replace(retrieved_answer(), ret_probability=None), "adaptive"))
    unfamiliar = replace(retrieved_answer(), ret_probability=None, unfamiliar_name="Selholt", abstained=True)
    # adaptive mode does not ask memory about a name the model never saw (no memory confidence): the badge says so
    assert "searched your documents, none answers; the model's memory was not asked (it cannot know the name " \
           "'Selholt')" in text(render.badge_html(unfamiliar, "adaptive"))
    assert 'searched because the model does not know the name "Selholt"' in text(render.badge_html(unfamiliar,
                                                                                                 "adaptive"))
    searched = replace(memory_answer(None), question="What is the capital of Peru?", searched_passages=3,
                       memory_confidence=0.8)
    assert "none of the 3 passages found in your documents is about this; the model's memory answered (80% " \
           "confident)" in text(render.badge_html(searched, "adaptive"))
    greeting = replace(memory_answer(None), question="hi there", searched_passages=3)
    seen = text(render.badge_html(greeting, "adaptive"))  # a greeting needs no word on the passages searched
    assert "answered from memory: the request names nothing to look up" in seen and "passages" not in seen
    routed = replace(memory_answer(0.36), question="What is the capital of Peru?", searched_passages=3,
                     memory_confidence=0.4)  # unsure: the router asked
    assert "the model's memory answered (40% confident), and the router judged that it knows (P(<RET>) 0.36 < " \
           "threshold 0.61)" in text(render.badge_html(routed, "adaptive", threshold=0.607))
    calculated = replace(memory_answer(None), answered_from="calculation", answer="58 - 11 = 47.")
    seen = text(render.badge_html(calculated, "always"))
    assert "calculated" in seen and "worked out exactly by rule: the request is arithmetic" in seen


def test_memory_fallback_is_labelled_and_lists_what_was_searched():
    a = memory_fallback_answer()
    badge = render.badge_html(a, "adaptive", threshold=0.607)
    assert "ar-badge-memory" in badge
    assert ("searched your documents, none answers: answered from the model's memory (88% confident) · searched "
            "because the model was unsure (P(<RET>) 0.70 ≥ threshold 0.61)") in text(badge)
    cards = render.passages_html(a, "t")
    assert cards.startswith('<details class="ar-searched">') and "searched 1 passage, none answers" in cards
    assert "ar-passage-cited" not in cards and "<mark" not in cards
    assert 'class="ar-memory"' in render.answer_html(a, "t")  # every sentence is marked as from memory
    slot = render.conflict_html(a, "t")
    assert "ar-cite" not in slot  # no [n] links into the folded cards


def test_abstention_is_a_notice_without_citations_that_lists_what_was_searched():
    a = abstained_answer()
    badge = render.badge_html(a, "adaptive", threshold=0.607)
    assert "ar-badge-abstain" in badge and "not found in your documents" in text(badge)
    assert ("searched your documents, none answers; the model's memory is not confident enough (31%)"
            in text(badge))
    notice = render.abstained_html(a)
    assert "ar-notice" in notice and "Not found in your documents." in text(notice)
    assert "searched 2 passages" in text(notice) and "ar-cite" not in notice and "<mark" not in notice
    cards = render.passages_html(a, "t", names=lambda s: "")
    assert cards.startswith('<details class="ar-searched"><summary class="ar-status">searched 2 passages, '
                            "none answers</summary>")
    assert cards.count('<details class="ar-passage"') == 2 and "ar-passage-cited" not in cards
    assert "halworth-profile.md" in cards and "halworth-handbook.md" in cards


def test_latency_footer_says_how_long_the_user_waited_and_folds_the_stages():
    html = render.latency_html({"retrieve": 12.4, "generate": 100.0, "conflict": 5.0, "total": 2100.0}, 55.0, 2180.0)
    summary = re.search(r"<summary>(.*?)</summary>", html).group(1)
    assert summary == "answered in 2.2 s · first words after 55 ms"
    stages = text(html[html.index("</summary>"):])
    assert "searching your documents 12 ms" in stages and "writing the answer 100 ms" in stages
    assert "conflict check 5 ms" in stages and "answer path in all 2.1 s" in stages
    assert 'data-first-token-ms="55"' in html and 'data-wall-ms="2180"' in html
    assert text(render.latency_html({}, None, 900.0)) == "answered in 900 ms"


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


def test_trust_fields_round_trip_through_stored_json():
    from ui.answer_json import answer_from_json, answer_to_json, is_abstained

    for a in (abstained_answer(), memory_fallback_answer(), memory_conflict_answer(), between_conflict_answer()):
        back = answer_from_json(answer_to_json(a))
        assert replace(back, citations=a.citations) == a  # citations' sentence spans are not stored (found again)
        assert (back.abstained, back.answered_from, back.memory_confidence) == (
            a.abstained, a.answered_from, a.memory_confidence)
    assert is_abstained(answer_from_json(answer_to_json(abstained_answer())))
    old = {k: v for k, v in memory_answer().to_json().items() if k not in ("answered_from", "memory_confidence",
                                                                           "abstained")}
    back = answer_from_json(old)  # stored before the trust fields: renders as it did
    assert not back.abstained and back.memory_confidence is None
    assert "answered from memory" in render.badge_html(back, "adaptive")


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


def test_the_status_line_says_what_runs_and_why_a_long_wait_is_long():
    from ui.chat import SLOW_NOTE, SLOW_S, stage_text

    assert stage_text("always", "", 0.0, 3.0) == "searching the documents and reading the passages… 3 s"
    assert stage_text("adaptive", "Paris", 0.2, 4.0) == "writing the answer… 4 s"
    assert stage_text("never", "Paris", 9.0, 12.0).startswith("checking the answer against the model's memory")
    slow = stage_text("adaptive", "", 0.0, SLOW_S + 25)
    assert slow == f"deciding whether to search the documents… {SLOW_S + 25:.0f} s{SLOW_NOTE}"
    assert SLOW_NOTE not in stage_text("adaptive", "", 0.0, SLOW_S - 1)
