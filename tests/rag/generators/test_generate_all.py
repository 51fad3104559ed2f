"""`generate_all`: batched generation through any generator, with or without `generate_batch`."""

from __future__ import annotations

from rag.generators import GenerationRequest
from rag.generators.common import generate_all
from rag.types import Generation


class LoopOnly:
    """A generator neighbour without `generate_batch` (as test fakes and wrappers are): echoes the prompt."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def generate(self, request: GenerationRequest) -> Generation:
        self.calls.append(request.prompt)
        return Generation(text=request.prompt.upper())


class Batching(LoopOnly):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def generate_batch(self, requests):
        self.batches.append(len(requests))
        return [Generation(text=r.prompt[::-1]) for r in requests]


def test_falls_back_to_one_generate_per_request_in_order():
    gen = LoopOnly()
    out = generate_all(gen, [GenerationRequest("a"), GenerationRequest("b")])
    assert [g.text for g in out] == ["A", "B"] and gen.calls == ["a", "b"]


def test_uses_generate_batch_when_the_backend_has_it():
    gen = Batching()
    out = generate_all(gen, (GenerationRequest("ab"), GenerationRequest("cd")))
    assert [g.text for g in out] == ["ba", "dc"] and gen.batches == [2] and gen.calls == []
