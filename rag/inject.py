"""DyPRAG at answer time: retrieved passages -> per-question LoRA deltas for the generator's MLPs.

    injector = Injector(generator, cfg)          # loads the translator named by cfg.inject.translator
    deltas = injector.deltas(passages)           # LoraDeltas (A, B averaged over passages) or None when off
    generator.generate(GenerationRequest(prompt, deltas=deltas))

Pieces other modules reuse:
- `passage_embedding(generator, text)` / `passage_embeddings(model, tokenizer, texts)`: the translator's input,
  the frozen model's final hidden state of the passage's last token.
- `TranslatorInputs`: those vectors keyed by chunk id, stored inside each index generation folder
  (`inputs_path_for(cfg, folder)`, gen-N/dyprag/inputs-<model>.npz) so a question costs no passage encoding.
  `index add` fills it when `index_inputs_enabled(cfg)` (indexing/translator_inputs.py); the file is forked,
  committed and discarded with its generation, and `Injector` reads the committed one.
- `inject(model, deltas)`: a context manager adding x (B A)^T to the listed nn.Linear outputs through forward
  hooks; on exit the hooks are removed, so the model's outputs are bit-identical to before.
- `load_base_model(name)` / `shared_base_model(name)`: the transformers model + tokenizer, for backends without
  an in-process model and for indexing (shared: loaded once per process).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Config, default_data_home
from rag.generators.base import LoraDeltas
from rag.types import Passage

log = logging.getLogger(__name__)
MAX_PASSAGE_TOKENS = 512  # passages are chunks of ~200 embedding tokens; longer text is truncated


# ---------------------------------------------------------------- the base model


def load_base_model(name: str, cache_dir: Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) of a registry name / GGUF / HF folder, float32, eval mode, gradients off."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rag.generators.convert import hf_folder_for

    folder = hf_folder_for(name, models_cache=cache_dir)
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    model.eval()
    model.requires_grad_(False)
    return model, tok


_SHARED_MODELS: dict[tuple[str, str], tuple[Any, Any]] = {}
_SHARED_LOCK = threading.Lock()


def shared_base_model(name: str, cache_dir: Path | None = None) -> tuple[Any, Any]:
    """`load_base_model`, loaded once per process (repeated `Index.add` calls, the openai backend's Injector)."""
    key = (name, str(cache_dir))
    with _SHARED_LOCK:
        if key not in _SHARED_MODELS:
            _SHARED_MODELS[key] = load_base_model(name, cache_dir)
        return _SHARED_MODELS[key]


def base_model_sha256(name: str, cache_dir: Path | None = None) -> str:
    """The registry sha256 of a model, or the file's sha256 for a GGUF path; "" for an HF folder."""
    from rag.models import file_sha256, resolve_model

    spec = resolve_model(name, cache_dir)
    if spec.sha256:
        return spec.sha256
    return file_sha256(spec.file) if spec.kind == "gguf" else ""


def _model_and_tokenizer(generator: Any) -> tuple[Any, Any]:
    model, tok = getattr(generator, "model", None), getattr(generator, "tokenizer", None)
    if model is None or tok is None:
        raise TypeError(f"{type(generator).__name__} exposes no in-process transformers model (.model/.tokenizer)")
    return model, tok


# ---------------------------------------------------------------- translator inputs


def passage_embeddings(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
    """Final-layer hidden state of each text's last token: float32 [len(texts), hidden]."""
    import torch

    out = []
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else model.model
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    for i in range(0, len(texts), batch_size):
        ids = [tokenizer(t, add_special_tokens=False, truncation=True, max_length=MAX_PASSAGE_TOKENS)["input_ids"]
               or [pad] for t in texts[i:i + batch_size]]
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in ids])  # right padding
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
        with torch.no_grad():
            hidden = decoder(input_ids=input_ids, attention_mask=mask).last_hidden_state  # [b, T, H]
        last = torch.tensor([len(x) - 1 for x in ids])
        out.append(hidden[torch.arange(len(ids)), last].float().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.hidden_size), np.float32)


def passage_embedding(generator: Any, text: str) -> np.ndarray:
    """The translator input of one passage, float32 [hidden]; `generator` has .model and .tokenizer (hf backend)."""
    model, tok = _model_and_tokenizer(generator)
    return passage_embeddings(model, tok, [text])[0]


