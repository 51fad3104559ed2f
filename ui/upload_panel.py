"""Sidebar panel: upload documents, index them in the background, show progress and per-file results.

Uploaded files are saved under sanitised names in the upload folder (see `ui.uploads`), then
an `IndexJob` adds them to the index in a thread. A fragment polls the job once a second, so
the progress bar moves while the chat keeps answering.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from rag.config import Config
from ui import resources
from ui.indexing_job import IndexJob, JobState
from ui.uploads import ACCEPTED_TYPES, UploadError, save_upload

log = logging.getLogger(__name__)


def max_upload_bytes(cfg: Config) -> int:
    """The smaller of Streamlit's server.maxUploadSize and the indexer's per-file limit."""
    server_mb = float(st.get_option("server.maxUploadSize") or 200)
    return int(min(server_mb, cfg.index.max_file_mb) * 2**20)


def make_job(cfg: Config, paths: list[Path]) -> IndexJob:
    """A job that opens the index for writing in its own thread; retrievers see each commit on their next search."""
    holder: dict[str, object] = {}

    def add_one(path: Path):
        if "index" not in holder:
            holder["index"] = resources.open_index(cfg)
        return holder["index"].add([path], progress=False)

    def done() -> None:
        resources.close_quietly(holder.pop("index", None))

    return IndexJob(paths, add_one, on_done=done)


def render_upload_panel(cfg: Config) -> None:
    st.subheader("Add documents")
    limit_mb = max_upload_bytes(cfg) / 2**20
    files = st.file_uploader(
        f"Files ({', '.join(ACCEPTED_TYPES)}; up to {limit_mb:.0f} MB each)", accept_multiple_files=True,
        key="uploads", help="Files are indexed in the background; you can keep asking questions meanwhile.",
    )
    seen: set[str] = st.session_state.setdefault("uploaded_ids", set())
    jobs: list[IndexJob] = st.session_state.setdefault("jobs", [])
    problems: list[str] = st.session_state.setdefault("upload_problems", [])
    new = [f for f in files or [] if f.file_id not in seen]
    if new:
        saved: list[Path] = []
        problems.clear()
        folder = resources.upload_folder(cfg)
        for f in new:
            seen.add(f.file_id)
            try:
                saved.append(save_upload(folder, f.name, f.getvalue(), max_upload_bytes(cfg)))
            except (UploadError, OSError) as e:
                problems.append(str(e))
        if saved:
            jobs.append(make_job(cfg, saved).start())
    for p in problems:
        st.error(p)
    if jobs:
        _job_progress(cfg, jobs, active=any(not j.snapshot().finished for j in jobs))


def _job_progress(cfg: Config, jobs: list[IndexJob], active: bool) -> None:
    @st.fragment(run_every=1.0 if active else None)
    def progress() -> None:
        states = [job.snapshot() for job in jobs[-3:]]
        for state in states:
            _draw_state(state)
        if states and states[-1].finished:  # the numbers above the uploader refresh on the next full run
            try:
                stats = resources.index_stats(cfg)
                st.caption(f"index now: {stats.get('documents', 0)} documents, {stats.get('chunks', 0)} chunks")
            except Exception:  # the sidebar shows index errors already
                log.debug("index stats after upload failed", exc_info=True)

    progress()


def _draw_state(state: JobState) -> None:
    if state.waiting:
        st.progress(0.0, text="waiting for another indexing job to finish…")
        return
    if not state.finished:
        st.progress(state.fraction, text=f"indexing {state.done}/{state.total}: {state.current}")
        return
    ok = [r for r in state.results if r.ok]
    st.progress(1.0, text=f"indexed {len(ok)}/{state.total} file(s)")
    for r in state.results:
        if r.ok:
            st.caption(f"✓ {r.path}: {r.message}")
        else:
            st.error(f"{r.path}: {r.message}")
    if state.error:
        st.error(state.error)
