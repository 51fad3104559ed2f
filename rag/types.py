"""Typed values that cross stage boundaries of the answer path.

decide -> Decision; retrieve -> Passage; generate -> Generation; conflict -> Conflict;
attribute -> Citation; the pipeline returns Answer. All are frozen dataclasses;
`Answer.to_json()` is the `adaptrag ask --json` contract of ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """A piece of an indexed document, with its character span in the document's text."""

    id: str  # stable: hash of (document id, start, end)
    doc_id: str  # the document it came from (its normalised source path, or a JSONL id)
    source: str  # file path (or JSONL source field) a user can open
    title: str  # document title or nearest heading
    text: str  # == document_text[start:end]
    start: int  # character offset into the document's extracted text
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores."""

    id: str
    source: str
    title: str
    text: str
    start: int  # character span in the source document's extracted text
    end: int
    score: float  # the fused score the ranking used
    scores: Mapping[str, float] = field(default_factory=dict)  # per retriever: "dense", "bm25"
    # the text of its document's other chunks found with it (rag/evidence.py `beside_their_document`): a match
    # report's teams and date, said in its first chunk, are what its later chunks are about
    beside: str = field(default="", compare=False, repr=False)
    # the start of its document (its first chunk, up to `HEAD_CHARS`) when the passage is a later chunk: a policy
    # summary's "Policy number: HLC-2093341" says whose excess table its later chunk holds (rag/retrieval/search.py)
    head: str = field(default="", compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "title": self.title, "text": self.text,
            "start": self.start, "end": self.end, "score": self.score, "scores": dict(self.scores),
        }


@dataclass(frozen=True)
class Generation:
    """What a generator produced for one request."""

    text: str  # the completion, stop string excluded
    tokens: tuple[str, ...] = ()  # generated tokens as text pieces
    token_logprobs: tuple[float, ...] = ()  # log-probability of each generated token
    top_logprobs: tuple[Mapping[str, float], ...] = ()  # per position: token text -> log-prob (top-n requested)
    prompt_tokens: int = 0
    finish_reason: str = "stop"  # "stop" | "length" | "clause" (GenerationRequest.first_clause)
    timings_ms: Mapping[str, float] = field(default_factory=dict)  # "prompt", "decode", "first_token"

    @property
    def mean_logprob(self) -> float:
        """Mean token log-probability: the confidence of the whole answer."""
        return sum(self.token_logprobs) / len(self.token_logprobs) if self.token_logprobs else float("-inf")


@dataclass(frozen=True)
class Decision:
    """Whether to retrieve for this question, and why."""

    retrieve: bool
    mode: str  # the mode actually used: adaptive | always | never
    ret_probability: float | None = None  # P(<RET>) at the first generated position; None if not computed
    reason: str = ""  # e.g. "router", "no router adapter: fell back to always"
    closed_book: Generation | None = None  # the generation that already started (kept when not retrieving)
    answer_adapter: str | None = None  # the LoRA adapter the retrieved answer should use (None = base model)
    memory_first: bool = False  # adaptive, nothing found could answer: memory answers when confident, and only
    # otherwise does the router's first token decide between memory and declining (`Decider.route`)
    ask_memory: bool = True  # False: the model's memory is not asked beside the passages (adaptive mode, about a name
    # the model's vocabulary holds only in pieces: it cannot know it, so its memory can neither answer nor conflict)


@dataclass(frozen=True)
class Citation:
    """An answer sentence and the passage span that supports it (or none: from model memory)."""

    sentence: str
    passage_id: str | None  # None = from model memory
    start: int  # character span in the passage's source document; -1 when from memory
    end: int
    source: str = ""
    score: float = 0.0  # support strength (0..1)
    sentence_start: int = 0  # character span of the sentence in the answer text
    sentence_end: int = 0
    cited: bool = False  # True when the model wrote the [n] marker itself

    @property
    def from_memory(self) -> bool:
        return self.passage_id is None

    def to_json(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence, "passage_id": self.passage_id, "start": self.start, "end": self.end,
            "source": self.source, "score": self.score, "from_memory": self.from_memory, "cited": self.cited,
        }


@dataclass(frozen=True)
class Conflict:
    """A clash between the model's memory and the documents, or between documents."""

    flagged: bool = False
    kind: str | None = None  # "memory_vs_documents" | "between_documents" | None
    parametric_answer: str | None = None  # closed-book answer with <RET> suppressed
    document_answer: str | None = None  # grounded answer
    score: float = 0.0  # calibrated probability of a conflict
    passage_ids: tuple[str, ...] = ()  # passages on the document side of the clash
    other_passage_ids: tuple[str, ...] = ()  # the other side of a between-documents clash
    parametric_confidence: float | None = None  # exp(mean token log-prob) of the closed-book answer
    available: bool = True  # False when the check did not run (no retrieval, disabled)
    detail: str = ""
    # how the model's memory stood beside the documents: "agrees", "disagrees" (a memory conflict), "unsure" (it
    # differs, but is not confident enough to count), "differs" (confident, but the check's score stayed below its
    # threshold), "no_answer" (no answer to this question to compare), or "" (not compared: the check did not
    # run, or no passage answers)
    memory_status: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged, "kind": self.kind, "parametric_answer": self.parametric_answer,
            "document_answer": self.document_answer, "score": self.score, "passage_ids": list(self.passage_ids),
            "other_passage_ids": list(self.other_passage_ids), "parametric_confidence": self.parametric_confidence,
            "available": self.available, "detail": self.detail, "memory_status": self.memory_status,
        }


