"""Read a PEFT LoRA adapter folder as `LoraDeltas` (the inverse of rag/generators/peft_export.py).

The in-process backend applies a loaded adapter through forward hooks during its own requests only
(rag/generators/lora_hook.py), instead of wrapping the model in PEFT layers: wrapped, every base-model
forward goes through the LoRA layers even with the adapter switched off, and measured 19% slower per token
(bfloat16, smollm2-135m, one thread, interleaved with an unwrapped copy) once the router had been loaded.

    deltas = read_peft("adapt/router/adapters/smollm2-135m")   # B carries PEFT's scale lora_alpha / r

Only plain LoRA on linear layers is read; anything else (DoRA, biases, modules_to_save, per-module rank or
alpha patterns, fan_in_fan_out) is refused with the setting named, rather than applied wrongly.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from rag.generators.base import GeneratorError, LoraDeltas

CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"
KEY = re.compile(r"^base_model\.model\.(?P<path>.+)\.lora_(?P<which>[AB])(?:\.[^.]+)?\.weight$")
UNSUPPORTED = {  # setting: the value PEFT uses when the feature is off
    "use_dora": False, "fan_in_fan_out": False, "modules_to_save": None, "rank_pattern": {}, "alpha_pattern": {},
    "layer_replication": None, "lora_bias": False,
}


def read_peft(folder: str | Path, name: str = "adapter") -> LoraDeltas:
    """The adapter's (A [r, in], B [out, r] * scale) per module path, float32.

    Raises:
        GeneratorError: not an adapter folder, an unreadable or unsupported one (the file and setting named).
    """
    folder = Path(folder).expanduser()
    config = _config(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise GeneratorError(f"{folder} has no {WEIGHTS} (only safetensors adapters are read)")
    try:
        from safetensors.torch import load_file

        tensors = load_file(str(weights))
    except Exception as e:  # a truncated or foreign file: safetensors raises several types
        raise GeneratorError(f"cannot read {weights}: {e}") from e
    pairs: dict[str, dict[str, Any]] = {}
    for key, tensor in tensors.items():
        m = KEY.match(key)
        if m is None:
            raise GeneratorError(f"{weights}: tensor {key!r} is not a LoRA A/B weight; only plain LoRA is read")
        pairs.setdefault(m["path"], {})[m["which"]] = tensor.float()
    rank = int(config.get("r", 0))
    scale = _scale(config, rank)
    out: dict[str, tuple[Any, Any]] = {}
    for path, ab in sorted(pairs.items()):
        a, b = ab.get("A"), ab.get("B")
        if a is None or b is None or a.dim() != 2 or b.dim() != 2 or a.shape[0] != rank or b.shape[1] != rank:
            raise GeneratorError(f"{weights}: module {path} lacks a LoRA A [r, in] / B [out, r] pair with r={rank}")
        out[path] = (a.contiguous(), (b * scale).contiguous())
    if not out:
        raise GeneratorError(f"{weights} holds no LoRA weights")
    return LoraDeltas(out, rank=rank, name=name)


def _config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG
    if not path.is_file():
        raise GeneratorError(f"{folder} is not a PEFT adapter folder (no {CONFIG})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GeneratorError(f"cannot read {path}: {e}") from e
    if not isinstance(config, dict) or config.get("peft_type", "LORA") != "LORA":
        raise GeneratorError(f"{path}: peft_type {config.get('peft_type') if isinstance(config, dict) else None!r} "
                             "is not LORA")
    for key, off in UNSUPPORTED.items():
        if config.get(key, off) not in (off, None, {}, False):
            raise GeneratorError(f"{path}: {key} = {config[key]!r} is not supported by the in-process backend")
    if config.get("bias", "none") != "none":
        raise GeneratorError(f"{path}: bias = {config['bias']!r} is not supported by the in-process backend")
    return config


def _scale(config: dict[str, Any], rank: int) -> float:
    """PEFT's LoRA scale: lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA."""
    if rank <= 0:
        raise GeneratorError(f"adapter_config.json: r = {config.get('r')!r} is not a positive rank")
    alpha = float(config.get("lora_alpha", rank))
    return alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank
