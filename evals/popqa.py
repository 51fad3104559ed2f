"""PopQA through the real answer path, and the when-to-retrieve baselines.

    adaptrag eval popqa --data ../shared/data/popqa/dev.jsonl --limit 300 --mode never,always,confidence,popularity,oracle

Modes:
- never / always / adaptive: `Pipeline.answer(question, mode=...)`, with the question's own PopQA passage
  (`--passages given`, the same passage for every mode) or a search of the index (`--passages index`).
- confidence: retrieve when the untrained model's closed-book answer is unconfident (exp of the mean
  token log-prob below a threshold); popularity: retrieve when `s_pop` is below a threshold. Both
  thresholds are tuned for accuracy on the PopQA *train* half (see evals/data.py) and applied to the
  eval half. Both routers decide from closed-book information only, so they are evaluated by running
  never and always once per question and taking, per question, the run the router would have chosen
  (greedy decoding makes that identical to running the router). Latency of a confidence-routed
  question that retrieves counts both runs (it answered closed-book first); popularity needs no call.
- oracle: closed-book when that answer is right, else retrieved: the ceiling for any router.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from evals.data import EvalDataError, QAExample
from evals.metrics import QARecord, core_metrics, summarize
from evals.ragas_eval import RagasSample

PIPELINE_MODES = ("never", "always", "adaptive")
ROUTED_MODES = ("confidence", "popularity", "oracle")
ALL_MODES = PIPELINE_MODES + ROUTED_MODES
PASSAGE_SOURCES = ("given", "index")


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in ALL_MODES]
    if bad or not modes:
        raise EvalDataError(f"invalid --mode {text!r}; allowed (comma-separated): {', '.join(ALL_MODES)}")
    return list(dict.fromkeys(modes))


class PopQARunner:
    """Runs questions through a `Pipeline` and keeps one `QARecord` per question and mode."""

    def __init__(self, pipeline: Any, *, passages: str = "given", progress: bool = True,
                 concurrency: int = 1) -> None:
        """concurrency > 1: that many questions in flight at once (a server backend: vLLM batches them)."""
        if passages not in PASSAGE_SOURCES:
            raise EvalDataError(f"--passages must be one of {', '.join(PASSAGE_SOURCES)}, got {passages!r}")
        if concurrency < 1:
            raise EvalDataError(f"--concurrency must be at least 1, got {concurrency}")
        self.pipeline = pipeline
        self.passages = passages
        self.progress = progress
        self.concurrency = concurrency
        self.warnings: dict[str, int] = {}  # pipeline warnings (e.g. adaptive fell back to always) -> count
        self.samples: dict[str, list[RagasSample]] = {}  # run key -> what ragas needs of each answer
        self._local = threading.local()  # the decision of the question this thread is answering
        decider = getattr(pipeline, "decider", None)
        if decider is not None:  # record the pipeline's own decisions: a never run's closed-book log-probs
            inner = decider.decide

            def decide(question: str, mode: str | None = None, **signals: Any) -> Any:
                d = inner(question, mode, **signals)  # readable, unfamiliar: the pipeline's own say
                self._local.decision = d
                return d

            decider.decide = decide

    def run(self, examples: Sequence[QAExample], mode: str, desc: str = "", key: str = "") -> list[QARecord]:
        """Answer every example in `mode`; ragas samples are kept under `key` (default: the mode)."""
        from tqdm import tqdm

        if mode not in PIPELINE_MODES:
            raise EvalDataError(f"{mode!r} is not a pipeline mode ({', '.join(PIPELINE_MODES)})")
        def one(ex: QAExample) -> tuple[QARecord, RagasSample, tuple[str, ...]]:
            given = None
            if self.passages == "given" and mode != "never":
                if not ex.passages:
                    raise EvalDataError(f"question {ex.id} has no passage; use --passages index")
                given = ex.given_passages()
            self._local.decision = None
            ans = self.pipeline.answer(ex.question, mode=mode, passages=given)
            closed = self._local.decision.closed_book if self._local.decision is not None else None
            confidence = math.exp(closed.mean_logprob) if closed is not None and closed.token_logprobs else None
            rec = QARecord.from_answer(ex.id, ex.answers, ans, s_pop=ex.s_pop,
                                       confidence=confidence if mode == "never" else None)
            return rec, RagasSample.from_answer(ex, ans), tuple(ans.warnings)

        bar = tqdm(total=len(examples), desc=desc or f"popqa {mode}", disable=not self.progress, file=sys.stderr,
                   leave=False)
        results = []
        if self.concurrency == 1 or len(examples) < 2:
            for ex in examples:
                results.append(one(ex))
                bar.update(1)
        else:  # the first question alone (lazy set-up happens once), then the rest in flight together
            results.append(one(examples[0]))
            bar.update(1)
            with ThreadPoolExecutor(self.concurrency) as pool:
                for r in pool.map(one, examples[1:]):
                    results.append(r)
                    bar.update(1)
        bar.close()
        for _, _, warnings in results:
            for w in warnings:
                kind = w.split(":")[0][:80]
                self.warnings[kind] = self.warnings.get(kind, 0) + 1
        records = [r for r, _, _ in results]
        samples = [s for _, s, _ in results]
        self.samples[key or mode] = samples
        return records

    def confidences(self, examples: Sequence[QAExample], never: Sequence[QARecord],
                    always: Sequence[QARecord]) -> list[QARecord]:
        """`never` records with `confidence` filled: the never run's own closed-book generation (recorded from the
        pipeline's decider), else the conflict check's closed-book answer in the always run, else one closed-book
        generation with per-token log-probs."""
        out = []
        for ex, n, a in zip(examples, never, always, strict=True):
            conf = n.confidence if n.confidence is not None else a.confidence
            if conf is None:
                conf = closed_book_confidence(self.pipeline, ex.question)
            out.append(replace(n, confidence=conf))
        return out


def closed_book_confidence(pipeline: Any, question: str) -> float:
    """exp(mean token log-prob) of the untrained model's greedy closed-book answer (<RET> suppressed)."""
    from rag import prompts
    from rag.generators.base import GenerationRequest

    gen = pipeline.generator
    prompt = gen.render_chat(prompts.closed_book(question))
    out = gen.generate(GenerationRequest(prompt=prompt, max_new_tokens=pipeline.cfg.generation.max_new_tokens,
                                         stop=("\nQuestion:", "\n\n\n"), suppress=(prompts.RET_TOKEN,),
                                         top_logprobs=1))
    return math.exp(out.mean_logprob) if out.token_logprobs else 0.0