def translator_inputs_path(folder: Path, base_key: str) -> Path:
    """Where an index generation folder keeps its chunks' translator inputs for one base model (sha256 or name)."""
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", base_key[:16] if re.fullmatch(r"[0-9a-f]{64}", base_key) else base_key)
    return Path(folder) / "dyprag" / f"inputs-{key}.npz"


def base_model_key(cfg: Config) -> str:
    """What names cfg's base model in translator-input files: its sha256, else its name."""
    return base_model_sha256(cfg.model.name, cfg.model_cache()) or cfg.model.name


def inputs_path_for(cfg: Config, folder: Path | None = None) -> Path | None:
    """The translator-input file of cfg's model in an index generation folder (default: the committed one).

    None when the index has no committed generation yet. Indexing writes it; `Injector` reads it.
    """
    if folder is None:
        from indexing.index import committed_generation

        folder = committed_generation(cfg.index_path())
        if folder is None:
            return None
    return translator_inputs_path(folder, base_model_key(cfg))


class TranslatorInputs:
    """Chunk id -> translator input vector, persisted as one .npz (ids + float32 matrix), written atomically."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None  # None: an empty store that is never saved
        self._vectors: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    self._vectors = dict(zip(data["ids"].tolist(), data["vectors"].astype(np.float32)))
            except (OSError, ValueError, KeyError) as e:  # a damaged cache is rebuilt, never fatal
                log.warning("ignoring damaged DyPRAG input cache %s (%s); it will be rebuilt", self.path, e)

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self._vectors

    def get(self, chunk_id: str) -> np.ndarray | None:
        return self._vectors.get(chunk_id)

    def put(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        for cid, v in zip(ids, vectors):
            self._vectors[cid] = np.asarray(v, np.float32)

    def remove(self, ids: Sequence[str]) -> None:
        for cid in ids:
            self._vectors.pop(cid, None)

    def ids(self) -> list[str]:
        return list(self._vectors)

    def save(self) -> None:
        if self.path is None:
            raise ValueError("this TranslatorInputs has no file to save to")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ids = list(self._vectors)
        dim = len(next(iter(self._vectors.values()))) if ids else 0
        vectors = np.stack([self._vectors[i] for i in ids]) if ids else np.zeros((0, dim), np.float32)
        tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, ids=np.array(ids, dtype=str), vectors=vectors)
        os.replace(tmp, self.path)


def index_translator_inputs(generator: Any, chunks: Sequence[Any], path: str | Path, batch_size: int = 8) -> int:
    """Compute and store the translator input of each chunk (objects with .id and .text) not yet cached.

    Returns the number of chunks encoded. One-off use; `index add` keeps its generation's store open instead
    (indexing/translator_inputs.py).
    """
    store = TranslatorInputs(path)
    todo = [c for c in chunks if c.id not in store]
    if todo:
        model, tok = _model_and_tokenizer(generator)
        store.put([c.id for c in todo], passage_embeddings(model, tok, [c.text for c in todo], batch_size))
        store.save()
    return len(todo)


# ---------------------------------------------------------------- injection


@contextlib.contextmanager
def inject(model: Any, deltas: LoraDeltas | Mapping[str, tuple[Any, Any]] | None) -> Iterator[None]:
    """Add B (A x) to each listed module's output while inside the block (differentiable; no weight is touched).

    A may be [r, in] or batched [N, r, in] (then B is [N, out, r] and x is [N, T, in]).
    """
    if deltas is None:
        yield
        return
    weights = deltas.weights if isinstance(deltas, LoraDeltas) else deltas
    handles = []
    try:
        for path, (a, b) in weights.items():
            try:
                module = model.get_submodule(path)
            except AttributeError:
                raise ValueError(f"DyPRAG delta for {path!r}, but the model has no such module") from None
            handles.append(module.register_forward_hook(_hook(a, b)))
        yield
    finally:
        for h in handles:
            h.remove()


def _hook(a: Any, b: Any):
    def add_delta(module: Any, args: tuple[Any, ...], output: Any) -> Any:
        x = args[0]
        return output + ((x @ a.to(x.dtype).mT) @ b.to(x.dtype).mT)
    return add_delta


def average_deltas(generated: Mapping[str, tuple[Any, Any]], rank: int, name: str = "dyprag",
                   scale: float = 1.0) -> LoraDeltas:
    """Translator output {path: (A [k, r, in], B [k, out, r])} -> LoraDeltas with A and B averaged over k passages.

    `scale` multiplies B, so every consumer (the hf hook, the PEFT export for vLLM) adds scale * B A.
    """
    return LoraDeltas({p: (a.mean(0).detach().float().contiguous(), (b.mean(0).detach().float() * scale).contiguous())
                       for p, (a, b) in generated.items()}, rank=rank, name=name)


def default_translator_path(model_name: str) -> Path:
    """Where `adaptrag dyprag train` puts a model's translator unless told otherwise."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(model_name).stem if os.sep in model_name else model_name)
    return default_data_home() / "dyprag" / stem / "translator.safetensors"


