"""DyPRAG stage 2: train the parameter translator to reproduce the teacher LoRAs.

    adaptrag dyprag train --work /tmp/dyprag [--out translator.safetensors] [--epochs 2]

Per teacher (one training passage, its QA pair, its teacher LoRA and its translator input):
    loss = LM(answer | closed-book prompt, generated LoRA injected)
         + 0.01 * KL(teacher-injected next-token distribution || generated-injected), on the answer positions
         + 100  * MSE(generated A, B ; teacher A, B), averaged over the 3 x L projections
The base model stays frozen; gradients flow through its activations into the translator only.

A fraction of the teachers (by a hash of their id) is held out; the manifest records, for those unseen passages,
the answer loss with no deltas, with the teacher's, and with the translator's. Training checkpoints
(`<work>/translator_ckpt.pt`: weights, optimizer, step) are written every few steps, so rerunning the command
resumes; a finished run writes the translator file and its manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from adapt.dyprag.teachers import TrainItem, batch, load_teacher, qa_example, shuffled, target_logits, target_loss
from rag.generators.lora_hook import inject
from rag.translator import Manifest, ParameterTranslator, TranslatorError, TranslatorSpec, save_translator


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 2  # passes over the training teachers
    lr: float = 3e-4  # Adam; 1e-3 diverged on 420 teachers (held-out answer loss 6.32 vs 4.00), the reference uses 1e-5
    seed: int = 0
    kl_weight: float = 0.01  # as DyPRAG
    mse_weight: float = 100.0  # as DyPRAG
    val_fraction: float = 0.1  # teachers held out for the manifest's metrics
    checkpoint_every: int = 8  # steps between resumable checkpoints
    hidden_dim: int = 32  # per-(module, layer) MLP width
    rank: int = 2  # must equal the teachers' rank


@dataclass
class Example:
    item: TrainItem
    embedding: torch.Tensor  # [hidden]
    teacher: dict[str, tuple[torch.Tensor, torch.Tensor]]
    ids: dict[str, torch.Tensor]  # batch() of the QA example


def load_examples(work: Path, tokenizer: Any) -> list[Example]:
    files = sorted((work / "teachers").glob("*.safetensors"))
    if not files:
        raise TranslatorError(f"no teacher LoRAs in {work / 'teachers'}; run "
                              f"`adaptrag dyprag build-teachers --work {work} --data ...` first")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out = []
    for f in files:
        item, emb, weights, _ = load_teacher(f)
        out.append(Example(item, emb, weights, batch([qa_example(tokenizer, item.question, item.answer)], pad)))
    return out


def is_validation(item_id: str, seed: int, fraction: float) -> bool:
    h = int(hashlib.sha256(f"val:{seed}:{item_id}".encode()).hexdigest()[:8], 16)
    return h % 10_000 < fraction * 10_000


def losses(translator: ParameterTranslator, model: Any, ex: Example, cfg: TrainConfig,
           teacher_logp: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    """(total loss, its parts, the teacher's log-probs at the answer positions (cached by the caller))."""
    generated = {p: (a[0], b[0]) for p, (a, b) in translator(ex.embedding.unsqueeze(0)).items()}
    if teacher_logp is None:
        with torch.no_grad(), inject(model, ex.teacher):
            teacher_logp = F.log_softmax(target_logits(model, ex.ids)[0], dim=-1)
    with inject(model, generated):
        logits, targets = target_logits(model, ex.ids)  # answer positions only
    lm = F.cross_entropy(logits, targets)
    kl = F.kl_div(F.log_softmax(logits, dim=-1), teacher_logp, log_target=True, reduction="batchmean")
    mse = torch.stack([F.mse_loss(a, ex.teacher[p][0]) + F.mse_loss(b, ex.teacher[p][1])
                       for p, (a, b) in generated.items()]).mean()
    total = lm + cfg.kl_weight * kl + cfg.mse_weight * mse
    return total, {"loss": total.item(), "lm": lm.item(), "kl": kl.item(), "mse": mse.item()}, teacher_logp


def answer_losses(translator: ParameterTranslator, model: Any, examples: list[Example]) -> dict[str, float]:
    """Mean answer LM loss with no deltas, the teacher's deltas and the translator's (no gradients)."""
    sums = {"base": 0.0, "teacher": 0.0, "generated": 0.0}
    with torch.no_grad():
        for ex in examples:
            generated = {p: (a[0], b[0]) for p, (a, b) in translator(ex.embedding.unsqueeze(0)).items()}
            sums["base"] += target_loss(model, ex.ids).item()
            for name, deltas in (("teacher", ex.teacher), ("generated", generated)):
                with inject(model, deltas):
                    sums[name] += target_loss(model, ex.ids).item()
    return {f"answer_loss_{k}": round(v / max(1, len(examples)), 4) for k, v in sums.items()}


def train_translator(model: Any, tokenizer: Any, work: str | Path, out: str | Path, cfg: TrainConfig,
                     base_model: str, base_sha256: str, command: str = "", progress: bool = True) -> Manifest:
    """Train (or resume training) and write the translator + manifest to `out`."""
    from tqdm import tqdm

    work, out = Path(work), Path(out)
    examples = load_examples(work, tokenizer)
    val = [e for e in examples if is_validation(e.item.id, cfg.seed, cfg.val_fraction)]
    train = [e for e in examples if not is_validation(e.item.id, cfg.seed, cfg.val_fraction)] or val
    rank = next(iter(examples[0].teacher.values()))[0].shape[0]
    if rank != cfg.rank:
        raise TranslatorError(f"teachers in {work} have rank {rank}, but training asks for rank {cfg.rank}")
    spec = TranslatorSpec.from_hf_config(model.config, base_model, base_sha256, cfg.rank, cfg.hidden_dim)
    torch.manual_seed(cfg.seed)
    translator = ParameterTranslator(spec, seed=cfg.seed)
    opt = torch.optim.Adam(translator.parameters(), lr=cfg.lr)
    ckpt_path = work / "translator_ckpt.pt"
    step, history, seconds = 0, [], 0.0
    ids = [e.item.id for e in train]
    total = cfg.epochs * len(train)
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        same = {**ckpt["config"], "epochs": cfg.epochs} == asdict(cfg)  # more/fewer epochs may resume
        if ckpt["spec"] == spec.to_json() and ckpt["train_ids"] == ids and same and ckpt["step"] <= total:
            translator.load_state_dict(ckpt["translator"])
            opt.load_state_dict(ckpt["optimizer"])
            step, history, seconds = ckpt["step"], ckpt["history"], ckpt["seconds"]
        else:  # other teachers or settings: start over rather than mix runs
            ckpt_path.unlink()
    teacher_cache: dict[str, torch.Tensor] = {}
    bar = tqdm(total=total, initial=step, desc="translator", unit="step", disable=not progress)
    t0 = time.perf_counter() - seconds
    translator.train()
    while step < total:
        epoch, pos = divmod(step, len(train))
        ex = train[shuffled(range(len(train)), cfg.seed * 1000 + epoch)[pos]]
        loss, parts, tlogp = losses(translator, model, ex, cfg, teacher_cache.get(ex.item.id))
        teacher_cache[ex.item.id] = tlogp
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        history.append({"step": step, **{k: round(v, 5) for k, v in parts.items()}})
        bar.update(1)
        bar.set_postfix(loss=f"{parts['loss']:.3f}", lm=f"{parts['lm']:.3f}")
        if step % cfg.checkpoint_every == 0 or step == total:
            _save_ckpt(ckpt_path, translator, opt, spec, ids, cfg, step, history, time.perf_counter() - t0)
    bar.close()
    train_seconds = round(time.perf_counter() - t0, 1)
    translator.eval()
    last = history[-len(train):] if history else []
    metrics: dict[str, Any] = {
        "train_seconds": train_seconds, "steps": step,
        "last_epoch_mean": {k: round(sum(h[k] for h in last) / len(last), 5) for k in ("loss", "lm", "kl", "mse")}
        if last else {},
        "validation": {"passages": len(val), **answer_losses(translator, model, val)} if val else {},
        "parameters": translator.num_parameters(),
    }
    teachers_meta = json.loads((work / "teachers.json").read_text()) if (work / "teachers.json").exists() else {}
    sources: dict[str, int] = {}
    for e in examples:
        sources[e.item.source] = sources.get(e.item.source, 0) + 1
    training = {
        "data": "NQ/SQuAD train passages and the TRAIN half of PopQA (evals.data.popqa_split); "
                "teacher LM data = the dataset's QA pair (CPU-cheap variant, see adapt/dyprag/teachers.py)",
        "teachers": len(examples), "train": len(train), "validation": len(val), "sources": sources,
        "teacher_config": teachers_meta.get("config", {}), "config": asdict(cfg), "command": command,
        "items": sorted(e.item.id for e in examples),  # so calibration and evaluation can exclude them
    }
    return save_translator(translator, out, training=training, metrics=metrics)


def _save_ckpt(path: Path, translator, opt, spec, ids, cfg, step, history, seconds) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"translator": translator.state_dict(), "optimizer": opt.state_dict(), "spec": spec.to_json(),
                "train_ids": ids, "config": asdict(cfg), "step": step, "history": history, "seconds": seconds}, tmp)
    os.replace(tmp, path)
