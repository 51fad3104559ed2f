"""Sidebar panel: the indexed documents, searchable, each deletable (after a confirmation) or re-indexable.

One row per file (a JSONL file's many documents are one row): the name the user knows it by
(the uploaded name, else the file's base name; never a server path), its type, chunks and
when it was added. Deleting removes it from the index (and an uploaded copy from the uploads
folder); retrievers see the change on their next search. Re-indexing runs as a background
`IndexJob`, like uploads, so the chat keeps working.

    rows = group_documents(index.documents(), upload_names.all())
    render_documents_panel(cfg, rows, names)
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from rag.config import Config
from ui import resources
from ui.indexing_job import WRITE_LOCK, IndexJob
from ui.render import base_name, esc, md_escape
from ui.uploads import file_type

LIMIT = 40  # rows drawn at once; the search narrows the rest


@dataclass(frozen=True)
class DocRow:
    key: str  # the file path, or the document id when there is no file
    name: str  # what the user calls it
    kind: str  # file type ("txt", "md", ...)
    chunks: int
    added_at: float  # unix time of the first add
    doc_ids: tuple[str, ...]
    file: str = ""

    @property
    def widget_key(self) -> str:
        return hashlib.sha1(self.key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def group_documents(documents: Sequence[Any], uploaded: Mapping[str, str] | None = None) -> list[DocRow]:
    """`Index.documents()` grouped by file, newest first; names from `uploaded` (stored path -> original)."""
    uploaded = uploaded or {}
    groups: dict[str, list[Any]] = {}
    for d in documents:
        groups.setdefault(d.file or d.doc_id, []).append(d)
    rows = []
    for key, docs in groups.items():
        first = docs[0]
        path = first.file or first.source
        name = uploaded.get(os.path.abspath(path)) if first.file else None
        rows.append(DocRow(key=key, name=name or base_name(path), kind=file_type(base_name(path)) or "?",
                           chunks=sum(d.chunks for d in docs), added_at=min(d.added_at for d in docs),
                           doc_ids=tuple(d.doc_id for d in docs), file=first.file))
    return sorted(rows, key=lambda r: (-r.added_at, r.name.lower()))


def filter_rows(rows: Sequence[DocRow], query: str) -> list[DocRow]:
    """Rows whose name or type contains every word of `query` (case-insensitive)."""
    words = query.lower().split()
    return [r for r in rows if all(w in f"{r.name} {r.kind}".lower() for w in words)]


def delete_document(cfg: Config, row: DocRow, upload_dir: Path, names: Any | None = None) -> str:
    """Remove `row` from the index (and its uploaded copy); returns what happened. Raises RuntimeError if busy."""
    if not WRITE_LOCK.acquire(timeout=5):
        raise RuntimeError("an indexing job is still running; delete again when it has finished")
    try:
        index = resources.open_index(cfg)
        try:
            report = index.remove(list(row.doc_ids))
        finally:
            resources.close_quietly(index)
    finally:
        WRITE_LOCK.release()
    if row.file and Path(row.file).resolve().parent == upload_dir.resolve():
        Path(row.file).unlink(missing_ok=True)  # an upload lives only in the app: its copy goes too
        if names is not None:
            names.forget(row.file)
    return f"Deleted {row.name} ({report.chunks_removed} chunks)."


def reindex_job(cfg: Config, row: DocRow) -> IndexJob:
    """A background job that replaces `row`'s chunks with a fresh read of its file."""
    def add_one(path: Path):
        if not path.is_file():
            raise FileNotFoundError(f"{row.name}: the file is gone ({path}); delete the document instead")
        index = resources.open_index(cfg)
        try:
            index.remove(list(row.doc_ids))
            return index.add([path], progress=False)
        finally:
            resources.close_quietly(index)

    return IndexJob([Path(row.file)], add_one, display={Path(row.file).name: row.name})


def _chunks(n: int) -> str:
    return f"{n} chunk" + ("" if n == 1 else "s")


def _added(ts: float) -> str:
    return time.strftime("%d %b %H:%M", time.localtime(ts)) if ts else "?"


def render_documents_panel(cfg: Config, rows: Sequence[DocRow], names: Any | None = None) -> None:
    total_chunks = sum(r.chunks for r in rows)
    with st.expander(f"Documents ({len(rows)} · {_chunks(total_chunks)})", expanded=bool(rows)):
        notice = st.session_state.pop("doc_notice", None)
        if notice:
            (st.error if notice[0] == "error" else st.success)(md_escape(notice[1]))
        if not rows:
            st.caption("No documents yet: upload some below.")
            return
        query = st.text_input("Search documents", key="doc_search", placeholder="search by name or type")
        shown = filter_rows(rows, query)
        if not shown:
            st.caption("No document matches.")
        pending = st.session_state.get("doc_pending_delete")
        for row in shown[:LIMIT]:
            _row(cfg, row, pending == row.key, names)
        if len(shown) > LIMIT:
            st.caption(f"… and {len(shown) - LIMIT} more: narrow the search.")


def _row(cfg: Config, row: DocRow, confirming: bool, names: Any | None) -> None:
    k = row.widget_key
    with st.container(key=f"doc-{k}"):
        text, reidx, delete = st.columns([7, 1.3, 1.3], vertical_alignment="center")
        text.html(f'<div class="ar-doc"><b class="ar-doc-name">{esc(row.name)}</b><br>'
                  f'<span class="ar-status">{esc(row.kind)} · {_chunks(row.chunks)} · {_added(row.added_at)}'
                  "</span></div>")
        if reidx.button("", icon=":material/refresh:", key=f"reindex-{k}", help=f"Re-index {md_escape(row.name)}",
                        disabled=not row.file, type="tertiary"):
            st.session_state.setdefault("jobs", []).append(reindex_job(cfg, row).start())
            st.session_state["doc_notice"] = ("ok", f"Re-indexing {row.name} in the background.")
            st.rerun()
        if delete.button("", icon=":material/delete:", key=f"delete-{k}",
                         help=f"Delete {md_escape(row.name)} from the index", type="tertiary"):
            st.session_state["doc_pending_delete"] = row.key
            st.rerun()
        if confirming:
            st.html(f'<div class="ar-status">Delete <b>{esc(row.name)}</b> from the index? Answers will no longer '
                    "use it.</div>")
            yes, no = st.columns(2)
            if yes.button("Delete", key=f"confirm-delete-{k}", type="primary"):
                st.session_state.pop("doc_pending_delete", None)
                try:
                    message = delete_document(cfg, row, resources.upload_folder(cfg), names)
                    st.session_state["doc_notice"] = ("ok", message)
                except Exception as e:  # noqa: BLE001 - shown with the fix
                    from ui.errors import explain

                    problem, fix = explain(e)
                    st.session_state["doc_notice"] = ("error", f"{problem} — {fix}")
                st.rerun()
            if no.button("Cancel", key=f"cancel-delete-{k}"):
                st.session_state.pop("doc_pending_delete", None)
                st.rerun()
