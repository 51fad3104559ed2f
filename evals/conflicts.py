"""`adaptrag eval conflicts`: a counter-memory benchmark for the knowledge-conflict check.

Cases are built the way Xie et al. (2023, "Adaptive Chameleon or Stubborn Sloth") build counter-memory,
keeping only facts the model answers correctly closed-book (so it really has a memory to clash with):

- (a) memory_vs_documents: the real passage with every answer alias replaced by another answer of the
  same relation (another question of the same template: "In what city was X born?" -> another city);
- (b) none: the real passage, which contains the answer;
- (c) between_documents: the real and the counter passage together.

Sources: PopQA-style JSONL (`--data ../shared/data/popqa/dev.jsonl`; only questions whose passage contains an
answer alias) and `countryinfo` facts (capitals, continents, and yes/no questions "Is Paris the capital of
France?"; on by default, `--no-countryinfo` to skip). `--cases FILE` scores cases built elsewhere instead:
JSONL lines `{"question", "passages": [text, ...], "label": "none"|"memory_vs_documents"|"between_documents"}`,
the passages being that case's only documents.

    adaptrag eval conflicts --data ../shared/data/popqa/dev.jsonl --limit 330 --out conflicts.json
    adaptrag eval conflicts --cases my_cases.jsonl
    adaptrag eval conflicts --data ... --fit        # refit rag/conflict_calibration.json on the dev half

Reported per kind: n, precision, recall, f1, auroc, false_alarm_rate (share of label-"none" cases flagged
as that kind), plus grounded-answer accuracy on flagged vs unflagged cases and the check's added latency.
With --fit, coefficients are fitted on the "dev" half (hash of the fact) and metrics are given for the
"test" half as well as for all cases.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.conflict_cases import (
    LABELS,
    Case,
    CaseError,
    Fact,
    as_passages,
    cases_of,
    countryinfo_facts,
    interleave,
    load_cases,
    popqa_facts,
    split_of,
)
from evals.metrics import alias_match, auroc, rounded
from rag import answer_match, prompts
from rag.conflict import KINDS
from rag.types import Generation, Passage

ANSWER_TOKENS = 24  # grounded answers are one short sentence


@dataclass
class Record:
    case: Case
    memory_score: float = 0.0
    between_score: float = 0.0
    flagged: bool = False
    kind: str | None = None
    document_answer: str = ""
    parametric_answer: str = ""
    added_ms: float = 0.0
    features: dict[str, float] = field(default_factory=dict)



# ---- running the check ---------------------------------------------------------------------------


class Runner:
    """Runs the real stages on cases: closed-book (once per question), one-passage answers (once per
    passage text), the grounded answer, then ConflictChecker.assess on those."""

    def __init__(self, checker: Any) -> None:
        self.checker = checker
        self.gen = checker.generator
        self.closed: dict[str, tuple[Generation, float]] = {}
        self.single: dict[tuple[str, str], tuple[str, float]] = {}
        self.grounded: dict[tuple[str, ...], str] = {}

    def save(self, path: Path) -> None:
        """Cache every generation (JSON) so a rerun re-scores without calling the model (--cache)."""
        data = {"closed": {q: [g.text, list(g.tokens), list(g.token_logprobs), ms] for q, (g, ms) in self.closed.items()},
                "single": [[q, t, text, ms] for (q, t), (text, ms) in self.single.items()],
                "grounded": [[*k, v] for k, v in self.grounded.items()]}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        for q, (text, toks, lps, ms) in data["closed"].items():
            self.closed[q] = (Generation(text=text, tokens=tuple(toks), token_logprobs=tuple(lps)), ms)
        for q, t, text, ms in data["single"]:
            self.single[(q, t)] = (text, ms)
        for *k, v in data["grounded"]:
            self.grounded[tuple(k)] = v

    def closed_book(self, question: str) -> tuple[Generation, float]:
        if question not in self.closed:
            t = time.perf_counter()
            gen = self.checker.closed_book(question)
            self.closed[question] = (gen, (time.perf_counter() - t) * 1000)
        return self.closed[question]

    def _grounded(self, question: str, passages: Sequence[Passage]) -> str:
        from rag.generators.base import GenerationRequest

        key = (question, *(p.text for p in passages))
        if key in self.grounded:
            return self.grounded[key]
        prompt = self.gen.render_chat(prompts.grounded(question, passages))
        self.grounded[key] = self.gen.generate(GenerationRequest(
            prompt=prompt, max_new_tokens=ANSWER_TOKENS, stop=("\n",), suppress=(prompts.RET_TOKEN,))).text.strip()
        return self.grounded[key]

    def one_passage(self, question: str, passage: Passage) -> tuple[str, float]:
        key = (question, passage.text)
        if key not in self.single:
            t = time.perf_counter()
            text = self.checker.passage_answer_text(question, passage)
            self.single[key] = (text, (time.perf_counter() - t) * 1000)
        return self.single[key]

    def run(self, case: Case, index: int) -> Record:
        passages = as_passages(case.passages, f"case{index}")[: self.checker.cfg.max_passages]
        closed, closed_ms = self.closed_book(case.question)
        singles = [self.one_passage(case.question, p) for p in passages]
        pas = [self.checker.read_passage_answer(case.question, p, text) for p, (text, _) in zip(passages, singles)]
        # The grounded answer over one passage is the one-passage answer itself (same prompt): reuse it.
        document = singles[0][0] if len(passages) == 1 else self._grounded(case.question, passages)
        a = self.checker.assess(case.question, passages, document, closed, pas)
        added = closed_ms + sum(ms for _, ms in singles) + a.elapsed_ms
        return Record(case, a.memory_score, a.between_score, a.conflict.flagged, a.conflict.kind, document,
                      a.conflict.parametric_answer or "", added, a.features)

    def rescore(self, record: Record, index: int) -> Record:
        """Re-decide from cached generations (after refitting the calibration)."""
        return self.run(record.case, index)


def fact_cases(runner: Runner, facts: Sequence[Fact], limit: int | None) -> Iterator[Case]:
    """Cases of facts the model answers correctly closed-book, up to `limit` cases."""
    produced = 0
    for fact in facts:
        if limit is not None and produced >= limit:
            return
        gen, _ = runner.closed_book(fact.question)
        if fact.aliases in (("yes",), ("no",)):
            pol = answer_match.polarity(answer_match.polar_answer(fact.question, gen.text))
            right = pol is not None and pol == (fact.aliases[0] == "yes")
        else:
            right = alias_match(gen.text, fact.aliases)
        if right:
            for case in cases_of(fact):
                produced += 1
                yield case


# ---- metrics -------------------------------------------------------------------------------------


def kind_metrics(records: Sequence[Record], kind: str) -> dict[str, Any]:
    gold = [r.case.label == kind for r in records]
    pred = [r.flagged and r.kind == kind for r in records]
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum(p and not g for g, p in zip(gold, pred))
    fn = sum(g and not p for g, p in zip(gold, pred))
    none = [r for r in records if r.case.label == "none"]
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0 if precision is not None else None
    scores = [r.memory_score if kind == "memory_vs_documents" else r.between_score for r in records]
    false_alarms = sum(r.flagged and r.kind == kind for r in none)
    return {"n": sum(gold), "precision": rounded(precision), "recall": rounded(recall), "f1": rounded(f1),
            "auroc": rounded(auroc(scores, gold)), "false_alarm_rate": rounded(false_alarms / len(none) if none else None),
            "predicted": sum(pred)}


def summarize(records: Sequence[Record]) -> dict[str, Any]:
    report: dict[str, Any] = {"n": len(records), "labels": {lab: sum(r.case.label == lab for r in records)
                                                           for lab in LABELS}}
    for kind in KINDS:
        report[kind] = kind_metrics(records, kind)
    none = [r for r in records if r.case.label == "none"]
    report["false_alarm_rate_any"] = rounded(sum(r.flagged for r in none) / len(none) if none else None)
    scored = [r for r in records if r.case.aliases]
    acc: dict[str, Any] = {}
    for name, group in (("flagged", [r for r in scored if r.flagged]), ("unflagged", [r for r in scored if not r.flagged])):
        acc[name] = {"n": len(group), "accuracy": rounded(sum(_correct(r) for r in group) / len(group) if group else None)}
    report["answer_accuracy"] = acc
    lat = sorted(r.added_ms for r in records)
    report["added_latency_ms"] = {"mean": rounded(sum(lat) / len(lat) if lat else None, 1),
                                  "p50": rounded(lat[len(lat) // 2] if lat else None, 1),
                                  "p95": rounded(lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else None, 1)}
    by_source: dict[str, Any] = {}
    for src in sorted({r.case.source for r in records}):
        sub = [r for r in records if r.case.source == src]
        by_source[src] = {"n": len(sub), **{k: {m: kind_metrics(sub, k)[m] for m in ("f1", "false_alarm_rate")}
                                            for k in KINDS}}
    report["by_source"] = by_source
    return report


def _correct(r: Record) -> bool:
    if r.case.aliases in (("yes",), ("no",)):
        return answer_match.polarity(answer_match.polar_answer(r.case.question, r.document_answer)) == (r.case.aliases[0] == "yes")
    return alias_match(r.document_answer, r.case.aliases)


# ---- calibration -------------------------------------------------------------------------------


def fit_logistic(rows: Sequence[dict[str, float]], labels: Sequence[bool], names: Sequence[str],
                 l2: float = 0.1, steps: int = 3000, lr: float = 0.5) -> dict[str, float]:
    """L2-regularised logistic regression by gradient descent (numpy; a few hundred rows)."""
    import numpy as np

    x = np.array([[row[n] for n in names] for row in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]] / len(y)
        w -= lr * grad
    return {"bias": round(float(w[0]), 4), **{n: round(float(v), 4) for n, v in zip(names, w[1:])}}


# Thresholds are chosen on the dev half for the best mean F1 of the two kinds with at most this share of
# agreeing cases flagged: half the 10% false-alarm floor, leaving room for the held-out half.
FALSE_ALARM_TARGET = 0.05
THRESHOLD_GRID = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.30 ... 0.95


def fit_calibration(records: Sequence[Record], checker: Any) -> dict[str, Any]:
    """Logistic coefficients per kind, then flag thresholds, all from the dev half of `records`.

    `checker` (a ConflictChecker) re-decides the recorded features under each candidate threshold pair.
    """
    from rag.conflict import BETWEEN_FEATURES, MEMORY_FEATURES

    dev = [r for r in records if split_of(r.case.group) == "dev"]
    # memory: conflict vs agreeing evidence, on single-passage cases; between: every case with two answers.
    mem = [r for r in dev if r.case.label in ("none", "memory_vs_documents")]
    btw = [r for r in dev if r.features.get("grounded_pair") is not None]
    calib: dict[str, Any] = {
        "memory_vs_documents": fit_logistic([r.features for r in mem],
                                            [r.case.label == "memory_vs_documents" for r in mem], MEMORY_FEATURES),
        "between_documents": fit_logistic([r.features for r in btw],
                                          [r.case.label == "between_documents" for r in btw], BETWEEN_FEATURES),
    }
    calib["thresholds"] = fit_thresholds(dev, checker, calib)
    calib["fitted_on"] = {"cases": len(dev), "memory_rows": len(mem), "between_rows": len(btw),
                          "split": "dev half of sha256('conflicts:' + question) % 2",
                          "threshold_rule": f"best mean F1 with false alarms <= {FALSE_ALARM_TARGET} on the dev half",
                          "command": "adaptrag eval conflicts --data ../shared/data/popqa/dev.jsonl --fit"}
    return calib


def fit_thresholds(dev: Sequence[Record], checker: Any, calib: dict[str, Any]) -> dict[str, float]:
    """The (memory, between) threshold pair of THRESHOLD_GRID with the best mean F1 on `dev` among pairs
    whose false-alarm rate is at most FALSE_ALARM_TARGET (the lowest false-alarm pair if none is)."""
    from dataclasses import replace as dc_replace

    saved = checker.calibration
    best: tuple[tuple[float, float], dict[str, float]] | None = None
    try:
        for tm in THRESHOLD_GRID:
            for tb in THRESHOLD_GRID:
                checker.calibration = {**calib, "thresholds": {"memory_vs_documents": tm, "between_documents": tb}}
                decided = []
                for r in dev:
                    ms, bs, mf, bf = checker.decide(r.features)
                    kind = "between_documents" if bf else "memory_vs_documents" if mf else None
                    decided.append(dc_replace(r, memory_score=ms, between_score=bs, flagged=kind is not None,
                                              kind=kind))
                s = summarize(decided)
                f1 = sum(s[k]["f1"] or 0.0 for k in KINDS) / len(KINDS)
                fa = s["false_alarm_rate_any"] or 0.0
                key = (1.0 if fa <= FALSE_ALARM_TARGET else -fa, f1)
                if best is None or key > best[0]:
                    best = (key, {"memory_vs_documents": tm, "between_documents": tb})
    finally:
        checker.calibration = saved
    assert best is not None
    return best[1]


# ---- CLI -----------------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add `conflicts` to the `adaptrag eval` subcommands (called by evals/cli.py)."""
    from rag.cli_common import add_common_args

    p = subparsers.add_parser("conflicts", help="knowledge-conflict benchmark (counter-memory cases)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="PopQA-style JSONL to build cases from (../shared/data/popqa/dev.jsonl)")
    p.add_argument("--cases", metavar="FILE", help="score these JSONL cases instead of building them")
    p.add_argument("--no-countryinfo", action="store_true", help="do not build cases from countryinfo facts")
    p.add_argument("--limit", type=int, default=330, help="cases to build/score (default 330)")
    p.add_argument("--fit", action="store_true",
                   help="refit the score's logistic coefficients on the dev half and write them (see --calibration-out)")
    p.add_argument("--calibration-out", metavar="FILE", help="where --fit writes (default rag/conflict_calibration.json)")
    p.add_argument("--records", metavar="FILE", help="write one JSON line per case")
    p.add_argument("--cache", metavar="FILE",
                   help="generation cache (JSON): reused when it exists, updated as cases run; for re-scoring")
    p.add_argument("--out", metavar="FILE", help="also write the report to FILE")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common_args(p)
    p.set_defaults(func=cmd_conflicts)


def cmd_conflicts(args: argparse.Namespace) -> int:
    from rag.cli_common import config_from_args

    if args.limit is not None and args.limit <= 0:
        print(f"error: --limit must be greater than 0 (got {args.limit})", file=sys.stderr)
        return 2
    if not args.cases and not args.data and args.no_countryinfo:
        print("error: nothing to score: give --data PATH, --cases FILE, or drop --no-countryinfo", file=sys.stderr)
        return 2
    try:
        cfg = config_from_args(args)
        if args.cases:
            cases: Sequence[Case] | Iterator[Case] = load_cases(Path(args.cases))[: args.limit]
            facts: list[Fact] = []
        else:
            sources = []
            if not args.no_countryinfo:
                sources.append(countryinfo_facts())
            if args.data:
                if not Path(args.data).exists():
                    raise CaseError(f"--data {args.data} does not exist")
                sources.append(popqa_facts(Path(args.data)))
            facts = interleave(*sources)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = evaluate(cfg, cases if args.cases else None, facts, args)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


def evaluate(cfg: Any, cases: Sequence[Case] | None, facts: Sequence[Fact], args: argparse.Namespace,
             checker: Any = None) -> dict:
    """Build (or take) the cases, run the check on each, and summarise; `checker` defaults to one made
    from `cfg` (the real generator of cfg.model and the configured embedder)."""
    from tqdm import tqdm

    from rag.conflict import load_calibration

    if checker is None:
        from indexing.embed import Embedder
        from rag.conflict import ConflictChecker
        from rag.generators import make_generator

        checker = ConflictChecker(make_generator(cfg.model, cfg.generation),
                                  Embedder.shared(cfg.index.embedding_model), cfg)
    runner = Runner(checker)
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        runner.load(cache)
    stream = cases if cases is not None else fact_cases(runner, facts, args.limit)
    bar = tqdm(total=args.limit if cases is None else len(cases), desc="conflict cases", unit="case",
               disable=args.no_progress, file=sys.stderr)
    records = []
    for i, case in enumerate(stream):
        records.append(runner.run(case, i))
        bar.update(1)
        if cache and i % 10 == 9:
            runner.save(cache)
    bar.close()
    if cache:
        runner.save(cache)
    report: dict[str, Any] = {"model": cfg.model.name, "source": "cases" if cases is not None else "generated",
                              "candidate_questions": len(runner.closed), **summarize(records)}
    if args.fit:
        calib = fit_calibration(records, checker)
        out = Path(args.calibration_out) if args.calibration_out else Path(__file__).parents[1] / "rag" / \
            "conflict_calibration.json"
        out.write_text(json.dumps(calib, indent=2) + "\n", encoding="utf-8")
        checker.calibration = load_calibration(out)
        records = [runner.rescore(r, i) for i, r in enumerate(records)]  # cached generations: cheap
        report.update({"calibration": str(out), **summarize(records)})
        report["test_split"] = summarize([r for r in records if split_of(r.case.group) == "test"])
    if args.records:
        with open(args.records, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({**r.case.__dict__, "memory_score": r.memory_score, "between_score": r.between_score,
                                    "flagged": r.flagged, "kind": r.kind, "document_answer": r.document_answer,
                                    "parametric_answer": r.parametric_answer, "added_ms": round(r.added_ms, 1),
                                    "features": r.features}, ensure_ascii=False) + "\n" for r in records)
    return report
