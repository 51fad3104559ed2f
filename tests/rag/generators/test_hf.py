"""The in-process transformers backend against the shared suite, plus what only it can show:
bit-identical logits after per-request deltas, thread safety, and load-time errors."""

from __future__ import annotations

import threading

import pytest

from rag.config import ConfigError, ModelConfig
from rag.generators import ChatMessage, GenerationRequest, GeneratorError, LoraDeltas, make_generator
from rag.generators.hf import HFGenerator
from tests.rag.generators.suite import QUESTION, GeneratorSuite, adapter_dir, random_deltas  # noqa: F401

TEST_MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def own_hf():
    """A private instance: the suite loads adapters, which the shared `hf_generator` must not see. float32: the
    suite checks exactness (a batch row equals its single request), which bfloat16 rounding does not keep."""
    return HFGenerator(ModelConfig(name=TEST_MODEL, threads=1, dtype="float32"))  # 1: the test CPU is shared


class TestHF(GeneratorSuite):
    @pytest.fixture
    def generator(self, own_hf):
        return own_hf


def test_make_generator_builds_hf(hf_generator):
    assert isinstance(hf_generator, HFGenerator)
    assert hf_generator.info.backend == "hf" and hf_generator.info.context_window == 8192


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="valid: hf, openai"):
        make_generator(ModelConfig(name=TEST_MODEL, backend="llamacpp"))  # type: ignore[arg-type]


def test_unknown_model_lists_the_registry():
    from rag.models import ModelNotFound

    with pytest.raises(ModelNotFound, match="smollm2-135m"):
        make_generator(ModelConfig(name="gpt-17"))


def test_deltas_leave_the_model_bit_identical(own_hf):
    import torch

    prompt = own_hf.render_chat([ChatMessage("user", QUESTION)])
    before = own_hf.next_token_logits(prompt)
    shifted = own_hf.next_token_logits(prompt, deltas=random_deltas(seed=11))
    own_hf.generate(GenerationRequest(prompt, max_new_tokens=3, deltas=random_deltas(seed=12)))
    after = own_hf.next_token_logits(prompt)
    assert not torch.equal(before, shifted)
    assert torch.equal(before, after)
    assert not any(m._forward_hooks for m in own_hf.model.modules())


def test_zero_deltas_are_the_identity(own_hf):
    import torch

    prompt = own_hf.render_chat([ChatMessage("user", QUESTION)])
    zero = LoraDeltas({"model.layers.0.mlp.down_proj": (torch.zeros(2, 1536), torch.zeros(576, 2))}, rank=2)
    assert torch.equal(own_hf.next_token_logits(prompt), own_hf.next_token_logits(prompt, deltas=zero))


def test_bad_deltas_are_clear_errors_and_leave_no_hooks(own_hf):
    import torch

    prompt = own_hf.render_chat([ChatMessage("user", QUESTION)])
    good = ("model.layers.0.mlp.down_proj", (torch.zeros(2, 1536), torch.zeros(576, 2)))
    missing = LoraDeltas(dict([good, ("model.layers.99.mlp.down_proj", (torch.zeros(2, 1536), torch.zeros(576, 2)))]), rank=2)
    with pytest.raises(GeneratorError, match="does not have"):
        own_hf.generate(GenerationRequest(prompt, deltas=missing))
    wrong = LoraDeltas({"model.layers.0.mlp.down_proj": (torch.zeros(2, 576), torch.zeros(576, 2))}, rank=2)
    with pytest.raises(GeneratorError, match=r"expected \(2, 1536\)"):
        own_hf.generate(GenerationRequest(prompt, deltas=wrong))
    assert not any(m._forward_hooks for m in own_hf.model.modules())


def test_load_adapter_rejects_a_folder_that_is_not_one(own_hf, tmp_path):
    with pytest.raises(GeneratorError, match="not a PEFT adapter folder"):
        own_hf.load_adapter("x", str(tmp_path))


