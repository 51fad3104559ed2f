"""The generator protocol: one interface, several backends (in-process transformers, vLLM).

Every stage of the answer path talks to a `Generator`:
- decide: `generate(GenerationRequest(prompt, top_logprobs=20, adapter=router))` and read
  `Generation.top_logprobs[0]` for P(<RET>) at the first generated position;
- generate: grounded answers with stop strings, streamed through `stream`;
- several answers at once (closed-book and grounded, per-passage answers) through `generate_batch`;
- conflict: closed-book answers with `<RET>` suppressed (`suppress`) and per-token log-probs;
- inject (DyPRAG): per-request LoRA weight deltas (`deltas`), applied for this request only.

Backends must behave the same: greedy text and top-n log-probs of the same prompt agree
(tests/rag/generators/suite.py runs one shared suite against each backend).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from rag.types import Generation


class GeneratorError(RuntimeError):
    """A generator failed in a way the user can fix; the message says how (URL, model, setting)."""


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class LoraDeltas:
    """Per-request low-rank weight deltas (DyPRAG): W x + B (A x) for each listed module.

    `weights` maps a module path (e.g. "model.layers.3.mlp.down_proj") to (A, B) with
    A: [rank, in_features] and B: [out_features, rank] (torch tensors, float32). No alpha/rank
    scale is applied (the DyPRAG reference injects B A directly; an exported PEFT adapter sets
    lora_alpha = r to match).
    """

    weights: Mapping[str, tuple[Any, Any]]
    rank: int
    name: str = "dyprag"  # used as the adapter name when served by vLLM


@dataclass(frozen=True)
class GenerationRequest:
    """One completion request. The prompt is already rendered (see `Generator.render_chat`)."""

    prompt: str
    max_new_tokens: int = 48
    stop: tuple[str, ...] = ()  # stop strings; the stop string is not part of the returned text
    top_logprobs: int = 0  # how many alternatives per position to return in Generation.top_logprobs
    suppress: tuple[str, ...] = ()  # strings whose first token may never be generated (e.g. "<RET>")
    adapter: str | None = None  # name of a LoRA adapter registered with the generator
    deltas: LoraDeltas | None = None  # per-request DyPRAG weights; the model is unchanged afterwards
    temperature: float = 0.0  # 0 = greedy
    # Stop once the answer's first clause is complete (rag.answer_match.first_clause: all the evidence stage reads
    # of a closed-book answer) and more has begun; finish_reason is then "clause" (the OpenAI-compatible backend
    # closes its stream there, which ends the server's request).
    first_clause: bool = False


@dataclass(frozen=True)
class StreamEvent:
    """A streamed piece of text; the last event carries the full `Generation`."""

    text: str
    generation: Generation | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str  # registry name or path
    backend: str  # "hf" | "openai"
    context_window: int  # tokens
    adapters: tuple[str, ...] = field(default_factory=tuple)  # registered LoRA adapter names


@runtime_checkable
class Generator(Protocol):
    """A text generator that exposes what adaptive RAG needs."""

    @property
    def info(self) -> ModelInfo: ...

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        """Render messages with the model's own chat template, ending with the assistant turn."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def generate(self, request: GenerationRequest) -> Generation: ...

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Generate several requests at once (one batched forward in-process, concurrent requests on a server).

        Results come in request order and equal `generate` of each request alone (greedy, float32);
        call it through `rag.generators.common.generate_all`, which also serves generators without it.
        """
        ...

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        """Yield text pieces as they are generated; the last event has `generation` set."""
        ...

    def load_adapter(self, name: str, path: str) -> None:
        """Register a PEFT LoRA adapter folder under `name` for `GenerationRequest.adapter`."""
        ...
