"""Safety with real processes: a writer killed mid-add, a second writer, readers during a write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexing.index import Index, IndexBusy
from rag.retrieval.search import BM25Retriever, DenseRetriever
from tests.indexing.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["astronomy", "botany", "chemistry", "geology", "history", "music", "painting", "sailing"]


def many_files(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        text = f"Note {i} is about {topic}. It lists item{i}x3 in the catalogue."  # one short chunk
        (folder / f"note{i:04d}.txt").write_text(text)


def wait_for(predicate, timeout: float, proc: subprocess.Popen) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"writer exited early ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the writer")
        time.sleep(0.05)


def test_killed_writer_leaves_index_usable_and_rerun_completes(tmp_path: Path, corpus: Path, embedder):
    index_dir = tmp_path / "index"
    cfg = make_config(index_dir)
    Index.open(cfg, embedder=embedder).add([corpus], progress=False)  # generation 1: the "old" index
    bulk = tmp_path / "bulk"
    many_files(bulk, 300)

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("ADAPTRAG_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "indexing.cli", "add", str(bulk), "--index", str(index_dir),
                             "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # the writer has forked generation 2 and is embedding/writing into it
        wait_for(lambda: (index_dir / "gen-000002" / "vectors" / "segments").exists(), 120, proc)
        time.sleep(0.1)
        assert proc.poll() is None, "the writer finished before it could be interrupted: use more files"

        # a second writer gets a clear error naming the first one's pid
        with pytest.raises(IndexBusy, match=rf"index {index_dir} is in use by another process \(pid {proc.pid}\)"):
            Index.open(cfg, embedder=embedder).add([corpus / "paris.txt"], progress=False)

        # readers keep answering from the committed generation while the writer works
        reader = Index.open(cfg, readonly=True, embedder=embedder)
        assert reader.generation == "gen-000001"
        assert "Colosseum" in BM25Retriever(reader).search("Colosseum amphitheatre", 1)[0].text

        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    after = Index.open(cfg, readonly=True, embedder=embedder)
    assert after.generation == "gen-000001" and after.stats()["documents"] == 5
    assert "Seine" in DenseRetriever(after).search("Which river flows through Paris?", 1)[0].text
    assert "Colosseum" in BM25Retriever(after).search("Colosseum", 1)[0].text

    report = Index.open(cfg, embedder=embedder).add([bulk], progress=False)  # the rerun completes the work
    assert len(report.added) == 300 and not report.errors
    final = Index.open(cfg, readonly=True, embedder=embedder)
    assert final.stats()["documents"] == 305
    assert final.stats()["chunks"] == final.store().count() == len(final.bm25())
    assert "item299x3" in BM25Retriever(final).search("item299x3", 1)[0].text
    assert not (index_dir / "gen-000002").exists()  # the half-written generation was cleaned up


def test_lock_wait_then_busy_message(tmp_path: Path, corpus: Path, embedder):
    """A lock held by another process: fail at once by default, or wait lock_timeout_s then fail."""
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import os, sys, time; from filelock import FileLock\n"
        f"lock = FileLock({str(index_dir / 'writer.lock')!r}); lock.acquire()\n"
        f"open({str(index_dir / 'writer.pid')!r}, 'w').write(str(os.getpid()))\n"
        "print('locked', flush=True); time.sleep(60)")], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        start = time.monotonic()
        with pytest.raises(IndexBusy, match=rf"in use by another process \(pid {holder.pid}\)"):
            Index.open(make_config(index_dir, index__lock_timeout_s=1.5), embedder=embedder).add(
                [corpus], progress=False)
        assert 1.4 < time.monotonic() - start < 10
        holder.kill()
        holder.wait()
        report = Index.open(make_config(index_dir), embedder=embedder).add([corpus], progress=False)  # lock freed
        assert len(report.added) == 5
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
