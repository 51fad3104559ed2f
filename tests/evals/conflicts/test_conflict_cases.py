"""evals/conflict_cases.py, conflict_metrics.py, conflict_fitting.py, conflict_runner.py: case building, the --cases format, metrics, calibration fit; one run on the real model."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from evals import conflict_cases as cc
from evals import conflict_fitting, conflict_metrics
from evals.conflict_runner import ConflictOptions, evaluate
from evals.metrics import auroc
from rag.config import Config
from rag.conflict import ConflictChecker

POPQA_ROWS = [
    {"id": "1", "question": "In what city was Ann Smith born?", "answers": ["Oulu", "Uleåborg"], "s_pop": 10,
     "passage": "Ann Smith was born in Oulu, Finland. She later moved from Oulu to Helsinki."},
    {"id": "2", "question": "In what city was Bob Jones born?", "answers": ["Turku"], "s_pop": 500,
     "passage": "Bob Jones was born in Turku in 1950."},
    {"id": "3", "question": "Who was the director of Jaws?", "answers": ["Steven Spielberg"], "s_pop": 9000,
     "passage": "Jaws is a 1975 film directed by Steven Spielberg."},
    {"id": "4", "question": "Who was the director of Alien?", "answers": ["Ridley Scott"], "s_pop": 8000,
     "passage": "Alien was directed by somebody else."},  # answer not in passage: skipped
]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_replace_aliases_replaces_every_alias_whole_words_case_insensitively():
    text = "Born in OULU (Uleåborg); Ouluville is elsewhere."
    assert cc.replace_aliases(text, ["Oulu", "Uleåborg"], "Turku") == "Born in Turku (Turku); Ouluville is elsewhere."


def test_popqa_counter_answers_come_from_the_same_template(tmp_path):
    facts = cc.popqa_facts(write_jsonl(tmp_path / "p.jsonl", POPQA_ROWS))
    by_q = {f.question: f for f in facts}
    assert set(by_q) == {"In what city was Ann Smith born?", "In what city was Bob Jones born?",
                         "Who was the director of Jaws?"}
    ann = by_q["In what city was Ann Smith born?"]
    assert ann.counter_answer == "Turku"  # the other city, not a director
    assert "Oulu" not in ann.counter_passage and ann.counter_passage.count("Turku") == 2
    assert by_q["Who was the director of Jaws?"].counter_answer is not None
    assert facts[0].question == "Who was the director of Jaws?"  # most popular first
    cases = cc.cases_of(ann)
    assert [c.label for c in cases] == ["memory_vs_documents", "none", "between_documents"]
    assert cases[2].passages == (ann.passage, ann.counter_passage)


def test_countryinfo_facts_include_yes_no_questions():
    facts = cc.countryinfo_facts()
    assert len(facts) > 500
    assert any(f.source == "countryinfo-yesno" and f.aliases == ("yes",) for f in facts)
    paris = next(f for f in facts if f.question == "What is the capital of France?")
    assert "Paris" in paris.passage and "Paris" not in paris.counter_passage


def test_case_file_errors_name_the_line(tmp_path):
    bad = write_jsonl(tmp_path / "c.jsonl", [{"question": "Q?", "passages": ["p"], "label": "none"},
                                             {"question": "Q?", "passages": ["p"], "label": "maybe"}])
    with pytest.raises(cc.CaseError, match=r"c\.jsonl:2: \"label\" must be one of"):
        cc.load_cases(bad)
    (tmp_path / "d.jsonl").write_text('{"question": "Q?", "passages": []}\n')
    with pytest.raises(cc.CaseError, match="d.jsonl:1: \"passages\" must be a non-empty list"):
        cc.load_cases(tmp_path / "d.jsonl")
    (tmp_path / "e.jsonl").write_text("{not json\n")
    with pytest.raises(cc.CaseError, match="e.jsonl:1: not valid JSON"):
        cc.load_cases(tmp_path / "e.jsonl")
    with pytest.raises(cc.CaseError, match="does not exist"):
        cc.load_cases(tmp_path / "missing.jsonl")


def test_cli_reports_bad_case_file_without_traceback(tmp_path, capsys):
    from rag.cli import main

    (tmp_path / "e.jsonl").write_text("{not json\n")
    assert main(["eval", "conflicts", "--cases", str(tmp_path / "e.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "e.jsonl:1" in err and "Traceback" not in err


def test_fit_needs_an_explicit_output_file(tmp_path, capsys):
    from rag.cli import main

    cases = write_jsonl(tmp_path / "c.jsonl", [{"question": "Q?", "passages": ["p"], "label": "none"}])
    assert main(["eval", "conflicts", "--cases", str(cases), "--fit"]) == 2
    assert "--calibration-out FILE" in capsys.readouterr().err
    assert main(["eval", "conflicts", "--cases", str(cases), "--limit", "0"]) == 2
    assert "limit must be greater than 0" in capsys.readouterr().err


def record(label: str, flagged_kind: str | None, mem: float, btw: float) -> conflict_metrics.Record:
    case = cc.Case("q", ("p",), label, ("a",), "t", label + str(mem))
    return conflict_metrics.Record(case, mem, btw, flagged_kind is not None, flagged_kind, "a", "a", 10.0)


def test_metrics_per_kind():
    records = [record("memory_vs_documents", "memory_vs_documents", 0.9, 0.1),
               record("memory_vs_documents", None, 0.4, 0.1),
               record("none", "memory_vs_documents", 0.6, 0.1),
               record("none", None, 0.1, 0.1),
               record("between_documents", "between_documents", 0.2, 0.9)]
    report = conflict_metrics.summarize(records)
    m = report["memory_vs_documents"]
    assert (m["n"], m["precision"], m["recall"], m["f1"]) == (2, 0.5, 0.5, 0.5)
    assert m["false_alarm_rate"] == 0.5
    assert m["auroc"] == pytest.approx(5 / 6, abs=1e-4)
    b = report["between_documents"]
    assert (b["n"], b["precision"], b["recall"], b["false_alarm_rate"], b["auroc"]) == (1, 1.0, 1.0, 0.0, 1.0)
    assert report["answer_accuracy"]["flagged"]["n"] == 3
    assert report["added_latency_ms"]["p50"] == 10.0


def test_auroc_edge_cases():
    assert auroc([0.1, 0.2], [True, True]) is None
    assert auroc([0.5, 0.5], [True, False]) == 0.5


def test_fit_logistic_separates_classes():
    rows = [{"x": float(i % 2)} for i in range(40)]
    coefs = conflict_fitting.fit_logistic(rows, [r["x"] == 1.0 for r in rows], ["x"])
    assert coefs["x"] > 2 and coefs["bias"] < 0


def test_fitted_thresholds_keep_dev_false_alarms_under_the_target():
    from rag.config import load_config

    # memory conflicts score 0.9 (10 cases) and 0.55 (2); agreeing cases 0.1 (16), 0.5 (2) and 0.7 (1). At 0.5 the
    # 3 high agreeing cases are false alarms (3/19 > 5%); at 0.6-0.7 only one (1/19 = 5.3%); above 0.7 none.
    def rec(label, memory, i):
        r = record(label, None, memory, 0.0)
        return dataclasses.replace(r, case=dataclasses.replace(r.case, group=f"g{i}"),
                                   features={"confidence": 1.0, "memory_applies": 1.0, "between_applies": 0.0,
                                             "disagree_grounded": 0.0, "disagree_passages": 0.0, "mentioned": 0.0})

    scores = [("memory_vs_documents", 0.9)] * 10 + [("memory_vs_documents", 0.55)] * 2 + [("none", 0.1)] * 16 + \
        [("none", 0.5)] * 2 + [("none", 0.7)]
    dev = [rec(label, m, i) for i, (label, m) in enumerate(scores)]
    checker = ConflictChecker(None, None, load_config(env={}))
    # a calibration whose memory score is the recorded one (through on_topic = logit(score), below)
    calib = {"memory_vs_documents": {"bias": 0.0, "confidence": 0.0, "disagree_grounded": 0.0, "disagree_passages": 0.0,
                                     "mentioned": 0.0, "on_topic": 0.0},
             "between_documents": {"bias": -5.0, "disagree_pair": 0.0, "grounded_pair": 0.0, "support_split": 0.0}}
    for r in dev:  # encode each record's score in a feature the memory coefficients read
        r.features["on_topic"] = math.log(r.memory_score / (1 - r.memory_score))
    calib["memory_vs_documents"]["on_topic"] = 1.0
    before = dict(checker.thresholds)
    thresholds = conflict_fitting.fit_thresholds(dev, checker, calib)
    assert 0.7 < thresholds["memory_vs_documents"] <= 0.9  # the 0.7 false alarm is excluded, the 0.9s kept
    assert checker.thresholds == before  # the checker is left as it was


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
