"""Turn an `Answer` into escaped HTML fragments for the chat view.

Everything a document or the model wrote is untrusted: every piece of it goes through
`html.escape` before it is placed between our own tags, so `<script>`, `<img onerror=...>`,
raw HTML and `javascript:` links in a document show as text. The app renders these
fragments with `st.html` (DOMPurify-sanitised, scripts ignored) as a second layer; no
fragment relies on markdown, so `[x](javascript:...)` in a document stays literal text too.

Pure functions, no Streamlit import: tested in tests/ui/test_render.py.

    badge_html(answer, requested_mode="adaptive")
    answer_html(answer, anchor="a3")        # [n] markers link to the passage cards below
    passages_html(answer, anchor="a3")      # cited spans highlighted inside their passage
    conflict_html(answer, anchor="a3")      # banner above the answer, or a one-line status
    latency_html(answer, first_token_ms=..., total_ms=...)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

from rag.types import Answer, Citation, Passage

STYLE = """<style>
.ar-badge{display:inline-block;padding:2px 10px;border-radius:12px;font-size:0.85em;font-weight:600;margin-bottom:6px}
.ar-badge-memory{background:#e8f0fe;color:#1a4d8f;border:1px solid #9bb8e8}
.ar-badge-search{background:#e6f4ea;color:#1e6b34;border:1px solid #8fcf9f}
.ar-badge-note{font-size:0.8em;color:#666;margin-left:8px}
.ar-answer{font-size:1.05em;line-height:1.6;white-space:pre-wrap}
.ar-memory{background:#fff4e0;border-bottom:2px dashed #d08a00;font-style:italic}
.ar-memory-label{font-size:0.7em;color:#9a6400;font-style:normal;margin-left:4px;vertical-align:super}
.ar-cite{font-size:0.8em;vertical-align:super;text-decoration:none;font-weight:600;margin-left:1px}
.ar-passage{border:1px solid #ddd;border-radius:6px;padding:6px 10px;margin:6px 0;font-size:0.9em}
.ar-passage-cited{border-left:4px solid #2e7d32}
.ar-passage-head{color:#444;font-size:0.85em;margin-bottom:4px}
.ar-passage-text{white-space:pre-wrap;color:#222}
.ar-source{font-family:monospace;font-size:0.95em;color:#333;word-break:break-all}
mark.ar-span{background:#fff176;padding:0 1px}
.ar-conflict{border:2px solid #c62828;background:#fdecea;border-radius:6px;padding:8px 12px;margin:4px 0 10px 0}
.ar-conflict-title{color:#b71c1c;font-weight:700}
.ar-conflict td{vertical-align:top;padding:2px 8px 2px 0}
.ar-status{font-size:0.8em;color:#777}
.ar-latency{font-size:0.78em;color:#777;margin-top:6px}
.ar-stream{white-space:pre-wrap;font-size:1.05em;line-height:1.6}
</style>"""

_MARKER = re.compile(r"\[(\d{1,3})\]")


def esc(text: object) -> str:
    """Escape untrusted text for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def anchor_id(anchor: str, n: int) -> str:
    """The element id of passage card n (1-based) of one answer; `anchor` is ours, made of [a-z0-9-]."""
    return f"{re.sub(r'[^a-z0-9-]', '', anchor.lower())}-p{n}"


def badge_html(answer: Answer, requested_mode: str | None = None) -> str:
    """'answered from memory' / 'searched documents' with P(<RET>), or why it is not available."""
    if answer.retrieved:
        badge = '<span class="ar-badge ar-badge-search">searched documents</span>'
    else:
        badge = '<span class="ar-badge ar-badge-memory">answered from memory</span>'
    fell_back = requested_mode == "adaptive" and answer.mode != "adaptive"
    if answer.ret_probability is not None and not fell_back:
        note = f"P(&lt;RET&gt;) = {answer.ret_probability:.2f} · mode {esc(answer.mode)}"
    elif answer.mode in ("always", "never") and not fell_back:
        note = f"mode {esc(answer.mode)} · router not used"
    else:
        fallback = answer.warnings[0] if fell_back and answer.warnings else ""
        reason = next((w for w in answer.warnings if "router" in w.lower()), fallback)
        note = "router not available" + (f" ({esc(reason)})" if reason else "") + f" · mode {esc(answer.mode)}"
    if answer.dyprag and answer.dyprag != "off":
        note += f" · DyPRAG {esc(answer.dyprag)}"
    return f'<div>{badge}<span class="ar-badge-note">{note}</span></div>'


def passage_number(answer: Answer, passage_id: str | None) -> int | None:
    """1-based number of a passage in the answer (the [n] the prompt used), or None."""
    for i, p in enumerate(answer.passages, start=1):
        if p.id == passage_id:
            return i
    return None


def _link(anchor: str, n: int, n_passages: int) -> str:
    if 1 <= n <= n_passages:
        return f'<a class="ar-cite" href="#{anchor_id(anchor, n)}">[{n}]</a>'
    return f"[{n}]"  # a marker that names no passage stays plain text


def _linkify(escaped: str, anchor: str, n_passages: int) -> str:
    """Turn [n] markers in already-escaped text into links to passage card n."""
    return _MARKER.sub(lambda m: _link(anchor, int(m.group(1)), n_passages), escaped)


def _sentence_spans(answer: Answer) -> list[tuple[int, int, list[Citation]]]:
    """Group citations by the sentence they label: [(start, end, citations)] sorted, non-overlapping."""
    groups: dict[tuple[int, int], list[Citation]] = {}
    cursor = 0
    for c in answer.citations:
        start, end = c.sentence_start, c.sentence_end
        if not (0 <= start < end <= len(answer.answer)) or answer.answer[start:end].strip() != c.sentence.strip():
            found = answer.answer.find(c.sentence, cursor) if c.sentence else -1
            if found < 0:
                found = answer.answer.find(c.sentence) if c.sentence else -1
            if found < 0:
                continue  # a sentence we cannot place is shown only through its passage card
            start, end = found, found + len(c.sentence)
        cursor = end
        groups.setdefault((start, end), []).append(c)
    spans: list[tuple[int, int, list[Citation]]] = []
    last_end = 0
    for (start, end), cits in sorted(groups.items()):
        if start < last_end:
            continue  # overlapping sentence spans: keep the first
        spans.append((start, end, cits))
        last_end = end
    return spans


def answer_html(answer: Answer, anchor: str) -> str:
    """The answer text, escaped, with [n] links and memory-only sentences visibly marked."""
    text = answer.answer
    n_passages = len(answer.passages)
    out: list[str] = []
    pos = 0
    for start, end, cits in _sentence_spans(answer):
        out.append(_linkify(esc(text[pos:start]), anchor, n_passages))
        sentence = _linkify(esc(text[start:end]), anchor, n_passages)
        if all(c.from_memory for c in cits):
            out.append(
                f'<span class="ar-memory" title="no passage supports this sentence">{sentence}'
                '<span class="ar-memory-label">from model memory</span></span>'
            )
        else:
            written = {int(m) for m in _MARKER.findall(text[start:end])}
            extra = sorted({n for c in cits if not c.from_memory
                            and (n := passage_number(answer, c.passage_id)) is not None and n not in written})
            out.append(sentence + "".join(_link(anchor, n, n_passages) for n in extra))
        pos = end
    out.append(_linkify(esc(text[pos:]), anchor, n_passages))
    if not answer.answer.strip():
        out = ['<span class="ar-status">(the model returned an empty answer)</span>']
    return f'<div class="ar-answer">{"".join(out)}</div>'


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def highlight_spans(passage: Passage, citations: Sequence[Citation]) -> list[tuple[int, int]]:
    """Supporting spans inside `passage.text`: [c.start - p.start, c.end - p.start), clipped and merged."""
    spans = []
    for c in citations:
        if c.passage_id != passage.id or c.start < 0 or c.end <= c.start:
            continue
        s = max(0, c.start - passage.start)
        e = min(len(passage.text), c.end - passage.start)
        if s < e:
            spans.append((s, e))
    return _merge(spans)


def highlighted_text_html(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escape `text` piecewise and wrap each span in <mark>; spans are offsets into the raw text."""
    out, pos = [], 0
    for s, e in spans:
        out.append(esc(text[pos:s]))
        out.append(f'<mark class="ar-span">{esc(text[s:e])}</mark>')
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


_WEB = re.compile(r"https?://[^\s\"'<>]+\Z", re.IGNORECASE)


def source_html(source: str) -> str:
    """The passage's source: a link when it is an http(s) URL (never javascript: or data:), else the path."""
    if _WEB.match(source):
        return (f'<a class="ar-source" href="{esc(source)}" target="_blank" rel="noopener noreferrer nofollow">'
                f"{esc(source)}</a>")
    return f'<span class="ar-source">{esc(source)}</span>'


def passage_html(answer: Answer, n: int, anchor: str) -> str:
    """Card for passage n (1-based): number, title, source file and span, score, highlighted text."""
    p = answer.passages[n - 1]
    spans = highlight_spans(p, answer.citations)
    cited = bool(spans) or any(c.passage_id == p.id for c in answer.citations)
    klass = "ar-passage ar-passage-cited" if cited else "ar-passage"
    scores = " ".join(f"{esc(k)} {v:.3f}" for k, v in p.scores.items())
    title = f"<b>{esc(p.title)}</b> · " if p.title else ""
    head = (
        f"<b>[{n}]</b> {title}{source_html(p.source)} "
        f"· chars {p.start}–{p.end} · score {p.score:.3f}" + (f" ({scores})" if scores else "")
        + (" · <b>cited</b>" if cited else "")
    )
    return (
        f'<div class="{klass}" id="{anchor_id(anchor, n)}"><div class="ar-passage-head">{head}</div>'
        f'<div class="ar-passage-text">{highlighted_text_html(p.text, spans)}</div></div>'
    )


def passages_html(answer: Answer, anchor: str) -> str:
    """All passage cards of an answer, cited ones first (numbers keep the prompt's order)."""
    if not answer.passages:
        return ""
    cited_ids = {c.passage_id for c in answer.citations if c.passage_id}
    order = sorted(range(1, len(answer.passages) + 1), key=lambda n: answer.passages[n - 1].id not in cited_ids)
    return "".join(passage_html(answer, n, anchor) for n in order)


def _excerpt(answer: Answer, p: Passage, limit: int = 140) -> str:
    """What a passage says, for the banner: its cited span if any, else its beginning (escaped)."""
    spans = highlight_spans(p, answer.citations)
    text = p.text[spans[0][0]:spans[0][1]] if spans else p.text
    text = " ".join(text.split())
    return esc(text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …")


def _passage_refs(answer: Answer, ids: Sequence[str], anchor: str) -> str:
    refs = []
    for pid in ids:
        n = passage_number(answer, pid)
        if n is None:
            refs.append(esc(pid))
        else:
            p = answer.passages[n - 1]
            name = p.source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or p.source  # full path: in the card
            refs.append(f'{_link(anchor, n, len(answer.passages))} <span class="ar-source">{esc(name)}</span>'
                        f" “{_excerpt(answer, p)}”")
    return "<br>".join(refs) or "—"


def conflict_html(answer: Answer, anchor: str) -> str:
    """The conflict banner when flagged; otherwise a one-line status (never a fake result)."""
    c = answer.conflict
    if not c.available:
        detail = f" ({esc(c.detail)})" if c.detail else ""
        return f'<div class="ar-status">conflict check not available{detail}</div>'
    if not c.flagged:
        return f'<div class="ar-status">no conflict detected · score {c.score:.2f}</div>'
    conf = f" (confidence {c.parametric_confidence:.2f})" if c.parametric_confidence is not None else ""
    rows: list[tuple[str, str, str]] = []
    if c.kind == "between_documents":
        title = "Documents disagree"
        rows.append(("Documents say", esc(c.document_answer or "—"), _passage_refs(answer, c.passage_ids, anchor)))
        rows.append(("Other documents", "(see the passages)", _passage_refs(answer, c.other_passage_ids, anchor)))
        if c.parametric_answer:
            rows.append((f"Model memory says{conf}", esc(c.parametric_answer), ""))
    else:
        title = "Knowledge conflict: the model's memory disagrees with the documents"
        rows.append((f"Model memory (closed-book) says{conf}", esc(c.parametric_answer or "—"), ""))
        rows.append(("Documents say", esc(c.document_answer or "—"), _passage_refs(answer, c.passage_ids, anchor)))
    table = "".join(f"<tr><td><b>{who}</b></td><td>{what}</td><td>{refs}</td></tr>" for who, what, refs in rows)
    detail = f'<div class="ar-status">{esc(c.detail)}</div>' if c.detail else ""
    return (
        f'<div class="ar-conflict" role="alert"><div class="ar-conflict-title">⚠ {title} · score {c.score:.2f}</div>'
        f"<table>{table}</table>{detail}</div>"
    )


TIMING_LABELS = {
    "decide": "decide", "retrieve": "retrieval", "retrieval": "retrieval", "inject": "DyPRAG", "generate": "generation",
    "generation": "generation", "conflict": "conflict check", "attribute": "attribution", "total": "pipeline total",
}


def latency_html(timings_ms: Mapping[str, float], first_token_ms: float | None = None,
                 total_ms: float | None = None) -> str:
    """Footer: per-stage times from Answer.timings_ms plus what the app measured around the call."""
    parts = []
    for key, value in timings_ms.items():
        if key.startswith("generate_"):  # the generator's own sub-timings: first token is shown below
            continue
        parts.append(f"{esc(TIMING_LABELS.get(key, key))} {value:.0f} ms")
    if first_token_ms is not None:
        parts.append(f"first token {first_token_ms:.0f} ms")
    if total_ms is not None:
        parts.append(f"wall {total_ms:.0f} ms")
    return f'<div class="ar-latency">latency: {" · ".join(parts) or "no timings"}</div>'


def streaming_html(text: str) -> str:
    """The partial answer while tokens arrive."""
    return f'<div class="ar-stream">{esc(text)}▌</div>'


def plain_html(text: str, klass: str = "ar-answer") -> str:
    """Any other untrusted text (a user's question) as an escaped block."""
    return f'<div class="{klass}">{esc(text)}</div>'
