"""The answer path for one question: decide -> retrieve -> (inject) -> evidence -> (topic, locate) -> answer -> conflict
-> attribute.

    pipeline = Pipeline.from_config(load_config())
    answer = pipeline.answer("Who wrote Dracula?")          # -> rag.types.Answer
    print(answer.to_json())                                  # the `adaptrag ask --json` object

Flow:
- calculate: a request that is only a sum ("What is 58 - 11?") or a small task a rule does exactly ("spell necessary
  backwards", "how many metres is 3.5 km", "Put these in alphabetical order: ...") is answered in every mode, with
  no search and no model call (rag/calculate.py, rag/word_tasks.py; decide.calculator = false turns it off).
- decide: in `adaptive` mode the index is searched first; passages that could answer (they name what is
  asked, rag.evidence.readable) are always read. When none could, a confident closed-book answer stands, and
  only an unsure one is put to the router: its first-token probability of <RET> decides between that memory
  answer and an abstention (rag/decide.py `route`).
- retrieve: hybrid search (or passages given by the caller, e.g. an evaluation). A question typed in lower case is
  read from here on with its names spelt as the passages found spell them (rag/recase.py).
- evidence (rag/evidence.py): one batch of short generations: the closed-book answer and one reading per
  passage (that passage alone, focused on the sentences near the question's words), each with a calibrated
  probability that the passage answers the question.
- topic: a request naming no subject is answered only by passages with a line close in meaning to it ("How many
  hours are there in one day?" is not answered by "A guest permit expires after 72 hours"); when such a passage
  is found yet none answers, memory must be as sure as about a subject the documents name (rag.evidence.on_topic).
- locate (rag/locate.py, rag/located.py): when no reading answers and memory is unsure, the passage line closest in
  meaning to the question (a sentence, a table row) answers if close enough; a model reading whose value stands on a
  line far from a value question gives way to its passage's closest line stating another; and another document's
  line stating a different value joins a one-document answer for the conflict check. No model call.
- answer, one of three:
  - some passage answers: the answer is the best reading (citing its passage), plus the other side when
    two documents disagree. Nothing is generated twice: the reading already is the grounded answer.
    With DyPRAG deltas or a router that answers, that answer is generated once more with them;
  - no passage answers and memory is confident: the closed-book answer, labelled as memory;
  - otherwise: an abstention that says what was searched.
- conflict (rag/conflict.py): memory vs the answering passages, and answering passages among themselves,
  from the evidence (no model call), before the answer is returned.
- attribute: each sentence -> supporting passage span, or "from model memory".
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, get_args

from rag import evidence as ev
from rag import located, prompts
from rag.answer_text import STOPS, clean_answer
from rag.answer_trim import stated
from rag.attribute import Attributor
from rag.calculate import calculate
from rag.config import Config, DyPRAGMode, Mode
from rag.generators.base import GenerationRequest, Generator, LoraDeltas
from rag.generators.common import generate_streamed
from rag.locate import remembered, similarity
from rag.recase import recased
from rag.types import Answer, Conflict, Decision, Generation, Passage
from rag.word_tasks import solve

log = logging.getLogger(__name__)

MODES: tuple[str, ...] = get_args(Mode)  # adaptive, always, never (rag/config.py)
DYPRAG_MODES: tuple[str, ...] = get_args(DyPRAGMode)  # off, inject, combine
_CITE = re.compile(r"\[\d+\]")


class PipelineError(RuntimeError):
    """A user-fixable problem with the answer path (empty index, bad mode); the message says what to do."""


class DeciderLike(Protocol):
    def decide(self, question: str, mode: str, readable: int = 0, unfamiliar: str = "",
               memory_first: bool = False) -> Decision: ...

    def route(self, question: str) -> Decision: ...


class RetrieverLike(Protocol):
    def search(self, query: str, k: int) -> list[Passage]: ...


class ConflictLike(Protocol):
    def check_evidence(self, question: str, evidence: ev.Evidence, document_answer: str = "") -> Conflict: ...


class InjectorLike(Protocol):
    def deltas(self, passages: Sequence[Passage]) -> LoraDeltas | None: ...


@dataclass
class _Run:
    """What one answer accumulates across stages: timings and warnings for the user, and the embedding of text
    in meaning (None without an embedder), each distinct line embedded once (rag.locate.remembered)."""

    embed: Callable[[Sequence[str]], Any] | None = None
    t0: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage; a stage entered twice (the router asked after the evidence) adds up."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + _ms(t), 2)

    def add_generation(self, gen: Generation) -> None:
        for k, v in gen.timings_ms.items():
            self.timings[f"generate_{k}"] = v

    def total(self) -> dict[str, float]:
        self.timings["total"] = _ms(self.t0)
        return self.timings


class Pipeline:
    """Wires the stages together. Stages are built by `from_config`; tests may pass their own."""

    def __init__(self, cfg: Config, generator: Generator, *, retriever: RetrieverLike | None = None,
                 decider: DeciderLike | None = None, conflict: ConflictLike | None = None,
                 attributor: Attributor | None = None, injector: InjectorLike | None = None) -> None:
        self.cfg = cfg
        self.generator = generator
        self._retriever = retriever
        if decider is None:
            from rag.decide import Decider

            decider = Decider(generator, cfg)
        self.decider = decider
        self.conflict = conflict
        self.attributor = attributor or Attributor(None)
        self._injector = injector

    @classmethod
    def from_config(cls, cfg: Config) -> Pipeline:
        from indexing.embed import Embedder
        from rag.generators import make_generator

        generator = make_generator(cfg.model, cfg.generation)
        embedder = Embedder.shared(cfg.index.embedding_model, cfg.index.embed_batch_size)
        conflict = None
        if cfg.conflict.enabled:
            from rag.conflict import ConflictChecker

            conflict = ConflictChecker(generator, embedder, cfg)
        return cls(cfg, generator, conflict=conflict, attributor=Attributor(embedder))

    # -- lazily built stages: an answer from memory needs no index, `off` needs no translator
    @property
    def retriever(self) -> RetrieverLike:
        if self._retriever is None:
            from rag.retrieval import open_retriever

            self._retriever = open_retriever(self.cfg)
        return self._retriever

    @property
    def injector(self) -> InjectorLike:
        """Built when a question first asks for DyPRAG (answer(dyprag=...) may, with inject.dyprag = off)."""
        if self._injector is None:
            from rag.inject import Injector

            self._injector = Injector(self.generator, self.cfg, enabled=True)
        return self._injector

    # -- the answer path ------------------------------------------------------------------------------

    def answer(self, question: str, *, mode: str | None = None, dyprag: str | None = None,
               passages: Sequence[Passage] | None = None, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer one question.

        Args:
            question: the user's question.
            mode: adaptive | always | never; None = cfg.decide.mode.
            dyprag: off | inject | combine; None = cfg.inject.dyprag.
            passages: use these instead of searching the index (evaluations with given passages).
            on_token: called with the answer's text pieces (streaming UIs).
        """
        question, mode, dyprag = self._validated(question, mode, dyprag)
        if self.cfg.decide.calculator and (calculated := self._calculated(question, mode, on_token)) is not None:
            return calculated
        count = self.generator.count_tokens
        answer = self._answer(question, mode, dyprag, passages, on_token, ev.unfamiliar_name(count, question))
        # the answer path read the question with its names spelt as the documents spell them (rag/recase.py)
        return replace(answer, question=question, unfamiliar_name=ev.unfamiliar_name(count, answer.question))

    def _answer(self, question: str, mode: str, dyprag: str, passages: Sequence[Passage] | None,
                on_token: Callable[[str], None] | None, unfamiliar: str) -> Answer:
        embedder = self.attributor.embedder
        run = _Run(embed=remembered(embedder.embed) if embedder is not None else None)

        found: list[Passage] | None = None
        readable = 0
        if mode == "adaptive":  # the index's say first: passages that could answer are read (rag/decide.py)
            with run.stage("retrieve"):
                found = self._search(question, passages)
            question, unfamiliar = self._recased(question, found, unfamiliar)
            readable = self._readable(question, found, run)
        if mode == "never" and on_token is not None:  # the memory answer is streamed as it is written (_from_memory)
            decision = Decision(False, "never", None, "mode never: answering from memory")
        else:
            with run.stage("decide"):
                decision = self.decider.decide(question, mode, readable=readable, unfamiliar=unfamiliar,
                                               memory_first=True)
        if decision.mode != mode:  # e.g. adaptive without a router adapter falls back to always
            run.warnings.append(decision.reason)
        if not decision.retrieve:
            return self._from_memory(question, decision, decision.closed_book, run, on_token, dyprag,
                                     searched=len(found or ()))

        if found is None:
            with run.stage("retrieve"):
                found = self._search(question, passages)
            question, unfamiliar = self._recased(question, found, unfamiliar)
        if not found:
            return self._nothing_found(question, decision, run, on_token, dyprag, unfamiliar)

        with run.stage("evidence"):
            evidence = ev.gather(self.generator, self.cfg, question, found, closed_book=decision.closed_book,
                                 unfamiliar=unfamiliar, memory=decision.ask_memory,
                                 similar=similarity(run.embed) if run.embed is not None else None)
        calibration = ev.load_calibration(self.cfg.conflict.evidence_calibration or None)
        if run.embed is not None and not ev.names_a_subject(question):
            with run.stage("topic"):  # a request naming nothing: only passages that speak of what it asks answer
                evidence = ev.on_topic(question, evidence, run.embed, calibration, passages=found)
        if not evidence.answering and not located.surely_remembered(question, evidence, calibration) and run.embed is not None:
            with run.stage("locate"):  # no reading answers: the line closest in meaning, if close enough
                evidence = located.with_located(question, found, evidence, run.embed, calibration)
        elif evidence.answering and run.embed is not None:
            with run.stage("locate"):  # a reading that took its value from a line far from the question
                evidence = located.with_closer_line(question, found, evidence, run.embed, calibration)
        if evidence.answering and run.embed is not None and self.cfg.conflict.enabled:
            with run.stage("locate"):  # one document answers (read or located): does another state a different value?
                evidence = located.with_second_value(question, found, evidence, run.embed, calibration)
        answering = evidence.answering
        if not answering:
            if not evidence.memory_confident:
                decision = self._route_unsure(question, decision, run)
            if decision.mode == "adaptive" and not readable and (evidence.memory_confident or not decision.retrieve):
                # adaptive: nothing found could answer, so this is a memory answer, not a retrieved one
                return self._from_memory(question, decision, evidence.memory, run, on_token, dyprag,
                                         searched=len(found), memory_confidence=evidence.memory_confidence)
            if evidence.memory_confident:  # answered_from="memory" with passages: the UI and CLI say so
                return self._from_memory(question, decision, evidence.memory, run, on_token, dyprag, passages=found,
                                         memory_confidence=evidence.memory_confidence)
            return self._abstain(question, decision, found, evidence, run, on_token)

        conflict = Conflict(available=False, detail="conflict check disabled")
        if self.conflict is not None:
            with run.stage("conflict"):
                conflict = self.conflict.check_evidence(question, evidence)

        deltas = self._deltas(found, dyprag, run)
        adapter = None if deltas is not None else decision.answer_adapter  # one LoRA per request
        dropped: list[str] = []
        prompt_tokens = evidence.prompt_tokens
        if deltas is None and adapter is None:
            text = _compose(question, found, answering, conflict)
        else:
            in_prompt = [] if dyprag == "inject" else [_as_read(question, r, found) for r in answering]
            messages = self._answer_prompt(question, in_prompt, adapter) if in_prompt else prompts.closed_book(question)
            prompt, kept, dropped = self._fit(question, messages, in_prompt, adapter)
            if dropped:
                run.warnings.append(f"context window: left out {len(dropped)} least relevant passage(s): "
                                    f"{', '.join(dropped)}")
            with run.stage("generate"):
                gen = self._generate(GenerationRequest(
                    prompt=prompt, max_new_tokens=self.cfg.generation.max_new_tokens, stop=STOPS, deltas=deltas,
                    adapter=adapter, temperature=self.cfg.generation.temperature,
                ), on_token)
            run.add_generation(gen)
            prompt_tokens += gen.prompt_tokens
            text = _renumber(clean_answer(gen.text), kept, found) if in_prompt else clean_answer(gen.text)
            on_token = None  # already streamed
        if on_token is not None:
            _emit(text, on_token)

        with run.stage("attribute"):
            # a reading's sentence is looked for in the part of its passage the model read (exact offsets kept)
            read = {r.passage.id: r.passage for r in answering} if deltas is None and adapter is None else {}
            attribution = self.attributor.run(text, [read.get(p.id, p) for p in found])
        return Answer(
            question=question, answer=text, retrieved=True, mode=decision.mode,
            ret_probability=decision.ret_probability, passages=tuple(found), citations=attribution.citations,
            conflict=conflict, timings_ms=run.total(), dyprag=dyprag,
            dyprag_scale=getattr(self.injector, "scale", None) if deltas is not None else None,
            dropped_citations=attribution.dropped_citations, dropped_passages=tuple(dropped),
            prompt_tokens=prompt_tokens, warnings=tuple(run.warnings), model=self.generator.info.name,
            memory_confidence=evidence.memory_confidence if evidence.memory_asked else None,
        )

    # -- stages ---------------------------------------------------------------------------------------

    def _validated(self, question: str, mode: str | None, dyprag: str | None) -> tuple[str, str, str]:
        question = question.strip()
        if not question:
            raise PipelineError("the question is empty")
        mode = mode or self.cfg.decide.mode
        dyprag = dyprag or self.cfg.inject.dyprag
        if mode not in MODES:
            raise PipelineError(f"invalid mode {mode!r}; allowed: {', '.join(MODES)}")
        if dyprag not in DYPRAG_MODES:
            raise PipelineError(f"invalid dyprag mode {dyprag!r}; allowed: {', '.join(DYPRAG_MODES)}")
        return question, mode, dyprag

    def _deltas(self, found: Sequence[Passage], dyprag: str, run: _Run) -> LoraDeltas | None:
        if dyprag == "off":
            return None
        with run.stage("inject"):
            return self.injector.deltas(found)

    def _search(self, question: str, given: Sequence[Passage] | None) -> list[Passage]:
        return list(given) if given is not None else self.retriever.search(question, self.cfg.retrieval.top_k)

    def _readable(self, question: str, found: Sequence[Passage], run: _Run) -> int:
        """Adaptive mode: how many passages found could answer (rag.evidence.readable). For a request naming no
        subject, only those with a line close in meaning to it (rag.evidence.on_topic's test, before reading): "How
        many hours are there in one day?" shares "hours" with a parking permit's rules, and reading them would only
        cost time (always mode reads them, and sets their readings aside). A question about the user's own affairs
        ("which day do they empty the brown bins on our road") is read like one naming its subject: the documents
        are its only source."""
        if run.embed is None or ev.looks_something_up(question):
            return ev.readable(self.cfg, question, found)
        with run.stage("topic"):
            return ev.topical(self.cfg, question, found, run.embed)

    def _recased(self, question: str, found: Sequence[Passage], unfamiliar: str) -> tuple[str, str]:
        """The question with the names it types in lower case spelt as the passages found spell them
        (rag/recase.py: "the marrowgate hotel" -> "the Marrowgate Hotel"), and the unfamiliar name it then names."""
        asked = recased(question, [p.text for p in found])
        if asked == question:
            return question, unfamiliar
        return asked, ev.unfamiliar_name(self.generator.count_tokens, asked)

    def _from_memory(self, question: str, decision: Decision, gen: Generation | None, run: _Run,
                     on_token: Callable[[str], None] | None, dyprag: str, *, passages: Sequence[Passage] = (),
                     memory_confidence: float | None = None, searched: int = 0) -> Answer:
        """The closed-book answer; `gen` is reused when it is a real answer (never the router's <RET>).
        `passages`: shown with it (always mode); `searched`: searched but none could answer (adaptive)."""
        streamed = False
        request = ev.closed_book_request(self.generator, question, self.cfg.generation.max_new_tokens)
        if gen is None or ev.is_ret_generation(gen) or not gen.text.strip():
            with run.stage("generate"):  # streamed as it is written
                gen = self._generate(request, on_token)
            streamed = on_token is not None
        elif gen.finish_reason == "clause":  # read beside passages, it stopped after its first clause
            if on_token is not None:
                _emit(clean_answer(gen.text), on_token)
            with run.stage("generate"):  # the rest, streamed as it is written
                gen = ev.completed(self.generator, request, gen, on_token)
            streamed = on_token is not None
        text = clean_answer(gen.text)
        if on_token is not None and not streamed:
            _emit(text, on_token)
        run.add_generation(gen)
        citations = self.attributor.run(text, ()).citations
        return Answer(
            question=question, answer=text, retrieved=bool(passages), mode=decision.mode,
            ret_probability=decision.ret_probability, passages=tuple(passages), citations=citations,
            conflict=Conflict(available=False, detail="no passage answers: nothing to compare" if passages
                              else "no documents retrieved: nothing to compare"),
            timings_ms=run.total(), dyprag="off" if dyprag == "off" else f"{dyprag} (not used: no retrieval)",
            prompt_tokens=gen.prompt_tokens, warnings=tuple(run.warnings), model=self.generator.info.name,
            answered_from="memory", memory_confidence=memory_confidence, searched_passages=searched,
        )

    def _route_unsure(self, question: str, decision: Decision, run: _Run) -> Decision:
        """Memory is unsure: a `memory_first` decision asks the router whether the model knows (rag/decide.py
        `route`); any other decision stands."""
        if not decision.memory_first:
            return decision
        with run.stage("decide"):
            return replace(self.decider.route(question), reason=f"{decision.reason}; memory unsure")

    def _calculated(self, question: str, mode: str, on_token: Callable[[str], None] | None) -> Answer | None:
        """A request that is only a sum or a small task a rule does: its exact result, with no search and no model
        call (rag/calculate.py, rag/word_tasks.py); None for anything else."""
        run = _Run()
        with run.stage("calculate"):
            calculation = calculate(question) or solve(question)
        if calculation is None:
            return None
        text = calculation.text
        if on_token is not None:
            _emit(text, on_token)
        return Answer(
            question=question, answer=text, retrieved=False, mode=mode,
            conflict=Conflict(available=False, detail="calculated: nothing to compare"), timings_ms=run.total(),
            model=self.generator.info.name, answered_from="calculation",
        )

    def _nothing_found(self, question: str, decision: Decision, run: _Run, on_token: Callable[[str], None] | None,
                       dyprag: str, unfamiliar: str) -> Answer:
        """The index returned no passage (it is empty, or nothing matched): the closed-book answer when memory may
        stand by the same rule as when no passage answers (`evidence.memory_usable`), else an abstention that
        says the index had nothing. "There were 171 bakeries in Sweden in 1710." is no answer on an empty index
        either."""
        where = f"the index at {self.cfg.index_path()}"
        with run.stage("generate"):
            gen = self.generator.generate(ev.closed_book_request(
                self.generator, question, self.cfg.generation.max_new_tokens))
        calib = ev.load_calibration(self.cfg.conflict.evidence_calibration or None)
        confidence = round(ev.answer_confidence(gen, question), 4)
        empty = f"no passages found in {where}: it is empty (add documents with `adaptrag index add PATH`) or " \
                "nothing matched"
        usable = ev.memory_usable(question, ev.memory_value(question, gen.text), confidence, calib["memory_threshold"],
                                  unfamiliar=bool(unfamiliar),
                                  unfamiliar_threshold=calib.get("memory_threshold_unfamiliar"),
                                  familiar=ev.familiar_subject(self.generator.count_tokens, question),
                                  familiar_threshold=calib.get("memory_threshold_familiar"))
        if not usable:
            decision = self._route_unsure(question, decision, run)
        if usable or not decision.retrieve:
            run.warnings.append(f"{empty}; answering from memory")
            return self._from_memory(question, decision, gen, run, on_token, dyprag, memory_confidence=confidence)
        run.warnings.append(empty)
        text = ("I couldn't find anything about this in your documents (the search returned no passages), and I'm "
                "not confident enough to answer from memory.")
        if on_token is not None:
            on_token(text)
        return Answer(
            question=question, answer=text, retrieved=True, mode=decision.mode,
            ret_probability=decision.ret_probability,
            conflict=Conflict(available=False, detail="abstained: no passages were found"),
            timings_ms=run.total(), prompt_tokens=gen.prompt_tokens, warnings=tuple(run.warnings),
            model=self.generator.info.name, abstained=True, answered_from="none", memory_confidence=confidence,
        )

    def _abstain(self, question: str, decision: Decision, found: Sequence[Passage], evidence: ev.Evidence,
                 run: _Run, on_token: Callable[[str], None] | None) -> Answer:
        """No passage answers and memory is not confident: say so instead of inventing an answer."""
        n = len(found)
        text = (f"I couldn't find this in your documents (searched {n} passage{'s' if n != 1 else ''}), "
                "and I'm not confident enough to answer from memory.")
        if on_token is not None:
            on_token(text)
        return Answer(
            question=question, answer=text, retrieved=True, mode=decision.mode,
            ret_probability=decision.ret_probability, passages=tuple(found),
            conflict=Conflict(available=False, detail="abstained: no retrieved passage answers the question"),
            timings_ms=run.total(), prompt_tokens=evidence.prompt_tokens, warnings=tuple(run.warnings),
            model=self.generator.info.name, abstained=True, answered_from="none",
            memory_confidence=evidence.memory_confidence if evidence.memory_asked else None,
        )

    def _generate(self, request: GenerationRequest, on_token: Callable[[str], None] | None) -> Generation:
        return generate_streamed(self.generator, request, on_token)

    def _answer_prompt(self, question: str, passages: Sequence[Passage], adapter: str | None):
        from rag.decide import Decider

        return Decider.answer_prompt(question, passages, adapter)

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


