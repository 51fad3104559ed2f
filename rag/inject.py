"""DyPRAG at answer time: retrieved passages -> per-question LoRA deltas for the generator's MLPs.

    injector = Injector(generator, cfg)          # loads the translator named by cfg (rag/translator.py)
    deltas = injector.deltas(passages)           # LoraDeltas (A, B averaged over passages) or None when off
    generator.generate(GenerationRequest(prompt, deltas=deltas))

The pieces live beside what they belong to:
- the translator model, its file and where it lives: rag/translator.py;
- the translator input (the frozen model's final hidden state of a passage's last token) and the base model
  that computes it: rag/generators/hidden_states.py;
- the forward hook that applies deltas in process: rag/generators/lora_hook.py;
- the inputs stored with each index generation by `index add`: indexing/translator_inputs.py. `Injector`
  reads the committed generation's file, so a question costs no passage encoding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from indexing.generations import committed_generation
from indexing.translator_inputs import TranslatorInputs, translator_inputs_path
from rag.config import Config
from rag.generators import hidden_states
from rag.generators.base import LoraDeltas
from rag.translator import load_translator, translator_path
from rag.types import Passage


def average_deltas(generated: Mapping[str, tuple[Any, Any]], rank: int, name: str = "dyprag",
                   scale: float = 1.0) -> LoraDeltas:
    """Translator output {path: (A [k, r, in], B [k, out, r])} -> LoraDeltas with A and B averaged over k passages.

    `scale` multiplies B, so every consumer (the hf hook, the PEFT export for vLLM) adds scale * B A.
    """
    return LoraDeltas({p: (a.mean(0).detach().float().contiguous(), (b.mean(0).detach().float() * scale).contiguous())
                       for p, (a, b) in generated.items()}, rank=rank, name=name)


class Injector:
    """Passages -> averaged LoRA deltas through the trained parameter translator (DyPRAG)."""

    def __init__(self, generator: Any, cfg: Config, *, enabled: bool | None = None) -> None:
        """`enabled=None` follows inject.dyprag; True builds it for questions that ask for DyPRAG themselves."""
        self.cfg = cfg
        self.generator = generator
        self.enabled = cfg.inject.dyprag != "off" if enabled is None else enabled
        self.translator = None
        if not self.enabled:
            return
        path = translator_path(cfg)
        self._model, self._tok = getattr(generator, "model", None), getattr(generator, "tokenizer", None)
        sha = hidden_states.base_model_sha256(cfg.model.name, cfg.model_cache())
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
            self._model, self._tok = hidden_states.shared_base_model(self.cfg.model.name, self.cfg.model_cache())
        return self._model, self._tok

    def _stored_inputs(self) -> TranslatorInputs:
        """The committed index generation's translator inputs, reloaded when a writer commits a new one."""
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
            new = hidden_states.passage_embeddings(model, tok, [passages[i].text for i in missing])
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
