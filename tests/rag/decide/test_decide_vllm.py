"""The <RET> router served by vLLM as a LoRA module (openai backend) decides like the hf backend."""

from __future__ import annotations

import pytest

from rag.config import Config, DecideConfig, ModelConfig
from rag.decide import ADAPTERS_DIR, Decider
from rag.prompts import RET_TOKEN
from tests.integration.conftest import openai_generator, vllm_server  # noqa: F401  (session fixtures)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (ADAPTERS_DIR / "smollm2-135m" / "adapter_config.json").exists(), reason="no router"),
]
OBSCURE = "In what city was Aarno Maliniemi born?"
WELL_KNOWN = "What is the capital of France?"


def _cfg(threshold: float | None = None) -> Config:
    return Config(model=ModelConfig(name="smollm2-135m"), decide=DecideConfig(threshold=threshold))


def test_ret_path_and_direct_answer_through_vllm_match_hf(openai_generator, hf_generator):  # noqa: F811
    served, local = Decider(openai_generator, _cfg()), Decider(hf_generator, _cfg())
    for question in (OBSCURE, WELL_KNOWN):
        a, b = served.decide(question, "adaptive"), local.decide(question, "adaptive")
        assert a.mode == "adaptive" and "router" in a.reason  # the LoRA module loaded: no fallback
        assert a.ret_probability == pytest.approx(b.ret_probability, abs=0.03)
        assert a.retrieve == b.retrieve or abs(a.ret_probability - served.threshold) < 0.03
    ret = served.decide(OBSCURE, "adaptive")
    assert ret.retrieve and ret.ret_probability >= served.threshold
    direct = Decider(openai_generator, _cfg(threshold=1.01)).decide(OBSCURE, "adaptive")
    assert not direct.retrieve and direct.closed_book is not None
    assert direct.closed_book.text.strip() and RET_TOKEN not in direct.closed_book.text
