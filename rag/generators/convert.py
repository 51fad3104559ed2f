"""Convert a registry GGUF model into a cached float32 Hugging Face folder (safetensors + tokenizer).

transformers loads GGUF files by dequantizing them, which is slow; the converted folder loads in a
second and is also what vLLM serves. The conversion runs once per model file (keyed by its sha256,
or size and mtime for an unregistered file), atomically, under a file lock.

    python -m rag.generators.convert smollm2-135m      # prints the folder

A GGUF-loaded model refuses `save_pretrained` ("quantized with gguf and is not serializable") until
its quantizer marker is cleared (`model.hf_quantizer = None`, no `config.quantization_config`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from filelock import FileLock

from rag.config import default_cache_home
from rag.models import ResolvedModel, resolve_model


def converted_dir(spec: ResolvedModel, cache_dir: Path | None = None) -> Path:
    """Where the float32 HF folder of a GGUF model lives (whether or not it exists yet)."""
    root = cache_dir or default_cache_home() / "hf"
    if spec.sha256:
        key = spec.sha256[:16]
    else:
        st = spec.file.stat()
        key = hashlib.sha256(f"{spec.file.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    stem = Path(spec.gguf_file or spec.name).stem.replace(" ", "_")
    return root / f"{stem}-{key}"


def hf_folder_for(name_or_path: str, cache_dir: Path | None = None, models_cache: Path | None = None) -> Path:
    """A Hugging Face folder for a registry name, GGUF file or HF folder (converting GGUF once).

    Raises:
        ModelNotFound: the name or path cannot be resolved (the message says what to install).
    """
    spec = resolve_model(name_or_path, models_cache)
    if spec.kind == "hf":
        return spec.path
    if spec.kind != "gguf":
        from rag.models import ModelNotFound

        raise ModelNotFound(f"{name_or_path!r} is a {spec.kind} model, not a text generator")
    target = converted_dir(spec, cache_dir)
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "config.json").exists():
            _convert(spec, target)
    return target


def _convert(spec: ResolvedModel, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        tok = AutoTokenizer.from_pretrained(str(spec.path), gguf_file=spec.gguf_file)
        model = AutoModelForCausalLM.from_pretrained(str(spec.path), gguf_file=spec.gguf_file, dtype=torch.float32)
        # The dequantized weights are plain float32 tensors; drop the "quantized with gguf" marker so they save.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        (tmp / "ADAPTRAG_SOURCE").write_text(f"{spec.file}\nsha256={spec.sha256}\n")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["smollm2-135m"]:
        print(hf_folder_for(arg))
