"""Markdown report rendering: tables and PNG plots."""

from __future__ import annotations

import json

from evals.report import render_markdown, table
from rag.cli import main


def _mode(mode, acc, rr):
    return {"mode": mode, "n": 4, "accuracy": acc, "exact_match": acc / 2, "f1": acc, "retrieval_rate": rr,
            "by_popularity": {"<1k": {"n": 2, "accuracy": acc, "exact_match": 0, "f1": 0, "retrieval_rate": rr}},
            "latency_ms": {"p50": 100.0, "p95": 200.0},
            "latency_by_stage_ms": {"decide": {"p50": 10.0, "p95": 20.0}, "generate": {"p50": 80.0, "p95": 90.0}},
            "by_retrieval": {"retrieved": {"n": 2, "accuracy": 0.5}, "not_retrieved": {"n": 0, "accuracy": None}},
            "attribution_precision": 0.75, "attribution_cited_sentences": 4, "conflict_flag_rate": 0.25,
            "conflict_checked": 4, "tokens_per_question": 120.0}


REPORT = {**_mode("never", 0.25, 0.0), "modes": {"never": _mode("never", 0.25, 0.0),
                                                 "always": _mode("always", 0.5, 1.0)},
          "model": "smollm2-135m", "sweeps": {"popularity": [[0.0, 0.25], [0.5, 0.5], [1.0, 0.5]]},
          "thresholds": {"popularity": {"threshold": 1000.0, "retrieve_always": False, "tune_accuracy": 0.5,
                                        "tune_retrieval_rate": 0.5, "tune_n": 10}},
          "ragas": {"always": {"metrics": {"rouge_score": 0.4286}, "metric_counts": {"rouge_score": 3},
                               "judge_failures": {}, "n": 3}}}


def test_table():
    assert table(["a", "b"], [[1, 2]]) == "| a | b |\n| --- | --- |\n| 1 | 2 |"


def test_markdown_with_plots(tmp_path):
    out = tmp_path / "r.md"
    md = render_markdown([REPORT], out)
    assert "| never | 4 | 25.0 | 12.5 | 25.0 | 0.0 | 100 | 200 | 120 |" in md
    assert "| always | 4 | 50.0 | 25.0 | 50.0 | 100.0 |" in md
    assert "| popularity | 1000 | 50.0 | 50.0 | 10 |" in md
    assert "| never | 25.0 (2) | – | – | – |" in md  # by popularity: one bucket filled
    assert "| rouge_score | 0.4286 | 3 | – |" in md and "n = 3, mode always" in md
    for name in ("r_accuracy_vs_retrieval.png", "r_by_popularity.png", "r_latency.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in md


def test_eval_report_command(tmp_path, capsys):
    src = tmp_path / "popqa.json"
    src.write_text(json.dumps(REPORT))
    assert main(["eval", "report", str(src), "--out", str(tmp_path / "out" / "report.md")]) == 0
    assert (tmp_path / "out" / "report.md").read_text().startswith("# adaptrag evaluation")
    assert (tmp_path / "out" / "report_by_popularity.png").exists()
    assert main(["eval", "report", str(tmp_path / "missing.json")]) == 2
    assert "missing.json does not exist" in capsys.readouterr().err


def test_two_popqa_reports_get_their_own_titles_and_plots(tmp_path):
    out = tmp_path / "r.md"
    md = render_markdown([{**REPORT, "title": "Natural mix"}, {**REPORT, "title": "Stratified"}], out)
    assert "## Natural mix" in md and "## Stratified" in md
    assert "(r_accuracy_vs_retrieval.png)" in md and "(r_2_accuracy_vs_retrieval.png)" in md
    assert (tmp_path / "r_2_by_popularity.png").exists() and (tmp_path / "r_by_popularity.png").exists()
