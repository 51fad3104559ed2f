"""Shared fixtures: real models loaded once per test session.

Subfolders add their own conftest.py for stage-specific fixtures.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests never depend on a DyPRAG translator built on this machine (~/.local/share/adaptrag/dyprag): index add
# stores translator inputs only where a test asks for it (tests/indexing/test_translator_inputs.py).
os.environ.setdefault("ADAPTRAG_INJECT_INDEX_INPUTS", "off")
# The product uses every core (model.threads = 0); the test CPU is shared with other jobs, where a second
# torch thread spins and waits (2.6x slower measured at load 4-5), so configs read from the environment
# (and the app and CLI the tests start) use one.
os.environ.setdefault("ADAPTRAG_MODEL_THREADS", "1")

TEST_MODEL = "smollm2-135m"


@pytest.fixture(scope="session")
def embedder():
    from indexing.embed import Embedder

    return Embedder.shared("minilm-l6")


@pytest.fixture(scope="session")
def hf_generator():
    """The real test model (SmolLM2-135M) in-process; shared, so tests must not mutate it."""
    from rag.config import ModelConfig
    from rag.generators import make_generator

    # 1 thread: the test CPU is shared and oversubscribed, where a second thread spins and waits (issue 16)
    return make_generator(ModelConfig(name=TEST_MODEL, backend="hf", threads=1))


@pytest.fixture(scope="session")
def hf_generator_f32():
    """The test model in float32: for exactness checks (batch rows equal single requests, hf equals vLLM, which
    is float32 only). bfloat16, the default, rounds differently per batch shape."""
    from rag.config import ModelConfig
    from rag.generators import make_generator

    return make_generator(ModelConfig(name=TEST_MODEL, backend="hf", threads=1, dtype="float32"))


@pytest.fixture(scope="session")
def base():
    """(model, tokenizer) of the test model as a plain transformers model (gradients off); tests must not change it."""
    import torch

    from rag.generators.hidden_states import load_base_model

    torch.set_num_threads(1)  # the CPU is shared and oversubscribed: more threads spin and wait
    return load_base_model(TEST_MODEL)


@pytest.fixture(scope="session")
def spec(base):
    """The DyPRAG translator shape of the test model."""
    from rag.generators.hidden_states import base_model_sha256
    from rag.translator import TranslatorSpec

    return TranslatorSpec.from_hf_config(base[0].config, TEST_MODEL, base_model_sha256(TEST_MODEL))
