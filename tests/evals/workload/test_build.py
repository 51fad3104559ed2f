"""Workload builders: every kind present, a third held out per kind, corpora that index, reproducible output."""

from __future__ import annotations

import filecmp
import json
import random
import shutil
from pathlib import Path

import pytest

from evals.workload import fiction, reference
from evals.workload.build import CHECK_FILE, build
from evals.workload.cases import KINDS, load_cases
from evals.workload.facts import known_facts, self_contained
from evals.workload.popqa_workload import relation, substitute
from evals.workload.shared import split

COMMITTED = Path(__file__).resolve().parents[3] / "evals" / "workloads"


@pytest.mark.parametrize("module", [fiction, reference])
def test_builders_cover_every_kind_and_hold_out_a_third(module):
    w = module.build(random.Random(1), known_facts())
    kinds = {c.kind for c in w.cases}
    assert kinds == set(KINDS)
    dev, test = split(w.cases, random.Random(2), w.name)
    assert len(dev) + len(test) == len(w.cases)
    for kind in KINDS:
        n = sum(c.kind == kind for c in w.cases)
        assert sum(c.kind == kind for c in test) == -(-n // 3)
    assert len({c.id for c in dev + test}) == len(w.cases)
    assert len({c.question for c in w.cases}) == len(w.cases), "a question repeats"


def test_memory_conflict_facts_are_kept_out_of_known_cases():
    w = fiction.build(random.Random(3), known_facts())
    conflict = {c.question for c in w.cases if c.kind == "memory_conflict"}
    known = {c.question for c in w.cases if c.kind == "known"}
    assert conflict and known and not conflict & known


def test_reference_corpus_has_every_file_type_and_each_file_loads(tmp_path):
    from indexing.loaders import load_paths

    w = reference.build(random.Random(4), known_facts())
    assert {Path(p).suffix for p in w.files} == {".md", ".html", ".txt", ".jsonl", ".pdf"}
    for rel, content in w.files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    loaded = load_paths([tmp_path])
    assert not loaded.skipped
    pdf_text = " ".join(d.text for d in loaded.documents if d.source.endswith(".pdf"))
    assert "calling code" in pdf_text


def test_self_contained_answers_are_right():
    for q, answers, task in self_contained(random.Random(5), 40):
        if q.startswith("What is ") and task == "arithmetic":
            a, op, b = q[len("What is "):].rstrip("?").split(" ", 2)
            b = b.split()[-1]
            expected = {"plus": int(a) + int(b), "+": int(a) + int(b), "minus": int(a) - int(b),
                        "-": int(a) - int(b), "times": int(a) * int(b), "multiplied": int(a) * int(b)}[op]
            assert answers == (str(expected),)


def test_popqa_helpers():
    assert relation("What is Aarno Maliniemi's occupation?") == "What is Aarno occupation?"
    assert substitute("Born in Oulu, Finland. Oulu is cold.", ["Oulu"], "Kotka") == "Born in Kotka, Finland. Kotka is cold."
    assert substitute("No alias here.", ["Oulu"], "Kotka") is None


def test_committed_workloads_rebuild_identically(tmp_path):
    """The committed corpora and cases are what the generator writes (nothing hand-edited); the recorded
    known check is reused, so no model runs."""
    shutil.copy(COMMITTED / CHECK_FILE, tmp_path / CHECK_FILE)
    build(["fictional", "reference"], tmp_path, "smollm2-135m", None, progress=False, log=lambda _: None)
    for name in ("fictional", "reference"):
        cmp = filecmp.dircmp(COMMITTED / name, tmp_path / name)
        assert not cmp.left_only and not cmp.right_only and not cmp.diff_files, name
        for sub in ("corpus",):
            _same_tree(COMMITTED / name / sub, tmp_path / name / sub)
        assert load_cases(COMMITTED / name / "test.jsonl")
        manifest = json.loads((COMMITTED / name / "manifest.json").read_text())
        assert manifest["known_checked_with"] == "smollm2-135m"
    assert (COMMITTED / "gate.jsonl").read_bytes() == (tmp_path / "gate.jsonl").read_bytes()


def _same_tree(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
