"""`adaptrag ask` settings: every flag against its --set and environment twin, and bad values fail clearly."""

from __future__ import annotations

import os

import pytest

from rag.cli import ask_config, build_parser, main
from rag.config import Config, ConfigError

# (flag and value, its dotted --set key, its environment variable, the value the Config ends up with)
TWINS = [
    (["--mode", "never"], "decide.mode", "ADAPTRAG_MODE", "never"),
    (["--dyprag", "inject"], "inject.dyprag", "ADAPTRAG_DYPRAG", "inject"),
    (["--top-k", "5"], "retrieval.top_k", "ADAPTRAG_RETRIEVAL_TOP_K", 5),
    (["--model", "qwen2.5-coder-0.5b"], "model.name", "ADAPTRAG_MODEL", "qwen2.5-coder-0.5b"),
    (["--backend", "openai"], "model.backend", "ADAPTRAG_BACKEND", "openai"),
    (["--base-url", "http://127.0.0.1:9/v1"], "model.base_url", "ADAPTRAG_BASE_URL", "http://127.0.0.1:9/v1"),
    (["--index", "/tmp/adaptrag-twin"], "index.path", "ADAPTRAG_INDEX", "/tmp/adaptrag-twin"),
    (["--qdrant-url", "http://127.0.0.1:6333"], "index.qdrant_url", "ADAPTRAG_QDRANT_URL", "http://127.0.0.1:6333"),
]


def _value(cfg: Config, dotted: str):
    section, _, key = dotted.partition(".")
    return getattr(getattr(cfg, section), key)


def _cfg(*argv: str) -> Config:
    return ask_config(build_parser().parse_args(["ask", "a question", *argv]))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ADAPTRAG_"):
            monkeypatch.delenv(name)


def test_every_ask_flag_is_listed_here():
    ask = build_parser()._subparsers._group_actions[0].choices["ask"]
    flags = {opt for a in ask._actions for opt in a.option_strings if opt.startswith("--")}
    settings = flags - {"--help", "--json", "--stream", "--set", "--config"}
    assert settings == {twin[0][0] for twin in TWINS}


@pytest.mark.parametrize(("flag", "key", "env", "expected"), TWINS, ids=[t[0][0] for t in TWINS])
def test_flag_set_and_env_twins_agree(flag, key, env, expected, monkeypatch):
    assert _value(_cfg(), key) != expected  # the default differs, so each way below is seen to act
    assert _value(_cfg(*flag), key) == expected
    assert _value(_cfg("--set", f"{key}={flag[1]}"), key) == expected
    monkeypatch.setenv(env, flag[1])
    assert _value(_cfg(), key) == expected


def test_flag_beats_set_beats_env_beats_file(tmp_path, monkeypatch):
    toml = tmp_path / "a.toml"
    toml.write_text("[retrieval]\ntop_k = 2\n")
    assert _cfg("--config", str(toml)).retrieval.top_k == 2
    monkeypatch.setenv("ADAPTRAG_RETRIEVAL_TOP_K", "4")
    assert _cfg("--config", str(toml)).retrieval.top_k == 4
    assert _cfg("--config", str(toml), "--set", "retrieval.top_k=6").retrieval.top_k == 6
    assert _cfg("--config", str(toml), "--set", "retrieval.top_k=6", "--top-k", "8").retrieval.top_k == 8


def test_config_file_env_twin(tmp_path, monkeypatch):
    toml = tmp_path / "a.toml"
    toml.write_text('[decide]\nmode = "always"\n')
    monkeypatch.setenv("ADAPTRAG_CONFIG", str(toml))
    assert _cfg().decide.mode == "always"


@pytest.mark.parametrize("argv", [
    ["--set", "retrieval.top_k=abc"],
    ["--set", "retrieval.top_k=0"],
    ["--set", "decide.mode=sometimes"],
    ["--set", "retrieval.topk=5"],
    ["--top-k", "0"],
])
def test_bad_settings_fail_naming_the_key(argv):
    with pytest.raises(ConfigError, match="retrieval.top|decide.mode"):
        _cfg(*argv)


def test_bad_setting_is_one_line_and_exit_2_before_any_model_loads(capsys):
    assert main(["ask", "hi", "--set", "retrieval.top_k=abc"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["adaptrag: error: invalid value 'abc' for retrieval.top_k; expected int"]


def test_ask_help_points_only_at_documents_in_the_repository(capsys):
    import re
    from pathlib import Path

    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    text = capsys.readouterr().out
    named = set(re.findall(r"[\w/.-]+\.md\b", text)) | ({"README.md"} if "README" in text else set())
    assert named and all((Path(__file__).resolve().parents[2] / name).is_file() for name in named)
