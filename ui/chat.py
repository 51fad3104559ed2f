"""One chat turn: ask the pipeline (streaming), then draw the answer with its evidence.

Drawing order inside the assistant message: the badge line, the conflict slot (the banner, or a
one-line status, in space reserved from the start so nothing jumps when it arrives), the
answer as safe Markdown with [n] links and memory-only sentences marked (or the "not found"
notice of an abstention), warnings, the passage cards (folded under "searched N passages, none
answers" when none answers; else each with an "Open document" button: ui/document_dialog.py), and the
latency footer. The badge line says where the answer came from
and why, with the router's threshold read from the pipeline that answered (stored with the turn). While the answer is computed the badge line says which stage is
running: deciding, searching, writing, then checking conflicts and attributing sentences.
All untrusted text goes through `ui.render` and `st.html` (sanitised, no scripts).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui import render
from ui.answer_json import answer_from_json, answer_to_json, is_abstained
from ui.document_dialog import open_button
from ui.errors import explain
from ui.streaming import AnswerStream

_turn_ids = itertools.count(1)
IDLE_AFTER_TOKENS_S = 0.8  # no new token for this long after streaming began: generation is over, checks run


@dataclass
class Turn:
    """A question and what came back (an Answer or a readable error), as shown and as stored."""

    question: str
    requested_mode: str
    anchor: str  # unique per turn on the page, for [n] -> passage card links
    answer: Any | None = None  # rag.types.Answer
    abstained: bool = False  # the answer says the information is not available
    threshold: float | None = None  # the router's P(<RET>) threshold when this turn was answered
    problem: str = ""
    fix: str = ""
    first_token_ms: float | None = None
    total_ms: float | None = None


def new_turn(question: str, mode: str) -> Turn:
    return Turn(question=question, requested_mode=mode, anchor=f"t{next(_turn_ids)}")


def turn_from_message(message: Any) -> Turn:
    """A stored `ui.conversations.Message` as a Turn (its answer rebuilt from the stored JSON)."""
    answer, abstained, problem, threshold = None, False, message.problem, None
    if message.answer is not None:
        try:
            answer = answer_from_json(message.answer)
            abstained = is_abstained(answer, message.answer)
            threshold = router_threshold(message.answer.get(THRESHOLD_KEY))
        except (TypeError, ValueError, AttributeError):
            problem = problem or "This stored answer could not be read."
    return Turn(question=message.question, requested_mode=message.requested_mode, anchor=f"m{message.id}",
                answer=answer, abstained=abstained, threshold=threshold, problem=problem or "", fix=message.fix,
                first_token_ms=message.first_token_ms, total_ms=message.total_ms)


def stored_fields(turn: Turn) -> dict[str, Any]:
    """What `ConversationStore.add_message` keeps of a finished turn."""
    data = answer_to_json(turn.answer) if turn.answer is not None else None
    if data is not None and turn.threshold is not None:
        data[THRESHOLD_KEY] = turn.threshold  # not an Answer field: answer_from_json ignores it
    return {"question": turn.question, "requested_mode": turn.requested_mode, "answer": data,
            "problem": turn.problem, "fix": turn.fix, "first_token_ms": turn.first_token_ms,
            "total_ms": turn.total_ms}


THRESHOLD_KEY = "ret_threshold"  # stored beside the answer's JSON


def router_threshold(value: Any) -> float | None:
    """A P(<RET>) threshold as a float in [0, 1], else None (a pipeline without a router, stored junk)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


def pipeline_threshold(pipeline: Any) -> float | None:
    """The threshold of the pipeline's Decider (`pipeline.decider.threshold`), when it has one."""
    return router_threshold(getattr(getattr(pipeline, "decider", None), "threshold", None))


def draw_question(turn: Turn) -> None:
    with st.chat_message("user"):
        st.html(render.plain_html(turn.question))


