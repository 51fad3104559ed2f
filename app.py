"""adaptrag chat app: adaptive answers with visible retrieval decisions, citations and conflicts.

Run:  streamlit run app.py            (listens on 127.0.0.1:8501, see .streamlit/config.toml)

Settings come from the usual places (adaptrag TOML via ADAPTRAG_CONFIG, ADAPTRAG_* variables,
e.g. ADAPTRAG_INDEX=/path/to/index) and can be changed per conversation in the sidebar.
Conversations and uploads live in the app's data folder ($RAGAPP_DATA, else `<index>-app`
beside the index): a reload or a restart restores the conversation named in the URL (`?c=ID`).
On the first run an empty index gets the small sample corpus (indexing/sample/), indexed in the
background while the chat box is already usable.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import streamlit as st

from rag.config import Config, ConfigError, load_config
from ui import chat, render, resources
from ui.conversations import StoreError
from ui.conversations_panel import current_conversation, current_settings, render_conversation_list, start_conversation
from ui.document_dialog import show_open_document
from ui.documents_panel import group_documents, render_documents_panel
from ui.errors import explain
from ui.examples import example_questions
from ui.indexing_job import IndexJob
from ui.sidebar import render_index_stats, render_settings
from ui.upload_panel import make_job, render_job_progress, render_upload_panel

log = logging.getLogger("adaptrag.app")
SAMPLE_CORPUS = Path(__file__).resolve().parent / "indexing" / "sample"


def sample_corpus() -> Path | None:
    """The corpus indexed into an empty index on first run; RAGAPP_SAMPLE_CORPUS="" turns it off."""
    value = os.environ.get("RAGAPP_SAMPLE_CORPUS")
    if value is not None:
        return Path(value) if value else None
    return SAMPLE_CORPUS if SAMPLE_CORPUS.is_dir() else None


@st.cache_resource(show_spinner=False)
def _first_run(index_key: str) -> dict:
    return {"lock": threading.Lock(), "job": None}


def sample_job(cfg: Config, stats: dict) -> IndexJob | None:
    """Start indexing the sample corpus into an empty index in the background, once per process."""
    corpus = sample_corpus()
    holder = _first_run(str(cfg.index_path()) + (cfg.index.qdrant_url or ""))
    with holder["lock"]:
        if holder["job"] is None and corpus is not None and not stats.get("documents"):
            files = sorted(p for p in corpus.iterdir() if p.is_file() and not p.name.startswith("."))
            holder["job"] = make_job(cfg, files).start() if files else None
    return holder["job"]


@st.cache_resource(show_spinner=False, max_entries=4)
def _examples(index_key: str, generation: str, _cfg: Config, _documents: tuple) -> list[str]:
    index = resources.open_index(_cfg, readonly=True)
    try:
        return example_questions(index, _documents, n=3)
    finally:
        resources.close_quietly(index)


def _where(cfg: Config) -> str:
    where = f"backend {cfg.model.backend}, model {cfg.model.name}"
    return where + (f", server {cfg.model.base_url}" if cfg.model.backend == "openai" else "")


def _pick_example(question: str) -> None:
    st.session_state["example_question"] = question


def _welcome(cfg: Config, stats: dict, documents: list, job: IndexJob | None) -> None:
    """The empty page: what the app does and three questions the index can answer (click one to ask it).

    A fragment: while the first-run corpus is being indexed it re-reads the index every 2 s, so the
    examples appear with the first indexed documents, not when the whole corpus is done.
    """
    indexing = job is not None and not job.snapshot().finished

    @st.fragment(run_every=2.0 if indexing else None)
    def body() -> None:
        if st.session_state.get("example_question"):  # clicked inside the fragment: ask it in a full run
            st.rerun(scope="app")
        st.markdown("#### Ask about your documents")
        st.caption("The model answers from memory when it knows, and searches the documents when it does not. "
                   "Try one of these:")
        fresh_stats, docs = (stats, documents)
        if indexing:
            try:
                fresh_stats, docs = resources.index_snapshot(cfg)
            except Exception:  # the index is being written; try again on the next tick
                log.debug("index read during first run failed", exc_info=True)
        questions: list[str] = []
        if docs:
            try:
                questions = _examples(str(cfg.index_path()), str(fresh_stats.get("generation")), cfg, tuple(docs))
            except Exception:  # examples are a nicety; the chat works without them
                log.warning("example questions failed", exc_info=True)
        if not questions:
            st.caption("Example questions appear when the first documents are indexed."
                       if indexing else "Upload documents to get example questions.")
        for i, q in enumerate(questions):
            st.button(render.md_escape(q), key=f"example-{i}", icon=":material/chat_bubble:", on_click=_pick_example,
                      args=(q,))

    body()


def main() -> None:
    st.set_page_config(page_title="adaptrag", page_icon="🔎", layout="wide")
    st.html(render.STYLE)
    try:
        base = load_config()
    except ConfigError as e:
        st.error(f"Invalid configuration: {e}\n\n**Fix:** correct the ADAPTRAG_* variable or the TOML file named above.")
        st.stop()
    data = resources.data_folder(base)
    try:
        store = resources.conversation_store(str(data))
        names = resources.upload_names(str(data))
    except StoreError as e:
        st.error(f"{e}")
        st.stop()
    if store.problem and not st.session_state.get("store_problem_shown"):
        st.session_state["store_problem_shown"] = True
        st.warning(render.md_escape(f"Conversation history: {store.problem}"))
    conv = current_conversation(store)

    stats, documents, stats_error = {}, [], ""
    try:
        stats, documents = resources.index_snapshot(base)
    except Exception as e:  # noqa: BLE001 - shown, the chat may still answer from memory
        problem, fix = explain(e)
        stats_error = f"{problem} — {fix}"
    job = sample_job(base, stats) if not stats_error else None
    uploaded = names.all()

    def display(source: str) -> str:
        return uploaded.get(os.path.abspath(source), "") if source else ""

    with st.sidebar:
        render_conversation_list(store, conv)
        with st.expander("Settings (this conversation)", expanded=False):
            try:
                choice = render_settings(base)
            except ConfigError as e:
                st.error(render.md_escape(str(e)))
                choice = None
            rows = group_documents(documents, uploaded)
            render_index_stats(base.index.qdrant_url or str(base.index_path()), stats, stats_error, len(rows))
        render_documents_panel(base, rows, names)
        render_upload_panel(base, names)
    cfg = choice.cfg if choice else base
    if conv is not None and choice is not None and current_settings() != dict(conv.settings):
        store.set_settings(conv.id, current_settings())  # kept per conversation

    st.title("adaptrag")
    if job is not None and not job.snapshot().finished:
        st.caption("First run: the sample corpus is being indexed in the background. You can ask already; "
                   "questions that need documents will find them as they arrive.")
        render_job_progress([job], key="sample-progress", last=1)
    elif choice and choice.mode != "never" and not stats_error and not stats.get("chunks"):
        st.warning("The index is empty, so questions are answered from model memory. **Fix:** upload documents in "
                   "the sidebar or run `adaptrag index add PATH`.")

    history = [chat.turn_from_message(m) for m in store.messages(conv.id)] if conv else []
    for turn in history:
        chat.draw_turn(turn, display)
    show_open_document(cfg)  # a passage's document, opened from its card, stays open across reruns
    welcome = st.empty()
    clicked = st.session_state.pop("example_question", None)
    if not history and not clicked:
        with welcome.container():
            _welcome(base, stats, documents, job)
    # disabled from a submission until the answer is in: a question sent meanwhile would stop the one being answered
    question = st.chat_input("Ask a question", key="question", submit_mode="disable") or clicked
    if not question:
        return
    welcome.empty()
    created = conv is None
    if conv is None:
        conv = start_conversation(store, question)
    turn = chat.new_turn(question, choice.mode if choice else base.decide.mode)
    chat.draw_question(turn)
    with st.chat_message("assistant"):
        if choice is None:
            turn.problem, turn.fix = "The settings in the sidebar are invalid.", "Correct the setting shown there."
            chat.draw_result(turn)
        else:
            try:
                with st.spinner(f"Loading {cfg.model.name}…"):
                    pipeline = resources.get_pipeline(cfg)
            except Exception as e:  # noqa: BLE001 - readable message with the fix
                turn.problem, turn.fix = explain(e, _where(cfg))
                chat.draw_result(turn)
            else:
                lock: threading.Lock = resources.model_lock(resources.generator_key(cfg))
                chat.ask(turn, pipeline, lock, choice.dyprag, _where(cfg), display)
    try:
        store.add_message(conv.id, **chat.stored_fields(turn))
    except (KeyError, StoreError) as e:
        st.warning(render.md_escape(f"This answer was not saved: {e}"))
        return
    if created:  # list the new conversation in the sidebar now, not at the next interaction
        st.rerun()


main()