def _compose(question: str, found: Sequence[Passage], answering: Sequence[ev.Reading], conflict: Conflict) -> str:
    """The answer from the readings: the best one as its passage states it (rag/answer_trim.py), citing the
    passage by its number in `found`; when two documents disagree, the other side too, so the answer itself
    does not pick a winner silently."""
    numbers = {p.id: i for i, p in enumerate(found, start=1)}

    def cited(r: ev.Reading) -> str:  # a located line is the document's own words: shown as they stand
        text = r.text if r.located else stated(question, r.text, r.passage)
        return _cite(" ".join(text.split()), numbers.get(r.passage.id, 1))  # a wrapped line's break is a space

    best = answering[0]
    if conflict.flagged and conflict.kind == "between_documents":
        one = next((r for r in answering if r.passage.id in conflict.passage_ids), None)
        other = next((r for r in answering if r.passage.id in conflict.other_passage_ids), None)
        if one is not None and other is not None:
            whole = {p.id: p for p in found}
            if _updates(whole.get(other.passage.id, other.passage)) and not _updates(
                    whole.get(one.passage.id, one.passage)):
                one, other = other, one  # the email that reschedules comes first, the letter it changes after
            return f"{cited(one)} Another document says: {cited(other)}"
    return cited(best)


# a document announcing a change: "The boiler service ... is now on Thursday 16 October", "has been rescheduled"
_UPDATE = re.compile(r"\b(?:now|rescheduled|re-scheduled|postponed|brought forward|moved to|changed|change of|"
                     r"updated?|correction|corrected|revised|instead|no longer|new (?:date|time|price|venue))\b",
                     re.IGNORECASE)


