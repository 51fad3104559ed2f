"""The DyPRAG parameter translator: a passage representation -> rank-r LoRA deltas for every MLP.

The runtime half of DyPRAG: the model, its file format and where its file lives. The answer path loads it
(rag/inject.py); adapt/dyprag/ trains it (teachers.py, train.py) and calibrates its scale (bench.py).

Input: the frozen base model's final-layer hidden state of the passage's last token
(`rag.generators.hidden_states.passage_embedding`), shape [hidden]. Output: for every layer l and every MLP projection
m in (gate_proj, up_proj, down_proj), A [rank, in_features] and B [out_features, rank]; the model then
computes W x + B (A x) (no alpha/rank scale, as in the DyPRAG reference).

Each (module, layer) pair has its own small MLP: [embedding ; layer index] -> 32 hidden (ReLU) ->
flattened A, and a separate head -> flattened B. The L per-layer MLPs of one module are stored as
stacked tensors ([L, ...]) so the 3 x L MLPs run as three batched einsums instead of 90 tiny matmuls.

Saved as ONE safetensors file plus a JSON manifest beside it (`<stem>.json`):

    save_translator(translator, "translator.safetensors", training={...}, metrics={...})
    translator, manifest = load_translator("translator.safetensors", expect_sha256=base_sha)

A corrupted file, a manifest that does not match the weights, or a translator built for another base
model raises `TranslatorError` naming the file and the mismatch. `translator_path(cfg)` is the file a
configuration uses: inject.translator, else `default_translator_path(model)` where `adaptrag dyprag train`
puts it, else the float16 copy shipped in adapt/dyprag/translators/<model>/ (`adaptrag dyprag ship` writes it).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rag.config import Config, default_data_home

MLP_MODULES = ("gate_proj", "up_proj", "down_proj")
MODULE_PATH = "model.layers.{layer}.mlp.{module}"  # Llama/Qwen2/SmolLM naming in transformers
FORMAT_VERSION = 1


class TranslatorError(ValueError):
    """A translator file is missing, corrupted, or built for another base model; the message says which."""

    user_error = True  # rag.cli prints one line instead of a traceback


@dataclass(frozen=True)
class TranslatorSpec:
    """What a translator is built for: the base model's shape and the LoRA it produces."""

    base_model: str  # registry name or path of the base model
    base_sha256: str  # sha256 of the base model file (rag.models); "" = unknown (then not checked)
    num_layers: int  # decoder layers of the base model
    hidden_size: int  # d_model: the translator's input width and the MLP in/out width
    intermediate_size: int  # MLP width
    rank: int = 2  # LoRA rank (DyPRAG uses 2)
    hidden_dim: int = 32  # width of each per-(module, layer) MLP
    modules: tuple[str, ...] = MLP_MODULES  # projections that receive deltas

    @classmethod
    def from_hf_config(cls, config: Any, base_model: str, base_sha256: str = "", rank: int = 2,
                       hidden_dim: int = 32) -> TranslatorSpec:
        """Read the shape from a transformers config (LlamaConfig, Qwen2Config, ...)."""
        return cls(base_model, base_sha256, int(config.num_hidden_layers), int(config.hidden_size),
                   int(config.intermediate_size), rank, hidden_dim)

    def io(self, module: str) -> tuple[int, int]:
        """(in_features, out_features) of one MLP projection."""
        if module in ("gate_proj", "up_proj"):
            return self.hidden_size, self.intermediate_size
        if module == "down_proj":
            return self.intermediate_size, self.hidden_size
        raise ValueError(f"unknown MLP module {module!r}; known: {', '.join(MLP_MODULES)}")

    def paths(self) -> list[str]:
        return [MODULE_PATH.format(layer=i, module=m) for i in range(self.num_layers) for m in self.modules]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["modules"] = list(self.modules)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TranslatorSpec:
        d = dict(d)
        d["modules"] = tuple(d["modules"])
        return cls(**d)