def draw_result(turn: Turn, names: render.Names | None = None) -> None:
    """The assistant side of a finished turn."""
    if turn.answer is None:
        st.error(f"{render.md_escape(turn.problem)}\n\n**Fix:** {render.md_escape(turn.fix)}")
        return
    a = turn.answer
    parts = [render.badge_html(a, turn.requested_mode, turn.abstained, turn.threshold),
             render.conflict_html(a, turn.anchor, names)]
    parts.append(render.abstained_html(a) if turn.abstained else render.answer_html(a, turn.anchor))
    parts += [f'<div class="ar-status">⚠ {render.esc(w)}</div>' for w in a.warnings]
    st.html("".join(parts))
    if render.none_answers(a):  # what was searched, folded: not sources to open
        st.html(render.passages_html(a, turn.anchor, names))
    else:
        shown, rest = render.card_groups(a)  # sources first; passages only searched fold beneath
        for n in shown:
            st.html(render.passage_html(a, n, turn.anchor, names))
            open_button(a, n, turn.anchor, names)  # the document's whole text at this passage, in a dialog
        if rest:
            with st.expander(render.also_searched(rest)):
                for n in rest:
                    st.html(render.passage_html(a, n, turn.anchor, names))
                    open_button(a, n, turn.anchor, names)
    st.html(render.latency_html(a.timings_ms, turn.first_token_ms, turn.total_ms))


def draw_turn(turn: Turn, names: render.Names | None = None) -> None:
    draw_question(turn)
    with st.chat_message("assistant"):
        draw_result(turn, names)


def stage_text(mode: str, text: str, idle_s: float, elapsed_s: float) -> str:
    """What the answer path is doing, as far as the stream shows it; past `SLOW_S`, why it takes long."""
    if not text:
        first = {"never": "answering from model memory",
                 "always": "searching the documents and reading the passages"}.get(
            mode, "deciding whether to search the documents")
        doing = f"{first}… {elapsed_s:.0f} s"
    elif idle_s < IDLE_AFTER_TOKENS_S:
        doing = f"writing the answer… {elapsed_s:.0f} s"
    else:
        doing = (f"checking the answer against the model's memory (conflict check) and linking sentences to "
                 f"passages… {elapsed_s:.0f} s")
    return doing + (SLOW_NOTE if elapsed_s >= SLOW_S else "")


SLOW_S = 15.0  # a new user waited 40 s under load with no word of why (answers usually take a few seconds)
SLOW_NOTE = " · still working: the model runs on this computer's processor, slower while it is busy"


def ask(turn: Turn, pipeline: Any, lock: Any, dyprag: str, where: str,
        names: render.Names | None = None, clock: Callable[[], float] = time.perf_counter) -> Turn:
    """Run the pipeline for `turn` in a worker thread, streaming into the current chat message."""
    placeholder = st.empty()
    started = clock()

    def frame(text: str, status: str) -> str:
        return (render.status_head_html(status) + render.pending_slot_html(reserve=turn.requested_mode != "never")
                + (render.streaming_html(text) if text else ""))

    placeholder.html(frame("", stage_text(turn.requested_mode, "", 0.0, 0.0)))
    stream = AnswerStream(
        lambda on_token: pipeline.answer(turn.question, mode=turn.requested_mode, dyprag=dyprag, on_token=on_token),
        lock=lock,
    ).start()
    last_text, last_change, last_status = "", clock(), ""
    for partial in stream.ticks():
        now = clock()
        changed = partial != last_text
        if changed:
            last_text, last_change = partial, now
        status = stage_text(turn.requested_mode, last_text, now - last_change, now - started)
        if not changed and status == last_status:
            continue
        last_status = status
        placeholder.html(frame(last_text, status))
    try:
        turn.answer = stream.result()
        turn.abstained = is_abstained(turn.answer)
        turn.threshold = pipeline_threshold(pipeline)
    except Exception as e:  # noqa: BLE001 - shown as a readable message, details in the log
        turn.problem, turn.fix = explain(e, where)
    turn.first_token_ms, turn.total_ms = stream.first_token_ms, stream.total_ms
    with placeholder.container():
        draw_result(turn, names)
    return turn
