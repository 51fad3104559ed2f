"""Per-request LoRA deltas on an in-process transformers model, through forward hooks.

    with inject(model, deltas):      # LoraDeltas or {module path: (A, B)}
        model(...)                   # each listed nn.Linear now returns W x + B (A x)

On exit the hooks are removed, so the model's outputs are bit-identical to before; no weight is touched,
and the added term is differentiable (DyPRAG training backpropagates through it). Used by the hf backend
for DyPRAG answers and by the translator's training (adapt/dyprag/).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from rag.generators.base import LoraDeltas


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
        if a.dtype == x.dtype:
            return output + ((x @ a.mT) @ b.mT)
        # e.g. float32 weights on a bfloat16 model (a loaded adapter): the delta and the sum in float32, rounded
        # once, as PEFT's LoRA layers compute it
        return (output.float() + (x.float() @ a.float().mT) @ b.float().mT).to(output.dtype)
    return add_delta
