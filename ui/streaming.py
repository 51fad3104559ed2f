"""Run one `Pipeline.answer` call in a worker thread and stream its tokens to the page.

The worker only calls the pipeline and puts tokens on a queue; the Streamlit script thread
drains the queue and redraws a placeholder. `AnswerStream` also measures time to first
token and total wall time as the user sees them.

    stream = AnswerStream(lambda on_token: pipeline.answer(q, mode=m, on_token=on_token)).start()
    for partial_text in stream.partials():   # growing text, as tokens arrive
        placeholder.html(streaming_html(partial_text))
    answer = stream.result()                 # the Answer, or raises the pipeline's exception
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

_DONE = object()


class AnswerStream:
    """One answer being computed in a background thread."""

    def __init__(self, call: Callable[[Callable[[str], None]], Any], lock: threading.Lock | None = None,
                 poll_s: float = 0.05):
        self._call = call
        self._lock = lock  # serialises use of a shared pipeline between sessions
        self._poll_s = poll_s
        self._queue: queue.Queue[object] = queue.Queue()
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="adaptrag-answer", daemon=True)
        self.started_at = 0.0
        self.first_token_ms: float | None = None
        self.total_ms: float | None = None
        self.waited_for_lock = False

    def start(self) -> AnswerStream:
        self.started_at = time.perf_counter()
        self._thread.start()
        return self

    def _on_token(self, token: str) -> None:
        if self.first_token_ms is None:
            self.first_token_ms = (time.perf_counter() - self.started_at) * 1000
        self._queue.put(token)

    def _run(self) -> None:
        try:
            if self._lock is not None:
                if not self._lock.acquire(blocking=False):
                    self.waited_for_lock = True
                    self._lock.acquire()
                try:
                    self._result = self._call(self._on_token)
                finally:
                    self._lock.release()
            else:
                self._result = self._call(self._on_token)
        except BaseException as e:  # noqa: BLE001 - handed to the script thread, shown by ui.errors
            self._error = e
        finally:
            self.total_ms = (time.perf_counter() - self.started_at) * 1000
            self._queue.put(_DONE)

    def partials(self) -> Iterator[str]:
        """Yield the text generated so far each time new tokens arrived, until the call returns."""
        return self._texts(self._poll_s * 20, idle=False)

    def ticks(self, every_s: float = 0.5) -> Iterator[str]:
        """Like `partials`, but also yields the unchanged text every `every_s` while nothing arrives, so the
        caller can say what the pipeline is doing between tokens (and after the last one)."""
        return self._texts(every_s, idle=True)

    def _texts(self, wait_s: float, idle: bool) -> Iterator[str]:
        """The text so far after each batch of tokens; with `idle`, also after each `wait_s` without one."""
        text = ""
        while True:
            try:
                item = self._queue.get(timeout=wait_s)
            except queue.Empty:
                if idle:
                    yield text
                continue
            if item is _DONE:
                return
            text += str(item)
            while True:  # drain what else is waiting: one redraw per batch of tokens
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _DONE:
                    yield text
                    return
                text += str(item)
            yield text

    def result(self) -> Any:
        """The pipeline's return value; re-raises its exception. Waits for the worker."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result
