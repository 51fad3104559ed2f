"""LangChain interop: the whole answer path as a `langchain-core` Runnable.

    from rag.langchain import AnswerRunnable
    chain = AnswerRunnable(Pipeline.from_config(cfg)) | (lambda a: a.answer)
    chain.invoke("Who wrote Dracula?")

    for piece in AnswerRunnable(pipeline).stream("Who wrote Dracula?"):
        if isinstance(piece, str):
            print(piece, end="", flush=True)   # answer text as it is generated
        else:
            answer = piece                     # last: the whole Answer (citations, conflict, timings)

Input: a question string or a dict with "question" (and optional "mode", "dyprag").
Output: the typed `rag.types.Answer`; `stream` yields the generated text pieces first, then the `Answer`
(the conflict check and attribution need the finished text). Generator backends as LangChain chat models live in
rag/generators/langchain.py; the index as a LangChain retriever in rag/retrieval/langchain.py.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from rag.pipeline import Pipeline
from rag.types import Answer


class AnswerRunnable(Runnable[Any, Answer]):
    """Runs `Pipeline.answer` for LangChain callers (invoke, batch, stream, pipes)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @staticmethod
    def _unpack(value: Any) -> tuple[str, dict[str, Any]]:
        if isinstance(value, str):
            return value, {}
        if isinstance(value, dict) and isinstance(value.get("question"), str):
            return value["question"], {k: value[k] for k in ("mode", "dyprag") if k in value}
        raise TypeError(f"AnswerRunnable expects a question string or {{'question': ...}}, got {type(value).__name__}")

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        question, options = self._unpack(input)
        return self._call_with_config(lambda q: self.pipeline.answer(q, **options), question, config)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[str | Answer]:
        """Yield each generated text piece as the generator produces it, then the finished `Answer`.

        The pipeline runs in a worker thread that hands pieces over a queue; an error there is raised here.
        """
        question, options = self._unpack(input)
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

        def run() -> None:
            try:
                answer = self._call_with_config(
                    lambda q: self.pipeline.answer(q, on_token=lambda p: pieces.put(("piece", p)), **options),
                    question, config)
                pieces.put(("answer", answer))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread below
                pieces.put(("error", e))

        worker = threading.Thread(target=run, name="adaptrag-answer-stream", daemon=True)
        worker.start()
        while True:
            kind, value = pieces.get()
            if kind == "piece":
                yield value
                continue
            worker.join()
            if kind == "error":
                raise value
            yield value
            return
