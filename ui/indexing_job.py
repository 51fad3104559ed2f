"""Index files in a background thread and report progress, so the chat keeps working.

The thread never touches Streamlit: it only updates a `JobState` guarded by a lock, which
the app polls from a fragment (`st.fragment(run_every=...)`) to draw a progress bar and
the per-file results. One job writes to the index at a time per process (`WRITE_LOCK`).

    job = IndexJob(paths, add_one=lambda p: index.add([p]), on_done=refresh_retriever)
    job.start(); job.snapshot()  # -> JobState copy: done/total, current file, errors
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

WRITE_LOCK = threading.Lock()  # one indexing job at a time in this process


@dataclass(frozen=True)
class FileResult:
    path: str
    ok: bool
    message: str = ""  # what happened, or the error and what to do


@dataclass(frozen=True)
class JobState:
    total: int
    done: int = 0
    current: str = ""
    results: tuple[FileResult, ...] = ()
    finished: bool = False
    waiting: bool = False  # another job holds the index
    started_at: float = field(default_factory=time.time)
    error: str = ""  # a failure of the whole job (index could not be opened)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def failed(self) -> tuple[FileResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def describe_result(result: Any) -> tuple[bool, str]:
    """Read an `indexing.index.AddReport` (or None) into (ok, message) for one file."""
    if result is None:
        return True, "indexed"
    errors = getattr(result, "errors", None)
    if errors:
        if isinstance(errors, dict):
            return False, "; ".join(f"{k}: {v}" for k, v in errors.items())
        return False, "; ".join(str(getattr(e, "reason", None) or e) for e in errors)
    skipped = [getattr(s, "reason", None) or str(s) for s in getattr(result, "skipped", ()) or ()]
    if skipped and not getattr(result, "added", None) and not getattr(result, "updated", None):
        return True, "skipped: " + "; ".join(skipped)
    if getattr(result, "unchanged", None) and not getattr(result, "added", None) \
            and not getattr(result, "updated", None):
        return True, "already indexed, unchanged"
    chunks = getattr(result, "chunks_added", None)
    verb = "updated" if getattr(result, "updated", None) else "indexed"
    return True, f"{verb}, {chunks} chunk(s)" if chunks is not None else verb


class IndexJob:
    """Index `paths` one file at a time with `add_one(path)` in a daemon thread."""

    def __init__(self, paths: Sequence[Path], add_one: Callable[[Path], Any],
                 on_done: Callable[[], None] | None = None, wait_s: float = 600.0,
                 display: Mapping[str, str] | None = None):
        self._paths = list(paths)
        self._display = dict(display or {})  # stored file name -> the name shown (an upload's original name)
        self._add_one = add_one
        self._on_done = on_done
        self._wait_s = wait_s
        self._lock = threading.Lock()
        self._state = JobState(total=len(self._paths))
        self._thread = threading.Thread(target=self._run, name="adaptrag-index-job", daemon=True)

    def start(self) -> IndexJob:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def snapshot(self) -> JobState:
        with self._lock:
            return self._state

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)

    def _run(self) -> None:
        self._update(waiting=True)
        if not WRITE_LOCK.acquire(timeout=self._wait_s):
            self._update(finished=True, waiting=False,
                         error="another indexing job is still running; upload again when it has finished")
            return
        try:
            self._update(waiting=False)
            for path in self._paths:
                shown = self._display.get(path.name, path.name)
                self._update(current=shown)
                try:
                    ok, message = describe_result(self._add_one(path))
                except Exception as e:  # noqa: BLE001 - per file: reported, the other files still indexed
                    from ui.errors import explain

                    problem, fix = explain(e)
                    ok, message = False, f"{problem} {fix}"
                with self._lock:
                    self._state = replace(self._state, done=self._state.done + 1,
                                          results=self._state.results + (FileResult(shown, ok, message),))
            if self._on_done is not None:
                try:
                    self._on_done()
                except Exception as e:  # the files are indexed; only the follow-up failed
                    log.warning("after-indexing step failed", exc_info=True)
                    self._update(error=f"indexed, but closing the index failed: {e}")
        finally:
            WRITE_LOCK.release()
            self._update(finished=True, current="")
