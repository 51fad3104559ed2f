"""DyPRAG translator inputs written with an index generation, so a question encodes no passage.

When `rag.inject.index_inputs_enabled(cfg)` (inject.index_inputs = on, or auto and the model has a translator
file), `index add` runs each new chunk through the generator's frozen base model and stores the translator
input (the final hidden state of the chunk's last token, `rag.inject.passage_embeddings`). The base model is
loaded on the first chunk that needs it, never when the inputs are off.

The vectors live in the generation folder, gen-N/dyprag/inputs-<model>.npz, so they follow the index's
versioning (indexing/index.py): the writer copies the committed generation's files into its new generation,
edits the copy and commits it with everything else. A writer killed before the commit leaves its folder (and
its vectors) to be discarded, so a committed generation holds no vector of a chunk it does not contain.

    inputs = GenerationInputs(cfg, writer_folder)            # Writer._begin, after fork(old, new)
    inputs.remove(chunk_ids); inputs.add(chunks, bar)        # Writer.remove / Writer._flush
    inputs.save()                                            # Writer.commit, before the fsync and the swap
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.config import Config
from rag.types import Chunk

ENCODE_GROUP = 32  # chunks per progress-bar step (batched 8 at a time by passage_embeddings)


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
        from rag.inject import index_inputs_enabled

        self.cfg = cfg
        self.folder = folder
        self.enabled = index_inputs_enabled(cfg)
        self.encoded = 0  # chunks run through the base model in this transaction
        self._encoder = encoder
        self._store = None  # cfg's model's TranslatorInputs in this generation, loaded on first use
        self._removed: set[str] = set()
        self._added: set[str] = set()

    def remove(self, chunk_ids: Sequence[str]) -> None:
        """Drop these chunks' vectors at `save` (unless the same chunk is added again: same id, same text)."""
        self._removed.update(chunk_ids)

    def add(self, chunks: Sequence[Chunk], bar: Any = None) -> int:
        """Encode the chunks without a stored vector; returns how many were encoded (0 when disabled)."""
        if not self.enabled or not chunks:
            return 0
        from rag.inject import passage_embeddings, shared_base_model

        store = self._this_model()
        self._added.update(c.id for c in chunks)
        todo = [c for c in chunks if c.id not in store]  # a stored id has the same text: its vector still holds
        if todo and self._encoder is None:
            self._encoder = shared_base_model(self.cfg.model.name, self.cfg.model_cache())
        for i in range(0, len(todo), ENCODE_GROUP):
            group = todo[i:i + ENCODE_GROUP]
            store.put([c.id for c in group], passage_embeddings(*self._encoder, [c.text for c in group]))
            if bar is not None:
                bar.update(len(group))
        self.encoded += len(todo)
        return len(todo)

    def save(self) -> None:
        """Write every changed inputs file of the generation (removals apply to every model's file)."""
        from rag.inject import TranslatorInputs

        gone = list(self._removed - self._added)
        stores = {p: None for p in sorted((self.folder / "dyprag").glob("inputs-*.npz"))} if gone else {}
        if self._store is not None:
            stores[self._store.path] = self._store
        for path, store in stores.items():
            changed = store is not None and self.encoded > 0  # only cfg's model's store is held (and encoded into)
            store = store or TranslatorInputs(path)
            if any(cid in store for cid in gone):
                store.remove(gone)
                changed = True
            if changed:
                store.save()

    def _this_model(self):
        if self._store is None:
            from rag.inject import TranslatorInputs, inputs_path_for

            self._store = TranslatorInputs(inputs_path_for(self.cfg, self.folder))
        return self._store
