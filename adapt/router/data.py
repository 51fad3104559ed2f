"""Training data for the `<RET>` router: Adapt-LLM's Algorithm 1 (Labruna et al. 2024).

The base model answers every training question closed-book, with Adapt-LLM's prompt
(`rag.prompts.closed_book(q, router=True)`, rendered by the model's chat template):
- right (any alias, lower-cased, is a substring of its answer) -> one example:
  closed-book prompt -> the gold answer;
- wrong -> two examples: closed-book prompt -> `<RET>`, and the context prompt
  (`rag.prompts.router_context` with the gold passage) -> the gold answer.
  Questions without a passage that contains an answer alias get only the `<RET>` example.

Questions: NQ and SQuAD train questions with gold passages, plus the *train* half of PopQA
(`evals.data.popqa_split`) minus the router's calibration questions (`is_router_dev`), which
`adapt train` uses to pick the threshold. PopQA's *eval* half is never read here.

    adaptrag adapt build-data --model smollm2-135m [--data ../shared/data] [--out DIR] [--limit N]

Writes DIR/labels.jsonl (one line per labelled question; re-running skips ids already there),
DIR/examples.jsonl (rebuilt from the labels each run) and DIR/stats.json (the base model's
closed-book accuracy per source).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evals.data import popqa_split
from evals.metrics import alias_match
from rag import prompts
from rag.generators.base import GenerationRequest, Generator
from rag.types import Passage

SOURCES = ("nq", "squad", "popqa")
LABEL_TOKENS = 20  # closed-book answers are judged on this many tokens (answers are entities)


class RouterDataError(ValueError):
    """Training data is missing or malformed; the message names the file and what to do."""

    user_error = True


@dataclass(frozen=True)
class TrainQuestion:
    id: str  # "<source>:<original id>"
    source: str  # nq | squad | popqa
    question: str
    answers: tuple[str, ...]
    passage: str | None  # gold passage (NQ/SQuAD) or PopQA's top-1 passage when it contains an alias


@dataclass(frozen=True)
class Example:
    """One supervised example: chat messages (user turn) -> target text of the assistant turn."""

    id: str
    kind: str  # answer (known) | ret (unknown) | context (unknown, answered from the passage)
    messages: tuple[dict[str, str], ...]
    target: str


def is_router_dev(qid: str) -> bool:
    """About a third of PopQA's train half is held out of training to calibrate the threshold."""
    return int(hashlib.sha256(f"router-dev:{qid}".encode()).hexdigest()[:8], 16) % 3 == 0


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        raise RouterDataError(f"{path} does not exist; pass --data with the shared data folder (see its README)")
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise RouterDataError(f"{path}:{n} is not valid JSON: {e}") from None


def load_questions(data_dir: str | Path, sources: Sequence[str] = SOURCES) -> list[TrainQuestion]:
    """Training questions from the shared data folder (never PopQA's eval half or router-dev questions)."""
    data = Path(data_dir).expanduser()
    out: list[TrainQuestion] = []
    for source in sources:
        if source not in SOURCES:
            raise RouterDataError(f"unknown source {source!r}; sources: {', '.join(SOURCES)}")
        if source in ("nq", "squad"):
            for row in _read_jsonl(data / source / "train_passages_partial.jsonl"):
                out.append(TrainQuestion(f"{source}:{row['id']}", source, row["question"], tuple(row["answers"]),
                                         row.get("gold_passage")))
        else:
            for row in popqa_train_rows(data):
                if is_router_dev(str(row["id"])):
                    continue
                answers = tuple(row["answers"])
                passage = row.get("passage") if alias_match(row.get("passage") or "", answers) else None
                out.append(TrainQuestion(f"popqa:{row['id']}", "popqa", row["question"], answers, passage))
    return out


def popqa_train_rows(data_dir: str | Path) -> list[dict[str, Any]]:
    """PopQA rows of the train half (the half nothing is evaluated on)."""
    return [r for r in _read_jsonl(Path(data_dir).expanduser() / "popqa" / "dev.jsonl")
            if popqa_split(str(r["id"])) == "train"]


def closed_book_answers(generator: Generator, questions: Sequence[str], max_new_tokens: int = LABEL_TOKENS,
                        batch_size: int = 16) -> list[str]:
    """Greedy closed-book answers to the router prompt, batched when the generator is in-process."""
    rendered = [generator.render_chat(prompts.closed_book(q, router=True)) for q in questions]
    model, tokenizer = getattr(generator, "model", None), getattr(generator, "tokenizer", None)
    if model is None or tokenizer is None:  # a served model: one request per question
        return [generator.generate(GenerationRequest(p, max_new_tokens=max_new_tokens)).text for p in rendered]
    return batched_greedy(model, tokenizer, rendered, max_new_tokens, batch_size)


def batched_greedy(model: Any, tokenizer: Any, rendered: Sequence[str], max_new_tokens: int,
                   batch_size: int = 16) -> list[str]:
    """Greedy decoding of many rendered prompts with left padding (about 3x faster than one by one on CPU)."""
    import torch

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[str] = []
    try:
        for i in range(0, len(rendered), batch_size):
            enc = tokenizer(list(rendered[i:i + batch_size]), return_tensors="pt", padding=True,
                            add_special_tokens=False)
            with torch.inference_mode():
                ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad)
            out += tokenizer.batch_decode(ids[:, enc.input_ids.shape[1]:], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return [t.strip() for t in out]


def examples_for(label: dict[str, Any]) -> list[Example]:
    """Algorithm 1 for one labelled question."""
    qid, question, gold = label["id"], label["question"], label["answers"][0]
    closed = tuple(asdict(m) for m in prompts.closed_book(question, router=True))
    if label["correct"]:
        return [Example(qid, "answer", closed, gold)]
    out = [Example(qid, "ret", closed, prompts.RET_TOKEN)]
    if label.get("passage"):
        passage = Passage(id=qid, source=label["source"], title="", text=label["passage"], start=0,
                          end=len(label["passage"]), score=1.0)
        ctx = tuple(asdict(m) for m in prompts.router_context(question, [passage]))
        out.append(Example(qid, "context", ctx, gold))
    return out


def read_labels(path: Path) -> list[dict[str, Any]]:
    return list(_read_jsonl(path)) if path.exists() else []


def build_data(generator: Generator, questions: Sequence[TrainQuestion], out_dir: str | Path,
               batch_size: int = 16, progress: bool = True) -> dict[str, Any]:
    """Label `questions` with the generator (resumable) and write examples.jsonl and stats.json.

    Returns:
        The stats: closed-book accuracy overall and per source, example counts by kind.
    """
    from tqdm import tqdm

    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    labels_path = out / "labels.jsonl"
    done = {row["id"] for row in read_labels(labels_path)}
    todo = [q for q in questions if q.id not in done]
    t0 = time.perf_counter()
    with labels_path.open("a", encoding="utf-8") as f, tqdm(total=len(todo), disable=not progress,
                                                           desc="labelling (closed-book)", unit="q") as bar:
        for i in range(0, len(todo), batch_size):
            chunk = todo[i:i + batch_size]
            answers = closed_book_answers(generator, [q.question for q in chunk], batch_size=batch_size)
            for q, a in zip(chunk, answers, strict=True):
                row = asdict(q) | {"answers": list(q.answers), "closed_book": a, "correct": alias_match(a, q.answers)}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()  # a killed run keeps every finished batch
            bar.update(len(chunk))
    wanted = {q.id for q in questions}
    labels = [row for row in read_labels(labels_path) if row["id"] in wanted]
    examples = [e for row in labels for e in examples_for(row)]
    with (out / "examples.jsonl").open("w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    stats = label_stats(labels, examples)
    stats |= {"model": generator.info.name, "labelled_this_run": len(todo),
              "seconds_this_run": round(time.perf_counter() - t0, 1), "label_tokens": LABEL_TOKENS}
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return stats


def label_stats(labels: Sequence[dict[str, Any]], examples: Sequence[Example]) -> dict[str, Any]:
    """Closed-book accuracy (overall, per source) and example counts by kind."""
    def acc(rows: Sequence[dict[str, Any]]) -> float | None:
        return round(sum(r["correct"] for r in rows) / len(rows), 4) if rows else None

    by_source = {s: [r for r in labels if r["source"] == s] for s in SOURCES}
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    return {
        "questions": len(labels),
        "closed_book_accuracy": acc(labels),
        "closed_book_accuracy_by_source": {s: acc(rows) for s, rows in by_source.items() if rows},
        "questions_by_source": {s: len(rows) for s, rows in by_source.items() if rows},
        "examples": len(examples),
        "examples_by_kind": kinds,
    }


def read_examples(path: str | Path) -> list[Example]:
    path = Path(path).expanduser()
    if not path.exists():
        raise RouterDataError(f"{path} does not exist; run `adaptrag adapt build-data` first")
    return [Example(r["id"], r["kind"], tuple(r["messages"]), r["target"]) for r in _read_jsonl(path)]
