"""Score answers with ragas 0.4.3: deterministic metrics always, LLM-judged ones when a judge is configured.

    adaptrag eval ragas --data qa.jsonl --limit 50 --mode always --out ragas.json
    adaptrag eval ragas --data qa.jsonl --judge-url http://127.0.0.1:8000/v1 --judge-model smollm2-135m

Deterministic (no model; every CI run):
- `exact_match`, `string_present`, `rouge_score` (ROUGE-L F1) from `ragas.metrics.collections`, each the
  best over the accepted answers (ragas compares against one reference string);
- `non_llm_context_precision_with_reference` / `non_llm_context_recall` (Levenshtein similarity of retrieved
  vs reference passages) and `id_based_context_precision` / `id_based_context_recall`: ragas has these only
  as its legacy `SingleTurnMetric`s, scored with `single_turn_ascore(SingleTurnSample(...))`. Context
  metrics are scored only for answers that retrieved something and questions with reference passages.

LLM-judged (`Judge` set): `faithfulness`, `answer_relevancy`, `context_precision_with_reference` from
`ragas.metrics.collections`, with `llm_factory(model, client=AsyncOpenAI(base_url=...))` (instructor, JSON
mode) and the project's own sentence embeddings (indexing.embed.Embedder) for answer relevancy. A small judge
often writes JSON that does not parse or fit the schema: each failed (metric, sample) is counted in
`judge_failures` and left out of that metric's mean; `metric_counts` says how many samples each mean covers.
"""

from __future__ import annotations

import asyncio
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evals.data import EvalDataError, QAExample
from rag.types import Answer

DETERMINISTIC = ("exact_match", "string_present", "rouge_score", "non_llm_context_precision_with_reference",
                 "non_llm_context_recall", "id_based_context_precision", "id_based_context_recall")
JUDGED = ("faithfulness", "answer_relevancy", "context_precision_with_reference")
INSTALL_HINT = "pip install 'adaptrag[eval]' rouge-score rapidfuzz  (ragas 0.4.3 and its scorers)"


@dataclass(frozen=True)
class RagasSample:
    """What ragas needs from one answered question."""

    id: str
    question: str
    response: str
    answers: tuple[str, ...]
    retrieved_contexts: tuple[str, ...] = ()
    retrieved_ids: tuple[str, ...] = ()
    reference_contexts: tuple[str, ...] = ()
    reference_ids: tuple[str, ...] = ()

    @classmethod
    def from_answer(cls, ex: QAExample, ans: Answer) -> RagasSample:
        return cls(
            id=ex.id, question=ex.question, response=ans.answer, answers=ex.answers,
            retrieved_contexts=tuple(p.text for p in ans.passages), retrieved_ids=tuple(p.id for p in ans.passages),
            reference_contexts=ex.passages, reference_ids=ex.passage_ids,
        )


@dataclass(frozen=True)
class Judge:
    """An OpenAI-compatible server (vLLM) serving the judge model."""

    base_url: str
    model: str
    api_key: str = "EMPTY"
    max_tokens: int = 512  # per judge call; small servers have small context windows
    timeout_s: float = 120.0
    strictness: int = 1  # answer_relevancy: generated questions per answer (ragas default 3; 1 on a CPU)
    max_retries: int = 1  # instructor re-asks after a JSON/schema failure


def _import_ragas():
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")  # no telemetry: this machine has no network anyway
    try:
        import ragas  # noqa: F401
        import rapidfuzz  # noqa: F401
        import rouge_score  # noqa: F401
    except ImportError as e:
        raise EvalDataError(f"ragas evaluation needs {e.name}: {INSTALL_HINT}") from None


async def _best(metric: Any, answers: Sequence[str], response: str) -> float:
    scores = [float((await metric.ascore(reference=a, response=response)).value) for a in answers if a]
    return max(scores) if scores else 0.0


async def _deterministic(samples: Sequence[RagasSample]) -> dict[str, list[float]]:
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics.collections import ExactMatch, RougeScore, StringPresence

    with warnings.catch_warnings():  # the non-LLM context metrics live only in ragas' legacy namespace
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas.metrics import (
            IDBasedContextPrecision,
            IDBasedContextRecall,
            NonLLMContextPrecisionWithReference,
            NonLLMContextRecall,
        )
    string_metrics = {"exact_match": ExactMatch(), "string_present": StringPresence(),
                      "rouge_score": RougeScore(rouge_type="rougeL", mode="fmeasure")}
    text_ctx = {"non_llm_context_precision_with_reference": NonLLMContextPrecisionWithReference(),
                "non_llm_context_recall": NonLLMContextRecall()}
    id_ctx = {"id_based_context_precision": IDBasedContextPrecision(),
              "id_based_context_recall": IDBasedContextRecall()}
    scores: dict[str, list[float]] = {name: [] for name in DETERMINISTIC}
    for s in samples:
        for name, m in string_metrics.items():
            scores[name].append(await _best(m, s.answers, s.response))
        if s.retrieved_contexts and s.reference_contexts:
            row = SingleTurnSample(retrieved_contexts=list(s.retrieved_contexts),
                                   reference_contexts=list(s.reference_contexts))
            for name, m in text_ctx.items():
                scores[name].append(float(await m.single_turn_ascore(row)))
        if s.retrieved_ids and s.reference_ids:
            row = SingleTurnSample(retrieved_context_ids=list(s.retrieved_ids),
                                   reference_context_ids=list(s.reference_ids))
            for name, m in id_ctx.items():
                scores[name].append(float(await m.single_turn_ascore(row)))
    return scores


