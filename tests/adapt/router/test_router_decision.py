"""The router decision alone (adapt/router/decision.py): batched first-position P(<RET>) and per-kind tables."""

from __future__ import annotations

import pytest

from adapt.router.decision import by_kind, decision_accuracy, first_position_p_ret, workload_cases
from rag import prompts
from rag.decide import TOP_LOGPROBS, ret_probability
from rag.generators.base import GenerationRequest

CASES = [{"id": "a", "kind": "self_contained"}, {"id": "b", "kind": "self_contained"},
         {"id": "c", "kind": "document"}, {"id": "d", "kind": "known"}]


def test_per_kind_rates_and_targets():
    table = by_kind(CASES, [0.1, 0.8, 0.9, 0.2], threshold=0.5)
    assert table["self_contained"] == {"n": 2, "retrieval_rate": 0.5, "median_p_ret": 0.45, "target": "<= 30%",
                                       "met": False}
    assert table["document"]["met"] and table["known"]["met"] and "unanswerable" not in table
    assert decision_accuracy(CASES, [0.1, 0.8, 0.9, 0.2], 0.5) == pytest.approx((0.5 + 1 + 1) / 3)


def test_workload_dev_split_has_every_kind():
    kinds = {c["kind"] for c in workload_cases("dev")}
    assert kinds == {"self_contained", "known", "document", "no_conflict", "unanswerable", "memory_conflict",
                     "document_conflict"}


def test_batched_p_ret_equals_the_one_by_one_decision(hf_generator):
    questions = ["Hi there, how are you doing today my friend?", "What is the capital of France?"]
    batched = first_position_p_ret(hf_generator, questions, None, batch_size=2)  # left padding in one batch
    for q, p in zip(questions, batched, strict=True):
        gen = hf_generator.generate(GenerationRequest(
            prompt=hf_generator.render_chat(prompts.closed_book(q, router=True)), max_new_tokens=1,
            top_logprobs=TOP_LOGPROBS, temperature=0.0))
        assert p == pytest.approx(ret_probability(gen.top_logprobs[0]), abs=1e-4)
