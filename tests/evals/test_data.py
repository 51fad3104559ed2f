"""Loading QA sets, the fixed PopQA halves and deterministic selection."""

from __future__ import annotations

import pytest

from evals.data import BUCKETS, EvalDataError, bucket, load_qa, popqa_split, select


def test_load_popqa_and_simple_formats(popqa_tiny, qa_simple):
    rows = load_qa(popqa_tiny)
    assert [r.id for r in rows] == ["t1", "t2", "t3", "t4"]
    assert rows[2].answers == ("potter", "ceramicist") and rows[2].s_pop == 120.0
    p = rows[0].given_passages()[0]
    assert p.text.startswith("Paris is") and p.score == 1.5 and p.end == len(p.text)
    simple = load_qa(qa_simple)
    assert simple[1].passages == ("Spiders are arachnids with eight legs.",) and simple[2].passages == ()
    assert simple[0].s_pop is None and simple[0].id == "qa_simple:1"


def test_bad_files_name_the_line(tmp_path):
    with pytest.raises(EvalDataError, match="does not exist"):
        load_qa(tmp_path / "nope.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answers": ["a"]}\n{"question": "q2"}\n')
    with pytest.raises(EvalDataError, match=r"bad.jsonl:2: 'answers'"):
        load_qa(bad)
    bad.write_text("not json\n")
    with pytest.raises(EvalDataError, match=r"bad.jsonl:1: not valid JSON"):
        load_qa(bad)


def test_split_is_fixed_and_roughly_half():
    ids = [str(i) for i in range(2000)]
    halves = [popqa_split(i) for i in ids]
    assert halves == [popqa_split(i) for i in ids]
    assert 900 < halves.count("eval") < 1100
    assert set(halves) == {"eval", "train"}


def test_select_is_deterministic_and_disjoint_by_split(popqa_tiny):
    rows = load_qa(popqa_tiny)
    ev, tr = select(rows, split="eval"), select(rows, split="train")
    assert {r.id for r in ev}.isdisjoint({r.id for r in tr}) and len(ev) + len(tr) == 4
    allq = select(rows, split="all")
    assert [r.id for r in allq] == [r.id for r in select(list(reversed(rows)), split="all")]
    assert select(rows, split="all", limit=2, offset=1) == allq[1:3]
    with pytest.raises(EvalDataError, match="split must be"):
        select(rows, split="dev")


def test_stratified_takes_equal_numbers_per_bucket(popqa_tiny):
    rows = load_qa(popqa_tiny)  # one question per bucket
    strat = select(rows, split="all", sample="stratified")
    assert sorted(bucket(r.s_pop) for r in strat) == sorted(BUCKETS)
    assert bucket(999) == "<1k" and bucket(1000) == "1k-10k" and bucket(100_000) == ">100k" and bucket(None) is None
