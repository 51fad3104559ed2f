"""Configuration: precedence, type coercion and errors that name the key and allowed values."""

import pytest

from rag.config import Config, ConfigError, RetrievalConfig, load_config


def test_defaults_are_the_embedded_setup():
    cfg = load_config(env={})
    assert cfg == Config()
    assert cfg.model.backend == "hf" and cfg.index.qdrant_url is None


def test_precedence_toml_then_env_then_overrides(tmp_path):
    toml = tmp_path / "a.toml"
    toml.write_text('[retrieval]\ntop_k = 7\ndense_weight = 2.5\n[model]\nname = "qwen2.5-coder-0.5b"\n')
    env = {"ADAPTRAG_RETRIEVAL_TOP_K": "9", "ADAPTRAG_INDEX": "/tmp/idx"}
    cfg = load_config(toml, env=env, overrides={"model.name": "smollm2-135m", "retrieval.rrf_k": None})
    assert cfg.retrieval.top_k == 9  # env beats the file
    assert cfg.retrieval.dense_weight == 2.5
    assert cfg.model.name == "smollm2-135m"  # flags beat both
    assert cfg.retrieval.rrf_k == RetrievalConfig().rrf_k  # None overrides are ignored
    assert str(cfg.index_path()) == "/tmp/idx"


def test_config_file_from_environment(tmp_path):
    toml = tmp_path / "b.toml"
    toml.write_text("[conflict]\nenabled = false\n")
    assert load_config(env={"ADAPTRAG_CONFIG": str(toml)}).conflict.enabled is False


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"retrieval.top_kk": 3}, "keys of [retrieval]: method, top_k"),
        ({"retrival.top_k": 3}, "sections: model, generation"),
        ({"decide.mode": "sometimes"}, "allowed: adaptive, always, never"),
        ({"model.backend": "tgi"}, "allowed: hf, openai"),
        ({"retrieval.top_k": "three"}, "retrieval.top_k; expected int"),
        ({"retrieval.top_k": 2.5}, "expected an integer"),
        ({"conflict.enabled": "maybe"}, "allowed: true, false"),
        ({"retrieval.dense_weight": -1}, "must be >= 0"),
    ],
)
def test_invalid_values_name_the_key_and_what_is_allowed(values, needle):
    with pytest.raises(ConfigError, match=None) as e:
        load_config(env={}, overrides=values)
    assert needle in str(e.value)


def test_unknown_environment_variable_is_an_error():
    with pytest.raises(ConfigError, match="ADAPTRAG_FOO"):
        load_config(env={"ADAPTRAG_FOO": "1"})


def test_bad_toml_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nname=")
    with pytest.raises(ConfigError, match="bad.toml is not valid TOML"):
        load_config(bad, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", env={})


def test_config_is_frozen():
    cfg = Config()
    with pytest.raises(AttributeError):
        cfg.model.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"retrieval.top_k": 0}, "retrieval.top_k must be greater than 0"),
        ({"index.chunk_overlap": 300}, "index.chunk_overlap (300) must be smaller"),
        ({"retrieval.dense_weight": 0, "retrieval.bm25_weight": 0}, "both 0"),
        ({"generation.max_new_tokens": 0}, "generation.max_new_tokens must be greater than 0"),
    ],
)
def test_inconsistent_values_fail_at_start(values, needle):
    with pytest.raises(ConfigError) as e:
        load_config(env={}, overrides=values)
    assert needle in str(e.value)


def test_plumbing_variables_are_not_settings():
    cfg = load_config(env={"ADAPTRAG_VLLM_VENV": "/opt/v", "ADAPTRAG_MODELS_DIR": "/models", "ADAPTRAG_MODE": "never"})
    assert cfg.decide.mode == "never"
