"""ragas' deterministic metrics over a 3-sample fixture, against hand-computed values."""

from __future__ import annotations

import pytest

from evals.data import EvalDataError
from evals.ragas_eval import DETERMINISTIC, Judge, RagasSample, judge_llm, ragas_scores

SAMPLES = [
    # alias present; ROUGE-L vs "Oulu": tokens [x, was, born, in, oulu, 1] -> P 1/6, R 1, F 2/7
    RagasSample("1", "Where was X born?", "X was born in Oulu [1].", ("Oulu", "Uleåborg"),
                ("X was born in Oulu, Finland.",), ("p1",), ("X was born in Oulu, Finland.",), ("p1",)),
    # exact answer, but the retrieved passage is not the reference one
    RagasSample("2", "Capital of France?", "Paris", ("Paris",),
                ("Some unrelated text about cats.",), ("p9",), ("Paris is the capital of France.",), ("p2",)),
    # nothing retrieved, no reference passages: context metrics skip it
    RagasSample("3", "Who?", "I don't know", ("Bob",)),
]


@pytest.fixture(scope="module")
def report():
    return ragas_scores(SAMPLES)


def test_deterministic_metrics_hand_computed(report):
    m = report["metrics"]
    assert report["n"] == 3 and set(m) == set(DETERMINISTIC)
    assert m["exact_match"] == pytest.approx(1 / 3, abs=1e-4)  # only "Paris" == "Paris"
    assert m["string_present"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["rouge_score"] == pytest.approx((2 / 7 + 1 + 0) / 3, abs=1e-4)
    for name in ("non_llm_context_precision_with_reference", "non_llm_context_recall",
                 "id_based_context_precision", "id_based_context_recall"):
        assert m[name] == pytest.approx(0.5, abs=1e-4), name  # sample 1 hits, sample 2 misses
        assert report["metric_counts"][name] == 2
    assert report["judge_failures"] == {}


def test_unreachable_judge_is_a_clear_error():
    with pytest.raises(EvalDataError, match="judge server http://127.0.0.1:9/v1 is not reachable"):
        judge_llm(Judge("http://127.0.0.1:9/v1", "m"))


def test_no_samples_is_an_error():
    with pytest.raises(EvalDataError, match="no samples"):
        ragas_scores([])
