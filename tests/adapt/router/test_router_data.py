"""Adapt-LLM Algorithm 1 labelling with the real test model on a tiny fixture."""

from __future__ import annotations

import json

from adapt.router.data import TrainQuestion, build_data, examples_for, is_router_dev, load_questions
from evals.data import popqa_split
from rag.prompts import RET_TOKEN

PASSAGE = "Paris is the capital and largest city of France."
QUESTIONS = [
    # SmolLM2-135M knows this one closed-book ...
    TrainQuestion("fx:1", "nq", "What is the capital of France?", ("Paris",), PASSAGE),
    # ... and not these (answers it cannot produce by chance).
    TrainQuestion("fx:2", "nq", "What is the registration code of the fixture zebra?", ("QX-7731-ZEBRA",),
                  "The fixture zebra's registration code is QX-7731-ZEBRA."),
    TrainQuestion("fx:3", "popqa", "What is the serial number of the fixture lamp?", ("LMP-90210-Z",), None),
]


def test_examples_follow_algorithm_1():
    right = {"id": "a", "source": "nq", "question": "Q?", "answers": ["Gold"], "passage": "ctx", "correct": True}
    wrong = right | {"correct": False}
    assert [(e.kind, e.target) for e in examples_for(right)] == [("answer", "Gold")]
    kinds = [(e.kind, e.target) for e in examples_for(wrong)]
    assert kinds == [("ret", RET_TOKEN), ("context", "Gold")]
    assert "given the context C" in examples_for(wrong)[1].messages[-1]["content"]
    assert "ctx" in examples_for(wrong)[1].messages[-1]["content"]
    assert [e.kind for e in examples_for(wrong | {"passage": None})] == ["ret"]


def test_build_data_labels_with_the_real_model_and_resumes(hf_generator, tmp_path):
    stats = build_data(hf_generator, QUESTIONS, tmp_path, batch_size=3, progress=False)
    labels = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert [r["id"] for r in labels] == ["fx:1", "fx:2", "fx:3"]
    by_id = {r["id"]: r for r in labels}
    assert by_id["fx:1"]["correct"] and "paris" in by_id["fx:1"]["closed_book"].lower()
    assert not by_id["fx:2"]["correct"] and not by_id["fx:3"]["correct"]
    examples = [json.loads(x) for x in (tmp_path / "examples.jsonl").read_text().splitlines()]
    assert [(e["id"], e["kind"]) for e in examples] == [
        ("fx:1", "answer"), ("fx:2", "ret"), ("fx:2", "context"), ("fx:3", "ret")]
    assert stats["closed_book_accuracy"] == round(1 / 3, 4)
    assert stats["examples_by_kind"] == {"answer": 1, "ret": 2, "context": 1}
    again = build_data(hf_generator, QUESTIONS, tmp_path, batch_size=3, progress=False)
    assert again["labelled_this_run"] == 0
    assert len((tmp_path / "labels.jsonl").read_text().splitlines()) == 3


def test_training_questions_never_include_popqa_eval_half_or_router_dev(tmp_path):
    (tmp_path / "popqa").mkdir()
    rows = [{"id": str(i), "question": f"q{i}", "answers": ["a"], "passage": "a b", "s_pop": 1} for i in range(60)]
    (tmp_path / "popqa" / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = load_questions(tmp_path, ["popqa"])
    ids = [q.id.split(":", 1)[1] for q in got]
    assert ids and all(popqa_split(i) == "train" and not is_router_dev(i) for i in ids)
    assert len(ids) < 60
