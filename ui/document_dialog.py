"""'Open document' under a passage card: a dialog with the document's whole text at the cited span.

Like the citation previews of RAGFlow and kotaemon: the document opens where the passage is, the passage
shaded and the sentence the answer cites marked, scrolled into view. The text is re-read through the
loader that indexed it and checked against the index (indexing/document_text.py); when the file is gone or
changed the dialog says so and shows what the index stored instead. ui/document_view.py draws it.

The open document is kept in `st.session_state` until the dialog is dismissed, so a rerun of the page
(an upload finishing, say) redraws it instead of closing it.

    open_button(answer, n, anchor, names)   # under card n of an answer
    show_open_document(cfg)                 # once per run, after the conversation is drawn
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from indexing.document_text import DocumentText, document_text
from rag.config import Config
from rag.types import Answer, Passage
from ui import document_view, render, resources

log = logging.getLogger(__name__)
STATE_KEY = "ar_open_document"

# Our own constant script, no untrusted text in it (the document is drawn by a separate, sanitised st.html):
# bring the first highlight into view once the dialog has rendered it.
SCROLL_SCRIPT = f"""<script>
(() => {{
  let tries = 0;
  const go = () => {{
    const target = document.getElementById("{document_view.TARGET_ID}");
    if (target) target.scrollIntoView({{block: "center"}});
    else if (tries++ < 50) setTimeout(go, 100);
  }};
  go();
}})();
</script>"""


@dataclass(frozen=True)
class OpenDocument:
    """What the dialog shows: a passage of an answer, the spans cited in it (document offsets), the document's name."""

    passage: Passage
    spans: tuple[tuple[int, int], ...]
    name: str


def open_button(answer: Answer, n: int, anchor: str, names: render.Names | None = None) -> None:
    """The button under passage card n (1-based) of an answer."""
    p = answer.passages[n - 1]
    name = render.document_name(p.source, names)
    request = OpenDocument(p, tuple(document_view.cited_spans(p, answer.citations)), name)
    st.button("Open document", key=f"opendoc-{anchor}-{n}", icon=":material/article:", type="tertiary",
              on_click=_open, args=(request,))  # no help tooltip: with one, Streamlit draws the button twice


def _open(request: OpenDocument) -> None:
    st.session_state[STATE_KEY] = request


def _close() -> None:
    st.session_state.pop(STATE_KEY, None)


def read_document(cfg: Config, passage: Passage) -> DocumentText:
    """The passage's document from the index of `cfg`; the passage alone (and why) if the index cannot be read."""
    index = None
    try:
        index = resources.open_index(cfg, readonly=True)
        return document_text(index, passage, max_file_mb=cfg.index.max_file_mb)
    except Exception as e:  # an index being rebuilt or gone: say so and show what we have
        log.warning("cannot read the index to show a document", exc_info=True)
        return DocumentText(passage.text, passage.start, None, "passage", "unreadable",
                            f"the index cannot be read: {e}", passage.title)
    finally:
        if index is not None:
            resources.close_quietly(index)


@st.dialog("Document", width="large", on_dismiss=_close)
def _dialog(cfg: Config, request: OpenDocument) -> None:
    doc = read_document(cfg, request.passage)
    st.html(document_view.document_html(doc, request.passage, request.spans, request.name))
    st.html(SCROLL_SCRIPT, unsafe_allow_javascript=True)


def show_open_document(cfg: Config) -> None:
    """Draw the dialog while a document is open (call once per run)."""
    request = st.session_state.get(STATE_KEY)
    if isinstance(request, OpenDocument):
        _dialog(cfg, request)
