"""DyPRAG translator inputs stored with an index generation, so a question encodes no passage.

A translator input is the frozen base model's final hidden state of a chunk's last token
(`rag.generators.hidden_states.passage_embeddings`). This module owns their store and its place:

- `TranslatorInputs`: chunk id -> vector, one .npz per base model, written atomically.
- `translator_inputs_path(folder, key)` / `inputs_path_for(cfg, folder)`: gen-N/dyprag/inputs-<model>.npz,
  keyed by the model file's sha256 (else its name), so vectors never outlive the weights that made them.
- `index_inputs_enabled(cfg)`: whether `index add` fills the store (inject.index_inputs = on, or auto and
  the model has a translator file).
- `GenerationInputs`: the store of one generation being written by `indexing.writer.Writer`.

The vectors live in the generation folder, so they follow the index's versioning (indexing/index.py): the
writer copies the committed generation's files into its new generation, edits the copy and commits it with
everything else. A writer killed before the commit leaves its folder (and its vectors) to be discarded, so a
committed generation holds no vector of a chunk it does not contain. The base model is loaded on the first
chunk that needs it, never when the inputs are off.

    inputs = GenerationInputs(cfg, writer_folder)            # Writer._begin, after fork(old, new)
    inputs.remove(chunk_ids); inputs.add(chunks, bar)        # Writer.remove / Writer._flush
    inputs.save()                                            # Writer.commit, before the fsync and the swap
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexing.generations import committed_generation
from rag.config import Config
from rag.generators import hidden_states
from rag.types import Chunk

log = logging.getLogger(__name__)
ENCODE_GROUP = 32  # chunks per progress-bar step (batched 8 at a time by passage_embeddings)


def translator_inputs_path(folder: Path, base_key: str) -> Path:
    """Where an index generation folder keeps its chunks' translator inputs for one base model (sha256 or name)."""
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", base_key[:16] if re.fullmatch(r"[0-9a-f]{64}", base_key) else base_key)
    return Path(folder) / "dyprag" / f"inputs-{key}.npz"


def base_model_key(cfg: Config) -> str:
    """What names cfg's base model in translator-input files: its sha256, else its name."""
    return hidden_states.base_model_sha256(cfg.model.name, cfg.model_cache()) or cfg.model.name


def inputs_path_for(cfg: Config, folder: Path | None = None) -> Path | None:
    """The translator-input file of cfg's model in an index generation folder (default: the committed one).

    None when the index has no committed generation yet. Indexing writes it; `rag.inject.Injector` reads it.
    """
    if folder is None:
        folder = committed_generation(cfg.index_path())
        if folder is None:
            return None
    return translator_inputs_path(folder, base_model_key(cfg))


def index_inputs_enabled(cfg: Config) -> bool:
    """Whether `index add` stores translator inputs: inject.index_inputs on, or auto and the user configured or
    built a translator. The shipped one does not count: a user who never asked for DyPRAG should not pay one
    base-model pass per chunk at indexing; a DyPRAG question then encodes its passages when asked."""
    from rag.translator import user_translator  # imports torch: only when asked

    mode = cfg.inject.index_inputs
    return mode == "on" or (mode == "auto" and user_translator(cfg))


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
    (`GenerationInputs`).
    """
    store = TranslatorInputs(path)
    todo = [c for c in chunks if c.id not in store]
    if todo:
        model, tok = hidden_states.model_and_tokenizer(generator)
        store.put([c.id for c in todo], hidden_states.passage_embeddings(model, tok, [c.text for c in todo],
                                                                         batch_size))
        store.save()
    return len(todo)


def fork(old: Path | None, new: Path) -> None:
    """Copy the committed generation's translator inputs into a new generation (every model's file)."""
    if old is not None and (old / "dyprag").is_dir():
        shutil.copytree(old / "dyprag", new / "dyprag")


class GenerationInputs:
    """The translator inputs of one generation being written: deferred removals, new chunks encoded."""

    def __init__(self, cfg: Config, folder: Path, encoder: tuple[Any, Any] | None = None) -> None:
        """
        Args:
            cfg: the configuration (model name, inject.index_inputs, inject.translator).
            folder: the generation folder being written.
            encoder: (model, tokenizer) of the base model; None = `shared_base_model(cfg.model.name)` when needed.
        """
        self.cfg = cfg
        self.folder = folder
        self.enabled = index_inputs_enabled(cfg)
        self.encoded = 0  # chunks run through the base model in this transaction
        self._encoder = encoder
        self._store: TranslatorInputs | None = None  # cfg's model's store in this generation, loaded on first use
        self._removed: set[str] = set()
        self._added: set[str] = set()

    def remove(self, chunk_ids: Sequence[str]) -> None:
        """Drop these chunks' vectors at `save` (unless the same chunk is added again: same id, same text)."""
        self._removed.update(chunk_ids)

    def add(self, chunks: Sequence[Chunk], bar: Any = None) -> int:
        """Encode the chunks without a stored vector; returns how many were encoded (0 when disabled)."""
        if not self.enabled or not chunks:
            return 0
        store = self._this_model()
        self._added.update(c.id for c in chunks)
        todo = [c for c in chunks if c.id not in store]  # a stored id has the same text: its vector still holds
        if bar is not None and len(todo) < len(chunks):
            bar.update(len(chunks) - len(todo))  # the bar counts every written chunk; stored ones are done
        if todo and self._encoder is None:
            self._encoder = hidden_states.shared_base_model(self.cfg.model.name, self.cfg.model_cache())
        for i in range(0, len(todo), ENCODE_GROUP):
            group = todo[i:i + ENCODE_GROUP]
            store.put([c.id for c in group], hidden_states.passage_embeddings(*self._encoder, [c.text for c in group]))
            if bar is not None:
                bar.update(len(group))
        self.encoded += len(todo)
        return len(todo)

    def save(self) -> None:
        """Write every changed inputs file of the generation (removals apply to every model's file)."""
        gone = list(self._removed - self._added)
        stores: dict[Path, TranslatorInputs | None] = (
            {p: None for p in sorted((self.folder / "dyprag").glob("inputs-*.npz"))} if gone else {})
        if self._store is not None:
            stores[self._store.path] = self._store
        for path, held in stores.items():
            changed = held is not None and self.encoded > 0  # only cfg's model's store is held (and encoded into)
            store = held or TranslatorInputs(path)
            if any(cid in store for cid in gone):
                store.remove(gone)
                changed = True
            if changed:
                store.save()

    def _this_model(self) -> TranslatorInputs:
        if self._store is None:
            self._store = TranslatorInputs(inputs_path_for(self.cfg, self.folder))
        return self._store
