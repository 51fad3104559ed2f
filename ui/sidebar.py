"""The sidebar: generator, retrieval mode, DyPRAG, top-k, hybrid weights -> a `Config`.

Defaults come from the configuration the app started with (TOML, ADAPTRAG_* variables);
the widgets override it for this browser session only. Widget keys are stable so tests can
drive them (`at.sidebar.selectbox(key="mode")`).
"""

from __future__ import annotations

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


def render_settings(base: Config) -> Choice:
    """Draw the settings widgets and return the resulting configuration (raises ConfigError)."""
    st.subheader("Generator")
    backend = st.selectbox("Backend", BACKENDS, index=_index_of(BACKENDS, base.model.backend), key="backend",
                           help="hf: the model runs inside the app; openai: an OpenAI-compatible server such as vLLM")
    model = st.text_input("Model", value=base.model.name, key="model",
                          help="a registry name (smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b) or a local path")
    base_url = st.text_input("Server URL", value=base.model.base_url or "", key="base_url",
                             disabled=backend != "openai", placeholder="http://127.0.0.1:8000/v1",
                             help="only for the openai backend")
    st.subheader("Retrieval")
    mode = st.selectbox("Retrieval mode", MODES, index=_index_of(MODES, base.decide.mode), key="mode",
                        help="adaptive: the model decides (P(<RET>)); always: search every time; never: memory only")
    dyprag = st.selectbox("DyPRAG", DYPRAG, index=_index_of(DYPRAG, base.inject.dyprag), key="dyprag",
                          help="passages as per-question weights: inject (weights only) or combine (weights + prompt)")
    top_k = st.number_input("Top-k passages", min_value=1, max_value=20, value=int(base.retrieval.top_k), step=1,
                            key="top_k")
    cols = st.columns(2)
    dense_w = cols[0].number_input("Dense weight", min_value=0.0, max_value=10.0, step=0.1,
                                   value=float(base.retrieval.dense_weight), key="dense_weight")
    bm25_w = cols[1].number_input("BM25 weight", min_value=0.0, max_value=10.0, step=0.1,
                                  value=float(base.retrieval.bm25_weight), key="bm25_weight")
    values = _flatten(base)
    values.update({
        "model.backend": backend, "model.name": model.strip() or base.model.name,
        "model.base_url": (base_url.strip() or None) if backend == "openai" else base.model.base_url,
        "retrieval.top_k": int(top_k),  # mode and dyprag go to each answer() call, not into the cached pipeline
        "retrieval.dense_weight": float(dense_w), "retrieval.bm25_weight": float(bm25_w),
    })
    if backend == "openai" and not values["model.base_url"]:
        raise ConfigError("the openai backend needs a server URL (e.g. http://127.0.0.1:8000/v1)")
    return Choice(cfg=build_config(values), mode=mode, dyprag=dyprag)


def render_index_stats(path_label: str, stats: dict[str, Any] | None, error: str = "") -> None:
    """The index in use and its numbers."""
    st.subheader("Index")
    st.caption(f"`{path_label}`")
    if error:
        st.warning(error)
        return
    if not stats:
        st.info("The index is empty. Upload documents below or run `adaptrag index add PATH`.")
        return
    cols = st.columns(2)
    cols[0].metric("Documents", stats.get("documents", "?"))
    cols[1].metric("Chunks", stats.get("chunks", "?"))
    size = stats.get("bytes_on_disk")
    extra = []
    if isinstance(size, (int, float)):
        extra.append(f"{size / 2**20:.1f} MB on disk")
    if stats.get("embedding_model"):
        extra.append(f"embeddings: {stats['embedding_model']}")
    if extra:
        st.caption(" · ".join(extra))
