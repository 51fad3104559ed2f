"""The parameter translator: delta shapes per registry model, file round trip, clear errors on bad files."""

from __future__ import annotations

import json

import pytest
import torch

from rag.translator import (
    MLP_MODULES,
    ParameterTranslator,
    TranslatorError,
    TranslatorSpec,
    load_translator,
    manifest_path,
    read_manifest,
    save_translator,
    write_calibration,
)


def _check_shapes(spec: TranslatorSpec, n: int = 3) -> None:
    translator = ParameterTranslator(spec, seed=0)
    out = translator(torch.randn(n, spec.hidden_size))
    assert len(out) == spec.num_layers * len(MLP_MODULES)
    for layer in (0, spec.num_layers - 1):
        for m in MLP_MODULES:
            a, b = out[f"model.layers.{layer}.mlp.{m}"]
            fin, fout = spec.io(m)
            assert a.shape == (n, spec.rank, fin) and b.shape == (n, fout, spec.rank)
            assert a.dtype == torch.float32 and b.dtype == torch.float32


def test_shapes_for_the_test_model(spec):
    assert (spec.num_layers, spec.hidden_size, spec.intermediate_size) == (30, 576, 1536)
    _check_shapes(spec)


def test_shape_logic_for_qwen_config():
    transformers = pytest.importorskip("transformers")
    # qwen2.5-coder-0.5b per its GGUF metadata (see the slow test below): 24 layers, 896 hidden, 4864 intermediate.
    config = transformers.Qwen2Config(num_hidden_layers=24, hidden_size=896, intermediate_size=4864,
                                      num_attention_heads=14, num_key_value_heads=2)
    spec = TranslatorSpec.from_hf_config(config, "qwen2.5-coder-0.5b")
    assert spec.io("gate_proj") == (896, 4864) and spec.io("down_proj") == (4864, 896)
    _check_shapes(spec, n=1)


def test_different_passages_give_different_deltas(spec):
    translator = ParameterTranslator(spec, seed=0)
    out = translator(torch.randn(2, spec.hidden_size))
    a, _b = out["model.layers.5.mlp.up_proj"]
    assert not torch.allclose(a[0], a[1])


SMALL = TranslatorSpec("tiny-model", "ab" * 32, num_layers=2, hidden_size=8, intermediate_size=12)


def test_save_load_round_trip(tmp_path):
    translator = ParameterTranslator(SMALL, seed=1)
    path = tmp_path / "translator.safetensors"
    save_translator(translator, path, training={"passages": 3}, metrics={"loss": 1.5})
    loaded, manifest = load_translator(path, expect_sha256=SMALL.base_sha256, expect_model="tiny-model")
    assert manifest.spec == SMALL and manifest.metrics == {"loss": 1.5}
    x = torch.randn(2, 8)
    for key, (a, b) in translator(x).items():
        a2, b2 = loaded(x)[key]
        assert torch.equal(a, a2) and torch.equal(b, b2)
    assert json.loads(manifest_path(path).read_text())["spec"]["base_model"] == "tiny-model"


