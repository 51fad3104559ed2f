"""Shared helpers of the DyPRAG tests (tests/rag/, tests/indexing/ and tests/adapt/dyprag/)."""

from __future__ import annotations

import torch

from rag.generators.base import LoraDeltas

PROMPT = "The capital of France is"


def random_deltas(spec, scale: float = 0.05, seed: int = 0) -> LoraDeltas:
    g = torch.Generator().manual_seed(seed)
    weights = {}
    for path in spec.paths():
        fin, fout = spec.io(path.rsplit(".", 1)[-1])
        weights[path] = (torch.randn(spec.rank, fin, generator=g) * scale,
                         torch.randn(fout, spec.rank, generator=g) * scale)
    return LoraDeltas(weights, rank=spec.rank)


def logits(model, tok, text=PROMPT):
    ids = tok(text, return_tensors="pt")
    with torch.no_grad():
        return model(**ids).logits
