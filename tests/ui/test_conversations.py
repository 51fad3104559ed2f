"""ui.conversations: the SQLite conversation store (real SQLite files in tmp folders)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.ui.fakes import retrieved_answer
from ui.answer_json import answer_from_json, answer_to_json
from ui.conversations import MAX_TITLE, ConversationStore, StoreError, clean_title, valid_id


def test_missing_data_folder_is_created(tmp_path: Path):
    path = tmp_path / "not" / "there" / "yet" / "conversations.sqlite"
    store = ConversationStore(path)
    assert path.is_file() and store.recent() == [] and store.problem == ""


def test_unwritable_data_folder_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot create the app data folder .*file.*RAGAPP_DATA"):
        ConversationStore(blocker / "sub" / "conversations.sqlite")


def test_conversations_round_trip_newest_first(tmp_path: Path):
    store = ConversationStore(tmp_path / "c.sqlite")
    a = store.create("What is the capital of France?", settings={"mode": "always", "top_k": 4})
    b = store.create("second")
    assert valid_id(a.id) and a.id != b.id
    assert [c.id for c in store.recent()] == [b.id, a.id]
    answer = retrieved_answer()
    store.add_message(a.id, question="q1", requested_mode="always", answer=answer_to_json(answer),
                      first_token_ms=12.5, total_ms=40.0)
    store.add_message(a.id, question="q2", requested_mode="never", problem="boom", fix="retry")
    assert [c.id for c in store.recent()] == [a.id, b.id]  # a message makes it the newest
    first, second = store.messages(a.id)
    assert first.question == "q1" and first.first_token_ms == 12.5 and first.total_ms == 40.0
    restored = answer_from_json(first.answer)
    assert restored.answer == answer.answer and restored.passages == answer.passages
    assert restored.conflict == answer.conflict and restored.ret_probability == answer.ret_probability
    assert second.answer is None and (second.problem, second.fix) == ("boom", "retry")
    assert store.get(a.id).settings == {"mode": "always", "top_k": 4}
    store.set_settings(a.id, {"mode": "never"})
    assert store.get(a.id).settings == {"mode": "never"}
    assert store.rename(a.id, "  France\n\tquestions ").title == "France questions"
    with pytest.raises(ValueError, match="visible character"):
        store.rename(a.id, " \n ")
    assert store.delete(a.id) and store.get(a.id) is None and store.messages(a.id) == []
    with pytest.raises(KeyError, match="deleted"):
        store.add_message(a.id, question="late", requested_mode="never")
    assert [c.id for c in store.recent()] == [b.id]


def test_ids_from_urls_are_checked():
    assert not valid_id("../../etc") and not valid_id("'; DROP TABLE x") and not valid_id(None)
    assert clean_title("x" * 500).endswith("…") and len(clean_title("x" * 500)) == MAX_TITLE


def test_store_survives_a_restart(tmp_path: Path):
    conv = ConversationStore(tmp_path / "c.sqlite").create("kept")
    ConversationStore(tmp_path / "c.sqlite").add_message(conv.id, question="q", requested_mode="never")
    again = ConversationStore(tmp_path / "c.sqlite")
    assert again.get(conv.id).title == "kept" and [m.question for m in again.messages(conv.id)] == ["q"]


def test_concurrent_writes_from_threads_lose_nothing(tmp_path: Path):
    store = ConversationStore(tmp_path / "c.sqlite")
    convs = [store.create(f"c{i}") for i in range(4)]
    errors: list[BaseException] = []

    def writer(conv_id: str, n: int) -> None:
        try:
            own = ConversationStore(tmp_path / "c.sqlite")  # like another browser session of the app
            for i in range(n):
                own.add_message(conv_id, question=f"{conv_id}-{i}", requested_mode="never")
        except BaseException as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(c.id, 25)) for c in convs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for c in convs:
        questions = [m.question for m in store.messages(c.id)]
        assert len(questions) == 50 and all(q.startswith(c.id) for q in questions)  # no cross-talk


def _process_writer(path: str, conv_id: str, n: int) -> None:
    store = ConversationStore(path)
    for i in range(n):
        store.add_message(conv_id, question=f"p{os.getpid()}-{i}", requested_mode="never")


def test_concurrent_writes_from_processes_lose_nothing(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    conv = ConversationStore(path).create("shared")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(str(path), conv.id, 20)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert len(ConversationStore(path).messages(conv.id)) == 60


def test_corrupt_database_is_kept_aside_with_a_clear_message(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database, it was overwritten by something else" * 100)
    store = ConversationStore(path)
    assert "not a readable database" in store.problem and "kept as" in store.problem
    aside = list(tmp_path.glob("c.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
    assert str(aside[0]) in store.problem
    conv = store.create("fresh")  # the new store works
    assert [c.id for c in store.recent()] == [conv.id]


def test_truncated_database_is_kept_aside(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    store = ConversationStore(path)
    for i in range(50):
        store.add_message(store.create(f"c{i}").id, question="x" * 2000, requested_mode="never")
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = path.read_bytes()
    path.write_bytes(data[:4096] + b"\0" * 100 + data[8192:len(data) // 2])  # a torn write
    again = ConversationStore(path)
    assert again.problem and again.db.set_aside is not None and again.db.set_aside.exists()
    assert again.recent() == []