def _updates(passage: Passage) -> bool:
    """Whether a passage announces a change (`_UPDATE`), so that of two documents disagreeing it is the newer word."""
    return _UPDATE.search(f"{passage.title}\n{passage.text}") is not None


def _as_read(question: str, reading: ev.Reading, found: Sequence[Passage]) -> Passage:
    """The passage of a reading as the model reads it (focused): a quote's is narrowed to its one sentence, but a
    generated answer (DyPRAG, an answer adapter) reads the passage around it, as for any reading."""
    if not reading.quoted:
        return reading.passage
    whole = next((p for p in found if p.id == reading.passage.id), reading.passage)
    return ev.focus(whole, ev.question_terms(question))


def _cite(text: str, n: int) -> str:
    """A reading cites its only passage as [1] (or not at all): make it [n], at the end when missing."""
    text = _CITE.sub(f"[{n}]", text).strip()
    if f"[{n}]" in text:
        return text
    body = text.rstrip(" .")
    return f"{body} [{n}]." if body else text


def _renumber(text: str, kept: Sequence[Passage], found: Sequence[Passage]) -> str:
    """[i] over the prompt's passages -> [n] over the answer's passages (the prompt held the answering ones)."""
    numbers = {p.id: i for i, p in enumerate(found, start=1)}

    def sub(m: re.Match[str]) -> str:
        i = int(m.group()[1:-1])
        return f"[{numbers.get(kept[i - 1].id, i)}]" if 1 <= i <= len(kept) else m.group()

    return _CITE.sub(sub, text)


def _emit(text: str, on_token: Callable[[str], None]) -> None:
    """Hand an already written answer to a streaming caller word by word (it renders as it arrives)."""
    for piece in re.findall(r"\S+\s*", text) or [text]:
        on_token(piece)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)