def project_embeddings(model: str = "minilm-l6") -> Any:
    """ragas' modern embedding interface (`BaseRagasEmbedding`) over the project's sentence-transformers model."""
    from ragas.embeddings.base import BaseRagasEmbedding

    from indexing.embed import Embedder

    class ProjectEmbeddings(BaseRagasEmbedding):
        def __init__(self) -> None:
            super().__init__()
            self.embedder = Embedder.shared(model)

        def embed_text(self, text: str, **kwargs: Any) -> list[float]:
            return self.embedder.embed([text])[0].tolist()

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
            return self.embed_text(text)

        def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return self.embedder.embed(texts).tolist()

        async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return self.embed_texts(texts)

    return ProjectEmbeddings()


def judge_llm(judge: Judge):
    """ragas' instructor LLM on the judge server; fails fast with the URL when the server is unreachable."""
    from openai import AsyncOpenAI, OpenAI
    from ragas.llms import llm_factory

    try:
        served = [m.id for m in OpenAI(base_url=judge.base_url, api_key=judge.api_key, timeout=10,
                                       max_retries=0).models.list()]
    except Exception as e:  # noqa: BLE001 - connection refused, 404, ...: all mean "not reachable"
        cause = f" <- {e.__cause__!r}" if e.__cause__ else ""
        raise EvalDataError(f"judge server {judge.base_url} is not reachable ({type(e).__name__}: {e}{cause}); "
                            "start one (python -m rag.generators.vllm_server serve MODEL) or drop --judge-url") from None
    if judge.model not in served:
        raise EvalDataError(f"judge model {judge.model!r} is not served at {judge.base_url}; served: {served}")
    client = AsyncOpenAI(base_url=judge.base_url, api_key=judge.api_key, timeout=judge.timeout_s, max_retries=0)
    return llm_factory(judge.model, client=client, max_tokens=judge.max_tokens, max_retries=judge.max_retries)


def _failure_kind(e: BaseException) -> str:
    name = type(e).__name__
    text = str(e)
    if "Retry" in name or "Validation" in name or "JSON" in name or "json" in text.lower():
        return "parse"
    return name


async def _judged(samples: Sequence[RagasSample], judge: Judge, embeddings: Any) -> tuple[
        dict[str, list[float]], dict[str, int], dict[str, dict[str, int]], dict[str, str]]:
    from ragas.metrics.collections import AnswerRelevancy, ContextPrecisionWithReference, Faithfulness

    llm = judge_llm(judge)
    metrics = {
        "faithfulness": Faithfulness(llm=llm),
        "answer_relevancy": AnswerRelevancy(llm=llm, embeddings=embeddings, strictness=judge.strictness),
        "context_precision_with_reference": ContextPrecisionWithReference(llm=llm),
    }
    scores: dict[str, list[float]] = {name: [] for name in JUDGED}
    failures = {name: 0 for name in JUDGED}
    kinds: dict[str, dict[str, int]] = {name: {} for name in JUDGED}
    example: dict[str, str] = {}
    for s in samples:
        calls: dict[str, Any] = {}
        if s.response:
            calls["answer_relevancy"] = lambda s=s: metrics["answer_relevancy"].ascore(
                user_input=s.question, response=s.response)
        if s.response and s.retrieved_contexts:
            calls["faithfulness"] = lambda s=s: metrics["faithfulness"].ascore(
                user_input=s.question, response=s.response, retrieved_contexts=list(s.retrieved_contexts))
            calls["context_precision_with_reference"] = lambda s=s: metrics["context_precision_with_reference"].ascore(
                user_input=s.question, reference=s.answers[0], retrieved_contexts=list(s.retrieved_contexts))
        for name, call in calls.items():
            try:
                value = float((await call()).value)
            except Exception as e:  # noqa: BLE001 - a judge's bad JSON must not sink the run: count it
                failures[name] += 1
                kind = _failure_kind(e)
                kinds[name][kind] = kinds[name].get(kind, 0) + 1
                example.setdefault(name, f"{type(e).__name__}: {str(e)[:300]}")
                continue
            if math.isnan(value):
                failures[name] += 1
                kinds[name]["nan"] = kinds[name].get("nan", 0) + 1
                continue
            scores[name].append(value)
    return scores, failures, kinds, example


def _mean(xs: Sequence[float]) -> float | None:
    xs = [x for x in xs if not math.isnan(x)]
    return round(sum(xs) / len(xs), 4) if xs else None


def ragas_scores(samples: Sequence[RagasSample], judge: Judge | None = None,
                 embedding_model: str = "minilm-l6", per_sample: bool = False) -> dict[str, Any]:
    """{"n", "metrics": name -> mean, "metric_counts": name -> samples scored, "judge_failures": ...}."""
    _import_ragas()
    if not samples:
        raise EvalDataError("no samples to score")
    scores = asyncio.run(_deterministic(samples))
    report: dict[str, Any] = {"n": len(samples)}
    failures: dict[str, int] = {}
    if judge is not None:
        judged, failures, kinds, example = asyncio.run(_judged(samples, judge, project_embeddings(embedding_model)))
        scores.update(judged)
        report["judge"] = {"base_url": judge.base_url, "model": judge.model, "failure_kinds": kinds,
                           "failure_examples": example}
    report["metrics"] = {name: _mean(v) for name, v in scores.items()}
    report["metric_counts"] = {name: len([x for x in v if not math.isnan(x)]) for name, v in scores.items()}
    report["judge_failures"] = failures
    if per_sample:  # name -> the scored samples' values (for standard errors)
        report["per_sample"] = {name: [x for x in v if not math.isnan(x)] for name, v in scores.items()}
    return report
