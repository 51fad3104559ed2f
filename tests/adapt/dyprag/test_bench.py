"""The DyPRAG bench's question splits and its choice of injection scale (no model calls)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from adapt.dyprag.bench import bench_questions, choose_scale
from evals.data import popqa_split

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.mark.skipif(not (DATA / "popqa" / "dev.jsonl").exists(), reason="shared data folder not present")
def test_dev_questions_come_from_the_train_half_minus_the_teacher_passages():
    plain = bench_questions(DATA, "dev", 0, SimpleNamespace(training={"items": []}))
    assert plain and all(popqa_split(e.id) == "train" for e in plain)
    teachers = [f"popqa:{plain[1].id}", f"popqa:{plain[3].id}", "nq:1"]
    dev = bench_questions(DATA, "dev", 50, SimpleNamespace(training={"items": teachers}))
    assert len(dev) == 50 and plain[1].id not in {e.id for e in dev} and dev[:2] == [plain[0], plain[2]]
    assert all(popqa_split(e.id) == "eval" for e in bench_questions(DATA, "eval", 20, None))
    with pytest.raises(ValueError, match="training.items"):  # no list: unseen questions cannot be guaranteed
        bench_questions(DATA, "dev", 10, SimpleNamespace(training={}))


def _run(scale, accuracy, f1):
    return {"n": 100, "scale": scale, "accuracy": accuracy, "exact_match": 0.0, "f1": f1}


def test_choose_scale_takes_best_accuracy_then_f1_then_the_smaller_scale():
    report = {"n": 100, "split": "dev", "modes": {
        "standard": _run(None, 0.30, 0.10), "combine@0.1": _run(0.1, 0.31, 0.12),
        "combine@0.25": _run(0.25, 0.33, 0.11), "combine@0.5": _run(0.5, 0.33, 0.14),
        "combine": _run(1.0, 0.33, 0.14), "inject@0.5": _run(0.5, 0.9, 0.9)}}
    chosen = choose_scale(report)
    assert chosen["scale"] == 0.5  # 0.25 loses on F1, 1.0 ties and is larger; inject runs are not candidates
    assert chosen["standard"]["accuracy"] == 0.30 and set(chosen["by_scale"]) == {"0.1", "0.25", "0.5", "1"}
    with pytest.raises(ValueError, match="no combine runs"):
        choose_scale({"n": 1, "split": "dev", "modes": {"standard": _run(None, 0.3, 0.1)}})
