"""Turn an `Answer` into safe HTML fragments for the chat view.

Everything a document or the model wrote is untrusted. Answers render as Markdown through
markdown-it with raw HTML off, images off and links limited to http(s)/mailto, so
`<script>`, `<img onerror=...>` and `[x](javascript:...)` stay text; passage text, titles and
sources go through `html.escape`. The app shows the fragments with `st.html` (DOMPurify, no
scripts) as a second layer.

Colours come from the active Streamlit theme: text inherits the theme's text colour, and
accents are mixed with it (`color-mix(..., currentColor)`) over translucent backgrounds, so
the same CSS reads at >= 4.5:1 in light and dark (checked in tests/ui/test_browser.py).

Pure functions, no Streamlit import: tested in tests/ui/test_render.py.

    badge_html(answer, requested_mode="adaptive", threshold=0.61)  # where from and why, in words (rag/explain.py)
    answer_html(answer, anchor="a3")        # Markdown; [n] markers link to the passage cards below
    passages_html(answer, anchor="a3")      # cards: document name, excerpt with the cited span, full chunk
                                            # (folded under "searched N passages, none answers" when none did)
    conflict_html(answer, anchor="a3")      # banner above the answer, or a one-line status, in a fixed slot:
                                            # amber for documents vs memory, purple for documents vs documents
    latency_html(answer, first_token_ms=..., total_ms=...)
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

from rag.explain import Disagreement, Side, decision_words, disagreement, memory_standing, memory_words
from rag.explain import source_name as base_name  # the last part of a path or URL: what a document is called
from rag.types import Answer, Citation, Passage

log = logging.getLogger(__name__)

Names = Callable[[str], str]  # passage source -> the name a user knows the document by

STYLE = """<style>
.ar-badge{display:inline-block;line-height:1.4;padding:1px 10px;border-radius:12px;font-size:0.85em;font-weight:600;color:inherit}
.ar-badge-memory{background:color-mix(in srgb,#4a7fd4 20%,transparent);border:1px solid color-mix(in srgb,#4a7fd4 60%,transparent)}
.ar-badge-search{background:color-mix(in srgb,#2e9d4f 20%,transparent);border:1px solid color-mix(in srgb,#2e9d4f 60%,transparent)}
.ar-badge-abstain{background:color-mix(in srgb,#8a8a8a 20%,transparent);border:1px solid color-mix(in srgb,#8a8a8a 60%,transparent)}
.ar-badge-note,.ar-status,.ar-latency,.ar-passage-meta{color:color-mix(in srgb,currentColor 82%,transparent)}
.ar-badge-note{font-size:0.8em;margin-left:8px;overflow:hidden;text-overflow:ellipsis}
.ar-head{height:2em;display:flex;align-items:center;white-space:nowrap;overflow:hidden}
.ar-slot{min-height:7.4em;margin:2px 0 6px 0;line-height:1.5}
.ar-slot-small{margin:2px 0 6px 0;line-height:1.5}
.ar-answer{font-size:1.02em;line-height:1.6;overflow-wrap:anywhere}
.ar-answer p{margin:0 0 0.6em 0}
.ar-answer pre{white-space:pre-wrap;padding:6px 8px;border-radius:4px;background:color-mix(in srgb,currentColor 8%,transparent)}
.ar-answer code{background:color-mix(in srgb,currentColor 8%,transparent);color:inherit;padding:0 3px;border-radius:3px}
.ar-answer table{border-collapse:collapse}.ar-answer td,.ar-answer th{border:1px solid color-mix(in srgb,currentColor 30%,transparent);padding:2px 6px}
.ar-question{white-space:pre-wrap;overflow-wrap:anywhere}
.ar-memory{background:color-mix(in srgb,#f0a000 18%,transparent);border-bottom:2px dashed color-mix(in srgb,#f0a000 80%,currentColor);font-style:italic}
.ar-memory-label{font-size:0.7em;color:color-mix(in srgb,#c77700 50%,currentColor);font-style:normal;margin-left:4px;vertical-align:super}
a.ar-cite{font-size:0.8em;vertical-align:super;text-decoration:none;font-weight:600;margin-left:1px;color:color-mix(in srgb,#1a73e8 55%,currentColor)}
.ar-passage{border:1px solid color-mix(in srgb,currentColor 25%,transparent);border-radius:6px;padding:6px 10px;margin:6px 0;font-size:0.92em}
.ar-passage-cited{border-left:4px solid color-mix(in srgb,#2e9d4f 70%,currentColor)}
.ar-passage summary{cursor:pointer;list-style-position:inside}
.ar-working::before{content:"";display:inline-block;width:0.7em;height:0.7em;margin-right:6px;border-radius:50%;border:2px solid currentColor;border-right-color:transparent;animation:ar-spin 1s linear infinite;vertical-align:-1px}
@keyframes ar-spin{to{transform:rotate(360deg)}}
.ar-passage-head{font-size:0.9em}
.ar-excerpt{margin-top:3px;line-height:1.5}
.ar-passage-text{white-space:pre-wrap;margin-top:6px;padding-top:6px;border-top:1px dashed color-mix(in srgb,currentColor 25%,transparent)}
.ar-passage-meta{font-size:0.8em;margin-top:4px}
.ar-source{font-weight:600;color:inherit;word-break:break-all}
mark.ar-span{background:color-mix(in srgb,#ffd54f 40%,transparent);color:inherit;padding:0 1px;border-radius:2px}
.ar-conflict{border:2px solid color-mix(in srgb,#e53935 75%,currentColor);background:color-mix(in srgb,#e53935 12%,transparent);border-radius:6px;padding:4px 12px}
.ar-conflict-title{color:color-mix(in srgb,#e53935 45%,currentColor);font-weight:700}
.ar-conflict-memory{border-color:color-mix(in srgb,#f0a000 80%,currentColor);background:color-mix(in srgb,#f0a000 14%,transparent)}
.ar-conflict-memory .ar-conflict-title{color:color-mix(in srgb,#b26a00 55%,currentColor)}
.ar-conflict-between{border-color:color-mix(in srgb,#8e24aa 75%,currentColor);background:color-mix(in srgb,#8e24aa 12%,transparent)}
.ar-conflict-between .ar-conflict-title{color:color-mix(in srgb,#8e24aa 45%,currentColor)}
.ar-conflict-line b{font-weight:700}
.ar-searched>summary{cursor:pointer;font-size:0.85em;margin:6px 0}
.ar-conflict details{font-size:0.9em}
.ar-notice{border:1px solid color-mix(in srgb,currentColor 35%,transparent);background:color-mix(in srgb,currentColor 6%,transparent);border-radius:6px;padding:6px 12px}
.ar-status{font-size:0.85em}
.ar-latency{font-size:0.78em;margin-top:6px}
.ar-stream{font-size:1.02em;line-height:1.6}
[class*="st-key-opendoc-"]{margin-top:-0.9rem}
[class*="st-key-opendoc-"] button{min-height:0;padding:0 2px;font-size:0.85em;color:inherit}
.ar-docview-head{font-size:0.9em;margin-bottom:6px;overflow-wrap:anywhere}
.ar-docview-notice{margin:6px 0;font-size:0.9em}
.ar-docview-window{font-size:0.8em;margin:4px 0}
.ar-docview-text{white-space:pre-wrap;overflow-wrap:anywhere;max-height:60vh;overflow-y:auto;line-height:1.55;padding:8px 12px;border:1px solid color-mix(in srgb,currentColor 20%,transparent);border-radius:6px}
.ar-docview-chunk{background:color-mix(in srgb,#2e9d4f 12%,transparent);border-radius:2px}
[data-testid="stCaptionContainer"]{color:inherit;opacity:0.88}
</style>"""

_MARKER = re.compile(r"\[(\d{1,3})\]")
# Private-use characters mark where our own tags go into the Markdown output; stripped from input first.
_CITE_OPEN, _CITE_CLOSE, _MEM_OPEN, _MEM_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_SENTINELS = re.compile("[\ue000-\ue003]")
_LINE_LEAD = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)]|#{1,6}|>)[ \t]+")


def esc(text: object) -> str:
    """Escape untrusted text for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def md_escape(text: object) -> str:
    """Untrusted text for a Streamlit Markdown string (st.success, st.caption): every Markdown mark escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def anchor_id(anchor: str, n: int) -> str:
    """The element id of passage card n (1-based) of one answer; `anchor` is ours, made of [a-z0-9-]."""
    return f"{re.sub(r'[^a-z0-9-]', '', anchor.lower())}-p{n}"


def document_name(source: str, names: Names | None = None) -> str:
    """What a user calls a document: the name it was uploaded under when `names` knows it, else its base name."""
    return (names(source) if names else "") or base_name(source)


# ---- Markdown ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _markdown():
    """markdown-it (CommonMark + tables + strikethrough), raw HTML and images off, only web/mail links."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"]).disable("image")
    md.validateLink = lambda url: url.strip().lower().startswith(("http://", "https://", "mailto:"))

    def link_open(self, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        tokens[idx].attrSet("target", "_blank")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


def markdown_html(text: str) -> str:
    """Untrusted Markdown -> safe HTML; escaped plain text if markdown-it is missing."""
    try:
        md = _markdown()
    except ModuleNotFoundError:  # markdown-it-py comes with transformers/typer; stay safe without it
        log.warning("markdown-it-py is not installed (pip install markdown-it-py): answers shown as plain text")
        return f'<p style="white-space:pre-wrap">{esc(text)}</p>'
    return md.render(text)


# ---- badge and answer ----------------------------------------------------------------------------

def badge_html(answer: Answer, requested_mode: str | None = None, abstained: bool = False,
               threshold: float | None = None) -> str:
    """The chip (searched documents / answered from memory / not found) and, beside it, why, in words.

    `threshold` is the router's P(<RET>) threshold (`pipeline.decider.threshold`) when the caller knows it.
    """
    if abstained or answer.abstained:
        badge = '<span class="ar-badge ar-badge-abstain">not found in your documents</span>'
    elif answer.retrieved and answer.answered_from != "memory":
        badge = '<span class="ar-badge ar-badge-search">searched documents</span>'
    elif answer.answered_from == "calculation":
        badge = '<span class="ar-badge ar-badge-memory">calculated</span>'
    else:
        badge = '<span class="ar-badge ar-badge-memory">answered from memory</span>'
    words = decision_words(answer, threshold, requested_mode)
    if answer.dyprag and answer.dyprag != "off":
        words += f" · DyPRAG {answer.dyprag}"
    if getattr(answer, "model", ""):
        words += f" · {answer.model}"
    return f'<div class="ar-head">{badge}<span class="ar-badge-note" title="{esc(words)}">{esc(words)}</span></div>'


def status_head_html(text: str) -> str:
    """The badge line while an answer is being computed: what is happening now (same height as the badge)."""
    return f'<div class="ar-head"><span class="ar-status ar-working">{esc(text)}</span></div>'


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


def _mark_memory(piece: str) -> str:
    """Wrap each line of an unsupported sentence in memory sentinels, after any list/heading marker."""
    out = []
    for line in piece.split("\n"):
        lead = _LINE_LEAD.match(line)
        cut = lead.end() if lead else len(line) - len(line.lstrip())
        body = line[cut:].rstrip()
        tail = line[cut + len(body):]
        out.append(line[:cut] + (f"{_MEM_OPEN}{body}{_MEM_CLOSE}" if body else "") + tail)
    return "\n".join(out)


def _cite_sentinels(text: str, n_passages: int) -> str:
    return _MARKER.sub(lambda m: f"{_CITE_OPEN}{m.group(1)}{_CITE_CLOSE}" if 1 <= int(m.group(1)) <= n_passages
                       else m.group(0), text)


def answer_markdown_source(answer: Answer) -> str:
    """The answer text with sentinels where [n] links and memory-only marks go (before Markdown)."""
    text = _SENTINELS.sub("", answer.answer)
    n_passages = len(answer.passages)
    out: list[str] = []
    pos = 0
    spans = _sentence_spans(answer) if text == answer.answer else []
    for start, end, cits in spans:
        out.append(_cite_sentinels(text[pos:start], n_passages))
        sentence = _cite_sentinels(text[start:end], n_passages)
        if all(c.from_memory for c in cits):
            out.append(_mark_memory(sentence))
        else:
            written = {int(m) for m in _MARKER.findall(text[start:end])}
            extra = sorted({n for c in cits if not c.from_memory
                            and (n := passage_number(answer, c.passage_id)) is not None and n not in written})
            out.append(sentence.rstrip() + "".join(f"{_CITE_OPEN}{n}{_CITE_CLOSE}" for n in extra)
                       + sentence[len(sentence.rstrip()):])
        pos = end
    out.append(_cite_sentinels(text[pos:], n_passages))
    return "".join(out)


def _replace_sentinels(rendered: str, anchor: str, n_passages: int) -> str:
    rendered = re.sub(f"{_CITE_OPEN}(\\d{{1,3}}){_CITE_CLOSE}",
                      lambda m: _link(anchor, int(m.group(1)), n_passages), rendered)
    rendered = rendered.replace(_MEM_OPEN, '<span class="ar-memory" title="no passage supports this sentence">')
    rendered = rendered.replace(_MEM_CLOSE, '<span class="ar-memory-label">from model memory</span></span>')
    return _SENTINELS.sub("", rendered)


def answer_html(answer: Answer, anchor: str) -> str:
    """The answer as safe Markdown, with [n] links and memory-only sentences visibly marked."""
    if not answer.answer.strip():
        return '<div class="ar-answer"><span class="ar-status">(the model returned an empty answer)</span></div>'
    body = markdown_html(answer_markdown_source(answer))
    return f'<div class="ar-answer">{_replace_sentinels(body, anchor, len(answer.passages))}</div>'


def abstained_html(answer: Answer) -> str:
    """An answer that says the information is not available: a notice without citations, not a sourced answer."""
    text = markdown_html(_SENTINELS.sub("", answer.answer)) if answer.answer.strip() else ""
    return f'<div class="ar-notice ar-answer" role="note"><b>Not found in your documents.</b>{text}</div>'


def none_answers(answer: Answer) -> bool:
    """Passages were searched but none answers: the answer is an abstention or came from memory."""
    return bool(answer.passages) and (answer.abstained or answer.answered_from != "documents")


# ---- passage cards -------------------------------------------------------------------------------

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


def highlighted_text_html(text: str, spans: Sequence[tuple[int, int]],
                          clean: Callable[[str], str] | None = None) -> str:
    """Escape `text` piecewise and wrap each span in <mark>; spans are offsets into the raw text."""
    clean = clean or (lambda s: s)
    out, pos = [], 0
    for s, e in spans:
        out.append(esc(clean(text[pos:s])))
        out.append(f'<mark class="ar-span">{esc(clean(text[s:e]))}</mark>')
        pos = e
    out.append(esc(clean(text[pos:])))
    return "".join(out)


_MD_NOISE = [
    (re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+"), ""),  # heading markers
    (re.compile(r"(?m)^[ \t]*[-*+][ \t]+"), "• "),  # bullets
    (re.compile(r"\*\*|`+"), ""),  # bold, code ticks
    (re.compile(r"\s+"), " "),  # one line
]


def readable(text: str) -> str:
    """Chunk text as a reader wants it in an excerpt: no Markdown heading/bold/code marks, one line."""
    for pattern, repl in _MD_NOISE:
        text = pattern.sub(repl, text)
    return text


def excerpt_window(text: str, spans: Sequence[tuple[int, int]], before: int = 120,
                   after: int = 240) -> tuple[int, int]:
    """[start, end) of a short excerpt: around the first cited span, else the beginning; word-aligned."""
    if spans:
        start, end = max(0, spans[0][0] - before), min(len(text), spans[0][1] + after)
    else:
        start, end = 0, min(len(text), before + after)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (spans[0][1] if spans else start) else end
    return start, end


def passage_html(answer: Answer, n: int, anchor: str, names: Names | None = None) -> str:
    """Card for passage n (1-based): document name, readable excerpt with the cited span; expands to the chunk."""
    p = answer.passages[n - 1]
    spans = highlight_spans(p, answer.citations)
    cited = bool(spans) or any(c.passage_id == p.id for c in answer.citations)
    klass = "ar-passage ar-passage-cited" if cited else "ar-passage"
    name = document_name(p.source, names)
    stems = {n.rsplit(".", 1)[0] for n in (name, base_name(p.source))}  # a file-name title says nothing new
    title = f" · {esc(p.title)}" if p.title and p.title != name and p.title not in stems else ""
    head = f"<b>[{n}]</b> " + source_html(p.source, name) + title + (" · <b>cited</b>" if cited else "")
    start, end = excerpt_window(p.text, spans)
    inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
    excerpt = ("… " if start > 0 else "") + highlighted_text_html(p.text[start:end], inside, readable) \
        + (" …" if end < len(p.text) else "")
    scores = " ".join(f"{esc(k)} {v:.3f}" for k, v in p.scores.items())
    meta = (f"characters {p.start}–{p.end} of the document · score {p.score:.3f}" + (f" ({scores})" if scores else ""))
    return (
        f'<details class="{klass}" id="{anchor_id(anchor, n)}"><summary>'
        f'<span class="ar-passage-head">{head}</span><div class="ar-excerpt">{excerpt}</div></summary>'
        f'<div class="ar-passage-text">{highlighted_text_html(p.text, spans)}</div>'
        f'<div class="ar-passage-meta">{meta}</div></details>'
    )


def card_order(answer: Answer) -> list[int]:
    """The passage numbers (1-based) in the order their cards are drawn: cited ones first, else the prompt's order."""
    cited_ids = {c.passage_id for c in answer.citations if c.passage_id}
    return sorted(range(1, len(answer.passages) + 1), key=lambda n: answer.passages[n - 1].id not in cited_ids)


def passages_html(answer: Answer, anchor: str, names: Names | None = None) -> str:
    """All passage cards of an answer, cited ones first (numbers keep the prompt's order).

    When none of them answers (an abstention, or an answer from memory after searching), the cards are
    still listed, folded under "searched N passages, none answers": what was searched, never a source.
    """
    if not answer.passages:
        return ""
    if none_answers(answer):
        cards = "".join(passage_html(answer, n, anchor, names) for n in card_order(answer))
        n = len(answer.passages)
        return (f'<details class="ar-searched"><summary class="ar-status">searched {n} passage{"s" if n != 1 else ""}'
                f", none answers</summary>{cards}</details>")
    shown, rest = card_groups(answer)
    cards = "".join(passage_html(answer, n, anchor, names) for n in shown)
    if rest:
        folded = "".join(passage_html(answer, n, anchor, names) for n in rest)
        cards += (f'<details class="ar-searched"><summary class="ar-status">{also_searched(rest)}</summary>'
                  f"{folded}</details>")
    return cards


def card_groups(answer: Answer) -> tuple[list[int], list[int]]:
    """The passage numbers shown as sources (cited by the answer, or named by a conflict banner) and the others,
    only searched, each in `card_order`. With nothing cited, every passage is shown."""
    order = card_order(answer)
    named = {c.passage_id for c in answer.citations if c.passage_id}
    if answer.conflict.flagged:
        named |= set(answer.conflict.passage_ids) | set(answer.conflict.other_passage_ids)
    shown = [n for n in order if answer.passages[n - 1].id in named] or order
    return shown, [n for n in order if n not in shown]


def also_searched(rest: Sequence[int]) -> str:
    return f"also searched: {len(rest)} passage{'s' if len(rest) != 1 else ''} not cited"


_WEB = re.compile(r"https?://[^\s\"'<>]+\Z", re.IGNORECASE)


def source_html(source: str, name: str | None = None) -> str:
    """The document's name; a link when its source is an http(s) URL (never javascript: or data:)."""
    label = esc(name or source)
    if _WEB.match(source):
        return (f'<a class="ar-source" href="{esc(source)}" target="_blank" rel="noopener noreferrer nofollow">'
                f"{label}</a>")
    return f'<span class="ar-source">{label}</span>'


# ---- conflict banner -----------------------------------------------------------------------------

def _excerpt(answer: Answer, p: Passage, limit: int = 140) -> str:
    """What a passage says, for the banner: its cited span if any, else its beginning (escaped)."""
    spans = highlight_spans(p, answer.citations)
    text = readable(p.text[spans[0][0]:spans[0][1]] if spans else p.text).strip()
    return esc(text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …")


def _passage_refs(answer: Answer, ids: Sequence[str], anchor: str, names: Names | None,
                  quote: bool = True) -> str:
    refs = []
    for pid in ids:
        n = passage_number(answer, pid)
        if n is None:
            refs.append(esc(pid))
        else:
            p = answer.passages[n - 1]
            ref = f'{_link(anchor, n, len(answer.passages))} <span class="ar-source">{esc(document_name(p.source, names))}</span>'
            refs.append(ref + (f" “{_excerpt(answer, p)}”" if quote else ""))
    return "<br>".join(refs) or "—"


def conflict_html(answer: Answer, anchor: str, names: Names | None = None) -> str:
    """The conflict banner when flagged, else the check's status and the sources; always in the same slot.

    The slot's height is reserved while the answer streams (`pending_slot_html`), and the banner is
    compact enough (title, one line per side, the passages folded away) to fit it: nothing below moves
    when the banner arrives.
    """
    klass = "ar-slot" if answer.conflict.available else "ar-slot-small"  # no check ran: nothing to reserve
    return f'<div class="{klass}">{_conflict_inner(answer, anchor, names)}</div>'


def _sources_line(answer: Answer, anchor: str, names: Names | None) -> str:
    if not answer.passages:
        return ""
    refs = [f'{_link(anchor, n, len(answer.passages))} <span class="ar-source">{esc(document_name(p.source, names))}</span>'
            for n, p in enumerate(answer.passages, start=1)]
    return f'<div class="ar-status">sources: {" · ".join(refs)}</div>'


def _side_sources(answer: Answer, side: Side, anchor: str, names: Names | None) -> str:
    """Where one side of a disagreement comes from: "asia_atlas.md[1]", or the model's memory."""
    refs = []
    for pid in side.passage_ids:
        n = passage_number(answer, pid)
        if n is None:
            refs.append(esc(pid))
        else:
            name = document_name(answer.passages[n - 1].source, names)
            refs.append(f'<span class="ar-source">{esc(name)}</span>{_link(anchor, n, len(answer.passages))}')
    return ", ".join(refs) or "your documents"


def _disagreement_line(answer: Answer, d: Disagreement, anchor: str, names: Names | None) -> str:
    """One line naming the values and their sources."""
    first = f"<b>{esc(d.first.value or '—')}</b> ({_side_sources(answer, d.first, anchor, names)})"
    if d.kind == "between_documents":
        return f"{first} vs <b>{esc(d.second.value or '—')}</b> ({_side_sources(answer, d.second, anchor, names)})"
    conf = f" ({d.second.confidence:.0%} confident)" if d.second.confidence is not None else ""
    return f"Your documents say {first}; the model's memory says <b>{esc(d.second.value or '—')}</b>{conf}"


def _conflict_inner(answer: Answer, anchor: str, names: Names | None) -> str:
    c = answer.conflict
    if not c.available:
        detail = f" ({esc(c.detail)})" if c.detail else ""
        sources = "" if none_answers(answer) else _sources_line(answer, anchor, names)  # listed as "searched"
        return f'<div class="ar-status">conflict check not available{detail}</div>' + sources
    d = disagreement(answer)
    if d is None:
        words = memory_words(answer)
        memory = f'<div class="ar-status">{esc(words)}</div>' if words else ""
        # memory is cleared only when it was compared and agrees; otherwise the line below says where it stood
        with_memory = ", or with the model's memory" if memory_standing(answer) == "agrees" else ""
        return (f'<div class="ar-status" title="conflict check score {c.score:.2f}">no conflict found between your '
                f"documents{with_memory}</div>" + memory
                + _sources_line(answer, anchor, names))
    quotes = [_passage_refs(answer, d.first.passage_ids, anchor, names)]
    if d.kind == "between_documents":
        klass = "ar-conflict-between"
        quotes.append(_passage_refs(answer, d.second.passage_ids, anchor, names))
        if c.parametric_answer and c.memory_status in ("", "agrees", "disagrees"):  # "": stored before the status
            conf = f" ({c.parametric_confidence:.0%} confident)" if c.parametric_confidence is not None else ""
            quotes.append(f"the model's memory says{conf}: <b>{esc(c.parametric_answer)}</b>")
        elif c.memory_status == "unsure":
            quotes.append(esc(memory_words(answer)))
    else:
        klass = "ar-conflict-memory"
    # c.detail says what the line above says (values and sources); the fold holds the passages' own words
    evidence = (f"<details><summary title=\"conflict check score {c.score:.2f}\">what the passages say</summary>"
                f"{'<br>'.join(quotes)}</details>")
    return (
        f'<div class="ar-conflict {klass}" role="alert"><div class="ar-conflict-title">⚠ {esc(d.title)}</div>'
        f'<div class="ar-conflict-line">{_disagreement_line(answer, d, anchor, names)}</div>{evidence}</div>'
    )


def pending_slot_html(text: str = "", reserve: bool = True) -> str:
    """The conflict slot while the answer is still coming: the banner's height is reserved when a check may run."""
    return f'<div class="{"ar-slot" if reserve else "ar-slot-small"}"><div class="ar-status">{esc(text)}</div></div>'


# ---- footer and plain text -----------------------------------------------------------------------

TIMING_LABELS = {  # in a user's words: what the answer path was doing
    "decide": "deciding whether to search", "retrieve": "searching your documents",
    "retrieval": "searching your documents", "inject": "DyPRAG", "evidence": "reading passages",
    "topic": "checking what passages are about", "locate": "finding the answering line",
    "generate": "writing the answer", "generation": "writing the answer", "conflict": "conflict check",
    "attribute": "matching sentences to sources", "total": "answer path in all",
}


def latency_html(timings_ms: Mapping[str, float], first_token_ms: float | None = None,
                 total_ms: float | None = None) -> str:
    """Footer: how long the answer took, as the user waited for it (the first words, the whole answer), with the
    answer path's stages from Answer.timings_ms folded beneath. The milliseconds the app measured are kept in
    data attributes for tests and tools."""
    stages = " · ".join(f"{esc(TIMING_LABELS.get(key, key))} {_duration(value)}" for key, value in timings_ms.items()
                        if not key.startswith("generate_"))  # the generator's sub-timings: first words shown above
    waited = []
    total = total_ms if total_ms is not None else timings_ms.get("total")
    if total is not None:
        waited.append(f"answered in {_duration(total)}")
    if first_token_ms is not None:
        waited.append(f"first words after {_duration(first_token_ms)}")
    summary = " · ".join(waited) or "answer timings"
    data = "".join(f' data-{name}-ms="{value:.0f}"' for name, value in (("first-token", first_token_ms),
                                                                        ("wall", total_ms)) if value is not None)
    if not stages:
        return f'<div class="ar-latency"{data}>{summary}</div>'
    return (f'<div class="ar-latency"{data}><details><summary>{summary}</summary>'
            f'<span class="ar-stages">{stages}</span></details></div>')


def _duration(ms: float) -> str:
    """"640 ms" under a second, "4.2 s" above."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def streaming_html(text: str) -> str:
    """The partial answer while tokens arrive, rendered like the final answer (no jump when it ends)."""
    return f'<div class="ar-answer ar-stream">{markdown_html(_SENTINELS.sub("", text) + " ▌")}</div>'


def plain_html(text: str, klass: str = "ar-question") -> str:
    """Any other untrusted text (a user's question) as an escaped block."""
    return f'<div class="{klass}">{esc(text)}</div>'
