"""Train the `<RET>` router: a PEFT LoRA on the base model (Adapt-LLM's settings, CPU-sized).

`<RET>` stays plain text (no added token), so vLLM can serve the adapter as an ordinary LoRA
module without a resized vocabulary. The loss covers only the assistant's target tokens and the
end-of-turn token; the prompt is rendered with the model's own chat template, exactly as
rag/decide.py renders it at inference.

    adaptrag adapt train --model smollm2-135m [--epochs 3 --lr 3e-4 --rank 8 --seed 0]

Writes the adapter (adapter_config.json + adapter_model.safetensors) and `router_card.json`
(base model + sha256, data, settings, training time, peak memory); adapt/router/calibrate.py
adds the threshold and dev metrics to the card.
"""

from __future__ import annotations

import json
import math
import random
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from adapt.router.data import Example, read_examples
from evals.metrics import alias_match

CARD = "router_card.json"
ADAPTERS_DIR = Path(__file__).resolve().parent / "adapters"


@dataclass(frozen=True)
class TrainSettings:
    epochs: float = 3.0  # Adapt-LLM: 3
    lr: float = 3e-4  # Adapt-LLM: 3e-4
    rank: int = 8  # Adapt-LLM: r=8
    alpha: int = 16  # Adapt-LLM: alpha=16
    dropout: float = 0.05  # Adapt-LLM: 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")  # Adapt-LLM: q/v projections
    batch_size: int = 8  # examples per optimizer step (CPU)
    max_tokens: int = 256  # longer examples have their passage shortened (the answer must survive)
    warmup: float = 0.05  # fraction of steps with a linear warm-up
    seed: int = 0
    top_layers: int = 0  # LoRA only on the last N decoder layers (backward stops there); 0 = all (Adapt-LLM)
    max_examples: int = 0  # cap on examples used (a seeded sample keeping every "answer" example); 0 = all
    context_examples: bool = True  # False: only the closed-book (<RET> / answer) examples (CPU budget)


def default_adapter_dir(model: str) -> Path:
    return ADAPTERS_DIR / Path(model).name


def select_examples(examples: Sequence[Example], settings: TrainSettings) -> list[Example]:
    """Apply the CPU-budget settings: drop context examples if asked, then a seeded sample up to the cap."""
    pool = [e for e in examples if settings.context_examples or e.kind != "context"]
    if not settings.max_examples or len(pool) <= settings.max_examples:
        return list(pool)
    keep = [e for e in pool if e.kind == "answer"][: settings.max_examples]
    rest = [e for e in pool if e.kind != "answer"]
    random.Random(settings.seed).shuffle(rest)
    return keep + rest[: settings.max_examples - len(keep)]


def encode_example(tokenizer: Any, render, example: Example, max_tokens: int) -> tuple[list[int], list[int]] | None:
    """(input ids, labels) with -100 on the prompt; None when it cannot fit without losing the answer."""
    from rag.generators.base import ChatMessage

    messages = [ChatMessage(m["role"], m["content"]) for m in example.messages]
    eot = tokenizer.eos_token or ""
    target_ids = tokenizer(example.target + eot, add_special_tokens=False).input_ids
    prompt_ids = tokenizer(render(messages), add_special_tokens=False).input_ids
    if len(prompt_ids) + len(target_ids) > max_tokens:
        if example.kind != "context":
            return None
        prompt_ids = _shorten_context(tokenizer, render, messages, max_tokens - len(target_ids), example.target)
        if prompt_ids is None:
            return None
    return prompt_ids + target_ids, [-100] * len(prompt_ids) + target_ids


def _shorten_context(tokenizer: Any, render, messages, budget: int, answer: str) -> list[int] | None:
    """Cut the passage (the text after ' C: ') word by word until the prompt fits; keep the answer in it."""
    from rag.generators.base import ChatMessage

    user = messages[-1].content
    head, sep, context = user.rpartition(" C: ")
    words = context.split()
    lo, hi, best = 1, len(words), None
    while lo <= hi:  # the longest word prefix that fits
        mid = (lo + hi) // 2
        ids = tokenizer(render([*messages[:-1], ChatMessage("user", f"{head}{sep}{' '.join(words[:mid])}")]),
                        add_special_tokens=False).input_ids
        if len(ids) <= budget:
            best, lo = (mid, ids), mid + 1
        else:
            hi = mid - 1
    if best is None or not alias_match(" ".join(words[: best[0]]), [answer]):
        return None
    return best[1]


