"""The CI gate's floor check, its skip path and the committed floors file."""

from __future__ import annotations

import json

import pytest

from evals.data import EvalDataError
from evals.gate import CHECKED, FLOORS_FILE, check, floors_from, slice_values
from evals.metrics import QARecord
from rag.cli import main


def test_check_reports_each_metric_below_its_floor():
    floors = {"metrics": {"a": {"floor": 0.5, "measured": 0.55, "margin": 0.05},
                          "b": {"floor": 0.2, "measured": 0.25, "margin": 0.05},
                          "c": {"floor": 0.1, "measured": 0.15, "margin": 0.05}}}
    res = {c["metric"]: c for c in check({"a": 0.5, "b": 0.19}, floors)}
    assert res["a"]["ok"] and not res["b"]["ok"] and not res["c"]["ok"]
    assert "b = 0.19 is below its floor 0.2 (measured 0.25, margin 0.05" in res["b"]["message"]
    assert "c = None" in res["c"]["message"]


def test_missing_data_folder_skips_with_exit_0(tmp_path, capsys):
    assert main(["eval", "gate", "--data", str(tmp_path / "no-shared")]) == 0
    err = capsys.readouterr().err
    assert "quality gate skipped" in err and "popqa/dev.jsonl not found" in err


def test_committed_floors_cover_the_checked_metrics():
    floors = json.loads(FLOORS_FILE.read_text())
    assert floors["model"] == "smollm2-135m" and floors["limit"] > 0
    assert set(floors["metrics"]) <= set(CHECKED) and "popqa.always.accuracy" in floors["metrics"]
    for key, spec in floors["metrics"].items():
        assert 0 <= spec["floor"] <= spec["measured"], key
        assert spec["margin"] >= (spec["repeat_spread"] or 0), key


def test_floors_from_slices_and_repeat():
    runs = [{"popqa.always.accuracy": 0.30}, {"popqa.always.accuracy": 0.20}, {"popqa.always.accuracy": 0.25}]
    f = floors_from(runs, {"popqa.always.accuracy": 0.30})["popqa.always.accuracy"]
    # stdev(0.30, 0.20, 0.25) = 0.05 -> margin 0.05, floor 0.25; repeat spread 0
    assert f == {"measured": 0.3, "margin": 0.05, "floor": 0.25, "repeat_spread": 0.0, "slice_std": 0.05,
                 "slice_std_from": "slices", "slice_values": [0.3, 0.2, 0.25]}
    g = floors_from(runs[:1], {"popqa.always.accuracy": 0.2649})["popqa.always.accuracy"]
    assert g["margin"] == 0.04 and g["floor"] == 0.26  # a repeat that moved 3.51 points: rounded up
    # one slice, no repeat: the standard error over its questions stands in for the slice spread
    h = floors_from(runs[:1], None, {"popqa.always.accuracy": 0.0725})["popqa.always.accuracy"]
    assert h["margin"] == 0.08 and h["floor"] == 0.22 and h["repeat_spread"] is None


def test_slice_values_from_saved_records(tmp_path):
    def rec(i, mode, correct):
        return {"mode": mode, **QARecord(str(i), "q", ("Paris",), "Paris" if correct else "Rome", mode == "always",
                                         correct, correct, float(correct)).to_json()}

    rows = [rec(i, "never", i == 0) for i in range(4)] + [rec(i, "always", i < 3) for i in range(4)]
    rows += [rec(i, "oracle", True) for i in range(4)]  # other modes in the file are ignored
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    se: dict[str, float] = {}
    a, b = slice_values(path, 2, 2, se)
    # slice 0 never correct = [1, 0]: stdev 0.7071 / sqrt(2) = 0.5
    assert se["popqa.never.accuracy"] == pytest.approx(0.5) and se["popqa.always.accuracy"] == 0.0
    assert (a["popqa.never.accuracy"], b["popqa.never.accuracy"]) == (0.5, 0.0)
    assert (a["popqa.always.accuracy"], b["popqa.always.accuracy"]) == (1.0, 0.5)
    assert a["ragas.always.string_present"] == 1.0 and b["popqa.always.retrieval_rate"] == 1.0
    with pytest.raises(EvalDataError, match="3 slices of 2 need 6"):
        slice_values(path, 3, 2)
