"""A PEFT adapter loaded by the in-process backend: PEFT's own outputs, and nothing left on the base model."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from rag.config import ModelConfig
from rag.generators import ChatMessage, GeneratorError
from rag.generators.hf import HFGenerator
from rag.generators.peft_read import read_peft

PROMPT = [ChatMessage("user", "Answer the question Q. If you need help answer <RET> to get the context. Q: Who wrote Dracula?")]


@pytest.fixture(scope="module")
def gen():
    return HFGenerator(ModelConfig(name="smollm2-135m", threads=1, dtype="float32"))


@pytest.fixture(scope="module")
def trained(gen, tmp_path_factory):
    """A folder saved by PEFT itself, as `adaptrag adapt train` saves the router: q/v of the last layers,
    lora_alpha 16 over r 8 (scale 2), B non-zero; and that PEFT model, to compare with."""
    peft = pytest.importorskip("peft")
    config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], layers_to_transform=[26, 27, 28, 29],
                             lora_dropout=0.05, task_type="CAUSAL_LM")
    model = peft.get_peft_model(copy.deepcopy(gen.model), config)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    model.eval()
    folder = tmp_path_factory.mktemp("peft") / "router"
    model.save_pretrained(str(folder))
    return folder, model


def test_a_loaded_adapter_gives_peft_logits_and_costs_the_base_model_nothing(gen, trained):
    folder, peft_model = trained
    prompt = gen.render_chat(PROMPT)
    before = gen.next_token_logits(prompt)
    gen.load_adapter("router", str(folder))
    ids = torch.tensor([gen.tokenizer(prompt, add_special_tokens=False).input_ids])
    with torch.inference_mode():
        expected = peft_model(input_ids=ids).logits[0, -1].float()
    tuned = gen.next_token_logits(prompt, adapter="router")
    assert (tuned - before).abs().max() > 1e-2  # the adapter matters, so agreement means something
    assert torch.allclose(tuned, expected, atol=1e-4), (tuned - expected).abs().max()
    # base requests run the untouched model: no PEFT layer wrapped in, no hook left behind, same logits bit for bit
    assert not any(type(m).__module__.startswith("peft") for m in gen.model.modules())
    assert not any(m._forward_hooks for m in gen.model.modules())
    assert torch.equal(gen.next_token_logits(prompt), before)


def test_b_carries_peft_s_scale_alpha_over_r(trained, tmp_path):
    folder, _ = trained
    plain = read_peft(folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    assert plain.rank == 8 and len(plain.weights) == 8  # q and v of four layers
    for flag, factor in (({"lora_alpha": 32}, 2.0), ({"use_rslora": True}, 8 ** 0.5)):
        changed = tmp_path / f"a{factor:.3f}"  # rsLoRA: 16 / sqrt(8) is sqrt(8) times 16 / 8
        changed.mkdir()
        (changed / "adapter_model.safetensors").write_bytes((folder / "adapter_model.safetensors").read_bytes())
        (changed / "adapter_config.json").write_text(json.dumps({**config, **flag}))
        path = "model.layers.27.self_attn.v_proj"
        assert torch.allclose(read_peft(changed).weights[path][1], plain.weights[path][1] * factor)
        assert torch.equal(read_peft(changed).weights[path][0], plain.weights[path][0])


@pytest.mark.parametrize(("setting", "value"), [("use_dora", True), ("bias", "all"), ("modules_to_save", ["lm_head"]),
                                                 ("peft_type", "IA3"), ("r", 0)])
def test_unsupported_adapters_are_refused_with_the_setting_named(gen, trained, tmp_path, setting, value):
    folder, _ = trained
    (tmp_path / "adapter_model.safetensors").write_bytes((folder / "adapter_model.safetensors").read_bytes())
    config = json.loads((folder / "adapter_config.json").read_text())
    (tmp_path / "adapter_config.json").write_text(json.dumps({**config, setting: value}))
    with pytest.raises(GeneratorError, match=setting if setting != "peft_type" else "is not LORA"):
        gen.load_adapter("bad", str(tmp_path))
    assert "bad" not in gen.info.adapters


def test_damaged_adapter_files_are_clear_errors(gen, trained, tmp_path):
    folder, _ = trained
    (tmp_path / "adapter_config.json").write_text((folder / "adapter_config.json").read_text())
    with pytest.raises(GeneratorError, match="no adapter_model.safetensors"):
        gen.load_adapter("bad", str(tmp_path))
    (tmp_path / "adapter_model.safetensors").write_bytes((folder / "adapter_model.safetensors").read_bytes()[:100])
    with pytest.raises(GeneratorError, match="cannot read .*adapter_model.safetensors"):
        gen.load_adapter("bad", str(tmp_path))
    (tmp_path / "adapter_config.json").write_text("{not json")
    with pytest.raises(GeneratorError, match="cannot read .*adapter_config.json"):
        gen.load_adapter("bad", str(tmp_path))