def train_router(generator: Any, examples_dir: str | Path, out_dir: str | Path,
                 settings: TrainSettings = TrainSettings(), progress: bool = True) -> dict[str, Any]:
    """Train a LoRA on examples_dir/examples.jsonl; write the adapter and its card to out_dir.

    `generator` is the in-process HF generator (its model and tokenizer are trained in place as a
    PEFT wrapper that is removed afterwards, so the generator is unchanged).

    Returns:
        The model card (also written to out_dir/router_card.json).
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm import tqdm

    examples_dir, out = Path(examples_dir).expanduser(), Path(out_dir).expanduser()
    examples = read_examples(examples_dir / "examples.jsonl")
    model, tokenizer = generator.model, generator.tokenizer
    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    examples = select_examples(examples, settings)
    encoded, skipped = [], 0
    for e in examples:
        enc = encode_example(tokenizer, generator.render_chat, e, settings.max_tokens)
        if enc is None:
            skipped += 1
        else:
            encoded.append(enc)
    if not encoded:
        raise ValueError(f"no usable examples in {examples_dir / 'examples.jsonl'}")

    n_layers = int(model.config.num_hidden_layers)
    layers = list(range(n_layers - settings.top_layers, n_layers)) if 0 < settings.top_layers < n_layers else None
    lora = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                      target_modules=list(settings.target_modules), layers_to_transform=layers, bias="none",
                      task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    peft_model.train()
    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    steps_per_epoch = math.ceil(len(encoded) / settings.batch_size)
    total = max(1, round(steps_per_epoch * settings.epochs))
    warm = max(1, int(total * settings.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    t0, step, losses = time.perf_counter(), 0, []
    rng = random.Random(settings.seed)
    llama = peft_model.get_base_model()
    bar = tqdm(total=total, disable=not progress, desc="training router LoRA", unit="step")
    try:
        while step < total:
            for batch in _prefix_batches(encoded, settings.batch_size, rng):
                if step >= total:
                    break
                loss = _shared_prefix_loss(llama, batch, pad)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()))
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
        seconds = time.perf_counter() - t0
        out.mkdir(parents=True, exist_ok=True)
        peft_model.save_pretrained(str(out))
        _portable(out, generator.info.name)
    finally:
        bar.close()
        peft_model.eval()
        generator.model = peft_model.unload()  # the base model, LoRA layers removed, weights untouched
        generator.model.eval()
    card = {
        "base_model": generator.info.name,
        "base_model_sha256": _base_sha256(generator.info.name),
        "ret_token": "<RET>",
        "ret_first_token": tokenizer.decode(tokenizer("<RET>", add_special_tokens=False).input_ids[:1]),
        "data": _data_summary(examples_dir, examples, len(encoded), skipped),
        "settings": asdict(settings),
        "training": {
            "steps": step, "seconds": round(seconds, 1), "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4),
            "first_loss": round(sum(losses[:20]) / len(losses[:20]), 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "torch_threads": torch.get_num_threads(),
        },
        "threshold": None,  # set by adapt/router/calibrate.py
    }
    write_card(out, card)
    return card


def _prefix_batches(encoded: Sequence[tuple[list[int], list[int]]], batch_size: int, rng: random.Random):
    """Batches of examples that share a token prefix (the rendered template up to the question).

    Examples are grouped by the first `PREFIX_PROBE` tokens; within a group the longest common
    prefix is computed once per batch. Shuffled within and across groups (seeded).
    """
    groups: dict[tuple[int, ...], list[tuple[list[int], list[int]]]] = {}
    for ex in encoded:
        groups.setdefault(tuple(ex[0][:PREFIX_PROBE]), []).append(ex)
    batches = []
    for items in groups.values():
        order = list(range(len(items)))
        rng.shuffle(order)
        chunk = batch_size * 16
        for i in range(0, len(order), chunk):  # similar lengths together: little padding
            part = sorted(order[i:i + chunk], key=lambda j: len(items[j][0]))
            batches += [[items[j] for j in part[k:k + batch_size]] for k in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


PREFIX_PROBE = 8  # tokens that identify a prompt template (chat header + instruction start)


def _common_prefix(batch) -> int:
    """Length of the token prefix shared by every example, stopping before the first label."""
    first = batch[0][0]
    n = min(min(len(x) for x, _ in batch), *(y.index(next(t for t in y if t != -100)) for _, y in batch))
    p = 0
    while p < n - 1 and all(x[p] == first[p] for x, _ in batch):
        p += 1
    return p


def _shared_prefix_loss(llama: Any, batch, pad: int):
    """Cross-entropy on the target tokens; the shared prompt prefix runs once (batch 1) and is expanded.

    Only the positions that predict a target token go through the LM head (the vocabulary projection
    is the largest matrix of a small model).
    """
    import torch
    from transformers import DynamicCache

    p = _common_prefix(batch)
    cache = None
    if p > 0:
        out = llama.model(input_ids=torch.tensor([batch[0][0][:p]]), use_cache=True)
        kv = [(layer.keys.expand(len(batch), -1, -1, -1), layer.values.expand(len(batch), -1, -1, -1))
              for layer in out.cache.layers]
        cache = DynamicCache(ddp_cache_data=kv)
    width = max(len(x) for x, _ in batch) - p
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), p + width), dtype=torch.long)
    mask[:, :p] = 1
    rows, cols, targets = [], [], []
    for i, (x, y) in enumerate(batch):
        ids[i, : len(x) - p] = torch.tensor(x[p:])
        mask[i, p: len(x)] = 1
        for j in range(p, len(x)):
            if y[j] != -100:  # token j is predicted at position j - 1
                rows.append(i)
                cols.append(j - 1 - p)
                targets.append(y[j])
    positions = torch.arange(p, p + width).unsqueeze(0).expand(len(batch), -1)
    hidden = llama.model(input_ids=ids, attention_mask=mask, cache=cache, position_ids=positions,
                         use_cache=cache is not None).last_hidden_state
    logits = llama.lm_head(hidden[torch.tensor(rows), torch.tensor(cols)]).float()
    return torch.nn.functional.cross_entropy(logits, torch.tensor(targets))


def _portable(out: Path, model_name: str) -> None:
    """Name the base model by its registry name (not this machine's cache path); drop PEFT's template README."""
    config_path = out / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = model_name
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").unlink(missing_ok=True)


def _data_summary(examples_dir: Path, examples: Sequence[Example], used: int, skipped: int) -> dict[str, Any]:
    stats_path = examples_dir / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    return {
        "examples": len(examples), "examples_used": used, "examples_skipped_too_long": skipped,
        "examples_by_kind": kinds,
        "questions_by_source": stats.get("questions_by_source"),
        "base_closed_book_accuracy": stats.get("closed_book_accuracy"),
        "base_closed_book_accuracy_by_source": stats.get("closed_book_accuracy_by_source"),
        "examples_by_source": stats.get("examples_by_source"),
        "labelled_examples_by_source": stats.get("labelled_examples_by_source"),
        "labels_by_topic": stats.get("labels_by_topic"),
        "answer_share": stats.get("answer_share"),
        "popqa": "train half only (evals.data.popqa_split == 'train'), minus router-dev questions",
        "labelling": {
            "closed_book": "Adapt-LLM: the base model's closed-book answer (router prompt, greedy, 20 tokens) "
                           "decides: right -> answer example (gold answer), wrong -> <RET> example; nq, squad, "
                           "popqa, world, and the arithmetic and word tasks of requests (whole-word match)",
            "own_reply": "greetings, thanks and rewriting requests (no single right answer): always an answer "
                         "example with the base model's own reply as target (memory suffices)",
            "ret": "questions about generated fictional entities (fiction): always <RET>, no model call "
                   "(memory cannot know them); names from a pool disjoint from evals/workload/fiction.py",
            "held_out": "no PopQA eval-half question and no question of evals/workloads/**.jsonl; no country "
                        "named by a workload case",
            "balance": "every answer example, plus a seeded per-source proportional sample of <RET> examples "
                       "(adapt.router.data.balance)",
        },
    }


def _base_sha256(name: str) -> str | None:
    try:
        from rag.models import resolve_model

        return resolve_model(name).sha256 or None
    except Exception:  # noqa: BLE001 - a local folder without a recorded checksum
        return None


def read_card(adapter_dir: str | Path) -> dict[str, Any]:
    path = Path(adapter_dir).expanduser() / CARD
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_card(adapter_dir: str | Path, card: dict[str, Any]) -> None:
    path = Path(adapter_dir).expanduser() / CARD
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
