"""A cited document's text as safe HTML: the passage shaded, its cited spans marked, a window of a large document.

The text comes from `indexing.document_text` (the file re-read by the loader that indexed it, else what
the index stored, else the passage alone) and is untrusted: every piece goes through `html.escape`, and
the app shows it with `st.html` (DOMPurify, no scripts). A document longer than `MAX_SHOWN_CHARS` is shown
as a window around the passage, with a note saying which characters.

Pure functions, no Streamlit import: tested in tests/ui/test_document_view.py; the dialog that shows
this is ui/document_dialog.py.

    html = document_html(doc, passage, spans=cited_spans(passage, answer.citations), name="atlas.md")
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from indexing.document_text import DocumentText
from rag.types import Citation, Passage
from ui.render import base_name, esc, highlight_spans

# A large dialog shows ~2,500 characters at once: this is about three screens, and st.html of it draws at once.
MAX_SHOWN_CHARS = 8_000
CONTEXT_BEFORE = 1_500  # characters kept before the passage: it starts near the top even where no script scrolls
ALIGN_CHARS = 200  # a window edge moves this far at most to fall on a line break (else a space)
TARGET_ID = "ar-docview-target"  # the element the dialog scrolls into view: the first cited span, else the passage


def cited_spans(passage: Passage, citations: Sequence[Citation]) -> list[tuple[int, int]]:
    """The spans citations point at inside `passage`, as document offsets (merged, clipped to the passage)."""
    return [(s + passage.start, e + passage.start) for s, e in highlight_spans(passage, citations)]


def window(text: str, focus: tuple[int, int], max_chars: int = MAX_SHOWN_CHARS,
           before: int = CONTEXT_BEFORE) -> tuple[int, int]:
    """[start, end) of at most `max_chars` of `text` around `focus` (text offsets), edges on line breaks if near."""
    if len(text) <= max_chars:
        return 0, len(text)
    fs, fe = max(0, min(focus[0], len(text))), max(0, min(focus[1], len(text)))
    start = max(0, fs - before)
    end = min(len(text), start + max_chars)
    start = max(0, min(start, end - max_chars))  # near the end: take more before
    if start > 0:
        cut = _edge(text, start, min(fs, start + ALIGN_CHARS), forward=True)
        start = cut if cut is not None else start
    if end < len(text):
        cut = _edge(text, max(fe, end - ALIGN_CHARS), end, forward=False)
        end = cut if cut is not None else end
    return start, end


def _edge(text: str, lo: int, hi: int, forward: bool) -> int | None:
    """The first (forward) or last line break in text[lo:hi], else space: where a window may start or end."""
    for sep in ("\n", " "):
        i = text.find(sep, lo, hi) if forward else text.rfind(sep, lo, hi)
        if i >= 0:
            return i + 1 if forward else i
    return None


def _pieces(text: str, start: int, end: int, chunk: tuple[int, int], spans: Sequence[tuple[int, int]]) -> str:
    """Escaped text[start:end], the chunk shaded, spans marked, the scroll target before the first highlight."""
    cuts = sorted({start, end, *(x for s, e in (chunk, *spans) for x in (s, e) if start < x < end)})
    target = spans[0][0] if any(e > start and s < end for s, e in spans) else chunk[0]
    target = next((a for a in cuts[:-1] if a >= target), None)  # the first piece at or after it
    out = []
    for a, b in itertools.pairwise(cuts):
        piece = esc(text[a:b])
        if any(s <= a < e for s, e in spans):
            piece = f'<mark class="ar-span">{piece}</mark>'
        if chunk[0] <= a < chunk[1]:
            piece = f'<span class="ar-docview-chunk">{piece}</span>'
        if a == target:
            piece = f'<span id="{TARGET_ID}" class="{TARGET_ID}"></span>{piece}'
        out.append(piece)
    return "".join(out)


def status_note(doc: DocumentText, name: str) -> str:
    """Why what is shown is not the file as it is now, in words (plain text; "" when it is the file)."""
    if doc.origin == "file":
        return ""
    why = {
        "missing": f"{name} is no longer where it was indexed (moved or deleted).",
        "changed": f"{name} has changed since it was indexed.",
        "unreadable": f"{name} cannot be read now" + (f" ({doc.detail})." if doc.detail else "."),
        "not_indexed": "This passage's document is no longer in the index (removed or re-indexed after this answer).",
    }.get(doc.status, "")
    if doc.origin == "index":
        return f"{why} Showing the text as it was indexed (line breaks between sentences may differ).".strip()
    return f"{why} Showing the cited passage only.".strip()


def document_html(doc: DocumentText, passage: Passage, spans: Sequence[tuple[int, int]], name: str,
                  max_chars: int = MAX_SHOWN_CHARS) -> str:
    """The document's text (or a window of it) with `passage` shaded and `spans` (document offsets) marked."""
    chunk = (passage.start - doc.offset, passage.end - doc.offset)
    marks = [(s - doc.offset, e - doc.offset) for s, e in spans]
    start, end = window(doc.text, chunk, max_chars)
    known = {n.rsplit(".", 1)[0] for n in (name, base_name(passage.source))} | {name}  # a file-name title adds nothing
    title = f" · {esc(doc.title)}" if doc.title and doc.title not in known else ""
    where = f"characters {passage.start:,}–{passage.end:,}" + (f" of {doc.length:,}" if doc.length else "")
    parts = [(f'<div class="ar-docview"><div class="ar-docview-head"><span class="ar-source">{esc(name)}</span>{title}'
              f' · <span class="ar-status">passage at {where}</span></div>')]
    note = status_note(doc, name)
    if note:
        parts.append(f'<div class="ar-notice ar-docview-notice" role="note">{esc(note)}</div>')
    if (start, end) != (0, len(doc.text)):
        total = f" of {doc.length:,}" if doc.length else ""
        parts.append(f'<div class="ar-status ar-docview-window">Showing characters {start + doc.offset:,}–'
                     f"{end + doc.offset:,}{total}: the document is longer than {max_chars:,} characters, so only "
                     "the part around the passage is shown.</div>")
    body = ("… " if start > 0 else "") + _pieces(doc.text, start, end, chunk, marks) + (" …" if end < len(doc.text)
                                                                                      else "")
    parts.append(f'<div class="ar-docview-text">{body}</div></div>')
    return "".join(parts)
