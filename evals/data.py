"""QA evaluation sets: loading, the PopQA train/eval halves, deterministic question selection.

    from evals.data import load_qa, popqa_split, select
    examples = load_qa("../shared/data/popqa/dev.jsonl")        # PopQA rows or {question, answers, passages?}
    chosen = select(examples, limit=300, split="eval")           # the same 300 questions on every machine

`popqa_split(id)` cuts PopQA into two fixed halves by a hash of the question id. Evaluations
report numbers on the "eval" half; whatever is trained or tuned on PopQA (the <RET> router,
DyPRAG, the confidence/popularity thresholds) uses the "train" half only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.types import Passage

SPLITS = ("eval", "train", "all")
SAMPLES = ("natural", "stratified")
# s_pop buckets (monthly page views of the subject), as in the Adapt-LLM and PopQA papers.
BUCKETS = ("<1k", "1k-10k", "10k-100k", ">100k")


class EvalDataError(ValueError):
    """An evaluation file is missing or malformed; the message names the file, line and what to fix."""

    user_error = True


@dataclass(frozen=True)
class QAExample:
    """One question with its accepted answers and, optionally, reference passages."""

    id: str
    question: str
    answers: tuple[str, ...]  # every accepted alias
    passages: tuple[str, ...] = ()  # reference passage texts (PopQA: the Contriever top-1 passage)
    passage_ids: tuple[str, ...] = ()  # ids of the reference passages (for ID-based ragas metrics)
    passage_score: float | None = None
    s_pop: float | None = None  # PopQA popularity; None for other sets

    def given_passages(self) -> list[Passage]:
        """The reference passages as `Passage`s to hand to `Pipeline.answer(passages=...)`."""
        out = []
        for i, (pid, text) in enumerate(zip(self.passage_ids, self.passages, strict=True)):
            score = self.passage_score if (i == 0 and self.passage_score is not None) else 1.0
            out.append(Passage(id=pid, source=f"eval:{self.id}", title="", text=text, start=0, end=len(text),
                               score=float(score)))
        return out


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16)


def popqa_split(qid: str) -> str:
    """The fixed half a PopQA question id belongs to: "train" or "eval" (about 50/50)."""
    return "eval" if _hash(f"popqa-split:{qid}") % 2 == 0 else "train"


def bucket(s_pop: float | None) -> str | None:
    """Popularity bucket of a subject's monthly page views; None when unknown."""
    if s_pop is None:
        return None
    if s_pop < 1_000:
        return BUCKETS[0]
    if s_pop < 10_000:
        return BUCKETS[1]
    if s_pop < 100_000:
        return BUCKETS[2]
    return BUCKETS[3]


def load_qa(path: str | Path) -> list[QAExample]:
    """Read a JSONL QA set: PopQA rows (`passage`, `s_pop`) or `{question, answers, passages?, id?}`.

    Raises:
        EvalDataError: the file is missing, or a line is not JSON or lacks `question`/`answers`.
    """
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"evaluation data {path} does not exist (PopQA: ../shared/data/popqa/dev.jsonl)")
    out: list[QAExample] = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise EvalDataError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            out.append(_example(row, path, lineno))
    if not out:
        raise EvalDataError(f"{path} has no questions")
    return out


def _example(row: object, path: Path, lineno: int) -> QAExample:
    if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row["question"].strip():
        raise EvalDataError(f"{path}:{lineno}: each line needs a non-empty string 'question'")
    answers = row.get("answers", row.get("answer"))
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
        raise EvalDataError(f"{path}:{lineno}: 'answers' must be a non-empty list of strings")
    qid = str(row.get("id", f"{path.stem}:{lineno}"))
    passages: list[str] = []
    if isinstance(row.get("passage"), str):
        passages = [row["passage"]]
    elif isinstance(row.get("passages"), list):
        passages = [p if isinstance(p, str) else str(p.get("text", "")) for p in row["passages"]]
    ids = row.get("passage_ids")
    if not (isinstance(ids, list) and len(ids) == len(passages)):
        ids = [f"{qid}#p{i}" for i in range(len(passages))]
    s_pop = row.get("s_pop")
    score = row.get("passage_score")
    return QAExample(
        id=qid, question=row["question"].strip(), answers=tuple(a for a in answers if a.strip()) or tuple(answers),
        passages=tuple(passages), passage_ids=tuple(str(i) for i in ids),
        passage_score=float(score) if isinstance(score, (int, float)) else None,
        s_pop=float(s_pop) if isinstance(s_pop, (int, float)) else None,
    )


def select(examples: Sequence[QAExample], *, limit: int | None = None, split: str = "eval",
           sample: str = "natural", offset: int = 0) -> list[QAExample]:
    """Deterministic selection: filter by split, order by a hash of the id, take `limit` after `offset`.

    `sample="stratified"` takes equal numbers from each popularity bucket (round-robin in hash order).
    `offset` picks a different slice of the same ordering (used to measure slice-to-slice spread).
    """
    if split not in SPLITS:
        raise EvalDataError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if sample not in SAMPLES:
        raise EvalDataError(f"sample must be one of {', '.join(SAMPLES)}, got {sample!r}")
    pool = [e for e in examples if split == "all" or popqa_split(e.id) == split]
    pool.sort(key=lambda e: (_hash(f"popqa-order:{e.id}"), e.id))
    if sample == "stratified":
        pool = _round_robin(pool)
    end = None if limit is None else offset + limit
    return pool[offset:end]


def _round_robin(pool: Iterable[QAExample]) -> list[QAExample]:
    groups: dict[str | None, list[QAExample]] = {}
    for e in pool:
        groups.setdefault(bucket(e.s_pop), []).append(e)
    named = [groups.get(b, []) for b in BUCKETS]
    if not any(named):
        raise EvalDataError("stratified sampling needs s_pop (PopQA popularity) on the questions")
    depth = min(len(g) for g in named)  # equal numbers per bucket
    return [g[i] for i in range(depth) for g in named]
