"""`adaptrag eval popqa` / `eval ragas` end to end with the real pipeline and the test model (smollm2-135m)."""

from __future__ import annotations

import json

from rag.cli import main

FAST = ["--model", "smollm2-135m", "--set", "conflict.enabled=false", "--no-progress"]


def test_eval_popqa_never_always_with_records_and_markdown(popqa_tiny, tmp_path, capsys):
    out = tmp_path / "popqa.json"
    records = tmp_path / "records.jsonl"
    assert main(["eval", "popqa", "--data", str(popqa_tiny), "--split", "all", "--limit", "2", "--mode",
                 "never,always,oracle", "--ragas", "--records", str(records), "--out", str(out), *FAST]) == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report
    # the ARCHITECTURE.md contract, for the first mode
    for key in ("n", "mode", "accuracy", "exact_match", "f1", "retrieval_rate", "by_popularity", "latency_ms"):
        assert key in report, key
    assert report["mode"] == "never" and report["n"] == 2 and report["retrieval_rate"] == 0.0
    assert report["modes"]["always"]["retrieval_rate"] == 1.0
    assert report["modes"]["oracle"]["accuracy"] >= max(report["modes"]["always"]["accuracy"], report["accuracy"])
    assert report["latency_ms"]["p50"] > 0 and "generate" in report["modes"]["always"]["latency_by_stage_ms"]
    assert report["modes"]["always"]["tokens_per_question"] > report["tokens_per_question"]  # passages cost tokens
    assert report["ragas"]["always"]["metric_counts"]["non_llm_context_recall"] == 2
    lines = [json.loads(x) for x in records.read_text().splitlines()]
    assert [x["mode"] for x in lines] == ["never"] * 2 + ["always"] * 2 + ["oracle"] * 2

    # the same report rebuilt from the saved records, without model calls
    again = tmp_path / "again.json"
    assert main(["eval", "popqa", "--from-records", str(records), "--mode", "never,always,oracle", "--ragas",
                 "--out", str(again)]) == 0
    rebuilt = json.loads(again.read_text())
    for m in ("never", "always", "oracle"):
        assert rebuilt["modes"][m]["accuracy"] == report["modes"][m]["accuracy"]
        assert rebuilt["modes"][m]["latency_ms"] == report["modes"][m]["latency_ms"]
    assert rebuilt["ragas"]["always"]["metrics"]["rouge_score"] == report["ragas"]["always"]["metrics"]["rouge_score"]
    capsys.readouterr()

    md = tmp_path / "popqa.md"
    assert main(["eval", "report", str(out), "--out", str(md)]) == 0
    assert "| always | 2 |" in md.read_text() and (tmp_path / "popqa_accuracy_vs_retrieval.png").exists()


def test_eval_ragas_on_a_simple_qa_file(qa_simple, tmp_path, capsys):
    out = tmp_path / "ragas.json"
    assert main(["eval", "ragas", "--data", str(qa_simple), "--limit", "2", "--mode", "never", "--out", str(out),
                 *FAST]) == 0
    report = json.loads(out.read_text())
    assert report["n"] == 2 and report["mode"] == "never" and report["retrieval_rate"] == 0.0
    assert set(report["metrics"]) >= {"exact_match", "string_present", "rouge_score"}
    assert report["metric_counts"]["non_llm_context_recall"] == 0  # nothing retrieved: not scored
    assert report["judge_failures"] == {}


def test_bad_arguments_are_one_line_errors(popqa_tiny, tmp_path, capsys):
    assert main(["eval", "popqa", "--data", str(tmp_path / "none.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["eval", "popqa", "--data", str(popqa_tiny), "--mode", "sometimes"]) == 2
    assert "invalid --mode 'sometimes'" in capsys.readouterr().err
    assert main(["eval", "popqa", "--from-records", str(tmp_path / "none.jsonl")]) == 2
    assert "records file" in capsys.readouterr().err
    assert main(["eval", "ragas", "--data", str(popqa_tiny), "--judge-url", "http://x/v1"]) == 2
    assert "--judge-url and --judge-model go together" in capsys.readouterr().err
