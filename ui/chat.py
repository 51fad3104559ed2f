"""One chat turn: ask the pipeline (streaming), then draw the answer with its evidence.

Drawing order inside the assistant message: decision badge, conflict banner (above the
answer text), the answer with [n] links and memory-only sentences marked, warnings, the
passage cards with highlighted supporting spans, and the latency footer. All untrusted text
goes through `ui.render` (escaped) and `st.html` (sanitised, no scripts).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import streamlit as st

from ui import render
from ui.errors import explain
from ui.streaming import AnswerStream

_turn_ids = itertools.count(1)


@dataclass
class Turn:
    """A question and what came back (an Answer or a readable error), kept in session history."""

    question: str
    requested_mode: str
    anchor: str  # unique per turn, for [n] -> passage card links
    answer: object | None = None  # rag.types.Answer
    problem: str = ""
    fix: str = ""
    first_token_ms: float | None = None
    total_ms: float | None = None


def new_turn(question: str, mode: str) -> Turn:
    return Turn(question=question, requested_mode=mode, anchor=f"t{next(_turn_ids)}")


def draw_question(turn: Turn) -> None:
    with st.chat_message("user"):
        st.html(render.plain_html(turn.question))


def draw_result(turn: Turn) -> None:
    """The assistant side of a finished turn."""
    if turn.answer is None:
        st.error(f"{turn.problem}\n\n**Fix:** {turn.fix}")
        return
    a = turn.answer
    st.html(render.badge_html(a, turn.requested_mode))
    st.html(render.conflict_html(a, turn.anchor))
    st.html(render.answer_html(a, turn.anchor))
    for w in a.warnings:
        st.html(f'<div class="ar-status">⚠ {render.esc(w)}</div>')
    cards = render.passages_html(a, turn.anchor)
    if cards:
        st.html(cards)
    st.html(render.latency_html(a.timings_ms, turn.first_token_ms, turn.total_ms))


def draw_turn(turn: Turn) -> None:
    draw_question(turn)
    with st.chat_message("assistant"):
        draw_result(turn)


def ask(turn: Turn, pipeline, lock, dyprag: str, where: str) -> Turn:
    """Run the pipeline for `turn` in a worker thread, streaming into the current chat message."""
    placeholder = st.empty()
    placeholder.html('<div class="ar-status">deciding whether to search the documents…</div>')
    stream = AnswerStream(
        lambda on_token: pipeline.answer(turn.question, mode=turn.requested_mode, dyprag=dyprag, on_token=on_token),
        lock=lock,
    ).start()
    for partial in stream.partials():
        placeholder.html(render.streaming_html(partial))
    try:
        turn.answer = stream.result()
    except Exception as e:  # noqa: BLE001 - shown as a readable message, details in the log
        turn.problem, turn.fix = explain(e, where)
    turn.first_token_ms, turn.total_ms = stream.first_token_ms, stream.total_ms
    with placeholder.container():
        draw_result(turn)
    return turn
