"""The frozen base model as an encoder: a passage's final hidden state, DyPRAG's translator input.

    model, tok = shared_base_model("smollm2-135m")          # loaded once per process
    vectors = passage_embeddings(model, tok, texts)         # float32 [len(texts), hidden]

The vector is the final-layer hidden state of the passage's last token. Backends without an in-process
model (openai) and `index add` (which stores the vectors with the index) load the same weights here;
`base_model_sha256` names them, so stored vectors and translators are tied to the exact model file.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_PASSAGE_TOKENS = 512  # passages are chunks of ~200 embedding tokens; longer text is truncated


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


def model_and_tokenizer(generator: Any) -> tuple[Any, Any]:
    """The in-process (model, tokenizer) of a generator (the hf backend); TypeError for any other."""
    model, tok = getattr(generator, "model", None), getattr(generator, "tokenizer", None)
    if model is None or tok is None:
        raise TypeError(f"{type(generator).__name__} exposes no in-process transformers model (.model/.tokenizer)")
    return model, tok


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
    model, tok = model_and_tokenizer(generator)
    return passage_embeddings(model, tok, [text])[0]