def test_a_float16_file_is_half_the_size_and_loads_as_float32(tmp_path):
    translator = ParameterTranslator(SMALL, seed=1)
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    save_translator(translator, full)
    save_translator(translator, half, dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _ = load_translator(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.randn(2, 8)
    for key, (a, b) in translator(x).items():
        a2, b2 = loaded(x)[key]
        assert torch.allclose(a, a2, atol=1e-3, rtol=1e-3) and torch.allclose(b, b2, atol=1e-3, rtol=1e-3)


def test_the_built_translator_comes_before_the_shipped_one(tmp_path, monkeypatch):
    """A configured file wins, then the one `adaptrag dyprag train` built, then the shipped copy; only the first
    two make `index add` store translator inputs (auto)."""
    from indexing.translator_inputs import index_inputs_enabled
    from rag import translator as tr
    from rag.config import load_config

    monkeypatch.setattr(tr, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    cfg = load_config(env={})
    built, shipped = tr.default_translator_path(cfg.model.name), tr.shipped_translator_path(cfg.model.name)
    assert tr.translator_path(cfg) == built and not index_inputs_enabled(cfg)  # none: the path the message names
    save_translator(ParameterTranslator(SMALL, seed=1), shipped, dtype=torch.float16)
    assert tr.translator_path(cfg) == shipped and not index_inputs_enabled(cfg)
    save_translator(ParameterTranslator(SMALL, seed=1), built)
    assert tr.translator_path(cfg) == built and index_inputs_enabled(cfg)
    mine = load_config(env={}, overrides={"inject.translator": str(tmp_path / "mine.safetensors")})
    assert tr.translator_path(mine) == tmp_path / "mine.safetensors" and not index_inputs_enabled(mine)  # missing
    save_translator(ParameterTranslator(SMALL, seed=1), tmp_path / "mine.safetensors")
    assert index_inputs_enabled(mine)


def test_corrupted_file_fails_clearly(tmp_path):
    path = tmp_path / "translator.safetensors"
    save_translator(ParameterTranslator(SMALL, seed=1), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(TranslatorError, match=rf"{path}.*corrupted"):
        load_translator(path)


def test_truncated_file_with_forged_manifest_fails_clearly(tmp_path):
    from rag.models import file_sha256

    path = tmp_path / "translator.safetensors"
    save_translator(ParameterTranslator(SMALL, seed=1), path)
    path.write_bytes(path.read_bytes()[:100])
    m = json.loads(manifest_path(path).read_text())
    m["file_sha256"] = file_sha256(path)  # checksum agrees: the safetensors parser must catch it
    manifest_path(path).write_text(json.dumps(m))
    with pytest.raises(TranslatorError, match=rf"{path}.*corrupted or not a safetensors file"):
        load_translator(path)


def test_translator_for_another_base_model_fails_clearly(tmp_path):
    path = tmp_path / "translator.safetensors"
    save_translator(ParameterTranslator(SMALL, seed=1), path)
    with pytest.raises(TranslatorError, match=rf"{path}.*built for base model 'tiny-model'.*'smollm2-135m'"):
        load_translator(path, expect_sha256="cd" * 32, expect_model="smollm2-135m")
    with pytest.raises(TranslatorError, match=r"layers/hidden/intermediate"):
        load_translator(path, expect_sha256=SMALL.base_sha256, expect_shape=(30, 576, 1536))


def test_calibrated_scale_round_trips_and_a_bad_one_fails_clearly(tmp_path):
    path = tmp_path / "translator.safetensors"
    save_translator(ParameterTranslator(SMALL, seed=1), path, metrics={"loss": 1.5})
    assert read_manifest(path).scale == 1.0  # uncalibrated: the reference's unscaled B A
    write_calibration(path, {"scale": 0.25, "questions": 100})
    _, manifest = load_translator(path)  # the weights' checksum still holds
    assert manifest.scale == 0.25 and manifest.metrics == {"loss": 1.5}
    write_calibration(path, {"scale": -1})
    with pytest.raises(TranslatorError, match=r"translator.json is corrupted.*scale -1"):
        load_translator(path)


def test_missing_file_or_manifest_fails_clearly(tmp_path):
    path = tmp_path / "translator.safetensors"
    with pytest.raises(TranslatorError, match="does not exist.*adaptrag dyprag"):
        load_translator(path)
    save_translator(ParameterTranslator(SMALL, seed=1), path)
    manifest_path(path).write_text("{not json")
    with pytest.raises(TranslatorError, match=r"manifest .*translator.json is corrupted"):
        load_translator(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "qwen2.5-coder-0.5b"])
def test_shapes_from_each_registry_model_config(name):
    """The config read from the registry's GGUF metadata (slow: ~10 s of CPU per model for the reader)."""
    from transformers import AutoConfig

    from rag.models import ModelNotFound, resolve_model

    try:
        m = resolve_model(name)
    except ModelNotFound as e:
        pytest.skip(str(e))
    spec = TranslatorSpec.from_hf_config(AutoConfig.from_pretrained(str(m.path), gguf_file=m.gguf_file), name,
                                         m.sha256)
    _check_shapes(spec, n=1)