def translator_path(cfg: Config) -> Path:
    """The translator file of cfg: inject.translator, else the default one of cfg's model."""
    return Path(cfg.inject.translator).expanduser() if cfg.inject.translator else default_translator_path(cfg.model.name)


def index_inputs_enabled(cfg: Config) -> bool:
    """Whether `index add` stores translator inputs: inject.index_inputs on, or auto and the translator file exists."""
    mode = cfg.inject.index_inputs
    return mode == "on" or (mode == "auto" and translator_path(cfg).is_file())


class Injector:
    """Passages -> averaged LoRA deltas through the trained parameter translator (DyPRAG)."""

    def __init__(self, generator: Any, cfg: Config) -> None:
        from adapt.dyprag.translator import load_translator

        self.cfg = cfg
        self.generator = generator
        self.enabled = cfg.inject.dyprag != "off"
        self.translator = None
        if not self.enabled:
            return
        path = translator_path(cfg)
        self._model, self._tok = getattr(generator, "model", None), getattr(generator, "tokenizer", None)
        sha = base_model_sha256(cfg.model.name, cfg.model_cache())
        shape = None
        if self._model is not None:
            c = self._model.config
            shape = (c.num_hidden_layers, c.hidden_size, c.intermediate_size)
        self.translator, self.manifest = load_translator(path, expect_sha256=sha, expect_model=cfg.model.name,
                                                         expect_shape=shape)
        self.path = path
        self.scale = cfg.inject.scale if cfg.inject.scale is not None else self.manifest.scale
        self._inputs_key = sha or cfg.model.name  # == base_model_key(cfg), without hashing a GGUF file again
        self.inputs = TranslatorInputs(None)

    def _encoder(self) -> tuple[Any, Any]:
        if self._model is None:  # e.g. the openai backend: encode passages with a local copy of the base model
            self._model, self._tok = shared_base_model(self.cfg.model.name, self.cfg.model_cache())
        return self._model, self._tok

    def _stored_inputs(self) -> TranslatorInputs:
        """The committed index generation's translator inputs, reloaded when a writer commits a new one."""
        from indexing.index import committed_generation

        folder = committed_generation(self.cfg.index_path())
        path = translator_inputs_path(folder, self._inputs_key) if folder is not None else None
        if path != self.inputs.path:
            self.inputs = TranslatorInputs(path)
        return self.inputs

    def embeddings(self, passages: Sequence[Passage]) -> np.ndarray:
        """Translator inputs [k, hidden]: stored by `index add` where present, else encoded now."""
        inputs = self._stored_inputs()
        vecs: list[np.ndarray | None] = [inputs.get(p.id) for p in passages]
        missing = [i for i, v in enumerate(vecs) if v is None]
        if missing:
            model, tok = self._encoder()
            new = passage_embeddings(model, tok, [passages[i].text for i in missing])
            for i, v in zip(missing, new):
                vecs[i] = v
        return np.stack(vecs)  # type: ignore[arg-type]

    def deltas(self, passages: Sequence[Passage]) -> LoraDeltas | None:
        """Averaged deltas for these passages; None when DyPRAG is off or there are no passages."""
        if not self.enabled or not passages:
            return None
        import torch

        emb = torch.from_numpy(self.embeddings(passages))
        with torch.no_grad():
            generated = self.translator(emb)
        return average_deltas(generated, self.translator.spec.rank, scale=self.scale)
