"""Decoding for the in-process backend: one request's state (`DecodeRow`) and a batched greedy loop.

`HFGenerator.stream` feeds one row token by token; `decode_batch` runs several requests in one
left-padded batch over a shared KV cache (the closed-book and the grounded answer of one question,
or per-passage answers, in one forward per step). Both push tokens through `DecodeRow`, so stop strings,
EOS, `suppress`, log-probs and the tokens kept after a stop string are handled alike; in float32 a
batched row gives the same greedy text as the same request alone (tests/rag/generators/suite.py).

Left padding keeps every row's last prompt token in the last column, so one `logits_to_keep=1`
forward serves all rows; positions count real tokens only (cumsum of the attention mask), as a
lone request would see them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rag.generators.base import GenerationRequest
from rag.generators.common import encode, find_stop, first_clause_done, fit_window, token_text, top_dict
from rag.types import Generation


class DecodeRow:
    """The growing output of one request: chosen tokens, their log-probs and the text so far."""

    def __init__(self, tokenizer: Any, request: GenerationRequest, prompt_tokens: int, max_new: int, eos: set[int]) -> None:
        self.tokenizer = tokenizer
        self.request = request
        self.prompt_tokens = prompt_tokens
        self.max_new = max_new
        self.eos = eos
        self.banned = sorted({encode(tokenizer, s)[0] for s in request.suppress if s})
        self.ids: list[int] = []
        self.tokens: list[str] = []
        self.starts: list[int] = []  # character offset of each token in the generated text
        self.logprobs: list[float] = []
        self.tops: list[dict[str, float]] = []
        self.text = ""
        self.finish = "length"
        self.stopped = False  # ended at a stop string (tokens inside it are dropped at the end)
        self.done = max_new == 0
        self.end_s: float | None = None  # perf_counter when the row finished (its own total time)

    def choose(self, logits: Any) -> int:
        """The next token from float32 logits [vocab]: greedy, or sampled when temperature > 0; never a banned one."""
        import torch

        choice = logits.clone()
        if self.banned:
            choice[self.banned] = float("-inf")
        if self.request.temperature > 0:
            return int(torch.multinomial(torch.softmax(choice / self.request.temperature, dim=-1), 1))
        return int(torch.argmax(choice))

    def push(self, tok: int, logprobs: Any) -> None:
        """Record `tok` (chosen from the raw log-probs [vocab]) and mark the row done at EOS, a stop string or its length."""
        import torch

        if tok in self.eos:
            self.finish, self.done = "stop", True
            return
        if self.request.top_logprobs > 0:
            vals, idx = torch.topk(logprobs, self.request.top_logprobs)
            self.tops.append(top_dict([(token_text(self.tokenizer, i), float(v)) for v, i in zip(vals, idx)]))
        self.ids.append(tok)
        self.tokens.append(token_text(self.tokenizer, tok))
        self.logprobs.append(float(logprobs[tok]))
        self.starts.append(len(self.text))
        self.text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        cut = find_stop(self.text, self.request.stop)
        if cut >= 0:
            self.text, self.finish, self.stopped, self.done = self.text[:cut], "stop", True, True
        elif self.request.first_clause and first_clause_done(self.text):
            self.finish, self.done = "clause", True
        elif len(self.ids) >= self.max_new:
            self.done = True

    def generation(self, timings: dict[str, float]) -> Generation:
        """The finished `Generation`; tokens that lie wholly inside the stop string are dropped."""
        tokens, logprobs, tops = self.tokens, self.logprobs, self.tops
        if self.stopped:
            keep = sum(1 for s in self.starts if s < len(self.text))
            tokens, logprobs, tops = tokens[:keep], logprobs[:keep], tops[:keep]
        return Generation(
            text=self.text, tokens=tuple(tokens), token_logprobs=tuple(logprobs), top_logprobs=tuple(tops),
            prompt_tokens=self.prompt_tokens, finish_reason=self.finish, timings_ms=timings,
        )


def finish_timings(timings: dict[str, float], total_ms: float) -> dict[str, float]:
    """Complete `prompt`/`first_token` (absent when nothing was generated) with `decode` and `total`."""
    out = dict(timings)
    out.setdefault("prompt", total_ms)
    out.setdefault("first_token", total_ms)
    out["decode"] = total_ms - out["prompt"]
    out["total"] = total_ms
    return out


def decode_batch(
    model: Any, tokenizer: Any, requests: Sequence[GenerationRequest], eos: set[int], window: int, name: str
) -> list[Generation]:
    """Generate all `requests` in one left-padded batch; the caller holds the model lock and chose the adapter.

    Raises:
        GeneratorError: a prompt does not fit the context window (before any compute).
    """
    import torch

    t0 = time.perf_counter()
    prompts = [encode(tokenizer, r.prompt) for r in requests]
    rows = [
        DecodeRow(tokenizer, r, len(p), fit_window(len(p), r.max_new_tokens, window, name), eos)
        for r, p in zip(requests, prompts)
    ]
    width = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos, default=0)
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # a row's first real token is at position 0, as when alone
    timings: dict[str, float] = {}
    past = None
    live = [i for i, r in enumerate(rows) if not r.done]  # the rows still in the batch, in batch order
    with torch.inference_mode():
        step = 0
        while live:
            out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=past,
                        use_cache=True, logits_to_keep=1)
            past = out.cache
            logits = out.logits[:, -1].float()  # [live rows, vocab]
            if step == 0:
                timings["prompt"] = (time.perf_counter() - t0) * 1000
            lp = torch.log_softmax(logits, dim=-1)
            chosen = []
            for b, i in enumerate(live):
                chosen.append(rows[i].choose(logits[b]))
                rows[i].push(chosen[-1], lp[b])
                if rows[i].done:
                    rows[i].end_s = time.perf_counter()
            if step == 0:
                timings["first_token"] = (time.perf_counter() - t0) * 1000
            keep = [b for b, i in enumerate(live) if not rows[i].done]
            if not keep:  # every row finished: stop early
                break
            if len(keep) < len(live):  # drop finished rows: later steps cost only what the rows left need
                index = torch.tensor(keep)
                past.batch_select_indices(index)
                mask, positions = mask[index], positions[index]
            live = [live[b] for b in keep]
            input_ids = torch.tensor([[chosen[b]] for b in keep])
            mask = torch.cat([mask, torch.ones(len(live), 1, dtype=mask.dtype)], dim=1)
            positions = positions[:, -1:] + 1
            step += 1
    now = time.perf_counter()
    return [r.generation(finish_timings(timings, ((r.end_s or now) - t0) * 1000)) for r in rows]