def test_concurrent_requests_match_serial_ones(own_hf, adapter_dir):  # noqa: F811
    """The app shares one generator between sessions: mixed base/adapter/delta requests from threads."""
    own_hf.load_adapter("threads", str(adapter_dir))
    prompt = own_hf.render_chat([ChatMessage("user", QUESTION)])
    requests = [
        GenerationRequest(prompt, max_new_tokens=5, top_logprobs=2),
        GenerationRequest(prompt, max_new_tokens=5, top_logprobs=2, adapter="threads"),
        GenerationRequest(prompt, max_new_tokens=5, top_logprobs=2, deltas=random_deltas(seed=5)),
    ] * 2
    serial = [own_hf.generate(r) for r in requests]
    results: list = [None] * len(requests)

    def run(i: int) -> None:
        results[i] = own_hf.generate(requests[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s, r in zip(serial, results):
        assert r.tokens == s.tokens and r.token_logprobs == pytest.approx(s.token_logprobs, abs=1e-6)


def test_batch_mixes_adapters_and_deltas_in_request_order(own_hf, adapter_dir):  # noqa: F811
    """Rows are batched per adapter and rows with deltas run alone; each still equals its single request."""
    own_hf.load_adapter("batch", str(adapter_dir))
    prompts = [own_hf.render_chat([ChatMessage("user", q)]) for q in (QUESTION, "Who wrote Romeo and Juliet?")]
    requests = [
        GenerationRequest(prompts[0], max_new_tokens=5, top_logprobs=2, adapter="batch"),
        GenerationRequest(prompts[1], max_new_tokens=5, top_logprobs=2),
        GenerationRequest(prompts[0], max_new_tokens=5, top_logprobs=2, deltas=random_deltas(seed=5)),
        GenerationRequest(prompts[1], max_new_tokens=5, top_logprobs=2, adapter="batch"),
        GenerationRequest(prompts[0], max_new_tokens=5, top_logprobs=2),
    ]
    single = [own_hf.generate(r) for r in requests]
    assert single[0].token_logprobs[0] != pytest.approx(single[4].token_logprobs[0], abs=1e-3)  # the adapter matters
    for s, b in zip(single, own_hf.generate_batch(requests)):
        assert b.tokens == s.tokens and b.token_logprobs == pytest.approx(s.token_logprobs, abs=1e-4)


def test_threads_follow_the_machine_unless_configured():
    import torch

    from rag.generators.hf import available_cores

    try:
        HFGenerator(ModelConfig(name=TEST_MODEL))
        assert torch.get_num_threads() == available_cores() >= 1
        HFGenerator(ModelConfig(name=TEST_MODEL, threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(1)  # the rest of the session runs on one thread (tests/conftest.py)


def test_negative_threads_are_a_config_error():
    with pytest.raises(ConfigError, match="model.threads"):
        ModelConfig(threads=-1)


def test_abandoned_stream_releases_the_model(own_hf):
    prompt = own_hf.render_chat([ChatMessage("user", QUESTION)])
    stream = own_hf.stream(GenerationRequest(prompt, max_new_tokens=10))
    next(stream)
    stream.close()
    done = []
    t = threading.Thread(target=lambda: done.append(own_hf.generate(GenerationRequest(prompt, max_new_tokens=2))))
    t.start()
    t.join(timeout=60)
    assert done, "the lock was not released by the closed stream"


@pytest.mark.slow
def test_bfloat16_answers_like_float32(own_hf):
    bf16 = HFGenerator(ModelConfig(name=TEST_MODEL, dtype="bfloat16"))
    prompt = own_hf.render_chat([ChatMessage("user", QUESTION)])
    a = own_hf.generate(GenerationRequest(prompt, max_new_tokens=8, top_logprobs=1))
    b = bf16.generate(GenerationRequest(prompt, max_new_tokens=8, top_logprobs=1))
    assert "Paris" in b.text
    assert b.token_logprobs[0] == pytest.approx(a.token_logprobs[0], abs=0.2)


def test_gguf_is_converted_once_into_a_float32_folder():
    import json

    from rag.generators.convert import converted_dir, hf_folder_for
    from rag.models import resolve_model

    folder = hf_folder_for(TEST_MODEL)
    assert folder == converted_dir(resolve_model(TEST_MODEL)) == hf_folder_for(TEST_MODEL)
    config = json.loads((folder / "config.json").read_text())
    assert config["dtype"] == "float32" and "quantization_config" not in config
    assert (folder / "model.safetensors").stat().st_size > 500e6  # 135M float32 parameters
    assert (folder / "chat_template.jinja").exists() or "chat_template" in (folder / "tokenizer_config.json").read_text()


def test_a_kept_prefix_changes_no_output_and_is_dropped_with_its_adapter(own_hf, adapter_dir):  # noqa: F811
    """The router's fixed template is computed once (rag/decide.py): requests starting with it read only the rest
    and generate what they would have; a request with deltas, or under another adapter, does not use it."""
    from rag import prompts
    from rag.decide import router_prefix

    own_hf.load_adapter("prefixed", str(adapter_dir))
    questions = ["Who wrote Dracula?", "In what city was Ryūzaburō Ōtomo born?"]
    requests = [GenerationRequest(own_hf.render_chat(prompts.closed_book(q, router=True)), max_new_tokens=4,
                                  top_logprobs=3, adapter=adapter) for q in questions for adapter in ("prefixed", None)]
    requests.append(GenerationRequest(requests[0].prompt, max_new_tokens=4, top_logprobs=3, adapter="prefixed",
                                      deltas=random_deltas(seed=5)))
    plain = [own_hf.generate(r) for r in requests]
    own_hf.keep_prefix(router_prefix(own_hf), "prefixed")
    assert len(own_hf._prefixes["prefixed"][0]) > 30  # the template, without the question
    kept = [own_hf.generate(r) for r in requests]
    for p, k in zip(plain, kept):
        assert k.tokens == p.tokens and k.token_logprobs == pytest.approx(p.token_logprobs, abs=1e-5)
        assert k.prompt_tokens == p.prompt_tokens
    own_hf.load_adapter("prefixed", str(adapter_dir))  # new weights under the same name: the old cache is wrong
    assert "prefixed" not in own_hf._prefixes