# ---- routers evaluated from paired never/always runs -------------------------------------------------------

def route(never: Sequence[QARecord], always: Sequence[QARecord], retrieve: Sequence[bool],
          pay_closed_book: bool) -> list[QARecord]:
    """Per question, the always record where `retrieve` else the never record.

    pay_closed_book: the router needed the closed-book answer first, so a retrieving question's latency and
    tokens include the never run.
    """
    out = []
    for n, a, r in zip(never, always, retrieve, strict=True):
        if not r:
            out.append(n)
            continue
        if pay_closed_book:
            timings = dict(a.timings_ms)
            timings["decide"] = timings.get("decide", 0.0) + n.timings_ms.get("total", 0.0)
            timings["total"] = a.timings_ms.get("total", 0.0) + n.timings_ms.get("total", 0.0)
            a = replace(a, timings_ms=timings, prompt_tokens=a.prompt_tokens + n.prompt_tokens)
        out.append(a)
    return out


def _score(kind: str, rec: QARecord) -> float:
    if kind == "confidence":
        return rec.confidence if rec.confidence is not None else 0.0
    return rec.s_pop if rec.s_pop is not None else 0.0


def _decisions(never: Sequence[QARecord], kind: str, threshold: float) -> list[bool]:
    return [_score(kind, n) < threshold for n in never]  # retrieve when below


def tune_threshold(never: Sequence[QARecord], always: Sequence[QARecord], kind: str) -> dict[str, Any]:
    """The threshold (retrieve when score < threshold) with the best accuracy; ties go to less retrieval."""
    scores = sorted({_score(kind, n) for n in never})
    candidates = [scores[0]] + [(a + b) / 2 for a, b in itertools.pairwise(scores)] + [math.inf]
    best: tuple[float, float, float] | None = None  # (accuracy, -retrieval, threshold)
    for t in candidates:
        rec = route(never, always, _decisions(never, kind, t), pay_closed_book=False)
        m = core_metrics(rec)
        key = (m["accuracy"] or 0.0, -(m["retrieval_rate"] or 0.0), t)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    t = best[2]
    return {"threshold": None if math.isinf(t) else t, "retrieve_always": math.isinf(t), "tune_accuracy": best[0],
            "tune_retrieval_rate": -best[1], "tune_n": len(never)}


