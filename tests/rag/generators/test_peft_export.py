"""PEFT export round trip: the exported adapter, loaded by peft, gives the in-process hook's logits."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from rag.generators.lora_hook import inject
from rag.generators.peft_export import export_peft
from tests.dyprag_helpers import logits, random_deltas


def test_peft_export_round_trip(base, spec, tmp_path):
    peft = pytest.importorskip("peft")
    model, tok = base
    deltas = random_deltas(spec, seed=3)
    folder = export_peft(deltas, tmp_path / "adapter", base_model="smollm2-135m")
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["r"] == config["lora_alpha"] == 2
    assert config["target_modules"] == sorted(deltas.weights)  # full paths: PEFT matches them exactly
    with inject(model, deltas):
        hooked = logits(model, tok)
    plain = logits(model, tok)
    peft_model = peft.PeftModel.from_pretrained(copy.deepcopy(model), str(folder))
    peft_model.eval()
    with torch.no_grad():
        loaded = peft_model(**tok("The capital of France is", return_tensors="pt")).logits
    assert (hooked - plain).abs().max() > 1e-2  # the deltas matter, so agreement means something
    assert torch.allclose(loaded, hooked, atol=1e-3), (loaded - hooked).abs().max()


def test_export_rejects_wrong_shapes(tmp_path):
    from rag.generators.base import LoraDeltas

    bad = LoraDeltas({"model.layers.0.mlp.up_proj": (torch.zeros(3, 8), torch.zeros(12, 2))}, rank=2)
    with pytest.raises(ValueError, match="model.layers.0.mlp.up_proj"):
        export_peft(bad, tmp_path / "a")
