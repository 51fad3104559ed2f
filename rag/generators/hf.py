"""In-process generator: transformers on the CPU (the embedded default; training and DyPRAG use it too).

Registry GGUF models are converted once into a cached float32 Hugging Face folder
(rag/generators/convert.py) and loaded from there; any local HF folder works as well.

    gen = HFGenerator(ModelConfig(name="smollm2-135m"))
    g = gen.generate(GenerationRequest(gen.render_chat(messages), stop=("\\n",), top_logprobs=5))

Decoding is a manual loop over the KV cache (greedy, or sampling when temperature > 0), which gives
per-token log-probs and top-n alternatives for free and streams text as it goes. Log-probs are the
model's raw distribution (before `suppress`), as vLLM reports them. One lock guards the model: the
app shares a generator between sessions, and adapters / per-request deltas change its forward pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rag.config import GenerationConfig, ModelConfig
from rag.generators.base import ChatMessage, GenerationRequest, GeneratorError, LoraDeltas, ModelInfo, StreamEvent
from rag.generators.common import (
    encode,
    final_generation,
    find_stop,
    fit_window,
    holdback,
    render_chat,
    token_text,
    top_dict,
)
from rag.models import REGISTRY
from rag.types import Generation


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
        if model.threads > 0:
            torch.set_num_threads(model.threads)
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
        self._peft: Any = None  # peft.PeftModel wrapping self.model once an adapter is loaded
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
        """Register a PEFT LoRA folder; requests name it in `GenerationRequest.adapter`."""
        folder = Path(path).expanduser()
        if not (folder / "adapter_config.json").exists():
            raise GeneratorError(f"{folder} is not a PEFT adapter folder (no adapter_config.json)")
        with self._lock:
            try:
                from peft import PeftModel
            except ImportError as e:
                raise GeneratorError("LoRA adapters need peft; run: pip install peft") from e
            try:
                if self._peft is None:
                    self._peft = PeftModel.from_pretrained(self.model, str(folder), adapter_name=name)
                else:
                    if name in self._adapters:
                        self._peft.delete_adapter(name)
                    self._peft.load_adapter(str(folder), adapter_name=name)
            except Exception as e:
                raise GeneratorError(f"cannot load LoRA adapter {name!r} from {folder}: {e}") from e
            self._peft.eval()
            self._adapters[name] = str(folder)

    def generate(self, request: GenerationRequest) -> Generation:
        return final_generation(self.stream(request))

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        """Yield text pieces; the lock is held until the iterator is exhausted or closed."""
        with self._lock, ExitStack() as stack:
            self._select_adapter(request.adapter)
            if request.deltas is not None:
                stack.enter_context(self._deltas_applied(request.deltas))
            yield from self._decode(request)

    # -- extras used by decide / conflict / DyPRAG --------------------------------------------------------

    def first_token_logprobs(self, prompt: str, candidates: Sequence[str], adapter: str | None = None) -> dict[str, float]:
        """Log-prob of each candidate's first token at the first generated position (e.g. P(<RET>))."""
        import torch

        ids = [encode(self.tokenizer, c)[0] for c in candidates]
        with self._lock, torch.inference_mode():
            self._select_adapter(adapter)
            logits = self.model(torch.tensor([encode(self.tokenizer, prompt)]), logits_to_keep=1).logits[0, -1].float()
            lp = torch.log_softmax(logits, dim=-1)
        return {c: float(lp[i]) for c, i in zip(candidates, ids)}

    def next_token_logits(self, prompt: str, adapter: str | None = None, deltas: LoraDeltas | None = None) -> Any:
        """Raw float32 logits of the next token (a torch tensor); tests compare them bit for bit."""
        import torch

        with self._lock, ExitStack() as stack, torch.inference_mode():
            self._select_adapter(adapter)
            if deltas is not None:
                stack.enter_context(self._deltas_applied(deltas))
            return self.model(torch.tensor([encode(self.tokenizer, prompt)]), logits_to_keep=1).logits[0, -1].float().clone()

    # -- internals ----------------------------------------------------------------------------------------

    def _select_adapter(self, name: str | None) -> None:
        if name is not None and name not in self._adapters:
            raise GeneratorError(
                f"unknown adapter {name!r} for {self.config.name}; loaded: {', '.join(self._adapters) or 'none'}"
            )
        if self._peft is None:
            return
        # PEFT injected LoRA layers into self.model in place; calling self.model applies the active one.
        if name is None:
            self._peft.base_model.disable_adapter_layers()
        else:
            self._peft.base_model.enable_adapter_layers()
            self._peft.set_adapter(name)

    @contextmanager
    def _deltas_applied(self, deltas: LoraDeltas) -> Iterator[None]:
        """Add x @ A.T @ B.T to the listed modules' outputs for this request only (rag/generators/lora_hook.py,
        removed after), once every module exists and every shape fits."""
        import torch

        from rag.generators.lora_hook import inject

        checked = {}
        for path, (a, b) in deltas.weights.items():
            try:
                module = self.model.get_submodule(path)
            except AttributeError:
                raise GeneratorError(f"LoRA delta names module {path!r}, which {self.config.name} does not have") from None
            a = torch.as_tensor(a, dtype=self.dtype)
            b = torch.as_tensor(b, dtype=self.dtype)
            inf, outf = getattr(module, "in_features", a.shape[1]), getattr(module, "out_features", b.shape[0])
            if a.shape != (deltas.rank, inf) or b.shape != (outf, deltas.rank):
                raise GeneratorError(
                    f"LoRA delta for {path}: A {tuple(a.shape)}, B {tuple(b.shape)}; "
                    f"expected ({deltas.rank}, {inf}) and ({outf}, {deltas.rank})"
                )
            checked[path] = (a, b)
        with inject(self.model, checked):
            yield

    def _decode(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        import torch

        t0 = time.perf_counter()
        prompt_ids = encode(self.tokenizer, request.prompt)
        max_new = fit_window(len(prompt_ids), request.max_new_tokens, self._window, self.config.name)
        banned = sorted({encode(self.tokenizer, s)[0] for s in request.suppress if s})
        ids: list[int] = []
        tokens: list[str] = []
        starts: list[int] = []  # character offset of each token in the generated text
        logprobs: list[float] = []
        tops: list[dict[str, float]] = []
        text, sent, finish, stopped = "", 0, "length", False
        timings: dict[str, float] = {}
        past, step_input = None, torch.tensor([prompt_ids])
        with torch.inference_mode():
            for step in range(max_new):
                out = self.model(input_ids=step_input, cache=past, use_cache=True, logits_to_keep=1)
                past = out.cache
                logits = out.logits[0, -1].float()
                if step == 0:
                    timings["prompt"] = (time.perf_counter() - t0) * 1000
                lp = torch.log_softmax(logits, dim=-1)
                choice = logits.clone()
                if banned:
                    choice[banned] = float("-inf")
                if request.temperature > 0:
                    probs = torch.softmax(choice / request.temperature, dim=-1)
                    tok = int(torch.multinomial(probs, 1))
                else:
                    tok = int(torch.argmax(choice))
                if step == 0:
                    timings["first_token"] = (time.perf_counter() - t0) * 1000
                if tok in self._eos:
                    finish = "stop"
                    break
                if request.top_logprobs > 0:
                    vals, idx = torch.topk(lp, request.top_logprobs)
                    tops.append(top_dict([(token_text(self.tokenizer, i), float(v)) for v, i in zip(vals, idx)]))
                ids.append(tok)
                tokens.append(token_text(self.tokenizer, tok))
                logprobs.append(float(lp[tok]))
                starts.append(len(text))
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                cut = find_stop(text, request.stop)
                if cut >= 0:
                    text, finish, stopped = text[:cut], "stop", True
                    break
                safe = len(text) - holdback(text, request.stop)
                if text.endswith("\ufffd"):  # an incomplete UTF-8 character: wait for the next token
                    safe = min(safe, len(text) - 1)
                if safe > sent:
                    yield StreamEvent(text[sent:safe])
                    sent = safe
                step_input = torch.tensor([[tok]])
        if stopped:  # drop the tokens that lie wholly inside the stop string
            keep = sum(1 for s in starts if s < len(text))
            tokens, logprobs, tops = tokens[:keep], logprobs[:keep], tops[:keep]
        total = (time.perf_counter() - t0) * 1000
        timings.setdefault("prompt", total)
        timings.setdefault("first_token", total)
        timings["decode"] = total - timings["prompt"]
        timings["total"] = total
        generation = Generation(
            text=text, tokens=tuple(tokens), token_logprobs=tuple(logprobs), top_logprobs=tuple(tops),
            prompt_tokens=len(prompt_ids), finish_reason=finish, timings_ms=timings,
        )
        yield StreamEvent(text[sent:], generation)

