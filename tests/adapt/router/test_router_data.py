"""Adapt-LLM Algorithm 1 labelling with the real test model on a tiny fixture."""

from __future__ import annotations

import json
from pathlib import Path

from adapt.router.data import (
    WORKLOADS_DIR,
    Example,
    TrainQuestion,
    balance,
    build_data,
    examples_for,
    is_router_dev,
    label_row,
    load_questions,
    normalize,
    own_reply,
)
from evals.data import popqa_split
from rag.prompts import RET_TOKEN

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
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
    stats = build_data(hf_generator, QUESTIONS, tmp_path, batch_size=3, progress=False, answer_share=0)
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
    again = build_data(hf_generator, QUESTIONS, tmp_path, batch_size=3, progress=False, answer_share=0)
    assert again["labelled_this_run"] == 0
    assert len((tmp_path / "labels.jsonl").read_text().splitlines()) == 3


def test_training_questions_never_include_popqa_eval_half_or_router_dev(tmp_path):
    (tmp_path / "popqa").mkdir()
    rows = [{"id": str(i), "question": f"q{i}", "answers": ["a"], "passage": "a b", "s_pop": 1} for i in range(60)]
    (tmp_path / "popqa" / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = load_questions(tmp_path, ["popqa"], workloads_dir=tmp_path / "no-workloads")
    ids = [q.id.split(":", 1)[1] for q in got]
    assert ids and all(popqa_split(i) == "train" and not is_router_dev(i) for i in ids)
    assert len(ids) < 60


def test_labelling_rules_and_own_reply_targets():
    q = TrainQuestion("requests:1", "requests", "What is 7 plus 5?", ("12",), None)
    assert label_row(q, "7 plus 5 is 12.")["correct"]
    assert not label_row(q, "The answer is 112.")["correct"]  # whole words only for requests
    hi = TrainQuestion("requests:2", "requests", "Hello!", (), None, "own_reply", "greeting")
    row = label_row(hi, "Hello! How can I help you today? I am a")
    assert row["correct"]
    assert [(e.kind, e.target) for e in examples_for(row)] == [("answer", "Hello! How can I help you today?")]
    made_up = TrainQuestion("fiction:1", "fiction", "Who runs the Belham project?", (), None, "ret", "project")
    row = label_row(made_up, None)
    assert not row["correct"] and [e.target for e in examples_for(row)] == [RET_TOKEN]
    assert own_reply("<RET>") == "Sure!"


def test_balance_keeps_every_answer_and_samples_ret_per_source():
    def ex(qid, kind):
        return Example(qid, kind, (), "x")

    pool = [ex(f"world:{i}", "answer") for i in range(4)] + [ex(f"fiction:{i}", "ret") for i in range(30)]
    pool += [ex(f"nq:{i}", "ret") for i in range(10)] + [ex("nq:0", "context")]
    got = balance(pool, answer_share=0.5)
    assert sum(e.kind == "answer" for e in got) == 4 and sum(e.kind == "ret" for e in got) == 4
    assert sum(e.id.startswith("fiction") and e.kind == "ret" for e in got) == 3  # proportional: 30 vs 10
    assert balance(pool, answer_share=0) == pool


def test_synthetic_sources_avoid_every_workload_question():
    from adapt.router import fictional, requests

    got = load_questions(SHARED, ["requests", "world", "fiction"]) if SHARED.exists() else []
    banned = {normalize(r["question"]) for p in sorted(WORKLOADS_DIR.glob("**/*.jsonl"))
              for r in map(json.loads, p.read_text().splitlines()) if "question" in r}
    assert all(normalize(q.question) not in banned for q in got)
    workload_names = {w for p in sorted(WORKLOADS_DIR.glob("*/*.jsonl")) for r in map(json.loads, p.read_text().splitlines())
                      for w in r["question"].replace("?", " ").split()}
    made_up = {w.removesuffix("'s") for f in fictional.fiction_questions(400) for w in f.question.split()
               if w.startswith(tuple(fictional.HEAD))}
    assert len(made_up) > 100 and not made_up & workload_names  # a different name pool: no overlap
    reqs = requests.requests(300)
    assert len({r.question for r in reqs}) == 300 and {r.rule for r in reqs} == {"closed_book", "own_reply"}
