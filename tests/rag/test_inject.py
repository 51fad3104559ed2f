"""The Injector: passages -> averaged translator deltas, at the configured or calibrated scale, from stored inputs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from indexing.translator_inputs import TranslatorInputs, inputs_path_for
from rag.config import load_config
from rag.generators.base import LoraDeltas
from rag.generators.hidden_states import passage_embeddings
from rag.generators.lora_hook import inject
from rag.inject import Injector, average_deltas
from rag.translator import ParameterTranslator, save_translator, write_calibration
from rag.types import Passage
from tests.dyprag_helpers import logits


def _cfg(tmp_path, translator_path, mode="inject"):
    return load_config(env={}, overrides={"inject.dyprag": mode, "inject.translator": str(translator_path),
                                          "index.path": str(tmp_path / "index")})


def test_injector_averages_translated_passages(base, spec, tmp_path):
    model, tok = base
    translator = ParameterTranslator(spec, seed=0)
    path = tmp_path / "translator.safetensors"
    save_translator(translator, path)
    cfg = _cfg(tmp_path, path)
    passages = [Passage(f"p{i}", "s", "", t, 0, len(t), 1.0) for i, t in
                enumerate(["Oulu is a city in Finland.", "Kotka is a town in Finland."])]
    injector = Injector(SimpleNamespace(model=model, tokenizer=tok), cfg)
    d = injector.deltas(passages)
    assert isinstance(d, LoraDeltas) and d.rank == 2 and len(d.weights) == 90
    a, b = d.weights["model.layers.0.mlp.gate_proj"]
    assert a.shape == (2, 576) and b.shape == (1536, 2) and a.dtype == b.dtype == torch.float32
    emb = torch.from_numpy(passage_embeddings(model, tok, [p.text for p in passages]))
    a_ref, b_ref = translator(emb)["model.layers.0.mlp.gate_proj"]
    assert torch.allclose(a, a_ref.mean(0), atol=1e-5) and torch.allclose(b, b_ref.mean(0), atol=1e-5)
    model.get_submodule("model.layers.29.mlp.down_proj")  # every path names a real module
    assert all(model.get_submodule(p) is not None for p in d.weights)
    assert injector.deltas([]) is None


def test_injection_scale_multiplies_the_delta_and_zero_is_the_base_model(base, spec, tmp_path):
    model, tok = base
    translator = ParameterTranslator(spec, seed=0)
    generated = translator(torch.randn(2, spec.hidden_size))
    full, half, zero = (average_deltas(generated, 2, scale=s) for s in (1.0, 0.5, 0.0))
    path = "model.layers.4.mlp.up_proj"
    assert torch.equal(half.weights[path][0], full.weights[path][0])  # A as is
    assert torch.allclose(half.weights[path][1], full.weights[path][1] * 0.5)  # B scaled
    before = logits(model, tok)
    with inject(model, zero):
        assert torch.equal(logits(model, tok), before)
    # The Injector takes inject.scale over the translator's calibrated scale.
    file = tmp_path / "translator.safetensors"
    save_translator(translator, file)
    write_calibration(file, {"scale": 0.25})
    gen = SimpleNamespace(model=model, tokenizer=tok)
    p = [Passage("p0", "s", "", "Oulu is a city in Finland.", 0, 26, 1.0)]
    calibrated = Injector(gen, _cfg(tmp_path, file)).deltas(p)
    overridden = Injector(gen, load_config(env={}, overrides={
        "inject.dyprag": "inject", "inject.translator": str(file), "index.path": str(tmp_path / "index"),
        "inject.scale": "1"})).deltas(p)
    assert torch.allclose(calibrated.weights[path][1], overridden.weights[path][1] * 0.25)


def test_injector_uses_inputs_cached_at_indexing_time(base, spec, tmp_path):
    model, tok = base
    path = tmp_path / "translator.safetensors"
    translator = ParameterTranslator(spec, seed=0)
    save_translator(translator, path)
    cfg = _cfg(tmp_path, path)
    cached = np.full((1, 576), 0.5, np.float32)
    (cfg.index_path() / "gen-000001").mkdir(parents=True)  # a committed index generation holding the vector
    (cfg.index_path() / "CURRENT").write_text("gen-000001\n")
    store = TranslatorInputs(inputs_path_for(cfg))
    store.put(["chunk-1"], cached)
    store.save()
    injector = Injector(SimpleNamespace(model=model, tokenizer=tok), cfg)
    d = injector.deltas([Passage("chunk-1", "s", "", "text that would embed differently", 0, 5, 1.0)])
    a_ref, _ = translator(torch.from_numpy(cached))["model.layers.7.mlp.up_proj"]
    assert torch.allclose(d.weights["model.layers.7.mlp.up_proj"][0], a_ref[0], atol=1e-6)


def test_injector_off_needs_no_translator(tmp_path):
    cfg = _cfg(tmp_path, tmp_path / "missing.safetensors", mode="off")
    injector = Injector(SimpleNamespace(model=None, tokenizer=None), cfg)
    assert injector.deltas([Passage("a", "s", "", "t", 0, 1, 1.0)]) is None


def test_a_new_user_gets_the_shipped_translator(base, tmp_path, monkeypatch):
    """Right after setup (no `adaptrag dyprag train`), DyPRAG runs on the translator that ships with adaptrag:
    trained for this base model (the sha256 check passes), calibrated, and it moves the model's logits."""
    from rag.translator import shipped_translator_path

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fresh"))  # nothing built by the user
    cfg = load_config(env={}, overrides={"inject.dyprag": "combine", "index.path": str(tmp_path / "index")})
    model, tok = base
    injector = Injector(SimpleNamespace(model=model, tokenizer=tok), cfg)
    assert injector.path == shipped_translator_path(cfg.model.name)
    assert injector.manifest.training["stored_dtype"] == "float16" and injector.manifest.calibration
    kenya = "Kenya is a country in East Africa. Its capital is Nairobi."
    d = injector.deltas([Passage("k", "kenya.md", "Kenya", kenya, 0, len(kenya), 1.0)])
    assert d is not None and injector.scale == injector.manifest.scale
    prompt = "The capital of Kenya is"
    with inject(model, d):
        shifted = logits(model, tok, prompt)
    assert not torch.allclose(shifted, logits(model, tok, prompt))