def sweep(never: Sequence[QARecord], always: Sequence[QARecord], kind: str, points: int = 21) -> list[list[float]]:
    """[retrieval_rate, accuracy] for thresholds at score quantiles: the router's trade-off curve."""
    scores = sorted(_score(kind, n) for n in never)
    qs = sorted({scores[min(len(scores) - 1, round(i * (len(scores) - 1) / (points - 1)))] for i in range(points)})
    out = []
    for t in [*qs, math.inf]:
        m = core_metrics(route(never, always, _decisions(never, kind, t), pay_closed_book=False))
        out.append([m["retrieval_rate"], m["accuracy"]])
    return sorted({tuple(p) for p in out})  # type: ignore[return-value]


def oracle(never: Sequence[QARecord], always: Sequence[QARecord]) -> list[QARecord]:
    return route(never, always, [not n.correct for n in never], pay_closed_book=False)


def evaluate(runner: PopQARunner, examples: Sequence[QAExample], modes: Sequence[str],
             tune_examples: Sequence[QAExample] = (),
             on_records: Callable[[str, list[QARecord]], None] | None = None) -> dict[str, Any]:
    """Run every requested mode; returns {"modes": {mode: summary}, "thresholds": ..., "sweeps": ...}."""
    need_pair = any(m in ROUTED_MODES for m in modes)
    need_tune = any(m in ("confidence", "popularity") for m in modes)
    if need_tune and not tune_examples:
        raise EvalDataError("confidence/popularity need tuning questions (the train half): raise --tune-limit")
    runs: dict[str, list[QARecord]] = {}
    for m in PIPELINE_MODES:
        if m in modes or (need_pair and m != "adaptive"):
            runs[m] = runner.run(examples, m)
    tune: dict[str, list[QARecord]] = {}
    if need_pair and "confidence" in modes:
        runs["never"] = runner.confidences(examples, runs["never"], runs["always"])
    if need_tune:
        tune["never"] = runner.run(tune_examples, "never", desc="tune never", key="tune_never")
        tune["always"] = runner.run(tune_examples, "always", desc="tune always", key="tune_always")
        if "confidence" in modes:
            tune["never"] = runner.confidences(tune_examples, tune["never"], tune["always"])
    result = combine(runs, modes, tune, on_records)
    if runner.warnings:
        result["pipeline_warnings"] = dict(runner.warnings)
    return result


def combine(runs: dict[str, list[QARecord]], modes: Sequence[str], tune: Mapping[str, Sequence[QARecord]],
            on_records: Callable[[str, list[QARecord]], None] | None = None) -> dict[str, Any]:
    """Summaries of the pipeline runs plus the routed baselines built from the never/always pairs.

    `runs` holds "never"/"always"(/"adaptive") records of the evaluated questions; `tune` the never/always
    records of the tuning questions (train half). Also used on saved records (`eval popqa --from-records`).
    """
    result: dict[str, Any] = {"modes": {}, "thresholds": {}, "sweeps": {}}
    if any(m in ROUTED_MODES for m in modes):
        never, always = runs["never"], runs["always"]
        if [r.id for r in never] != [r.id for r in always]:
            raise EvalDataError("never and always records must cover the same questions in the same order")
        for kind in ("confidence", "popularity"):
            if kind in modes:
                if not tune.get("never") or not tune.get("always"):
                    raise EvalDataError(f"{kind} needs never/always records of tuning questions (the train half)")
                tuned = tune_threshold(tune["never"], tune["always"], kind)
                result["thresholds"][kind] = tuned
                t = math.inf if tuned["threshold"] is None else tuned["threshold"]
                runs[kind] = route(never, always, _decisions(never, kind, t), pay_closed_book=kind == "confidence")
                result["sweeps"][kind] = sweep(never, always, kind)
        if "oracle" in modes:
            runs["oracle"] = oracle(never, always)
            gap = (core_metrics(runs["oracle"])["accuracy"] or 0) - (core_metrics(always)["accuracy"] or 0)
            result["oracle_gap_over_always"] = round(gap, 4)
    for m in modes:
        result["modes"][m] = summarize(runs[m], m)
        if on_records is not None:
            on_records(m, runs[m])
    return result


def read_records(paths: Sequence[str]) -> dict[str, list[QARecord]]:
    """mode -> records, concatenated over JSONL files written by `eval popqa --records` (in file order)."""
    import json
    from pathlib import Path

    out: dict[str, list[QARecord]] = {}
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise EvalDataError(f"records file {path} does not exist") from None
        for i, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
                mode = row.pop("mode")
                rec = QARecord.from_json(row)
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise EvalDataError(f"{path}:{i}: not a record written by `eval popqa --records` ({e})") from None
            out.setdefault(mode, []).append(rec)
    return out
