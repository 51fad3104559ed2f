"""Deltas through forward hooks: they change logits, equal merged weights, and leave nothing behind."""

from __future__ import annotations

import pytest
import torch

from rag.generators.base import LoraDeltas
from rag.generators.lora_hook import inject
from tests.dyprag_helpers import logits, random_deltas


def test_injection_changes_logits_and_removal_restores_them_exactly(base, spec):
    model, tok = base
    before = logits(model, tok)
    with inject(model, random_deltas(spec)):
        during = logits(model, tok)
    after = logits(model, tok)
    assert (during - before).abs().max() > 1e-2
    assert torch.equal(before, after)  # bit-identical: no hook, no weight change left behind
    assert not any(m._forward_hooks for m in model.modules())


def test_hooks_are_removed_when_the_block_raises(base, spec):
    model, _tok = base
    with pytest.raises(RuntimeError), inject(model, random_deltas(spec)):
        raise RuntimeError("generation failed")
    assert not any(m._forward_hooks for m in model.modules())


def test_hook_equals_merged_weights(base, spec):
    """x W^T + x A^T B^T == x (W + B A)^T for one projection."""
    model, _ = base
    d = random_deltas(spec)
    path = "model.layers.3.mlp.down_proj"
    layer = model.get_submodule(path)
    x = torch.randn(2, 4, layer.in_features)
    a, b = d.weights[path]
    with torch.no_grad(), inject(model, LoraDeltas({path: (a, b)}, rank=2)):
        hooked = layer(x)
    merged = x @ (layer.weight + b @ a).T
    assert torch.allclose(hooked, merged, atol=1e-4)
