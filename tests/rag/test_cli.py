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


def test_asking_an_index_folder_that_does_not_exist_is_one_line_before_any_model_loads(tmp_path, capsys):
    """A mistyped --index would otherwise be an empty index: every answer from memory, and no word of why."""
    missing = tmp_path / "no-such-index"
    assert main(["ask", "who is the treasurer of the club", "--index", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(missing) in err and "adaptrag index add" in err
    assert not missing.exists()


def test_ask_help_points_only_at_documents_in_the_repository(capsys):
    import re
    from pathlib import Path

    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    text = capsys.readouterr().out
    named = set(re.findall(r"[\w/.-]+\.md\b", text)) | ({"README.md"} if "README" in text else set())
    assert named and all((Path(__file__).resolve().parents[2] / name).is_file() for name in named)


# ---- render_text: the terminal rendering of an answer ---------------------------------------------

def test_render_text_names_both_kinds_of_conflict_with_values_and_sources():
    from rag.cli import render_text
    from tests.ui.fakes import between_conflict_answer, memory_conflict_answer

    out = render_text(memory_conflict_answer(), threshold=0.607).splitlines()
    assert out[0] == ("!! Your documents disagree with the model's memory: documents say 'Osaka' (asia_atlas.md), "
                      "memory says 'Tokyo' (92% confident) [score 0.83]")
    assert "-- searched your documents: the model was unsure (P(<RET>) 0.81 ≥ threshold 0.61)" in out
    out = render_text(between_conflict_answer()).splitlines()
    assert out[0] == ("!! Your documents disagree with each other: 'Cora Grisby' (halworth-profile.md) vs "
                      "'Pavel Galthorne' (halworth-handbook.md) [score 0.77]")
    assert "-- searched your documents (mode always)" in out


def test_render_text_says_where_memory_stood_when_nothing_disagrees():
    from rag.cli import render_text
    from rag.types import Conflict
    from tests.ui.fakes import retrieved_answer

    unsure = Conflict(available=True, parametric_answer="Lyon", parametric_confidence=0.3, memory_status="unsure")
    out = render_text(retrieved_answer(unsure)).splitlines()
    assert "-- no conflict found; the model's memory was not sure enough to compare (30% confident)" in out
    assert not any("Lyon" in line for line in out)
    assert not any("no conflict" in line for line in render_text(retrieved_answer()).splitlines())  # not compared


def test_render_text_abstention_and_memory_fallback_say_what_was_searched():
    from rag.cli import render_text
    from tests.ui.fakes import abstained_answer, memory_answer, memory_fallback_answer

    out = render_text(abstained_answer(), threshold=0.607).splitlines()
    assert out[0].startswith("I couldn't find this in your documents (searched 2 passages)")
    assert out[1] == ("-- searched your documents, none answers; the model's memory is not confident enough (31%) "
                      "· searched because the model was unsure (P(<RET>) 0.93 ≥ threshold 0.61)")
    assert out[2] == "   searched 2 passages, none answers: halworth-profile.md, halworth-handbook.md"
    assert not any(line.startswith("!!") or " chars " in line for line in out)  # no banner, no citations
    out = render_text(memory_fallback_answer(), threshold=0.607).splitlines()
    assert out[1].startswith("-- searched your documents, none answers: answered from the model's memory "
                             "(88% confident) · searched because the model was unsure")
    assert "   searched 1 passage, none answers: asia_atlas.md" in out
    out = render_text(memory_answer(0.12), with_answer=False, threshold=0.607).splitlines()
    assert out[0] == "-- answered from memory: the model was confident (P(<RET>) 0.12 < threshold 0.61)"
