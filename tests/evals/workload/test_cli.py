"""`adaptrag eval workload` end to end on a tiny corpus with the real small model, and its user errors."""

from __future__ import annotations

import json

import pytest

from rag.cli import main

CASES = [
    {"id": "d1", "kind": "document", "question": "Who leads Project Ormstead?", "answers": ["Nils Bremoor"]},
    {"id": "s1", "kind": "self_contained", "question": "Hello! How are you today?", "answers": []},
    {"id": "u1", "kind": "unanswerable", "question": "What is the staff wifi password at Zarby Analytics?",
     "answers": []},
]


@pytest.fixture()
def workload(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "handbook.md").write_text(
        "# Zarby Analytics handbook\n\n## Projects\n\nProject Ormstead is led by Nils Bremoor. Its deadline is "
        "June 2029.\n", encoding="utf-8")
    (corpus / "news.txt").write_text("Staff from Zarby Analytics ran the charity race.\n", encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    return corpus, cases


def test_end_to_end_with_the_real_model(workload, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADAPTRAG_MODEL", "smollm2-135m")
    corpus, cases = workload
    records = tmp_path / "records.jsonl"
    code = main(["eval", "workload", "--corpus", str(corpus), "--cases", str(cases), "--mode", "always,never",
                 "--records", str(records), "--no-progress", "--out", str(tmp_path / "report.md"), "--format", "md"])
    assert code == 0
    rows = [json.loads(line) for line in records.read_text().splitlines()]
    # one record per case and mode, case by case (the mode asked first rotates: evals/workload/run.py)
    assert [r["id"] for r in rows] == [c["id"] for c in CASES for _ in ("always", "never")]
    assert sorted((r["id"], r["mode"]) for r in rows) == sorted((c["id"], m) for c in CASES for m in ("always", "never"))
    fields = {"id", "kind", "mode", "question", "answer", "retrieved", "ret_probability", "abstained",
              "conflict_flagged", "conflict_kind", "citations", "latency_ms", "timings_ms", "success", "error"}
    assert all(fields <= set(r) for r in rows)
    assert all(r["error"] is None and r["answer"] for r in rows)
    assert all(r["retrieved"] == (r["mode"] == "always") for r in rows)
    always_doc = next(r for r in rows if r["id"] == "d1" and r["mode"] == "always")
    assert always_doc["citations"] >= 1 and "retrieve" in always_doc["timings_ms"]
    md = (tmp_path / "report.md").read_text()
    assert "| success (mean over kinds) |" in md and (tmp_path / "report_success_by_kind.png").exists()
    assert (tmp_path / "report_latency.png").exists()

    capsys.readouterr()
    # --resume asks nothing again: the report is rebuilt from the records
    code = main(["eval", "workload", "--corpus", str(corpus), "--cases", str(cases), "--mode", "always,never",
                 "--records", str(records), "--resume", "--no-progress"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["modes"]["never"]["n"] == 3 and report["modes"]["always"]["retrieval_rate"] == 1.0
    assert [json.loads(x)["answer"] for x in records.read_text().splitlines()] == [r["answer"] for r in rows]


def test_a_failing_case_is_recorded_and_the_run_goes_on():
    from evals.workload.cases import Case
    from evals.workload.run import run

    class Flaky:
        def answer(self, question, mode=None):
            raise RuntimeError(f"backend down for {question!r}")

    recs = run(Flaky(), [Case("a", "known", "Q1?", ("x",)), Case("b", "known", "Q2?", ("y",))], ["never"],
               progress=False)
    assert [r.id for r in recs] == ["a", "b"] and all(not r.success for r in recs)
    assert recs[0].error == "RuntimeError: backend down for 'Q1?'"


def test_missing_corpus_and_bad_cases_are_one_line_errors(tmp_path, capsys, workload):
    corpus, cases = workload
    assert main(["eval", "workload", "--corpus", str(tmp_path / "nope"), "--cases", str(cases)]) == 2
    err = capsys.readouterr().err
    assert "corpus folder" in err and "nope" in err and "Traceback" not in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(CASES[0]) + "\n" + '{"id": "x", "kind": "rumour", "question": "Q", "answers": []}\n')
    assert main(["eval", "workload", "--corpus", str(corpus), "--cases", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and "unknown kind 'rumour'" in err
    assert main(["eval", "workload", "--corpus", str(corpus), "--cases", str(cases), "--mode", "sometimes"]) == 2
    assert "invalid --mode" in capsys.readouterr().err
