"""The shared generator test suite: every backend subclasses `GeneratorSuite` and provides a
`generator` fixture (the real test model, SmolLM2-135M, served by that backend).

    class TestHF(GeneratorSuite):
        @pytest.fixture
        def generator(self, hf_generator): return hf_generator

Backends must agree on the same prompt; `tests/integration/test_vllm_backend.py` also compares
the vLLM outputs with the hf ones.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.generators import ChatMessage, GenerationRequest, GeneratorError, LoraDeltas

QUESTION = "What is the capital of France?"


def test_model_folder() -> Path:
    from rag.generators.convert import hf_folder_for

    return hf_folder_for("smollm2-135m")


test_model_folder.__test__ = False  # a helper, not a test


def random_deltas(seed: int, rank: int = 4, layers: tuple[int, ...] = (2, 5, 9), scale: float = 0.05) -> LoraDeltas:
    """Random low-rank deltas on a few down_proj modules of the test model (strong enough to shift logits)."""
    import torch

    cfg = json.loads((test_model_folder() / "config.json").read_text())
    g = torch.Generator().manual_seed(seed)
    inner, hidden = cfg["intermediate_size"], cfg["hidden_size"]
    weights = {
        f"model.layers.{i}.mlp.down_proj": (
            torch.randn(rank, inner, generator=g) * scale, torch.randn(hidden, rank, generator=g) * scale
        )
        for i in layers
    }
    return LoraDeltas(weights, rank=rank, name=f"test{seed}")


def make_adapter(folder: Path, seed: int) -> Path:
    """A PEFT LoRA adapter folder with random weights (as a trained router would be saved)."""
    from rag.generators.peft_export import export_peft

    export_peft(random_deltas(seed, scale=0.08), folder, str(test_model_folder()))
    return folder


@pytest.fixture(scope="session")
def adapter_dir(tmp_path_factory) -> Path:
    return make_adapter(tmp_path_factory.mktemp("lora") / "test-adapter", seed=7)


class GeneratorSuite:
    """Behaviour every `Generator` backend must have. Subclasses define the `generator` fixture."""

    @pytest.fixture
    def prompt(self, generator) -> str:
        return generator.render_chat([ChatMessage("user", QUESTION)])

    def test_render_chat_uses_the_models_template(self, generator):
        from transformers import AutoTokenizer

        messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi there")]
        tok = AutoTokenizer.from_pretrained(str(test_model_folder()))
        expected = tok.apply_chat_template(
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}],
            tokenize=False, add_generation_prompt=True,
        )
        assert generator.render_chat(messages) == expected
        assert expected.endswith("<|im_start|>assistant\n")  # SmolLM2's ChatML: the assistant turn is open

    def test_count_tokens(self, generator, prompt):
        assert generator.count_tokens("") == 0
        assert 0 < generator.count_tokens("Paris") < generator.count_tokens("Paris is the capital of France.")
        assert generator.generate(GenerationRequest(prompt, max_new_tokens=1)).prompt_tokens == generator.count_tokens(prompt)

    def test_greedy_is_deterministic_and_answers(self, generator, prompt):
        a = generator.generate(GenerationRequest(prompt, max_new_tokens=16))
        b = generator.generate(GenerationRequest(prompt, max_new_tokens=16))
        assert a.text == b.text and a.tokens == b.tokens
        assert "Paris" in a.text
        assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-5)
        assert len(a.tokens) == len(a.token_logprobs) > 0
        assert a.timings_ms["total"] >= a.timings_ms["first_token"] > 0

    def test_max_new_tokens_and_finish_reason(self, generator, prompt):
        g = generator.generate(GenerationRequest(prompt, max_new_tokens=3))
        assert len(g.tokens) == 3 and g.finish_reason == "length"
        full = generator.generate(GenerationRequest(prompt, max_new_tokens=40))
        assert full.finish_reason == "stop" and full.text.startswith(g.text)  # ended at the end-of-turn token

    def test_stop_string_is_cut_and_excluded(self, generator, prompt):
        full = generator.generate(GenerationRequest(prompt, max_new_tokens=16))
        assert " France" in full.text
        g = generator.generate(GenerationRequest(prompt, max_new_tokens=16, stop=(" France", "zzz")))
        assert g.text == full.text[: full.text.index(" France")]
        assert g.finish_reason == "stop"
        assert "".join(g.tokens) == g.text  # tokens inside the stop string are dropped
        assert len(g.token_logprobs) == len(g.tokens)

    def test_first_clause_stops_once_the_next_has_begun(self, generator):
        from rag.answer_match import first_clause

        prompt = generator.render_chat([ChatMessage("user", "Who leads Project Velstead?")])
        full = generator.generate(GenerationRequest(prompt, max_new_tokens=48))
        clause = first_clause(full.text)
        assert len(clause) < len(full.text) - 20, full.text  # the model runs on after its first clause
        cut = generator.generate(GenerationRequest(prompt, max_new_tokens=48, first_clause=True))
        assert cut.finish_reason == "clause" and full.text.startswith(cut.text)
        assert first_clause(cut.text) == clause and len(cut.text) < len(clause) + 12  # a word of the next, at most
        assert len(cut.tokens) == len(cut.token_logprobs) < len(full.tokens)
        short = generator.generate(GenerationRequest(generator.render_chat([ChatMessage("user", QUESTION)]),
                                                     max_new_tokens=48, first_clause=True))
        assert short.finish_reason == "stop" and "Paris" in short.text  # one clause: it ends as it would have

    def test_top_logprobs_shape_and_normalisation(self, generator, prompt):
        g = generator.generate(GenerationRequest(prompt, max_new_tokens=8, top_logprobs=5))
        assert len(g.top_logprobs) == len(g.tokens) == len(g.token_logprobs)
        for tok, lp, top in zip(g.tokens, g.token_logprobs, g.top_logprobs):
            assert 1 <= len(top) <= 5
            assert all(v <= 1e-6 for v in top.values())
            assert sum(math.exp(v) for v in top.values()) <= 1 + 1e-4
            assert top[tok] == pytest.approx(lp, abs=1e-5)  # greedy: the chosen token is the top one
            assert lp == pytest.approx(max(top.values()), abs=1e-5)
        assert g.top_logprobs[0]["The"] == pytest.approx(-1.8827, abs=2e-3)  # SmolLM2-135M Q4_1, float32

    def test_no_top_logprobs_unless_asked(self, generator, prompt):
        g = generator.generate(GenerationRequest(prompt, max_new_tokens=4))
        assert g.top_logprobs == () and len(g.token_logprobs) == 4

    def test_first_token_logprobs_match_the_generation(self, generator, prompt):
        top = generator.generate(GenerationRequest(prompt, max_new_tokens=1, top_logprobs=5)).top_logprobs[0]
        got = generator.first_token_logprobs(prompt, ["The", "<RET>"])
        assert got["The"] == pytest.approx(top["The"], abs=1e-4)
        assert got["<RET>"] < -5  # "<" is unlikely here, and is reported even though it is not in the top 5

    def test_suppress_bans_the_first_token_everywhere(self, generator, prompt):
        base = generator.generate(GenerationRequest(prompt, max_new_tokens=12, top_logprobs=3))
        first = base.tokens[0]
        g = generator.generate(GenerationRequest(prompt, max_new_tokens=12, top_logprobs=3, suppress=(first,)))
        assert first not in g.tokens
        assert g.tokens[0] != first
        assert g.top_logprobs[0][first] == pytest.approx(base.top_logprobs[0][first], abs=1e-4)  # raw log-probs

    def test_stream_equals_generate(self, generator, prompt):
        request = GenerationRequest(prompt, max_new_tokens=16, stop=(" France",), top_logprobs=2)
        events = list(generator.stream(request))
        final = events[-1].generation
        assert final is not None and all(e.generation is None for e in events[:-1])
        assert "".join(e.text for e in events) == final.text
        assert len(events) >= 3  # pieces arrive as they are generated
        g = generator.generate(request)
        assert g.text == final.text and g.tokens == final.tokens

    def test_batch_equals_single_requests(self, generator, prompt):
        """Prompts of different lengths (left padding), each with its own stop, suppress, top-n and length."""
        passage = "The Eiffel Tower was built for the 1889 World's Fair and stands on the Champ de Mars. " * 6
        requests = [
            GenerationRequest(prompt, max_new_tokens=16, stop=(" France",), top_logprobs=2),
            GenerationRequest(generator.render_chat([ChatMessage("user", f"{passage}\nWhere is the Eiffel Tower?")]),
                              max_new_tokens=20, top_logprobs=3),
            GenerationRequest(generator.render_chat([ChatMessage("user", "Hi")]), max_new_tokens=6, suppress=("Hello",)),
            GenerationRequest(generator.render_chat([ChatMessage("user", "Who wrote Romeo and Juliet?")]), max_new_tokens=24),
        ]
        assert len({generator.count_tokens(r.prompt) for r in requests}) == 4
        single = [generator.generate(r) for r in requests]
        batch = generator.generate_batch(requests)
        assert len(batch) == len(requests)
        for s, b in zip(single, batch):
            assert b.text == s.text and b.tokens == s.tokens
            assert (b.finish_reason, b.prompt_tokens) == (s.finish_reason, s.prompt_tokens)
            assert b.token_logprobs == pytest.approx(s.token_logprobs, abs=1e-3)
            assert [set(t) for t in b.top_logprobs] == [set(t) for t in s.top_logprobs]
            assert b.timings_ms["total"] >= b.timings_ms["first_token"] > 0 and "decode" in b.timings_ms
        assert single[0].finish_reason == "stop" and single[3].finish_reason == "length"  # the rows end differently
        assert not batch[2].text.startswith("Hello")
        assert generator.generate_batch([]) == []

    def test_unknown_adapter_is_a_clear_error(self, generator, prompt):
        with pytest.raises(GeneratorError, match="unknown adapter 'nope'"):
            generator.generate(GenerationRequest(prompt, adapter="nope"))

    def test_adapter_changes_only_its_requests(self, generator, prompt, adapter_dir):
        before = generator.generate(GenerationRequest(prompt, max_new_tokens=6, top_logprobs=3))
        generator.load_adapter("suite-adapter", str(adapter_dir))
        assert "suite-adapter" in generator.info.adapters
        tuned = generator.generate(GenerationRequest(prompt, max_new_tokens=6, top_logprobs=3, adapter="suite-adapter"))
        after = generator.generate(GenerationRequest(prompt, max_new_tokens=6, top_logprobs=3))
        assert tuned.top_logprobs[0]["The"] != pytest.approx(before.top_logprobs[0]["The"], abs=1e-3)
        assert after.tokens == before.tokens
        assert after.token_logprobs == pytest.approx(before.token_logprobs, abs=1e-5)

    def test_deltas_apply_to_one_request_only(self, generator, prompt):
        deltas = random_deltas(seed=3)
        before = generator.generate(GenerationRequest(prompt, max_new_tokens=6, top_logprobs=3))
        shifted = generator.generate(GenerationRequest(prompt, max_new_tokens=6, top_logprobs=3, deltas=deltas))
        after = generator.generate(GenerationRequest(prompt, max_new_tokens=6, top_logprobs=3))
        assert abs(shifted.top_logprobs[0]["The"] - before.top_logprobs[0]["The"]) > 0.02
        assert after.token_logprobs == pytest.approx(before.token_logprobs, abs=1e-5)
        assert generator.info.adapters == tuple(a for a in generator.info.adapters if not a.startswith("test3"))

    def test_prompt_longer_than_the_window_is_a_clear_error(self, generator):
        window = generator.info.context_window
        long_prompt = generator.render_chat([ChatMessage("user", "word " * (window + 100))])
        with pytest.raises(GeneratorError, match="context window"):
            generator.generate(GenerationRequest(long_prompt))

    @pytest.mark.slow  # an ~8k-token prefill
    def test_new_tokens_are_clamped_to_the_window(self, generator):
        window = generator.info.context_window
        text = "word " * (window - 60)
        prompt = generator.render_chat([ChatMessage("user", text)])
        n = generator.count_tokens(prompt)
        assert window - 40 > n > window - 80, n
        g = generator.generate(GenerationRequest(prompt, max_new_tokens=window))
        assert len(g.tokens) <= window - n
