"""The `index` CLI through a throwaway argparse parser built with `register()`, as rag/cli.py does."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexing.cli import register


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="adaptrag")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_add_ls_stats_rm(tmp_path: Path, corpus: Path, capsys, monkeypatch, embedder):
    monkeypatch.delenv("ADAPTRAG_CONFIG", raising=False)
    monkeypatch.setenv("ADAPTRAG_INDEX", str(tmp_path / "ix"))  # --index falls back to the environment
    (corpus / "empty.txt").write_text("")
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8")
    assert run(["index", "add", str(corpus), "--no-progress"]) == 1  # the empty file is an error
    out, err = capsys.readouterr()
    assert "5 added" in out and "error: " in err and "empty.txt: empty file" in err
    assert "skipped: " in err and "photo.jpg" in err and "1 file(s) skipped because of errors" in err
    (corpus / "empty.txt").unlink()
    assert run(["index", "add", str(corpus / "paris.txt"), "--no-progress"]) == 0
    assert "1 unchanged" in capsys.readouterr().out

    assert run(["index", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 5 and stats["chunks"] == 5 and stats["embedding_model"] == "minilm-l6"
    assert stats["bytes_on_disk"] > 0 and stats["path"] == str(tmp_path / "ix")

    assert run(["index", "ls"]) == 0
    assert "paris.txt" in capsys.readouterr().out
    assert run(["index", "rm", str(corpus / "paris.txt"), str(corpus / "missing.txt")]) == 1
    out, err = capsys.readouterr()
    assert "removed: " in out and "missing.txt: not in the index" in err
    assert run(["index", "stats", "--json", "--index", str(tmp_path / "ix")]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == 4


def test_bad_config_is_one_line(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("ADAPTRAG_INDEX_VECTOR_STORE", "faiss")
    assert run(["index", "stats", "--index", str(tmp_path)]) == 2
    assert "index.vector_store" in capsys.readouterr().err


def test_set_overrides_a_setting_and_a_bad_key_is_one_line(tmp_path: Path, corpus: Path, capsys, embedder):
    assert run(["index", "stats", "--index", str(tmp_path), "--set", "index.chunk_tokenz=64"]) == 2
    assert "index.chunk_tokenz" in capsys.readouterr().err
    long = tmp_path / "long.txt"
    long.write_text(" ".join(f"Sentence number {i} is about the town of Kotka in Finland." for i in range(60)))
    assert run(["index", "add", str(long), "--index", str(tmp_path / "a"), "--no-progress"]) == 0
    assert run(["index", "add", str(long), "--index", str(tmp_path / "b"), "--no-progress",
                "--set", "index.chunk_tokens=64"]) == 0
    capsys.readouterr()
    chunks = []
    for name in ("a", "b"):
        assert run(["index", "stats", "--json", "--index", str(tmp_path / name)]) == 0
        chunks.append(json.loads(capsys.readouterr().out)["chunks"])
    assert chunks[1] > chunks[0]  # smaller chunks from --set


@pytest.mark.parametrize("sub", ["add", "rm"])
def test_paths_required(sub):
    with pytest.raises(SystemExit):
        run(["index", sub])


def test_add_from_the_shell_keeps_stderr_to_its_own_messages(tmp_path: Path, corpus: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADAPTRAG_")}
    out = subprocess.run([sys.executable, "-m", "rag.cli", "index", "add", str(corpus), "--index", str(tmp_path / "ix"),
                          "--set", "inject.index_inputs=off"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "5 added" in out.stdout
    assert out.stderr == ""  # no library DEBUG lines ("Building index from tokens"), warnings or bars


def test_progress_bar_counts_embedded_chunks(tmp_path: Path, monkeypatch, embedder):
    import tqdm

    from indexing.index import Index
    from tests.indexing.conftest import make_config

    bars = []

    class Recording(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": True})
            self.desc_text, self.enabled, self.steps = kwargs.get("desc"), not kwargs.get("disable"), []
            bars.append(self)

        def update(self, n=1):
            self.steps.append(n)

    monkeypatch.setattr(tqdm, "tqdm", Recording)
    long = tmp_path / "long.txt"
    long.write_text(" ".join(f"Sentence number {i} is about the town of Kotka in Finland." for i in range(200)))
    cfg = make_config(tmp_path / "ix", index__chunk_tokens=32, index__chunk_overlap=4, index__embed_batch_size=4)
    report = Index.open(cfg, embedder=embedder).add([long], progress=True)
    (bar,) = [b for b in bars if b.enabled]
    assert bar.desc_text == "embedding" and bar.total == report.chunks_added > 8
    assert sum(bar.steps) == bar.total and max(bar.steps) <= 4  # one step per embedding batch, to the end
