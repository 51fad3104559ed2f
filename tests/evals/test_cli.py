"""`adaptrag eval popqa` / `eval ragas` end to end with the real pipeline and the test model (smollm2-135m)."""

from __future__ import annotations

import json

from rag.cli import main
from tests.evals.test_conflict_cases import write_jsonl

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
    assert report["latency_ms"]["p50"] > 0 and "evidence" in report["modes"]["always"]["latency_by_stage_ms"]
    # passages cost tokens, unless quoted instead of read (a sentence of its own states the answer: rag/quote.py)
    assert report["modes"]["always"]["tokens_per_question"] >= report["tokens_per_question"]
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
    assert main(["eval", "popqa", "--data", str(popqa_tiny), "--concurrency", "2", *FAST]) == 2
    assert "--concurrency > 1 needs --backend openai" in capsys.readouterr().err
    assert main(["eval", "popqa", "--data", str(tmp_path / "none.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["eval", "popqa", "--data", str(popqa_tiny), "--mode", "sometimes"]) == 2
    assert "invalid --mode 'sometimes'" in capsys.readouterr().err
    assert main(["eval", "popqa", "--from-records", str(tmp_path / "none.jsonl")]) == 2
    assert "records file" in capsys.readouterr().err
    assert main(["eval", "ragas", "--data", str(popqa_tiny), "--judge-url", "http://x/v1"]) == 2
    assert "--judge-url and --judge-model go together" in capsys.readouterr().err


def test_from_records_stratified_keeps_equal_numbers_per_popularity_bucket(tmp_path):
    from evals.metrics import QARecord

    # 2 questions above 100k views, 3 in each other bucket: the stratified sample keeps 2 per bucket
    pops = [50.0, 60.0, 70.0, 2e3, 3e3, 4e3, 2e4, 3e4, 4e4, 2e5, 3e5]
    data = tmp_path / "popqa.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": f"Question {i}?", "answers": ["x"], "s_pop": p})
                            + "\n" for i, p in enumerate(pops)))
    records = tmp_path / "records.jsonl"
    with records.open("w") as f:
        for mode in ("never", "always"):
            for i, p in enumerate(pops):
                rec = QARecord(id=f"q{i}", question=f"Question {i}?", answers=("x",), answer="x" if mode == "always"
                               else "y", retrieved=mode == "always", correct=mode == "always", em=False, f1=0.0,
                               s_pop=p, timings_ms={"total": 1.0})
                f.write(json.dumps({"mode": mode, **rec.to_json()}) + "\n")
    out = tmp_path / "strat.json"
    assert main(["eval", "popqa", "--from-records", str(records), "--data", str(data), "--split", "all",
                 "--sample", "stratified", "--mode", "never,always,oracle", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["stratified"] == {"n": 8, "recorded_questions": 11,
                                    "per_bucket": {"<1k": 2, "1k-10k": 2, "10k-100k": 2, ">100k": 2}}
    assert report["modes"]["always"]["n"] == 8 and report["modes"]["oracle"]["accuracy"] == 1.0
    assert main(["eval", "popqa", "--from-records", str(records), "--sample", "stratified"]) == 2  # needs --data


def test_cli_reports_bad_case_file_without_traceback(tmp_path, capsys):
    (tmp_path / "e.jsonl").write_text("{not json\n")
    assert main(["eval", "conflicts", "--cases", str(tmp_path / "e.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "e.jsonl:1" in err and "Traceback" not in err


def test_fit_needs_an_explicit_output_file(tmp_path, capsys):
    cases = write_jsonl(tmp_path / "c.jsonl", [{"question": "Q?", "passages": ["p"], "label": "none"}])
    assert main(["eval", "conflicts", "--cases", str(cases), "--fit"]) == 2
    assert "--calibration-out FILE" in capsys.readouterr().err
    assert main(["eval", "conflicts", "--cases", str(cases), "--limit", "0"]) == 2
    assert "limit must be greater than 0" in capsys.readouterr().err
