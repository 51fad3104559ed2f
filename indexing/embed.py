"""Sentence embeddings (all-MiniLM-L6-v2 by default), batched and L2-normalised.

One `Embedder` per process is enough: `Embedder.shared(name)` caches it, since
loading the model costs ~1 s and ~100 MB.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from rag.models import resolve_model


class Embedder:
    """Embeds texts into unit vectors: cosine similarity is a dot product."""

    _shared: ClassVar[dict[str, Embedder]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model: str = "minilm-l6", batch_size: int = 64) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be greater than 0. Currently, the batch_size is {batch_size}")
        from sentence_transformers import SentenceTransformer

        resolved = resolve_model(model)
        if resolved.kind != "sentence-transformers":
            raise ValueError(f"embedding model {model!r} is a {resolved.kind} model, not a sentence-transformers one")
        self.name = model
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(resolved.path), device="cpu")
        self.dim = int(self.model.get_embedding_dimension())
        self.tokenizer = self.model.tokenizer
        self._encode_lock = threading.Lock()  # one forward pass at a time: torch on 2 cores gains nothing from more

    @classmethod
    def shared(cls, model: str = "minilm-l6", batch_size: int = 64) -> Embedder:
        with cls._lock:
            if model not in cls._shared:
                cls._shared[model] = cls(model, batch_size)
            return cls._shared[model]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 [len(texts), dim] unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._encode_lock:
            vecs = self.model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return vecs.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """One query's unit vector. The model reads at most `max_seq_length` tokens (MiniLM: 256) and drops
        the rest without a word; a pasted 2,000-character question would lose its last sentence, usually
        the question itself. A longer query is embedded in windows of that many tokens whose mean is
        normalised, so every part of it counts."""
        limit = max(8, int(getattr(self.model, "max_seq_length", 256) or 256) - 2)  # [CLS] and [SEP]
        offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                                 verbose=False)["offset_mapping"]
        if len(offsets) <= limit:
            return self.embed([text])[0]
        windows = [text[offsets[i][0]:offsets[min(i + limit, len(offsets)) - 1][1]]
                   for i in range(0, len(offsets), limit)]
        mean = self.embed(windows).mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