@dataclass(frozen=True)
class Answer:
    """The result of one question through the answer path."""

    question: str
    answer: str
    retrieved: bool
    mode: str
    ret_probability: float | None = None
    passages: tuple[Passage, ...] = ()
    citations: tuple[Citation, ...] = ()
    conflict: Conflict = field(default_factory=lambda: Conflict(available=False))
    timings_ms: Mapping[str, float] = field(default_factory=dict)  # per stage + "total"
    dyprag: str = "off"
    dyprag_scale: float | None = None  # the injected delta's scale (inject.scale) when DyPRAG deltas were applied
    dropped_citations: int = 0  # [n] markers that named no passage
    dropped_passages: tuple[str, ...] = ()  # passage ids cut to fit the context window
    prompt_tokens: int = 0  # tokens processed over all generator calls
    warnings: tuple[str, ...] = ()
    model: str = ""
    abstained: bool = False  # the answer says the information is not available instead of answering
    answered_from: str = "documents"  # "documents" | "memory" | "none" (abstained) | "calculation" (rag/calculate.py)
    memory_confidence: float | None = None  # closed-book confidence, when the memory answer was computed
    searched_passages: int = 0  # adaptive mode: passages searched, none of which could answer (not retrieved)
    # a word of the question's subject the model's vocabulary holds only in pieces (rag.evidence.unfamiliar_name):
    # memory about it needs more confidence, and adaptive mode searches for it without the router
    unfamiliar_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question, "answer": self.answer, "retrieved": self.retrieved, "mode": self.mode,
            "ret_probability": self.ret_probability, "abstained": self.abstained, "passages": [p.to_json() for p in self.passages],
            "citations": [c.to_json() for c in self.citations], "conflict": self.conflict.to_json(),
            "timings_ms": dict(self.timings_ms), "dyprag": self.dyprag, "dyprag_scale": self.dyprag_scale,
            "dropped_citations": self.dropped_citations,
            "dropped_passages": list(self.dropped_passages), "prompt_tokens": self.prompt_tokens,
            "warnings": list(self.warnings), "model": self.model, "answered_from": self.answered_from,
            "memory_confidence": self.memory_confidence, "searched_passages": self.searched_passages,
            "unfamiliar_name": self.unfamiliar_name,
        }