class ParameterTranslator(nn.Module):
    """embedding [N, hidden] -> {module path: (A [N, r, in], B [N, out, r])}."""

    def __init__(self, spec: TranslatorSpec, seed: int | None = None) -> None:
        super().__init__()
        self.spec = spec
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        L, H, r, d = spec.num_layers, spec.hidden_size, spec.rank, spec.hidden_dim
        self.w1 = nn.ParameterDict()  # per module: [L, H + 1, d]  (embedding ; layer index) -> hidden
        self.b1 = nn.ParameterDict()  # [L, d]
        self.wa = nn.ParameterDict()  # [L, d, r * in]
        self.ba = nn.ParameterDict()  # [L, r * in]
        self.wb = nn.ParameterDict()  # [L, d, out * r]
        self.bb = nn.ParameterDict()  # [L, out * r]
        for m in spec.modules:
            fin, fout = spec.io(m)
            self.w1[m] = nn.Parameter(_uniform((L, H + 1, d), 1 / math.sqrt(H + 1), gen))
            self.b1[m] = nn.Parameter(torch.zeros(L, d))
            # A starts like a PEFT LoRA A (small, random); B starts near zero so a fresh translator is ~ a no-op.
            self.wa[m] = nn.Parameter(_uniform((L, d, r * fin), 1 / math.sqrt(d * fin), gen))
            self.ba[m] = nn.Parameter(_uniform((L, r * fin), 1 / math.sqrt(fin), gen))
            self.wb[m] = nn.Parameter(_uniform((L, d, fout * r), 1e-4, gen))
            self.bb[m] = nn.Parameter(torch.zeros(L, fout * r))
        # layer index input, scaled to [0, 1]
        self.register_buffer("layer_pos", torch.linspace(0.0, 1.0, L).unsqueeze(-1), persistent=False)

    def forward(self, emb: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        if emb.dim() == 1:
            emb = emb.unsqueeze(0)
        if emb.shape[-1] != self.spec.hidden_size:
            raise ValueError(f"translator input has width {emb.shape[-1]}, expected {self.spec.hidden_size}")
        s = self.spec
        N, L, r = emb.shape[0], s.num_layers, s.rank
        # The final hidden state's scale varies by model; normalise it (no learned affine).
        x = nn.functional.layer_norm(emb.float(), (s.hidden_size,))
        x = torch.cat([x.unsqueeze(1).expand(N, L, s.hidden_size), self.layer_pos.expand(N, L, 1)], dim=-1)
        out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        per_module = {}
        for m in s.modules:
            fin, fout = s.io(m)
            h = torch.relu(torch.einsum("nli,lid->nld", x, self.w1[m]) + self.b1[m])  # [N, L, d]
            a = (torch.einsum("nld,ldk->nlk", h, self.wa[m]) + self.ba[m]).view(N, L, r, fin)
            b = (torch.einsum("nld,ldk->nlk", h, self.wb[m]) + self.bb[m]).view(N, L, fout, r)
            per_module[m] = (a, b)
        for layer in range(L):
            for m in s.modules:
                a, b = per_module[m]
                out[MODULE_PATH.format(layer=layer, module=m)] = (a[:, layer], b[:, layer])
        return out

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def _uniform(shape: tuple[int, ...], bound: float, gen: torch.Generator | None) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


# ---------------------------------------------------------------- files


def default_translator_path(model_name: str) -> Path:
    """Where `adaptrag dyprag train` puts a model's translator unless told otherwise."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(model_name).stem if os.sep in model_name else model_name)
    return default_data_home() / "dyprag" / stem / "translator.safetensors"


# Translators that ship with adaptrag (stored in float16), one folder per registry model name.
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "adapt" / "dyprag" / "translators"


def shipped_translator_path(model_name: str) -> Path:
    """Where the translator shipped for a registry model lives (it may not exist)."""
    return SHIPPED_DIR / Path(model_name).name / "translator.safetensors"


def translator_path(cfg: Config) -> Path:
    """The translator file of cfg: inject.translator, else the one `adaptrag dyprag train` built for cfg's model,
    else the one shipped for it; the built one's path when none exists (for the message that says how)."""
    if cfg.inject.translator:
        return Path(cfg.inject.translator).expanduser()
    built = default_translator_path(cfg.model.name)
    shipped = shipped_translator_path(cfg.model.name)
    return shipped if not built.is_file() and shipped.is_file() else built


def user_translator(cfg: Config) -> bool:
    """Whether cfg uses an existing translator the user configured or built, rather than the shipped one or none."""
    path = translator_path(cfg)
    return path.is_file() and path != shipped_translator_path(cfg.model.name)


def manifest_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


@dataclass(frozen=True)
class Manifest:
    """The JSON beside a translator file: what it is for, how it was trained, how well it did."""

    spec: TranslatorSpec
    file_sha256: str  # of the .safetensors file: detects corruption
    training: dict[str, Any] = field(default_factory=dict)  # data sources, counts, seed, commands
    metrics: dict[str, Any] = field(default_factory=dict)  # losses, timings
    format_version: int = FORMAT_VERSION
    # `adaptrag dyprag bench --calibrate`: the injection scale chosen on dev questions, with its evidence
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Factor on the generated B (delta = scale * B A); 1.0, as the DyPRAG reference, until calibrated."""
        return float(self.calibration.get("scale", 1.0))

    def to_json(self) -> dict[str, Any]:
        out = {"format_version": self.format_version, "spec": self.spec.to_json(), "file_sha256": self.file_sha256,
               "training": self.training, "metrics": self.metrics}
        return out | ({"calibration": self.calibration} if self.calibration else {})


def save_translator(translator: ParameterTranslator, path: str | Path, training: dict[str, Any] | None = None,
                    metrics: dict[str, Any] | None = None, dtype: torch.dtype = torch.float32) -> Manifest:
    """Write `path` (.safetensors) and its manifest atomically (temp file + rename). `dtype=torch.float16` halves
    the file (the shipped translators); loading always gives float32 weights."""
    from safetensors.torch import save_file

    from rag.models import file_sha256

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(dtype).contiguous().cpu() for k, v in translator.state_dict().items()}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata={"spec": json.dumps(translator.spec.to_json()),
                                           "format_version": str(FORMAT_VERSION)})
    tmp.replace(path)
    return _write_manifest(path, Manifest(translator.spec, file_sha256(path), training or {}, metrics or {}))


def write_calibration(path: str | Path, calibration: dict[str, Any]) -> Manifest:
    """Store `calibration` (with its "scale") in the manifest of translator file `path`; the weights are untouched."""
    return _write_manifest(path, replace(read_manifest(path), calibration=calibration))


def _write_manifest(path: str | Path, manifest: Manifest) -> Manifest:
    """Write the manifest beside translator file `path` atomically (temp file + rename)."""
    mpath = manifest_path(path)
    tmp = mpath.with_name(f".{mpath.name}.tmp")
    tmp.write_text(json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(mpath)
    return manifest


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of translator file `path`, validated for form (not against the weights)."""
    mpath = manifest_path(path)
    if not mpath.exists():
        raise TranslatorError(f"translator manifest {mpath} is missing (it is written beside {Path(path).name}); "
                              "rebuild with `adaptrag dyprag train`")
    try:
        d = json.loads(mpath.read_text(encoding="utf-8"))
        spec = TranslatorSpec.from_json(d["spec"])
        manifest = Manifest(spec, d["file_sha256"], d.get("training", {}), d.get("metrics", {}),
                            d.get("format_version", FORMAT_VERSION), d.get("calibration", {}))
        if not manifest.scale >= 0:
            raise ValueError(f"calibration scale {manifest.scale} is not a number >= 0")
        return manifest
    except (KeyError, TypeError, ValueError) as e:  # ValueError covers JSONDecodeError and UnicodeDecodeError
        raise TranslatorError(f"translator manifest {mpath} is corrupted ({type(e).__name__}: {e}); "
                              "rebuild with `adaptrag dyprag train`") from None


def load_translator(path: str | Path, expect_sha256: str | None = None, expect_model: str | None = None,
                    expect_shape: tuple[int, int, int] | None = None) -> tuple[ParameterTranslator, Manifest]:
    """Load a translator and check it belongs to the base model in use.

    Args:
        path: the .safetensors file (its manifest `<stem>.json` must be beside it).
        expect_sha256: sha256 of the base model file in use; a different recorded sha256 fails.
        expect_model: name of the base model in use (only reported in messages, and checked when the
            translator or the caller has no sha256).
        expect_shape: (num_layers, hidden_size, intermediate_size) of the model in use.

    Raises:
        TranslatorError: missing/corrupted file or manifest, or a translator for another base model.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from rag.models import file_sha256

    path = Path(path)
    if not path.is_file():
        raise TranslatorError(f"translator file {path} does not exist; build it with "
                              "`adaptrag dyprag build-teachers` then `adaptrag dyprag train`")
    manifest = read_manifest(path)
    spec = manifest.spec
    if expect_sha256 and spec.base_sha256 and expect_sha256 != spec.base_sha256:
        raise TranslatorError(
            f"translator {path} was built for base model {spec.base_model!r} (sha256 {spec.base_sha256[:12]}...), "
            f"but the model in use is {expect_model or '?'!r} (sha256 {expect_sha256[:12]}...); "
            "use a translator trained for this model or train one with `adaptrag dyprag train`")
    if (not expect_sha256 or not spec.base_sha256) and expect_model and expect_model != spec.base_model:
        raise TranslatorError(f"translator {path} was built for base model {spec.base_model!r}, "
                              f"but the model in use is {expect_model!r}")
    if expect_shape and expect_shape != (spec.num_layers, spec.hidden_size, spec.intermediate_size):
        raise TranslatorError(
            f"translator {path} produces deltas for {spec.num_layers} layers, hidden {spec.hidden_size}, "
            f"intermediate {spec.intermediate_size}, but the model in use has layers/hidden/intermediate "
            f"{expect_shape}; it was built for {spec.base_model!r}")
    actual = file_sha256(path)
    if actual != manifest.file_sha256:
        raise TranslatorError(f"translator file {path} is corrupted: its sha256 {actual[:12]}... differs from "
                              f"the manifest's {manifest.file_sha256[:12]}...; rebuild with `adaptrag dyprag train`")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise TranslatorError(f"translator file {path} is corrupted or not a safetensors file: {e}") from None
    translator = ParameterTranslator(spec)
    try:
        translator.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise TranslatorError(f"translator file {path} does not match its manifest {manifest_path(path).name}: "
                              f"{str(e).splitlines()[0]}") from None
    translator.eval()
    return translator, manifest
