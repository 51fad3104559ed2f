"""In-process generator: transformers on the CPU (the embedded default; training and DyPRAG use it too).

Registry GGUF models are converted once into a cached float32 Hugging Face folder
(rag/generators/convert.py) and loaded from there; any local HF folder works as well.

    gen = HFGenerator(ModelConfig(name="smollm2-135m"))
    g = gen.generate(GenerationRequest(gen.render_chat(messages), stop=("\\n",), top_logprobs=5))

Decoding is a manual loop over the KV cache (greedy, or sampling when temperature > 0), which gives
per-token log-probs and top-n alternatives for free and streams text as it goes. Log-probs are the
model's raw distribution (before `suppress`), as vLLM reports them. One lock guards the model: the
app shares a generator between sessions, and adapters / per-request deltas change its forward pass.
`generate_batch` decodes several requests in one left-padded batch (rag/generators/hf_decode.py).

torch uses every core this process may run on unless `model.threads` says otherwise (issue 16: the
old default of 1 was chosen under heavy load; a user's quiet machine is the case to optimise).
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rag.config import GenerationConfig, ModelConfig
from rag.generators.base import ChatMessage, GenerationRequest, GeneratorError, LoraDeltas, ModelInfo, StreamEvent
from rag.generators.common import encode, final_generation, fit_window, holdback, render_chat
from rag.generators.hf_decode import DecodeRow, decode_batch, finish_timings
from rag.models import REGISTRY
from rag.types import Generation

BATCH_ROWS = 8  # most rows per batched forward; the answer path batches 2-5 (closed-book, grounded, per-passage)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's cpuset), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class HFGenerator:
    """A `Generator` running a transformers causal LM in this process."""

    def __init__(self, model: ModelConfig, generation: GenerationConfig | None = None) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:  # pragma: no cover - core dependency
            raise GeneratorError(f"the hf backend needs torch and transformers ({e}); run: pip install adaptrag") from e
        from rag.generators.convert import hf_folder_for

        self.config = model
        self.generation = generation or GenerationConfig()
        torch.set_num_threads(model.threads or available_cores())
        models_cache = Path(model.cache_dir).expanduser() if model.cache_dir else None
        self.folder = hf_folder_for(model.name, models_cache=models_cache)
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[model.dtype]
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        self.model = AutoModelForCausalLM.from_pretrained(str(self.folder), dtype=dtype).eval()
        self.dtype = dtype
        window = REGISTRY[model.name].context_window if model.name in REGISTRY else 0
        self._window = window or int(getattr(self.model.config, "max_position_embeddings", 2048))
        eos = self.model.generation_config.eos_token_id if self.model.generation_config else None
        eos = eos if eos is not None else self.tokenizer.eos_token_id
        self._eos = {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}
        self._adapters: dict[str, str] = {}
        self._adapter_weights: dict[str, dict[str, tuple[Any, Any]]] = {}  # name -> module path -> (A, B), checked
        self._prefixes: dict[str | None, tuple[list[int], Any]] = {}  # adapter -> kept prompt prefix: ids, KV cache
        self._lock = threading.RLock()

    # -- protocol ---------------------------------------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(self.config.name, "hf", self._window, tuple(self._adapters))

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        return render_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        return len(encode(self.tokenizer, text))

    def load_adapter(self, name: str, path: str) -> None:
        """Register a PEFT LoRA folder; requests name it in `GenerationRequest.adapter`. It is applied through
        forward hooks during those requests only (rag/generators/peft_read.py says why), so loading one costs
        the other requests nothing."""
        from rag.generators.peft_read import read_peft

        folder = Path(path).expanduser()
        deltas = read_peft(folder, name)
        try:
            checked = self._checked(deltas, float32=True)
        except GeneratorError as e:
            raise GeneratorError(f"cannot load LoRA adapter {name!r} from {folder}: {e}") from None
        with self._lock:
            self._adapter_weights[name] = checked
            self._adapters[name] = str(folder)
            self._prefixes.pop(name, None)  # computed with the weights this name had before

    def keep_prefix(self, text: str, adapter: str | None = None) -> None:
        """Compute the KV cache of `text` once: single requests under `adapter` whose prompt starts with its tokens
        read only the rest (the router's fixed template is ~45 of its ~58 tokens; rag/decide.py). One prefix per
        adapter; the last token is left out, since it may merge with the text that follows."""
        import torch

        ids = encode(self.tokenizer, text)[:-1]
        if len(ids) < 2:
            return
        with self._lock, self.adapter_applied(adapter), torch.inference_mode():
            out = self.model(input_ids=torch.tensor([ids]), use_cache=True, logits_to_keep=1)
            self._prefixes[adapter] = (ids, out.cache)

    def generate(self, request: GenerationRequest) -> Generation:
        return final_generation(self.stream(request))

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        """Yield text pieces; the lock is held until the iterator is exhausted or closed."""
        with self._lock, ExitStack() as stack:
            stack.enter_context(self.adapter_applied(request.adapter))
            if request.deltas is not None:
                stack.enter_context(self._deltas_applied(request.deltas))
            yield from self._decode(request)

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Greedy-decode requests together, in request order: one left-padded batch per adapter.

        Requests with per-request `deltas` run one by one (the hook would change every row's forward pass).
        Batches hold at most `BATCH_ROWS` rows: padding to the longest prompt wastes more beyond that.
        """
        results: list[Generation | None] = [None] * len(requests)
        by_adapter: dict[str | None, list[int]] = {}
        for i, r in enumerate(requests):
            if r.deltas is None:
                by_adapter.setdefault(r.adapter, []).append(i)
        with self._lock:
            for adapter, rows in by_adapter.items():
                with self.adapter_applied(adapter):
                    for k in range(0, len(rows), BATCH_ROWS):
                        chunk = rows[k : k + BATCH_ROWS]
                        gens = decode_batch(self.model, self.tokenizer, [requests[i] for i in chunk], self._eos,
                                            self._window, self.config.name)
                        for i, g in zip(chunk, gens):
                            results[i] = g
            for i, r in enumerate(requests):
                if r.deltas is not None:
                    results[i] = self.generate(r)
        return [g for g in results if g is not None]

    # -- extras used by decide / conflict / DyPRAG --------------------------------------------------------

    def first_token_logprobs(self, prompt: str, candidates: Sequence[str], adapter: str | None = None) -> dict[str, float]:
        """Log-prob of each candidate's first token at the first generated position (e.g. P(<RET>))."""
        import torch

        ids = [encode(self.tokenizer, c)[0] for c in candidates]
        with self._lock, self.adapter_applied(adapter), torch.inference_mode():
            logits = self.model(torch.tensor([encode(self.tokenizer, prompt)]), logits_to_keep=1).logits[0, -1].float()
            lp = torch.log_softmax(logits, dim=-1)
        return {c: float(lp[i]) for c, i in zip(candidates, ids)}

    def next_token_logits(self, prompt: str, adapter: str | None = None, deltas: LoraDeltas | None = None) -> Any:
        """Raw float32 logits of the next token (a torch tensor); tests compare them bit for bit."""
        import torch

        with self._lock, ExitStack() as stack, torch.inference_mode():
            stack.enter_context(self.adapter_applied(adapter))
            if deltas is not None:
                stack.enter_context(self._deltas_applied(deltas))
            return self.model(torch.tensor([encode(self.tokenizer, prompt)]), logits_to_keep=1).logits[0, -1].float().clone()

    @contextmanager
    def adapter_applied(self, name: str | None) -> Iterator[None]:
        """Inside the block, `self.model` answers with the loaded adapter `name` (None: the base model). Callers
        that run `self.model` themselves (router calibration, adapt/router/) hold it around their forwards."""
        from rag.generators.lora_hook import inject

        if name is not None and name not in self._adapters:
            raise GeneratorError(
                f"unknown adapter {name!r} for {self.config.name}; loaded: {', '.join(self._adapters) or 'none'}"
            )
        with self._lock, inject(self.model, self._adapter_weights[name] if name is not None else None):
            yield

    # -- internals ----------------------------------------------------------------------------------------

    @contextmanager
    def _deltas_applied(self, deltas: LoraDeltas) -> Iterator[None]:
        """Add x @ A.T @ B.T to the listed modules' outputs for this request only (rag/generators/lora_hook.py,
        removed after), once every module exists and every shape fits."""
        from rag.generators.lora_hook import inject

        with inject(self.model, self._checked(deltas)):
            yield

    def _checked(self, deltas: LoraDeltas, float32: bool = False) -> dict[str, tuple[Any, Any]]:
        """`deltas`' (A, B) per module once every module exists and every shape fits, as tensors of the model's
        dtype, or of float32 (`float32`: a loaded adapter, whose delta the hook adds in float32 as PEFT does)."""
        import torch

        dtype = torch.float32 if float32 else self.dtype

        checked = {}
        for path, (a, b) in deltas.weights.items():
            try:
                module = self.model.get_submodule(path)
            except AttributeError:
                raise GeneratorError(f"LoRA delta names module {path!r}, which {self.config.name} does not have") from None
            a = torch.as_tensor(a, dtype=dtype)
            b = torch.as_tensor(b, dtype=dtype)
            inf, outf = getattr(module, "in_features", a.shape[1]), getattr(module, "out_features", b.shape[0])
            if a.shape != (deltas.rank, inf) or b.shape != (outf, deltas.rank):
                raise GeneratorError(
                    f"LoRA delta for {path}: A {tuple(a.shape)}, B {tuple(b.shape)}; "
                    f"expected ({deltas.rank}, {inf}) and ({outf}, {deltas.rank})"
                )
            checked[path] = (a, b)
        return checked

    def _decode(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        import torch

        t0 = time.perf_counter()
        prompt_ids = encode(self.tokenizer, request.prompt)
        max_new = fit_window(len(prompt_ids), request.max_new_tokens, self._window, self.config.name)
        row = DecodeRow(self.tokenizer, request, len(prompt_ids), max_new, self._eos)
        sent = 0
        timings: dict[str, float] = {}
        past, step_input = None, torch.tensor([prompt_ids])
        kept = self._prefixes.get(request.adapter) if request.deltas is None else None
        if kept is not None and len(prompt_ids) > len(kept[0]) and prompt_ids[: len(kept[0])] == kept[0]:
            past, step_input = copy.deepcopy(kept[1]), torch.tensor([prompt_ids[len(kept[0]):]])
        with torch.inference_mode():
            while not row.done:
                out = self.model(input_ids=step_input, cache=past, use_cache=True, logits_to_keep=1)
                past = out.cache
                logits = out.logits[0, -1].float()
                if not timings:
                    timings["prompt"] = (time.perf_counter() - t0) * 1000
                tok = row.choose(logits)
                timings.setdefault("first_token", (time.perf_counter() - t0) * 1000)
                row.push(tok, torch.log_softmax(logits, dim=-1))
                if row.done:
                    break
                safe = len(row.text) - holdback(row.text, request.stop)
                if row.text.endswith("\ufffd"):  # an incomplete UTF-8 character: wait for the next token
                    safe = min(safe, len(row.text) - 1)
                if safe > sent:
                    yield StreamEvent(row.text[sent:safe])
                    sent = safe
                step_input = torch.tensor([[tok]])
        generation = row.generation(finish_timings(timings, (time.perf_counter() - t0) * 1000))
        yield StreamEvent(generation.text[sent:], generation)
