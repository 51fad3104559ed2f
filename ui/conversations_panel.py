"""Which conversation this browser session shows, and the sidebar list of past conversations.

The current conversation's id lives in this session's state and in the page URL (`?c=ID`):
a reload starts a new session that reads the id back from the URL, so the conversation and
its settings come back; another tab has its own session and its own id. A new chat has no id
until its first question is asked, so empty conversations are never stored.

    conv = current_conversation(store)      # before the settings widgets are drawn
    render_conversation_list(store, conv)   # in the sidebar
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from ui.conversations import Conversation, ConversationStore, valid_id
from ui.render import md_escape
from ui.sidebar import BACKENDS, DYPRAG, MODES, SETTING_KEYS

QUERY_KEY = "c"
_CHOICES = {"backend": BACKENDS, "mode": MODES, "dyprag": DYPRAG}
_NUMBERS = {"top_k": int, "dense_weight": float, "bm25_weight": float}


def apply_settings(settings: Mapping[str, Any]) -> None:
    """Put a conversation's saved settings into the widgets' session state (only values the widgets accept)."""
    for key in SETTING_KEYS:
        if key not in settings:
            continue
        value = settings[key]
        if key in _CHOICES and value not in _CHOICES[key]:
            continue
        if key in _NUMBERS:
            try:
                value = _NUMBERS[key](value)
            except (TypeError, ValueError):
                continue
        elif not isinstance(value, str):
            continue
        st.session_state[key] = value


def current_settings() -> dict[str, Any]:
    return {k: st.session_state[k] for k in SETTING_KEYS if k in st.session_state}


def current_conversation(store: ConversationStore) -> Conversation | None:
    """This session's conversation (None for a new, still empty chat); keeps `?c=` in the URL in step."""
    if "conv_id" not in st.session_state:  # a new session: a reload, a shared link or a new tab
        wanted = st.query_params.get(QUERY_KEY)
        conv = store.get(wanted) if valid_id(wanted) else None
        if wanted and conv is None:
            st.session_state["conv_notice"] = "That conversation no longer exists; this is a new chat."
        st.session_state["conv_id"] = conv.id if conv else None
        if conv is not None:
            apply_settings(conv.settings)
    conv_id = st.session_state["conv_id"]
    conv = store.get(conv_id) if conv_id else None
    if conv_id and conv is None:  # deleted in another tab
        st.session_state["conv_id"] = None
    _sync_url(conv.id if conv else None)
    return conv


def _sync_url(conv_id: str | None) -> None:
    if conv_id:
        if st.query_params.get(QUERY_KEY) != conv_id:
            st.query_params[QUERY_KEY] = conv_id
    elif QUERY_KEY in st.query_params:
        del st.query_params[QUERY_KEY]


def start_conversation(store: ConversationStore, title: str) -> Conversation:
    """Create the stored conversation when a new chat gets its first question."""
    conv = store.create(title, settings=current_settings())
    st.session_state["conv_id"] = conv.id
    _sync_url(conv.id)
    return conv


def _new_chat() -> None:
    st.session_state["conv_id"] = None
    st.session_state.pop("conv_confirm_delete", None)


def _switch(store: ConversationStore, conv_id: str) -> None:
    conv = store.get(conv_id)
    st.session_state["conv_id"] = conv.id if conv else None
    st.session_state.pop("conv_confirm_delete", None)
    if conv is not None:
        apply_settings(conv.settings)


def _rename(store: ConversationStore, conv_id: str) -> None:
    try:
        store.rename(conv_id, st.session_state.get(f"title-{conv_id}", ""))
    except (ValueError, KeyError) as e:
        st.session_state["conv_notice"] = str(e)


def _delete(store: ConversationStore, conv_id: str) -> None:
    store.delete(conv_id)
    st.session_state.pop("conv_confirm_delete", None)
    if st.session_state.get("conv_id") == conv_id:
        st.session_state["conv_id"] = None


def _when(ts: float) -> str:
    return time.strftime("%d %b %H:%M", time.localtime(ts))


def render_conversation_list(store: ConversationStore, current: Conversation | None, limit: int = 30) -> None:
    """New chat, the past conversations (newest first), rename and delete for the open one."""
    st.button("New chat", key="new_chat", icon=":material/add:", on_click=_new_chat, width="stretch",
              type="primary" if current is None else "secondary")
    notice = st.session_state.pop("conv_notice", None)
    if notice:
        st.info(md_escape(notice))
    conversations = store.recent(limit)
    with st.container(key="conversation-list", height=260 if len(conversations) > 6 else "content"):
        if not conversations:
            st.caption("Past conversations appear here.")
        for conv in conversations:
            is_current = current is not None and conv.id == current.id
            label = conv.title if len(conv.title) <= 48 else conv.title[:47].rstrip() + "…"
            st.button(md_escape(label), key=f"conv-{conv.id}", help=f"last used {_when(conv.updated_at)}",
                      on_click=_switch, args=(store, conv.id), width="stretch",
                      type="primary" if is_current else "tertiary")
    if current is None:
        return
    with st.expander("Rename or delete this conversation"):
        st.text_input("Title", value=current.title, key=f"title-{current.id}", max_chars=80)
        rename, delete = st.columns(2)
        rename.button("Rename", key="conv-rename", on_click=_rename, args=(store, current.id), width="stretch")
        if st.session_state.get("conv_confirm_delete") == current.id:
            st.caption("Delete this conversation and its messages?")
            yes, no = st.columns(2)
            yes.button("Delete", key="conv-delete-yes", type="primary", on_click=_delete, args=(store, current.id),
                       width="stretch")
            no.button("Cancel", key="conv-delete-no", width="stretch",
                      on_click=lambda: st.session_state.pop("conv_confirm_delete", None))
        else:
            delete.button("Delete…", key="conv-delete", width="stretch",
                          on_click=lambda: st.session_state.update(conv_confirm_delete=current.id))
