"""Write LoRA weight deltas as a PEFT adapter folder (what vLLM's LoRA loading and `peft` read).

Used by the openai backend to serve per-request DyPRAG deltas (and its all-zero `base-zero` adapter)
as vLLM LoRA modules, and by DyPRAG to export a question's averaged deltas.

    export_peft(deltas, "/dev/shm/dyprag-q17", base_model="smollm2-135m")

The folder holds `adapter_config.json` (r = deltas.rank, lora_alpha = r so PEFT's scale alpha/r is 1, matching
the in-process hook which adds B A unscaled; target_modules = the full module paths: PEFT matches them exactly,
where a bare "down_proj" would add zero-initialised LoRA layers to every layer, and vLLM reads the module
list from the tensor names) and
`adapter_model.safetensors` with `base_model.model.<module path>.lora_A.weight` [r, in] and `.lora_B.weight`
[out, r]. Written into a temporary sibling and renamed, so a reader never sees half an adapter.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from rag.generators.base import LoraDeltas


def export_peft(deltas: LoraDeltas, folder: str | Path, base_model: str = "") -> Path:
    """Write `deltas` as a PEFT adapter into `folder` (replaced if it exists). Returns the folder."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for path, (a, b) in deltas.weights.items():
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        if a.dim() != 2 or b.dim() != 2 or a.shape[0] != deltas.rank or b.shape[1] != deltas.rank:
            raise ValueError(f"delta for {path}: expected A [r, in] and B [out, r] with r={deltas.rank}, "
                             f"got {tuple(a.shape)} and {tuple(b.shape)}")
        tensors[f"base_model.model.{path}.lora_A.weight"] = a.detach().float().contiguous().cpu()
        tensors[f"base_model.model.{path}.lora_B.weight"] = b.detach().float().contiguous().cpu()
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": deltas.rank,
        "lora_alpha": deltas.rank,  # scale alpha / r = 1: DyPRAG adds B A without scaling
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": False,
        "target_modules": sorted(deltas.weights),
        "inference_mode": True,
        "use_rslora": False,
        "use_dora": False,
    }
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        save_file(tensors, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
        (tmp / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
