"""DyPRAG stage 1: one small teacher LoRA per training passage (PRAG), the translator's training targets.

    adaptrag dyprag build-teachers --data ../shared/data --work /tmp/dyprag --limit 420

For each training passage the frozen base model gets a fresh rank-2 LoRA on every MLP projection
(gate/up/down_proj; A random like PEFT, B = 0, no alpha scale) trained for a few Adam steps with an LM loss on:
  1. the dataset's own question -> answer pair in the closed-book chat prompt (loss on the answer only), and
  2. optionally (--passage-tokens N > 0) the passage itself, truncated to N tokens (plain language modelling).
The DyPRAG reference has the base model write a rewrite and several QA pairs per passage first. We use the
dataset's QA pair instead and, by default, no passage LM (recorded in teachers.json): asked for QA pairs about a
passage, SmolLM2-135M writes fluent falsehoods (e.g. a SQuAD passage on Ottoman Egypt -> "Saudi Arabia has been
ruled by the UAE since 2014"), so its own pairs would teach the teachers wrong facts, at ~20 s of generation per
passage; a teacher on the dataset pair takes ~2 s (3 steps, 1 thread).

Training passages never come from the evaluation half of PopQA: NQ/SQuAD train passages, plus (optionally) the
"train" half of popqa/dev.jsonl by `evals.data.popqa_split`, keeping only rows whose passage contains an answer.
Each teacher is one file `<work>/teachers/<id>.safetensors` ("<path>.A", "<path>.B", "embedding" = the
translator input) with the item and losses in its metadata; existing files are skipped, so a rerun resumes.
Every teacher is seeded from (seed, item id), so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from rag import prompts
from rag.translator import MLP_MODULES, MODULE_PATH

SOURCES = ("squad", "nq", "popqa")


@dataclass(frozen=True)
class TrainItem:
    id: str  # "<source>:<row id>"
    source: str
    passage: str
    question: str
    answer: str


@dataclass(frozen=True)
class TeacherConfig:
    rank: int = 2  # LoRA rank, as DyPRAG
    steps: int = 3  # Adam steps per passage (each on the QA pair, plus the passage when max_passage_tokens > 0)
    lr: float = 1e-2  # no alpha scale, so a larger step than the usual 3e-4 with alpha/r = 16
    max_passage_tokens: int = 0  # passage LM example truncated to this; 0 = QA pair only (CPU: ~4x cheaper)
    seed: int = 0


def _stable_hash(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16)


def load_items(data_dir: str | Path, sources: Sequence[str] = ("squad", "nq"), limit: int | None = None,
               seed: int = 0) -> list[TrainItem]:
    """Training items from the shared data folder, interleaved by source, deterministic for a seed."""
    data_dir = Path(data_dir)
    pools: list[list[TrainItem]] = []
    for source in sources:
        if source not in SOURCES:
            raise ValueError(f"unknown training source {source!r}; allowed: {', '.join(SOURCES)}")
        path = data_dir / source / ("dev.jsonl" if source == "popqa" else "train_passages_partial.jsonl")
        if not path.exists():
            raise FileNotFoundError(f"training data {path} does not exist; pass --data <folder with {source}/>")
        pool = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            answers = [a for a in row.get("answers", []) if a]
            passage = row.get("gold_passage") or row.get("passage") or ""
            if not answers or not passage:
                continue
            if source == "popqa":
                from evals.data import popqa_split

                if popqa_split(str(row["id"])) != "train":
                    continue  # never train on the evaluation half
                found = [a for a in answers if a.lower() in passage.lower()]
                if not found:
                    continue  # the passage must hold the answer, or the teacher learns an unseen fact
                answers = found
            pool.append(TrainItem(f"{source}:{row['id']}", source, passage, row["question"], answers[0]))
        pool.sort(key=lambda it: _stable_hash(f"{seed}:{it.id}"))
        pools.append(pool)
    items = [it for group in _zip_longest(pools) for it in group]
    return items[:limit] if limit else items


def _zip_longest(pools: list[list[TrainItem]]) -> list[list[TrainItem]]:
    width = max((len(p) for p in pools), default=0)
    return [[p[i] for p in pools if i < len(p)] for i in range(width)]


def qa_example(tokenizer: Any, question: str, answer: str) -> tuple[list[int], list[int]]:
    """(input_ids, labels) of the closed-book chat prompt + answer; labels are -100 except on the answer."""
    messages = [{"role": m.role, "content": m.content} for m in prompts.closed_book(question)]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tokenizer(" " + answer.strip(), add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        a_ids = a_ids + [tokenizer.eos_token_id]
    return p_ids + a_ids, [-100] * len(p_ids) + a_ids


def passage_example(tokenizer: Any, passage: str, max_tokens: int) -> tuple[list[int], list[int]]:
    ids = tokenizer(passage, add_special_tokens=False, truncation=True, max_length=max_tokens)["input_ids"]
    return ids, list(ids)


def batch(examples: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: input_ids, attention_mask, labels (-100 on padding)."""
    width = max(len(ids) for ids, _ in examples)
    return {
        "input_ids": torch.tensor([ids + [pad_id] * (width - len(ids)) for ids, _ in examples]),
        "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in examples]),
        "labels": torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in examples]),
    }


