"""Sidebar panel: upload documents, index them in the background, show progress and per-file results.

Uploaded files are saved under unique sanitised names in the data folder's uploads/ (see
`ui.uploads`; the original name is kept for display), then an `IndexJob` adds them to the
index in a thread. A fragment polls the jobs once a second, so the progress bar moves while
the chat keeps answering; when a job finishes the whole page reruns once, so the document
list and counts are fresh at once, and the uploader is emptied (the files are managed in the
documents panel from then on).
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from rag.config import Config
from ui import resources
from ui.indexing_job import IndexJob, JobState
from ui.render import md_escape
from ui.uploads import ACCEPTED_TYPES, UploadError, save_upload

log = logging.getLogger(__name__)


def max_upload_bytes(cfg: Config) -> int:
    """The smaller of Streamlit's server.maxUploadSize and the indexer's per-file limit."""
    server_mb = float(st.get_option("server.maxUploadSize") or 200)
    return int(min(server_mb, cfg.index.max_file_mb) * 2**20)


def make_job(cfg: Config, paths: list[Path], display: dict[str, str] | None = None) -> IndexJob:
    """A job that opens the index for writing in its own thread; retrievers see each commit on their next search."""
    holder: dict[str, object] = {}

    def add_one(path: Path):
        if "index" not in holder:
            holder["index"] = resources.open_index(cfg)
        return holder["index"].add([path], progress=False)

    def done() -> None:
        resources.close_quietly(holder.pop("index", None))

    return IndexJob(paths, add_one, on_done=done, display=display)


def render_upload_panel(cfg: Config, names=None) -> None:
    st.subheader("Add documents")
    limit_mb = max_upload_bytes(cfg) / 2**20
    files = st.file_uploader(
        f"Files ({', '.join(ACCEPTED_TYPES)}; up to {limit_mb:.0f} MB each)", accept_multiple_files=True,
        key=f"uploads-{st.session_state.get('uploader_generation', 0)}",
        help="Files are indexed in the background; you can keep asking questions meanwhile. They then appear "
             "under Documents, where they can be deleted.",
    )
    seen: set[str] = st.session_state.setdefault("uploaded_ids", set())
    jobs: list[IndexJob] = st.session_state.setdefault("jobs", [])
    problems: list[str] = st.session_state.setdefault("upload_problems", [])
    new = [f for f in files or [] if f.file_id not in seen]
    if new:
        saved: list[Path] = []
        display: dict[str, str] = {}
        problems.clear()
        folder = resources.upload_folder(cfg)
        for f in new:
            seen.add(f.file_id)
            try:
                path = save_upload(folder, f.name, f.getvalue(), max_upload_bytes(cfg))
            except (UploadError, OSError) as e:
                problems.append(str(e))
                st.toast(md_escape(f"{f.name}: not uploaded (see Upload documents)"), icon=":material/error:")
                continue
            saved.append(path)
            display[path.name] = f.name
            if names is not None:
                names.add(path, f.name)
        if saved:
            jobs.append(make_job(cfg, saved, display).start())
            # the next full run shows an empty uploader: the files live under Documents now, where deleting one
            # removes it from the index (removing a chip here never did)
            st.session_state["uploader_generation"] = st.session_state.get("uploader_generation", 0) + 1
    for p in problems:
        st.error(md_escape(p))
    if jobs:
        render_job_progress(jobs, key="upload-progress")


def render_job_progress(jobs: list[IndexJob], key: str, last: int = 3) -> None:
    """Progress of the newest jobs, polled while any runs; the page reruns once when one finishes."""
    active = any(not j.snapshot().finished for j in jobs)
    reported: set[int] = st.session_state.setdefault(f"{key}-reported", set())

    @st.fragment(run_every=1.0 if active else None)
    def progress() -> None:
        states = [(id(job), job.snapshot()) for job in jobs[-last:]]
        for _, state in states:
            draw_state(state)
        newly_done = [jid for jid, state in states if state.finished and jid not in reported]
        if newly_done:
            reported.update(newly_done)
            if active:  # it finished while we watched: refresh counts and the document list now
                st.rerun(scope="app")

    progress()
    announced: set[int] = st.session_state.setdefault(f"{key}-announced", set())
    for job in jobs[-last:]:
        state = job.snapshot()
        if state.finished and id(job) not in announced:
            announced.add(id(job))
            _announce(state)


def _announce(state: JobState) -> None:
    """A toast when an upload's files were not all indexed: the reasons stay in the upload panel at the bottom of
    the sidebar, which a user watching the chat does not see (a new user's check)."""
    failed = [r for r in state.results if not r.ok]
    if failed or state.error:
        what = failed[0].path if len(failed) == 1 else f"{len(failed) or state.total} of {state.total} files"
        st.toast(md_escape(f"{what}: not indexed (the reason is under Upload documents)"), icon=":material/error:")


def draw_state(state: JobState) -> None:
    if state.waiting:
        st.progress(0.0, text="waiting for another indexing job to finish…")
        return
    if not state.finished:
        st.progress(state.fraction, text=md_escape(f"indexing {state.done}/{state.total}: {state.current}"))
        return
    ok = [r for r in state.results if r.ok]
    if state.failed or state.error:
        st.caption(f"indexed {len(ok)}/{state.total} file(s)")
    else:
        st.success(f"indexed {len(ok)}/{state.total} file(s)", icon=":material/check_circle:")
    for r in state.results:
        if r.ok:
            st.caption(f"✓ {md_escape(r.path)}: {md_escape(r.message)}")
        else:
            st.error(md_escape(f"{r.path}: {r.message}"))
    if state.error:
        st.error(md_escape(state.error))
