"""Heavy resources shared by every browser session of one app process.

- the generator-side pipeline (model, router, conflict checker, attributor): built once per
  generator settings with `st.cache_resource`, so changing backend/model/URL rebuilds it and
  changing them back reuses the cached one;
- a light per-retrieval-settings `Pipeline` sharing those heavy parts (its retriever re-reads
  the index after every commit, so uploads are searchable without reloading anything);
- one lock per model: in-process generation (and DyPRAG's temporary weight deltas) must not
  interleave between sessions, so answers take turns.

Test hook: set `PIPELINE_FACTORY` (a callable cfg -> pipeline) before running the app
(`AppTest` runs the script in-process), or `RAGAPP_PIPELINE=module:function` for a
separate `streamlit run` process. Neither is set in normal use.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from rag.config import Config

PIPELINE_FACTORY: Callable[[Config], Any] | None = None

_variants_lock = threading.Lock()
_variants: dict[str, Any] = {}  # repr(cfg) -> pipeline; a few entries only


def generator_key(cfg: Config) -> str:
    """What the heavy, cached part depends on: everything except retrieval settings and where the index is."""
    return repr(replace(cfg, retrieval=type(cfg.retrieval)(), index=replace(cfg.index, path="", qdrant_url=None)))


def _factory() -> Callable[[Config], Any] | None:
    if PIPELINE_FACTORY is not None:
        return PIPELINE_FACTORY
    spec = os.environ.get("RAGAPP_PIPELINE", "")
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)
    return None


@st.cache_resource(max_entries=2, show_spinner=False)
def _heavy_pipeline(key: str, _cfg: Config) -> Any:
    from rag.pipeline import Pipeline

    return Pipeline.from_config(_cfg)


@st.cache_resource(show_spinner=False)
def model_lock(key: str) -> threading.Lock:
    """One lock per generator configuration, shared by all sessions."""
    return threading.Lock()


def get_pipeline(cfg: Config) -> Any:
    """The pipeline for `cfg`, sharing the model with other sessions and settings."""
    factory = _factory()
    key = repr(cfg)
    with _variants_lock:
        if key in _variants:
            return _variants[key]
    if factory is not None:
        pipeline = factory(cfg)
    else:
        from rag.pipeline import Pipeline

        heavy = _heavy_pipeline(generator_key(cfg), cfg)
        pipeline = heavy if heavy.cfg == cfg else _light(Pipeline, cfg, heavy)
    with _variants_lock:
        while len(_variants) >= 4:
            _variants.pop(next(iter(_variants)))
        _variants[key] = pipeline
    return pipeline


def _light(pipeline_cls: type, cfg: Config, heavy: Any) -> Any:
    return pipeline_cls(cfg, heavy.generator, decider=heavy.decider, conflict=heavy.conflict,
                        attributor=heavy.attributor)


def forget_pipelines() -> None:
    """Drop the per-settings pipelines (tests; the heavy parts stay in st.cache_resource)."""
    with _variants_lock:
        _variants.clear()


def data_folder(cfg: Config) -> Path:
    """The app's own data (conversations, uploads): $RAGAPP_DATA, else `<index>-app` beside the index folder."""
    value = os.environ.get("RAGAPP_DATA", "")
    if value:
        return Path(value).expanduser()
    index = cfg.index_path()
    return index.parent / f"{index.name}-app"


def upload_folder(cfg: Config) -> Path:
    """Where uploaded files are kept: the data folder's `uploads/`, shared by its sessions under unique names."""
    return data_folder(cfg) / "uploads"


@st.cache_resource(show_spinner=False)
def conversation_store(folder: str):
    """One `ConversationStore` per data folder and process (it opens short connections per call)."""
    from ui.conversations import ConversationStore

    return ConversationStore(Path(folder) / "conversations.sqlite")


@st.cache_resource(show_spinner=False)
def upload_names(folder: str):
    from ui.uploads import UploadNames

    return UploadNames(Path(folder) / "uploads.sqlite")


def open_index(cfg: Config, readonly: bool = False) -> Any:
    from indexing.index import Index

    return Index.open(cfg, readonly=readonly)


def close_quietly(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # closing is best effort
            logging.getLogger(__name__).debug("closing %r failed", obj, exc_info=True)


def index_stats(cfg: Config) -> dict[str, Any]:
    """Stats of the index in use (documents, chunks, bytes_on_disk, embedding_model); {} if there is none."""
    return index_snapshot(cfg)[0]


def index_snapshot(cfg: Config) -> tuple[dict[str, Any], list[Any]]:
    """(stats, documents) of the index in use, read in one open; ({}, []) if there is no index yet."""
    if not cfg.index.qdrant_url and not cfg.index_path().exists():
        return {}, []
    index = open_index(cfg, readonly=True)
    try:
        return dict(index.stats()), list(index.documents())
    finally:
        close_quietly(index)
