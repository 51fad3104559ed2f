"""Running the knowledge-conflict check on labelled cases: the real stages, generations cached for rescoring.

Cases are built the way Xie et al. (2023, "Adaptive Chameleon or Stubborn Sloth") build counter-memory,
keeping only facts the model answers correctly closed-book (so it really has a memory to clash with):

- (a) memory_vs_documents: the real passage with every answer alias replaced by another answer of the
  same relation (another question of the same template: "In what city was X born?" -> another city);
- (b) none: the real passage, which contains the answer;
- (c) between_documents: the real and the counter passage together.

Sources (evals/conflict_cases.py): PopQA-style JSONL (only questions whose passage contains an answer alias)
and `countryinfo` facts (capitals, continents, and yes/no questions "Is Paris the capital of France?"), or
cases built elsewhere (JSONL `{"question", "passages": [text, ...], "label"}`).

    report = evaluate(cfg, cases=None, facts=facts, options=ConflictOptions(limit=330))

Scores: evals/conflict_metrics.py; the calibration fit (`options.fit_out`): evals/conflict_fitting.py.
The command is `adaptrag eval conflicts` (evals/cli.py).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.conflict_cases import Case, Fact, as_passages, cases_of, split_of
from evals.conflict_fitting import fit_calibration
from evals.conflict_metrics import Record, summarize
from evals.metrics import alias_match
from rag import answer_match, prompts
from rag import evidence as ev
from rag.types import Generation, Passage

ANSWER_TOKENS = 24  # grounded answers are one short sentence


@dataclass(frozen=True)
class ConflictOptions:
    """How `evaluate` runs (the `eval conflicts` flags)."""

    limit: int | None = 330  # cases to build/score; None = all
    fit_out: Path | None = None  # refit the calibration on the dev half and write it here; None = no fit
    records: Path | None = None  # write one JSON line per case here
    cache: Path | None = None  # generation cache (JSON): reused when it exists, updated as cases run
    progress: bool = True  # a progress bar on stderr

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit <= 0:
            raise ValueError(f"limit must be greater than 0. Currently, the limit is {self.limit}")


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
        singles: dict[int, tuple[str, float]] = {}  # passage -> (reading, ms); firmly quoted passages are not read

        def read(i: int) -> ev.Reading:
            singles[i] = self.one_passage(case.question, passages[i])
            return self.checker.read_passage_answer(case.question, passages[i], singles[i][0])

        pas = ev.read_or_quote(len(passages), self.checker.quotes(case.question, passages), read, case.question)
        # The grounded answer over one passage is the one-passage answer itself (same prompt): reuse it.
        document = pas[0].text if len(passages) == 1 else self._grounded(case.question, passages)
        a = self.checker.assess(case.question, passages, document, closed, pas)
        added = closed_ms + sum(ms for _, ms in singles.values()) + a.elapsed_ms
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


def evaluate(cfg: Any, cases: Sequence[Case] | None, facts: Sequence[Fact], options: ConflictOptions,
             checker: Any = None) -> dict[str, Any]:
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
    cache = options.cache
    if cache and cache.exists():
        runner.load(cache)
    stream = cases if cases is not None else fact_cases(runner, facts, options.limit)
    bar = tqdm(total=options.limit if cases is None else len(cases), desc="conflict cases", unit="case",
               disable=not options.progress, file=sys.stderr)
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
    if options.fit_out is not None:
        calib = fit_calibration(records, checker)
        out = options.fit_out
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(calib, indent=2) + "\n", encoding="utf-8")
        checker.calibration = load_calibration(out)
        records = [runner.rescore(r, i) for i, r in enumerate(records)]  # cached generations: cheap
        report.update({"calibration": str(out), **summarize(records)})
        report["test_split"] = summarize([r for r in records if split_of(r.case.group) == "test"])
    if options.records:
        with open(options.records, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({**r.case.__dict__, "memory_score": r.memory_score, "between_score": r.between_score,
                                    "flagged": r.flagged, "kind": r.kind, "document_answer": r.document_answer,
                                    "parametric_answer": r.parametric_answer, "added_ms": round(r.added_ms, 1),
                                    "features": r.features}, ensure_ascii=False) + "\n" for r in records)
    return report
