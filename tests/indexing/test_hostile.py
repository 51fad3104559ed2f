"""Issue 19: a hostile corpus of 60+ entries mixed with good files never aborts `index add`.

Every good file is indexed and searchable, every skipped one is named with its reason, nothing outside the
named folder is read, the exit code says "some skipped" (1), and no traceback reaches the user.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from indexing.cli import EXIT_SKIPPED, shown
from indexing.index import Index
from indexing.loaders import path_key
from rag.retrieval.search import BM25Retriever
from tests.indexing.conftest import make_config
from tests.indexing.hostile import OUTSIDE_SECRET, build
from tests.indexing.test_cli import run


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("hostile")
    corpus = tmp / "corpus"
    entries = build(corpus, tmp / "outside")
    index = tmp / "index"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["index", "add", str(corpus), "--index", str(index), "--no-progress"])
        ls_code = run(["index", "ls", "--index", str(index)])
    return corpus, entries, index, code, out.getvalue(), err.getvalue(), ls_code


def test_the_corpus_is_hostile_enough(hostile_run):
    _, entries, *_ = hostile_run
    assert len(entries) >= 60
    assert sum(e.indexed for e in entries) >= 25 and sum(not e.indexed for e in entries) >= 25


def test_run_finishes_with_exit_code_1_and_no_traceback(hostile_run):
    _, _, _, code, out, err, ls_code = hostile_run
    assert code == EXIT_SKIPPED and ls_code == 0
    assert "Traceback" not in err and "Traceback" not in out
    assert "added" in out


def test_every_good_file_is_indexed_and_searchable(hostile_run):
    corpus, entries, index, *_ = hostile_run
    reader = Index.open(make_config(index), readonly=True)
    bm25 = BM25Retriever(reader)
    files = {d.file for d in reader.documents()}
    missing = []
    for e in entries:
        if e.indexed and not e.probe:
            if path_key(corpus / e.name) not in files:
                missing.append(e.name)
        elif e.indexed:
            key = path_key(corpus / e.name)
            hits = bm25.search(e.probe, 10)
            if not any(p.source == key or p.source.startswith(key + "#") for p in hits):
                missing.append(e.name)
    assert missing == []


def test_every_skipped_entry_is_named_with_its_reason(hostile_run):
    corpus, entries, _, _, _, err, _ = hostile_run
    lines = err.splitlines()
    unnamed = []
    for e in entries:
        if e.reason:
            named = f"{shown(path_key(corpus / e.name))}: "
            if not any(line.partition(": ")[2].startswith(named) and e.reason in line for line in lines):
                unnamed.append((e.name, e.reason))
    assert unnamed == []
    assert all(e.indexed or any(shown(path_key(corpus / e.name)) in line for line in lines) for e in entries)


def test_nothing_outside_the_named_folder_gets_in(hostile_run):
    corpus, _, index, *_ = hostile_run
    reader = Index.open(make_config(index), readonly=True)
    assert BM25Retriever(reader).search(OUTSIDE_SECRET, 5) == []
    assert BM25Retriever(reader).search("root", 5) == []
    assert all(d.file.startswith(str(corpus)) for d in reader.documents())


def test_ls_prints_one_line_per_document(hostile_run):
    _, _, index, _, out, _, _ = hostile_run
    listing = out.split("chunks written", 1)[1].splitlines()[1:]  # what `index ls` printed
    docs = Index.open(make_config(index), readonly=True).documents()
    assert len(listing) == len(docs) + 1 and listing[-1].startswith(f"{len(docs)} document(s)")
    assert any("new\\nline.txt" in line for line in listing) and any("\\x1b[31mansi" in line for line in listing)
    assert any("bad\\xffname.txt" in line for line in listing)


def test_jsonl_ids_do_not_collide(hostile_run):
    corpus, _, index, *_ = hostile_run
    key = path_key(corpus / "ids.jsonl")
    ids = sorted(d.doc_id[len(key) + 1:] for d in Index.open(make_config(index), readonly=True).documents()
                 if d.file == key)
    assert ids == ["1", "line-1", "line-1-2", "line-3", "line-4"]
    assert json.dumps(ids)  # plain strings
