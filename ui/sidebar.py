"""The sidebar: generator, retrieval mode, DyPRAG, top-k, hybrid weights -> a `Config`.

Defaults come from the configuration the app started with (TOML, ADAPTRAG_* variables);
the widgets override it for this browser session only. Widget keys are stable so tests can
drive them (`at.sidebar.selectbox(key="mode")`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

from rag.config import Config, ConfigError, build_config

BACKENDS = ("hf", "openai")
MODES = ("adaptive", "always", "never")
DYPRAG = ("off", "inject", "combine")


@dataclass(frozen=True)
class Choice:
    """What the user picked; `cfg` is the base config with the generator/retrieval overrides applied."""

    cfg: Config
    mode: str
    dyprag: str


def _flatten(cfg: Config) -> dict[str, Any]:
    import dataclasses

    out: dict[str, Any] = {}
    for section in dataclasses.fields(cfg):
        for f in dataclasses.fields(getattr(cfg, section.name)):
            out[f"{section.name}.{f.name}"] = getattr(getattr(cfg, section.name), f.name)
    return out


def _index_of(options: tuple[str, ...], value: str) -> int:
    return options.index(value) if value in options else 0


def _default(key: str, **kwargs: Any) -> dict[str, Any]:
    """The widget's default (`index=`/`value=`) unless its value is already in session state (restored from a
    conversation): passing both makes Streamlit warn on the page."""
    return {} if key in st.session_state else kwargs


# Relative speed on a CPU, by parameter count (135M, 0.5B, 1.5B): a guide for choosing, not a benchmark.
SPEED = {"smollm2-135m": "fastest", "qwen2.5-coder-0.5b": "about 4x slower", "qwen2.5-coder-1.5b": "about 10x slower"}
SETTING_KEYS = ("backend", "model", "served_model", "base_url", "mode", "dyprag", "top_k", "dense_weight",
                "bm25_weight")  # widget keys, kept per conversation


@dataclass(frozen=True)
class ModelOption:
    name: str  # registry name or local path
    description: str  # one line: what it is and how fast


def installed_models(configured: str = "") -> list[ModelOption]:
    """Generator models whose packages are installed (checked without importing them), plus the configured one."""
    import importlib.util

    from rag.models import REGISTRY

    out = []
    for m in REGISTRY.values():
        if m.kind != "gguf" or not all(importlib.util.find_spec(pkg) for pkg in m.packages):
            continue
        size = f", {m.size_bytes / 2**30:.1f} GB" if m.size_bytes else ""
        out.append(ModelOption(m.name, f"{m.description}{size} · speed: {SPEED.get(m.name, 'unknown')}"))
    if configured and configured not in {o.name for o in out}:
        out.append(ModelOption(configured, "the configured model (a local path or a model that is not installed)"))
    return out


def validate_model_choice(name: str, options: list[ModelOption]) -> None:
    """Refuse a model that is not one of the installed options (raises ConfigError naming the valid ones)."""
    if name not in {o.name for o in options}:
        raise ConfigError(f"model {name!r} is not installed here; choose one of: "
                          + ", ".join(o.name for o in options))


def render_settings(base: Config) -> Choice:
    """Draw the settings widgets and return the resulting configuration (raises ConfigError)."""
    st.subheader("Generator")
    problem = ""
    backend = st.selectbox("Backend", BACKENDS, **_default("backend", index=_index_of(BACKENDS, base.model.backend)),
                           key="backend",
                           help="hf: the model runs inside the app; openai: an OpenAI-compatible server such as vLLM")
    if backend == "hf":
        options = installed_models(base.model.name)
        names = tuple(o.name for o in options)
        if st.session_state.get("model") not in names:  # e.g. a conversation saved with a model removed since
            bad = st.session_state.pop("model", None)
            if bad:
                st.warning(f"Model {bad!r} is not installed here; using {base.model.name!r}.")
        model = st.selectbox("Model", names, **_default("model", index=_index_of(names, base.model.name)), key="model",
                             help="installed models; install others with the pip line in the README")
        validate_model_choice(model, options)
        st.caption(next(o.description for o in options if o.name == model))
        base_url = ""
    else:
        model = st.text_input("Model (name on the server)",
                              **_default("served_model", value=base.model.name),
                              key="served_model", help="the model name the OpenAI-compatible server serves")
        base_url = st.text_input("Server URL", **_default("base_url", value=base.model.base_url or ""), key="base_url",
                                 placeholder="http://127.0.0.1:8000/v1")
        if base_url.strip() and not re.match(r"https?://[^\s/]+", base_url.strip()):
            problem = f"server URL {base_url.strip()!r} must start with http:// or https://"
    st.subheader("Retrieval")
    mode = st.selectbox("Retrieval mode", MODES, **_default("mode", index=_index_of(MODES, base.decide.mode)),
                        key="mode",
                        help="adaptive: the model decides (P(<RET>)); always: search every time; never: memory only")
    dyprag = st.selectbox("DyPRAG", DYPRAG, **_default("dyprag", index=_index_of(DYPRAG, base.inject.dyprag)),
                          key="dyprag",
                          help="passages as per-question weights: inject (weights only) or combine (weights + prompt)")
    top_k = st.number_input("Top-k passages", min_value=1, max_value=20, step=1,
                            **_default("top_k", value=int(base.retrieval.top_k)), key="top_k")
    cols = st.columns(2)
    dense_w = cols[0].number_input("Dense weight", min_value=0.0, max_value=10.0, step=0.1,
                                   **_default("dense_weight", value=float(base.retrieval.dense_weight)),
                                   key="dense_weight")
    bm25_w = cols[1].number_input("BM25 weight", min_value=0.0, max_value=10.0, step=0.1,
                                  **_default("bm25_weight", value=float(base.retrieval.bm25_weight)),
                                  key="bm25_weight")
    values = _flatten(base)
    values.update({
        "model.backend": backend, "model.name": model.strip() or base.model.name,
        "model.base_url": (base_url.strip() or None) if backend == "openai" else base.model.base_url,
        "retrieval.top_k": int(top_k),  # mode and dyprag go to each answer() call, not into the cached pipeline
        "retrieval.dense_weight": float(dense_w), "retrieval.bm25_weight": float(bm25_w),
    })
    if problem:
        raise ConfigError(problem)
    if backend == "openai" and not values["model.base_url"]:
        raise ConfigError("the openai backend needs a server URL (e.g. http://127.0.0.1:8000/v1)")
    return Choice(cfg=build_config(values), mode=mode, dyprag=dyprag)


def render_index_stats(path_label: str, stats: dict[str, Any] | None, error: str = "", files: int | None = None) -> None:
    """The index in use and its numbers. `files`: how many files the Documents panel lists; the count shown, so
    both say the same (a JSONL file is one file of many documents, one per line)."""
    st.subheader("Index")
    st.caption(f"`{path_label}`")
    if error:
        st.warning(error)
        return
    if not stats:
        st.info("The index is empty. Upload documents below or run `adaptrag index add PATH`.")
        return
    cols = st.columns(2)
    entries = stats.get("documents", "?")
    shown = entries if files is None else files
    cols[0].metric("Documents", shown, help=None if shown == entries else
                   f"{files} files holding {entries} documents (a JSONL file holds one per line)")
    cols[1].metric("Chunks", stats.get("chunks", "?"))
    size = stats.get("bytes_on_disk")
    extra = []
    if isinstance(size, (int, float)):
        extra.append(f"{size / 2**20:.1f} MB on disk")
    if stats.get("embedding_model"):
        extra.append(f"embeddings: {stats['embedding_model']}")
    if extra:
        st.caption(" · ".join(extra))
