"""The answer path for one question: decide -> retrieve -> (inject) -> generate -> check conflicts -> attribute.

    pipeline = Pipeline.from_config(load_config())
    answer = pipeline.answer("Who wrote Dracula?")          # -> rag.types.Answer
    print(answer.to_json())                                  # the `adaptrag ask --json` object

Flow:
- decide: the generator reads the closed-book prompt; in `adaptive` mode its first-token
  probability of <RET> decides. Not retrieving: the generation that already started is the answer.
- retrieve: hybrid search (or passages given by the caller, e.g. an evaluation).
- inject (DyPRAG `inject`/`combine`): passages become per-question LoRA deltas. A server serves one LoRA
  per request (vLLM), so the router adapter only decides and the deltas answer on the base model (in
  every backend alike): router call with the router adapter, answer call with the DyPRAG adapter.
- generate: the grounded answer citing [n] (streamed through `on_token`).
- conflict: memory vs documents, documents vs documents, before the answer is returned.
- attribute: each sentence -> supporting passage span, or "from model memory".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from rag import prompts
from rag.answer_text import STOPS, clean_answer
from rag.attribute import Attributor
from rag.config import Config
from rag.generators.base import GenerationRequest, Generator, LoraDeltas
from rag.types import Answer, Citation, Conflict, Decision, Generation, Passage

log = logging.getLogger(__name__)

MODES = ("adaptive", "always", "never")
DYPRAG_MODES = ("off", "inject", "combine")


class PipelineError(RuntimeError):
    """A user-fixable problem with the answer path (empty index, bad mode); the message says what to do."""


class Pipeline:
    """Wires the stages together. Stages are built by `from_config`; tests may pass their own."""

    def __init__(self, cfg: Config, generator: Generator, *, retriever=None, decider=None, conflict=None,
                 attributor: Attributor | None = None, injector=None) -> None:
        self.cfg = cfg
        self.generator = generator
        self._retriever = retriever
        self.decider = decider
        self.conflict = conflict
        self.attributor = attributor or Attributor(None)
        self._injector = injector

    @classmethod
    def from_config(cls, cfg: Config) -> Pipeline:
        from indexing.embed import Embedder
        from rag.decide import Decider
        from rag.generators import make_generator

        generator = make_generator(cfg.model, cfg.generation)
        embedder = Embedder.shared(cfg.index.embedding_model, cfg.index.embed_batch_size)
        conflict = None
        if cfg.conflict.enabled:
            from rag.conflict import ConflictChecker

            conflict = ConflictChecker(generator, embedder, cfg)
        return cls(cfg, generator, decider=Decider(generator, cfg), conflict=conflict, attributor=Attributor(embedder))

    # -- lazily built stages: an answer from memory needs no index, `off` needs no translator
    @property
    def retriever(self):
        if self._retriever is None:
            from rag.retrieval import open_retriever

            self._retriever = open_retriever(self.cfg)
        return self._retriever

    @property
    def injector(self):
        """Built when a question first asks for DyPRAG, which answer(dyprag=...) may do with inject.dyprag = off."""
        if self._injector is None:
            from rag.inject import Injector

            cfg = self.cfg
            if cfg.inject.dyprag == "off":  # an Injector built with "off" is disabled: deltas() returns None
                cfg = replace(cfg, inject=replace(cfg.inject, dyprag="combine"))  # inject vs combine is ours
            self._injector = Injector(self.generator, cfg)
        return self._injector

    def answer(self, question: str, *, mode: str | None = None, dyprag: str | None = None,
               passages: Sequence[Passage] | None = None, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer one question.

        Args:
            question: the user's question.
            mode: adaptive | always | never; None = cfg.decide.mode.
            dyprag: off | inject | combine; None = cfg.inject.dyprag.
            passages: use these instead of searching the index (evaluations with given passages).
            on_token: called with each generated text piece (streaming UIs).
        """
        question = question.strip()
        if not question:
            raise PipelineError("the question is empty")
        mode = mode or self.cfg.decide.mode
        dyprag = dyprag or self.cfg.inject.dyprag
        if mode not in MODES:
            raise PipelineError(f"invalid mode {mode!r}; allowed: {', '.join(MODES)}")
        if dyprag not in DYPRAG_MODES:
            raise PipelineError(f"invalid dyprag mode {dyprag!r}; allowed: {', '.join(DYPRAG_MODES)}")
        timings: dict[str, float] = {}
        warnings: list[str] = []
        t0 = time.perf_counter()

        with _timed(timings, "decide"):
            decision: Decision = self.decider.decide(question, mode)
        if decision.mode != mode:  # e.g. adaptive without a router adapter falls back to always
            warnings.append(decision.reason)
        if not decision.retrieve:
            return self._from_memory(question, decision, timings, warnings, t0, on_token, dyprag)

        with _timed(timings, "retrieve"):
            found = list(passages) if passages is not None else self.retriever.search(question, self.cfg.retrieval.top_k)
        if not found:
            warnings.append(
                f"no passages found in the index at {self.cfg.index_path()}: it is empty (add documents with "
                "`adaptrag index add PATH`) or nothing matched; answering from memory"
            )
            closed = decision.closed_book
            if closed is None or not closed.text.strip():  # always-mode, or a router that only wanted <RET>
                closed = self._closed_book(question)
            return self._from_memory(question, replace(decision, closed_book=closed), timings, warnings, t0,
                                     on_token, dyprag)

        deltas: LoraDeltas | None = None
        if dyprag != "off":
            with _timed(timings, "inject"):
                deltas = self.injector.deltas(found)
        # one LoRA per request: with DyPRAG deltas the answer never also uses the router adapter
        adapter = None if deltas is not None else getattr(self.decider, "answer_adapter", None)
        in_prompt = [] if dyprag == "inject" else found
        messages = self._answer_prompt(question, in_prompt, adapter) if in_prompt else prompts.closed_book(question)
        prompt, kept, dropped = self._fit(question, messages, in_prompt, adapter)
        if dropped:
            warnings.append(f"context window: left out {len(dropped)} least relevant passage(s): {', '.join(dropped)}")
        if in_prompt:
            found = kept

        with _timed(timings, "generate"):
            gen = self._generate(GenerationRequest(
                prompt=prompt, max_new_tokens=self.cfg.generation.max_new_tokens, stop=_STOPS, deltas=deltas,
                adapter=adapter, temperature=self.cfg.generation.temperature,
            ), on_token)
        text = clean_answer(gen.text)
        for k, v in gen.timings_ms.items():
            timings[f"generate_{k}"] = v

        conflict = Conflict(available=False, detail="conflict check disabled")
        if self.conflict is not None:
            with _timed(timings, "conflict"):
                conflict = self.conflict.check(question, found, text, decision.closed_book)

        with _timed(timings, "attribute"):
            attribution = self.attributor.run(text, found)
        timings["total"] = _ms(t0)
        prompt_tokens = gen.prompt_tokens + (decision.closed_book.prompt_tokens if decision.closed_book else 0)
        return Answer(
            question=question, answer=text, retrieved=True, mode=decision.mode,
            ret_probability=decision.ret_probability, passages=tuple(found), citations=attribution.citations,
            conflict=conflict, timings_ms=timings, dyprag=dyprag,
            dyprag_scale=getattr(self.injector, "scale", None) if deltas is not None else None,
            dropped_citations=attribution.dropped_citations,
            dropped_passages=tuple(dropped), prompt_tokens=prompt_tokens, warnings=tuple(warnings),
            model=self.generator.info.name,
        )

    def _from_memory(self, question: str, decision: Decision, timings: dict[str, float], warnings: list[str],
                     t0: float, on_token: Callable[[str], None] | None, dyprag: str) -> Answer:
        gen = decision.closed_book or self._closed_book(question)
        text = clean_answer(gen.text)
        if on_token is not None:
            on_token(text)  # the generation already happened while deciding
        for k, v in gen.timings_ms.items():
            timings[f"generate_{k}"] = v
        citations = tuple(
            Citation(text[s:e], None, -1, -1, sentence_start=s, sentence_end=e)
            for s, e in _sentences(text)
        )
        timings["total"] = _ms(t0)
        return Answer(
            question=question, answer=text, retrieved=False, mode=decision.mode,
            ret_probability=decision.ret_probability, citations=citations,
            conflict=Conflict(available=False, detail="no documents retrieved: nothing to compare"),
            timings_ms=timings, dyprag="off" if dyprag == "off" else f"{dyprag} (not used: no retrieval)",
            prompt_tokens=gen.prompt_tokens, warnings=tuple(warnings), model=self.generator.info.name,
        )

    def _closed_book(self, question: str) -> Generation:
        prompt = self.generator.render_chat(prompts.closed_book(question))
        return self.generator.generate(GenerationRequest(
            prompt=prompt, max_new_tokens=self.cfg.generation.max_new_tokens, stop=_STOPS,
            suppress=(prompts.RET_TOKEN,), top_logprobs=1,
        ))

    def _generate(self, request: GenerationRequest, on_token: Callable[[str], None] | None) -> Generation:
        if on_token is None:
            return self.generator.generate(request)
        final: Generation | None = None
        for event in self.generator.stream(request):
            if event.generation is not None:
                final = event.generation
            elif event.text:
                on_token(event.text)
        if final is None:
            raise PipelineError("the generator's stream ended without a final result")
        return final

    def _answer_prompt(self, question: str, passages: Sequence[Passage], adapter: str | None):
        """The decider's prompt for its answer adapter; the grounded prompt when the base model answers."""
        return self.decider.answer_prompt(question, passages) if adapter is not None else \
            prompts.grounded(question, passages)

    def _fit(self, question: str, messages, passages: list[Passage],
             adapter: str | None = None) -> tuple[str, list[Passage], list[str]]:
        """Render the prompt, leaving out the least relevant passages until it fits the context window."""
        window = self.generator.info.context_window - self.cfg.generation.max_new_tokens
        budget = self.cfg.generation.context_tokens
        kept = list(passages)
        dropped: list[str] = []
        prompt = self.generator.render_chat(messages)
        while kept:
            tokens = self.generator.count_tokens(prompt)
            passage_tokens = sum(self.generator.count_tokens(p.text) for p in kept)
            if tokens <= window and (passage_tokens <= budget or len(kept) == 1):
                break
            if len(kept) == 1:  # one passage alone is too long: keep its beginning
                p = kept[0]
                keep_chars = max(200, int(len(p.text) * min(window, budget) / max(tokens, 1) * 0.9))
                if keep_chars >= len(p.text):
                    break
                kept = [replace(p, text=p.text[:keep_chars], end=p.start + keep_chars)]
                dropped.append(f"{p.id} (truncated)")
            else:
                dropped.append(kept.pop().id)
            prompt = self.generator.render_chat(self._answer_prompt(question, kept, adapter))
        return prompt, kept, dropped


_STOPS = STOPS  # rag/answer_text.py: where generated text stops being an answer


def _sentences(text: str) -> list[tuple[int, int]]:
    from rag.attribute import split_sentences

    return split_sentences(text) or ([(0, len(text))] if text else [])


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = _ms(t0)
