"""evals/conflict_runner.py: a --cases file through the real conflict check (SmolLM2-135M, MiniLM)."""

from __future__ import annotations

import json

from evals import conflict_cases as cc
from evals.conflict_runner import ConflictOptions, evaluate
from rag.config import Config
from rag.conflict import ConflictChecker
from tests.evals.test_conflict_cases import write_jsonl


def test_case_file_runs_through_the_real_check(tmp_path, hf_generator, embedder):
    lyon = "France is a country in Western Europe. Its capital and largest administrative centre is Lyon."
    paris = lyon.replace("Lyon", "Paris")
    cases_file = write_jsonl(tmp_path / "cases.jsonl", [
        {"question": "What is the capital of France?", "passages": [lyon], "label": "memory_vs_documents",
         "answers": ["Paris"]},
        {"question": "What is the capital of France?", "passages": [paris], "label": "none"},
    ])
    cases = cc.load_cases(cases_file)
    checker = ConflictChecker(hf_generator, embedder, Config())
    options = ConflictOptions(limit=None, progress=False, records=tmp_path / "r.jsonl", cache=tmp_path / "cache.json")
    report = evaluate(Config(), cases, [], options, checker=checker)
    assert report["n"] == 2 and report["labels"]["memory_vs_documents"] == 1
    assert report["memory_vs_documents"]["recall"] == 1.0
    assert report["memory_vs_documents"]["false_alarm_rate"] == 0.0
    assert report["added_latency_ms"]["mean"] > 0
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "memory_vs_documents"
    assert (tmp_path / "cache.json").exists()
