"""The real test model as a plain transformers model (gradients off), loaded once per session."""

from __future__ import annotations

import pytest

TEST_MODEL = "smollm2-135m"  # as in tests/conftest.py


@pytest.fixture(scope="session")
def base():
    """(model, tokenizer) of the test model; tests must not change its weights."""
    import torch

    from rag.inject import load_base_model

    torch.set_num_threads(1)  # the CPU is shared and oversubscribed: more threads spin and wait

    return load_base_model(TEST_MODEL)


@pytest.fixture(scope="session")
def spec(base):
    from adapt.dyprag.translator import TranslatorSpec
    from rag.inject import base_model_sha256

    return TranslatorSpec.from_hf_config(base[0].config, TEST_MODEL, base_model_sha256(TEST_MODEL))
