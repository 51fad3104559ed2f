"""Open the app's small SQLite files safely: create the folder, survive a corrupt file, allow many writers.

Every browser session of the app (and every app process on the same data folder) writes to
the same files, so connections are short-lived, the journal is WAL and writers wait up to
`timeout_s` for each other instead of failing with "database is locked".

A file that is not a readable database (truncated, overwritten, a disk error) is moved aside
as `NAME.corrupt-YYYYmmdd-HHMMSS` and a new, empty one is started; the caller gets a message
naming both paths to show the user. Nothing is ever deleted.

    db = SqliteFile(folder / "conversations.sqlite", schema=SCHEMA)
    with db.connect() as con: con.execute(...)
    db.problem  # "" or the message about the file that was set aside
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreError(RuntimeError):
    """The app's data folder or database cannot be used; the message names the path and the fix."""


class SqliteFile:
    """One SQLite file with `schema` applied; `connect()` yields a connection inside one transaction."""

    def __init__(self, path: str | Path, schema: str, timeout_s: float = 15.0) -> None:
        self.path = Path(path)
        self.schema = schema
        self.timeout_s = timeout_s  # how long a writer waits for another writer
        self.problem = ""  # set when a corrupt file was moved aside
        self.set_aside: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the app data folder {self.path.parent}: {e.strerror or e}; "
                             "set RAGAPP_DATA to a writable folder") from None
        try:
            self._init()
        except sqlite3.DatabaseError as e:
            self._move_aside(e)
            self._init()

    def _open(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as e:
            raise StoreError(f"cannot open {self.path}: {e}; check the folder's permissions or set RAGAPP_DATA") \
                from None
        con.row_factory = sqlite3.Row
        return con

    def _init(self) -> None:
        con = self._open()
        try:
            con.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; raises on a non-database
            result = con.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {result}")
            con.executescript(self.schema)
        finally:
            con.close()

    def _move_aside(self, error: Exception) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):  # journal files of the broken file belong to it, not to the new one
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    side.replace(aside.with_name(aside.name + suffix))
        except OSError as e:
            raise StoreError(f"{self.path} is not a readable database ({error}) and could not be moved aside: "
                             f"{e.strerror or e}; move or delete it by hand") from None
        self.set_aside = aside
        self.problem = (f"{self.path} was not a readable database ({error}). It was kept as {aside} and a new, "
                        "empty one was started.")

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction (BEGIN IMMEDIATE for writers: they queue, never deadlock)."""
        con = self._open()
        try:
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: {e}") from e
        finally:
            con.close()
