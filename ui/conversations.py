"""Conversations of the chat app, kept in SQLite under the app's data folder.

A conversation has an id (in the page URL as `?c=ID`, so a reload restores it), a title, the
settings it was last used with, and its messages: the question, the full answer JSON
(`Answer.to_json()`), or the readable error, and the times the user waited. Every browser
session writes only to the conversation whose id it holds, so two tabs stay independent.

    store = ConversationStore(data_folder / "conversations.sqlite")
    conv = store.create("What is the capital of France?", settings={"mode": "always"})
    store.add_message(conv.id, question="...", requested_mode="always", answer=answer.to_json())
    store.recent()  # newest first
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ui.sqlite_file import SqliteFile, StoreError

__all__ = ["Conversation", "ConversationStore", "Message", "StoreError", "clean_title", "valid_id"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, question TEXT NOT NULL,
    requested_mode TEXT NOT NULL, answer_json TEXT, problem TEXT NOT NULL DEFAULT '', fix TEXT NOT NULL DEFAULT '',
    first_token_ms REAL, total_ms REAL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations(updated_at);
"""

_ID = re.compile(r"[0-9a-f]{16}\Z")
MAX_TITLE = 80
NEW_TITLE = "New chat"


def valid_id(value: object) -> bool:
    """True for ids this store makes (16 hex digits); anything else from a URL is ignored."""
    return isinstance(value, str) and bool(_ID.match(value))


def clean_title(text: str) -> str:
    """One line of at most MAX_TITLE characters, no control characters ("" if nothing is left)."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text or "").split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: float  # unix time
    updated_at: float  # last message, rename or settings change
    settings: Mapping[str, Any] = field(default_factory=dict)  # the sidebar settings it was used with


@dataclass(frozen=True)
class Message:
    id: int
    question: str
    requested_mode: str
    answer: Mapping[str, Any] | None  # Answer.to_json(), None when the question ended in an error
    problem: str = ""
    fix: str = ""
    first_token_ms: float | None = None
    total_ms: float | None = None
    created_at: float = 0.0


class ConversationStore:
    """SQLite-backed conversations; safe for many sessions and processes at once."""

    def __init__(self, path: str | Path, timeout_s: float = 15.0) -> None:
        self.db = SqliteFile(path, SCHEMA, timeout_s)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def problem(self) -> str:
        """"" or the message about a corrupt database that was moved aside at start."""
        return self.db.problem

    @staticmethod
    def _conversation(row) -> Conversation:
        try:
            settings = json.loads(row["settings"] or "{}")
        except ValueError:
            settings = {}
        return Conversation(row["id"], row["title"], row["created_at"], row["updated_at"],
                            settings if isinstance(settings, dict) else {})

    def create(self, title: str = "", settings: Mapping[str, Any] | None = None) -> Conversation:
        now = time.time()
        conv = Conversation(secrets.token_hex(8), clean_title(title) or NEW_TITLE, now, now, dict(settings or {}))
        with self.db.connect(write=True) as con:
            con.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                        (conv.id, conv.title, now, now, json.dumps(conv.settings)))
        return conv

    def get(self, conv_id: str) -> Conversation | None:
        if not valid_id(conv_id):
            return None
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM conversations WHERE id = ?", (conv_id,)).fetchone()
        return self._conversation(row) if row else None

    def recent(self, limit: int = 100) -> list[Conversation]:
        """Newest first (by last activity)."""
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM conversations ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                               (limit,)).fetchall()
        return [self._conversation(r) for r in rows]

    def rename(self, conv_id: str, title: str) -> Conversation:
        """Raises ValueError for an empty title, KeyError for an unknown conversation."""
        title = clean_title(title)
        if not title:
            raise ValueError("a conversation title needs at least one visible character")
        with self.db.connect(write=True) as con:
            if con.execute("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                           (title, time.time(), conv_id)).rowcount == 0:
                raise KeyError(f"no conversation {conv_id!r}")
        return self.get(conv_id)  # type: ignore[return-value]

    def set_settings(self, conv_id: str, settings: Mapping[str, Any]) -> None:
        with self.db.connect(write=True) as con:
            con.execute("UPDATE conversations SET settings = ? WHERE id = ?", (json.dumps(dict(settings)), conv_id))

    def delete(self, conv_id: str) -> bool:
        with self.db.connect(write=True) as con:
            con.execute("DELETE FROM messages WHERE conversation_id = ?", (conv_id,))
            return con.execute("DELETE FROM conversations WHERE id = ?", (conv_id,)).rowcount > 0

    def add_message(self, conv_id: str, *, question: str, requested_mode: str,
                    answer: Mapping[str, Any] | None = None, problem: str = "", fix: str = "",
                    first_token_ms: float | None = None, total_ms: float | None = None) -> Message:
        now = time.time()
        payload = json.dumps(dict(answer), ensure_ascii=False) if answer is not None else None
        with self.db.connect(write=True) as con:
            if con.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conv_id)).rowcount == 0:
                raise KeyError(f"no conversation {conv_id!r} (it was deleted)")
            cur = con.execute(
                "INSERT INTO messages (conversation_id, question, requested_mode, answer_json, problem, fix, "
                "first_token_ms, total_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conv_id, question, requested_mode, payload, problem, fix, first_token_ms, total_ms, now))
        return Message(cur.lastrowid, question, requested_mode, answer, problem, fix, first_token_ms, total_ms, now)

    def messages(self, conv_id: str) -> list[Message]:
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conv_id,)).fetchall()
        out = []
        for r in rows:
            try:
                answer = json.loads(r["answer_json"]) if r["answer_json"] else None
            except ValueError:
                answer = None
            problem = r["problem"] or ("" if answer is not None or not r["answer_json"] else
                                       "This stored answer could not be read.")
            out.append(Message(r["id"], r["question"], r["requested_mode"], answer, problem, r["fix"],
                               r["first_token_ms"], r["total_ms"], r["created_at"]))
        return out