def target_logits(model: Any, ids: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits [n, vocab], targets [n]) at the labelled next-token positions only.

    Runs the decoder, then the LM head only where a label exists: the head (vocab x hidden) is a fifth of the
    135M model, and QA examples label only the few answer tokens.
    """
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else model.model
    hidden = decoder(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"]).last_hidden_state
    labels = ids["labels"][:, 1:]
    keep = labels != -100
    return model.lm_head(hidden[:, :-1][keep]).float(), labels[keep]


def target_loss(model: Any, ids: dict[str, torch.Tensor]) -> torch.Tensor:
    logits, targets = target_logits(model, ids)
    return torch.nn.functional.cross_entropy(logits, targets)


def new_lora(model: Any, rank: int, gen: torch.Generator) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fresh trainable A (uniform +-1/sqrt(in), as PEFT's kaiming init) and B = 0 for every MLP projection."""
    weights = {}
    for layer in range(model.config.num_hidden_layers):
        for m in MLP_MODULES:
            path = MODULE_PATH.format(layer=layer, module=m)
            lin = model.get_submodule(path)
            bound = 1 / math.sqrt(lin.in_features)
            a = ((torch.rand(rank, lin.in_features, generator=gen) * 2 - 1) * bound).requires_grad_()
            b = torch.zeros(lin.out_features, rank, requires_grad=True)
            weights[path] = (a, b)
    return weights


def train_teacher(model: Any, tokenizer: Any, item: TrainItem, cfg: TeacherConfig) -> tuple[dict, dict[str, float]]:
    """Train one teacher LoRA; returns ({path: (A, B)}, {"qa_loss_before", "qa_loss_last", ...}).

    B starts at 0, so the first step's loss is the base model's loss ("before"); "last" is the loss at the
    last step (before its update): no extra forward passes are spent on bookkeeping.
    """
    from rag.generators.lora_hook import inject

    gen = torch.Generator().manual_seed(_stable_hash(f"{cfg.seed}:{item.id}"))
    weights = new_lora(model, cfg.rank, gen)
    params = [t for ab in weights.values() for t in ab]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    qa = batch([qa_example(tokenizer, item.question, item.answer)], pad)
    text = batch([passage_example(tokenizer, item.passage, cfg.max_passage_tokens)], pad) \
        if cfg.max_passage_tokens else None
    qa_losses, text_losses = [], []
    for _ in range(cfg.steps):
        with inject(model, weights):
            loss = target_loss(model, qa)
            qa_losses.append(loss.item())
            if text is not None:  # passage LM and QA weigh the same regardless of their lengths
                text_loss = target_loss(model, text)
                text_losses.append(text_loss.item())
                loss = loss + text_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    detached = {p: (a.detach().clone(), b.detach().clone()) for p, (a, b) in weights.items()}
    stats = {"qa_loss_before": qa_losses[0], "qa_loss_last": qa_losses[-1]}
    if text_losses:
        stats |= {"passage_loss_before": text_losses[0], "passage_loss_last": text_losses[-1]}
    return detached, stats


def teacher_file(work: Path, item_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in item_id)
    return work / "teachers" / f"{safe}.safetensors"


def save_teacher(path: Path, weights: dict, embedding: torch.Tensor, item: TrainItem, stats: dict) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {"embedding": embedding.float().contiguous()}
    for p, (a, b) in weights.items():
        tensors[f"{p}.A"] = a.contiguous()
        tensors[f"{p}.B"] = b.contiguous()
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata={"item": json.dumps(asdict(item)), "stats": json.dumps(stats)})
    tmp.replace(path)  # atomic: an interrupted run never leaves half a teacher


def load_teacher(path: Path) -> tuple[TrainItem, torch.Tensor, dict[str, tuple[torch.Tensor, torch.Tensor]], dict]:
    """(item, embedding [hidden], {path: (A, B)}, stats) of one teacher file."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    weights = {}
    for key, a in tensors.items():
        if key.endswith(".A"):
            p = key[:-2]
            weights[p] = (a, tensors[p + ".B"])
    return TrainItem(**json.loads(meta["item"])), tensors["embedding"], weights, json.loads(meta["stats"])


def build_teachers(model: Any, tokenizer: Any, items: Sequence[TrainItem], work: str | Path,
                   cfg: TeacherConfig, progress: bool = True) -> dict[str, Any]:
    """Train and save a teacher per item (skipping existing ones). Returns a summary (counts, mean losses)."""
    from tqdm import tqdm

    from rag.generators.hidden_states import passage_embeddings

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "teachers.json").write_text(json.dumps({"config": asdict(cfg), "items": [it.id for it in items]},
                                                   indent=1), encoding="utf-8")
    done = skipped = 0
    stats_all = []
    for item in tqdm(items, desc="teachers", unit="passage", disable=not progress):
        path = teacher_file(work, item.id)
        if path.exists():
            skipped += 1
            continue
        weights, stats = train_teacher(model, tokenizer, item, cfg)
        emb = torch.from_numpy(passage_embeddings(model, tokenizer, [item.passage])[0])
        save_teacher(path, weights, emb, item, stats)
        stats_all.append(stats)
        done += 1
    summary: dict[str, Any] = {"trained": done, "skipped_existing": skipped, "work": str(work)}
    for key in ("qa_loss_before", "qa_loss_last", "passage_loss_before", "passage_loss_last"):
        if stats_all and key in stats_all[0]:
            summary[f"mean_{key}"] = sum(s[key] for s in stats_all) / len(stats_all)
    return summary


def shuffled(items: Sequence[Any], seed: int) -> list[Any]:
    out = list(items)
    random.Random(seed).shuffle(out)
    return out
