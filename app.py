"""adaptrag chat app: adaptive answers with visible retrieval decisions, citations and conflicts.

Run:  streamlit run app.py            (listens on 127.0.0.1:8501, see .streamlit/config.toml)

Settings come from the usual places (adaptrag TOML via ADAPTRAG_CONFIG, ADAPTRAG_* variables,
e.g. ADAPTRAG_INDEX=/path/to/index) and can be changed per session in the sidebar. On the first
run an empty index gets the small sample corpus (indexing/sample/), so the app answers at once.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import streamlit as st

from rag.config import Config, ConfigError, load_config
from ui import chat, render, resources
from ui.errors import explain
from ui.indexing_job import WRITE_LOCK
from ui.sidebar import render_index_stats, render_settings
from ui.upload_panel import render_upload_panel

log = logging.getLogger("adaptrag.app")
SAMPLE_CORPUS = Path(__file__).resolve().parent / "indexing" / "sample"


def sample_corpus() -> Path | None:
    """The corpus indexed into an empty index on first run; RAGAPP_SAMPLE_CORPUS="" turns it off."""
    value = os.environ.get("RAGAPP_SAMPLE_CORPUS")
    if value is not None:
        return Path(value) if value else None
    return SAMPLE_CORPUS if SAMPLE_CORPUS.is_dir() else None


@st.cache_resource(show_spinner=False)
def _first_run_done(index_key: str) -> dict[str, bool]:
    return {"done": False}


def ensure_sample_indexed(cfg: Config, stats: dict) -> dict:
    """Index the sample corpus into an empty index, once per process; returns fresh stats."""
    corpus = sample_corpus()
    flag = _first_run_done(str(cfg.index_path()) + (cfg.index.qdrant_url or ""))
    if corpus is None or flag["done"] or (stats and stats.get("documents", 0) > 0):
        flag["done"] = True
        return stats
    with WRITE_LOCK:  # another session may be doing it right now
        if flag["done"]:
            return resources.index_stats(cfg)
        with st.status(f"First run: indexing the sample corpus ({corpus.name}/) into {cfg.index_path()}…") as status:
            index = resources.open_index(cfg)
            try:
                report = index.add([corpus], progress=False)
            finally:
                resources.close_quietly(index)
            status.update(label=f"Sample corpus indexed ({len(report.added)} documents)", state="complete")
        flag["done"] = True
    return resources.index_stats(cfg)


def _where(cfg: Config) -> str:
    where = f"backend {cfg.model.backend}, model {cfg.model.name}"
    return where + (f", server {cfg.model.base_url}" if cfg.model.backend == "openai" else "")


def main() -> None:
    st.set_page_config(page_title="adaptrag", page_icon="🔎", layout="wide")
    st.html(render.STYLE)
    st.title("adaptrag")
    st.caption("Answers from memory when the model knows, searches your documents when it doesn't — "
               "with the evidence and any disagreement shown.")
    try:
        base = load_config()
    except ConfigError as e:
        st.error(f"Invalid configuration: {e}\n\n**Fix:** correct the ADAPTRAG_* variable or the TOML file named above.")
        st.stop()
    with st.sidebar:
        try:
            choice = render_settings(base)
        except ConfigError as e:
            st.error(f"{e}")
            choice = None
        cfg = choice.cfg if choice else base
        stats, stats_error = {}, ""
        try:
            stats = resources.index_stats(cfg)
            stats = ensure_sample_indexed(cfg, stats)
        except Exception as e:  # noqa: BLE001 - shown, the chat may still answer from memory
            problem, fix = explain(e)
            stats_error = f"{problem} — {fix}"
        render_index_stats(cfg.index.qdrant_url or str(cfg.index_path()), stats, stats_error)
        render_upload_panel(cfg)

    history: list[chat.Turn] = st.session_state.setdefault("history", [])
    if choice and choice.mode != "never" and not stats_error and not stats.get("chunks"):
        st.warning("The index is empty, so questions are answered from model memory. **Fix:** upload documents in "
                   "the sidebar or run `adaptrag index add PATH`.")
    for turn in history:
        chat.draw_turn(turn)
    question = st.chat_input("Ask a question", key="question")
    if not question:
        return
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
                chat.ask(turn, pipeline, lock, choice.dyprag, _where(cfg))
    history.append(turn)


main()
