"""Decider: never / always / adaptive with the shipped <RET> router on the real test model (hf backend)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from rag.config import Config, ConfigError, DecideConfig, ModelConfig
from rag.decide import ADAPTERS_DIR, Decider, find_router, ret_probability
from rag.prompts import RET_TOKEN
from rag.types import Passage

SHIPPED = ADAPTERS_DIR / "smollm2-135m"
OBSCURE = "In what city was Aarno Maliniemi born?"
WELL_KNOWN = "What is the capital of France?"
needs_router = pytest.mark.skipif(not (SHIPPED / "adapter_config.json").exists(), reason="no shipped router")


class NoCalls:
    """A generator neighbour that fails the test if the Decider calls it."""

    info = None

    def __getattr__(self, name):
        raise AssertionError(f"the decider called generator.{name} but should not have")


def cfg_with(threshold: float | None = None, name: str = "smollm2-135m") -> Config:
    return Config(model=ModelConfig(name=name), decide=DecideConfig(mode="adaptive", threshold=threshold))


def test_ret_probability_counts_tokens_that_begin_ret():
    top = {"<": math.log(0.5), "<R": math.log(0.1), " <": math.log(0.05), "Paris": math.log(0.3), " ": math.log(0.05)}
    assert ret_probability(top) == pytest.approx(0.65)
    assert ret_probability({"Paris": 0.0}) == 0.0


def test_no_router_falls_back_to_always_with_a_warning():
    decision = Decider(NoCalls(), cfg_with(name="model-without-router")).decide("Who wrote Dracula?", "adaptive")
    assert decision.retrieve and decision.mode == "always" and decision.ret_probability is None
    assert "no router adapter for model-without-router" in decision.reason
    assert "adaptrag adapt train" in decision.reason


def test_always_makes_no_model_call_and_bad_router_path_is_a_config_error(tmp_path):
    decision = Decider(NoCalls(), cfg_with()).decide("Who wrote Dracula?", "always")
    assert decision.retrieve and decision.mode == "always" and decision.closed_book is None
    bad = dataclasses.replace(cfg_with(), model=ModelConfig(router_adapter=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="model.router_adapter"):
        Decider(NoCalls(), bad)
    with pytest.raises(ConfigError, match="invalid decide mode"):
        Decider(NoCalls(), cfg_with()).decide("q", "sometimes")


@needs_router
def test_shipped_router_is_found_with_a_calibrated_threshold():
    assert find_router(cfg_with()) == SHIPPED
    decider = Decider(NoCalls(), cfg_with())
    assert 0.0 < decider.threshold < 1.0 and decider.threshold == decider.card["threshold"]
    assert Decider(NoCalls(), cfg_with(threshold=0.3)).threshold == 0.3  # the config overrides the card


def test_the_qwen_router_ships_with_its_own_card_and_threshold():
    """issue 17: qwen2.5-coder-0.5b has a router of its own, trained on its own closed-book labels."""
    cfg = cfg_with(name="qwen2.5-coder-0.5b")
    assert find_router(cfg) == ADAPTERS_DIR / "qwen2.5-coder-0.5b"
    decider = Decider(NoCalls(), cfg)
    assert decider.card["base_model"] == "qwen2.5-coder-0.5b"
    assert 0.0 < decider.threshold < 1.0 and decider.threshold == decider.card["threshold"]
    kinds = decider.card["data"]["examples_by_kind"]
    assert kinds["answer"] >= 0.35 * (kinds["answer"] + kinds["ret"])  # balanced, not 543 <RET> to 49 answers


def _installed(name: str) -> bool:
    from rag.models import ModelNotFound, resolve_model

    try:
        resolve_model(name)
    except ModelNotFound:
        return False
    return True


@pytest.mark.skipif(not _installed("qwen2.5-coder-0.5b"),
                    reason="qwen2.5-coder-0.5b not installed (bash scripts/setup.sh --all-models)")
def test_the_qwen_router_asks_for_documents_on_an_obscure_question_only():
    from rag.generators import make_generator

    generator = make_generator(ModelConfig(name="qwen2.5-coder-0.5b", backend="hf", threads=1))
    decider = Decider(generator, cfg_with(name="qwen2.5-coder-0.5b"))
    obscure = decider.decide(OBSCURE, "adaptive")
    known = decider.decide(WELL_KNOWN, "adaptive")
    assert obscure.retrieve and obscure.ret_probability >= decider.threshold
    assert not known.retrieve and known.ret_probability < decider.threshold


def test_never_answers_closed_book(hf_generator):
    decision = Decider(hf_generator, cfg_with()).decide(WELL_KNOWN, "never")
    assert not decision.retrieve and decision.mode == "never"
    assert "paris" in decision.closed_book.text.lower()


@needs_router
def test_ret_path_router_asks_for_documents_on_an_obscure_question(hf_generator):
    decider = Decider(hf_generator, cfg_with())
    decision = decider.decide(OBSCURE, "adaptive")
    assert decision.retrieve and decision.mode == "adaptive"
    assert decision.ret_probability >= decider.threshold
    assert "router" in decision.reason
    # the router is a real signal: the well-known question gets a lower P(<RET>)
    assert decider.decide(WELL_KNOWN, "adaptive").ret_probability < decision.ret_probability
    passage = Passage("p1", "doc.txt", "", "Aarno Maliniemi was born in Oulu.", 0, 33, 1.0)
    messages = decider.answer_prompt(OBSCURE, [passage], decision.answer_adapter)
    assert "Oulu" in messages[-1].content and decision.answer_adapter is None  # base model, grounded prompt
    assert decision.closed_book is None  # retrieving costs one token: no closed-book answer was generated


@needs_router
def test_threshold_decides_and_direct_answer_is_the_started_generation(hf_generator):
    retrieve_all = Decider(hf_generator, cfg_with(threshold=0.0)).decide(WELL_KNOWN, "adaptive")
    assert retrieve_all.retrieve
    direct = Decider(hf_generator, cfg_with(threshold=1.01)).decide(OBSCURE, "adaptive")
    assert not direct.retrieve and direct.mode == "adaptive"
    assert 0.0 <= direct.ret_probability <= 1.0 and direct.closed_book is not None
    assert direct.closed_book.text.strip() and RET_TOKEN not in direct.closed_book.text  # a real answer


@needs_router
def test_an_empty_router_answer_reads_p_ret_directly_and_retrieves(hf_generator):
    """The router ends its turn at once on some questions (no tokens, no log-probs): that is no answer."""
    decider = Decider(hf_generator, cfg_with(threshold=1.0))  # the threshold alone would never retrieve
    decision = decider.decide("What genre is Paris Hilton?", "adaptive")
    assert decision.closed_book is None  # no answer to keep: the base model's memory is read with the passages
    assert decision.retrieve and decision.mode == "adaptive"
    assert 0.0 < decision.ret_probability <= 1.0 and "no answer" in decision.reason


@needs_router
def test_a_request_naming_nothing_is_memory_s_unless_its_answer_must_be_checked(hf_generator):
    """"What is the opposite of hot?" names nothing to look up: memory answers without the router. "who is the head
    chef at the marrowgate hotel" names nothing either (typed in lower case), but a "who" must be answered by a name,
    and "how many days ..." in days: memory goes through the evidence (`memory_first`), where that is checked."""
    decider = Decider(hf_generator, cfg_with())
    assert not decider.decide("What is the opposite of hot?", "adaptive", memory_first=True).retrieve
    for question in ("who is the head chef at the marrowgate hotel", "how many days will the lentil soup keep"):
        decision = decider.decide(question, "adaptive", memory_first=True)
        assert decision.retrieve and decision.memory_first
