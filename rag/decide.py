"""Decide: answer from the model's memory, or retrieve? (the first stage of the answer path)

Modes:
- never: one closed-book generation with the base model; it IS the answer.
- always: retrieve; no model call here.
- adaptive: first the index's say (the pipeline searches, ~50 ms, and counts the passages that could answer:
  rag.evidence.readable). When some passage could answer, the documents are read whatever the router thinks:
  the model may know the answer, but the user's documents may disagree with it, and that must be seen.
  A request that names no subject and that no passage could answer ("Hi!", "What is 7 + 5?") is the base
  model's to answer, without a router call, unless its answer is checked against it ("who ...?" wants a name, "how
  many days ...?" days: rag.evidence.answer_is_checked), which the answer path's `memory_first` does. A question about a name the model's vocabulary holds only in pieces
  ("Selholt Brewery": rag.evidence.unfamiliar_name) is searched for without a router call too: the model never
  saw the name, so its confidence about it means nothing, and its memory is not asked at all (`ask_memory`: the
  evidence batch has no closed-book row; with nothing found that answers, the answer declines). Always mode asks
  memory about every question.
  Otherwise (nothing in the documents names what is asked) the answer path (`memory_first`) first lets a confident
  closed-book answer stand, and asks the router (`route`) only about an unsure one: below the threshold memory
  answers, above it the answer declines. Called without `memory_first`, the router is asked at once:
  one token with the `<RET>` router adapter (Adapt-LLM, trained by `adaptrag adapt train`)
  on Adapt-LLM's closed-book prompt, with top-20 log-probs. ret_probability = P(first token of "<RET>")
  at the first generated position in the raw distribution; retrieve iff it is >= the threshold
  (cfg.decide.threshold, else the calibrated value in the adapter's router_card.json). Retrieving stops
  there (the evidence stage reads the base model's closed-book answer together with the passages);
  below the threshold the router's answer is generated (`<RET>` suppressed) and is the answer.

The router is cfg.model.router_adapter if set, else adapt/router/adapters/<model>/ when it
exists. A model without one falls back to `always`, and Decision.reason says so.

    decider = Decider(generator, cfg)
    d = decider.decide("Who wrote Dracula?", "adaptive")   # Decision(retrieve=..., ret_probability=...)
    messages = decider.answer_prompt(question, passages)  # prompt for the retrieved answer
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag import prompts
from rag.config import Config, ConfigError
from rag.generators.base import ChatMessage, GenerationRequest, Generator, GeneratorError
from rag.types import Decision, Generation, Passage

ROUTER_ADAPTER = "router"  # adapter name registered with the generator
ROUTER_CARD = "router_card.json"
ADAPTERS_DIR = Path(__file__).resolve().parent.parent / "adapt" / "router" / "adapters"
DEFAULT_THRESHOLD = 0.5  # used only when neither the config nor the card gives one
TOP_LOGPROBS = 20


def find_router(cfg: Config) -> Path | None:
    """The router adapter folder for this model: the configured path, else the shipped one, else None.

    Raises:
        ConfigError: model.router_adapter names a folder that is not a PEFT adapter.
    """
    if cfg.model.router_adapter:
        path = Path(cfg.model.router_adapter).expanduser()
        if not (path / "adapter_config.json").exists():
            raise ConfigError(
                f"model.router_adapter = {str(path)!r} is not a router adapter folder (no adapter_config.json); "
                "train one with `adaptrag adapt train` or unset the setting"
            )
        return path
    shipped = ADAPTERS_DIR / Path(cfg.model.name).name
    return shipped if (shipped / "adapter_config.json").exists() else None


def ret_probability(top: Mapping[str, float]) -> float:
    """P(<RET>) at one position from its top-n log-probs: the mass of tokens that begin "<RET>".

    Tokenizers differ in how they split "<RET>" ("<" + "RET" + ">" for SmolLM2 and Qwen2.5); any
    listed token whose text is a non-empty prefix of it counts. A token outside the top n counts 0.
    """
    total = 0.0
    for text, logprob in top.items():
        piece = text.strip()
        if piece and prompts.RET_TOKEN.startswith(piece):
            total += math.exp(logprob)
    return min(total, 1.0)


class Decider:
    """Chooses per question whether to retrieve; see the module docstring for the modes."""

    def __init__(self, generator: Generator, cfg: Config) -> None:
        self.generator = generator
        self.cfg = cfg
        self.router_path = find_router(cfg)
        self.card: dict[str, Any] = _read_card(self.router_path) if self.router_path else {}
        if cfg.decide.threshold is not None:
            self.threshold = float(cfg.decide.threshold)
        else:
            self.threshold = float(self.card.get("threshold") or DEFAULT_THRESHOLD)
        self._loaded = False
        self._router_error: str | None = None

    # -- the public API ---------------------------------------------------------------------------

    def decide(self, question: str, mode: str | None = None, readable: int = 0, unfamiliar: str = "",
               memory_first: bool = False) -> Decision:
        """Whether to retrieve for `question`; `mode` defaults to cfg.decide.mode. `readable`: how many passages
        found could answer (adaptive mode reads them without asking the router). `unfamiliar`: a word of the
        question's subject the model's vocabulary holds only in pieces (rag.evidence.unfamiliar_name); adaptive
        mode searches for it without asking the router, whose confidence about a name it never saw means
        nothing. `memory_first` (the answer path): where the router would be asked, ask it only after the
        closed-book answer turns out unsure (`route`); a confident memory answers without it."""
        mode = mode or self.cfg.decide.mode
        if mode == "never":
            decision = Decision(False, "never", None, "mode never: answering from memory", self._closed_book(question))
        elif mode == "always":
            decision = Decision(True, "always", None, "mode always: retrieving")
        elif mode == "adaptive" and readable:
            decision = Decision(True, "adaptive", None, f"your documents could answer: {readable} passage"
                                f"{'s' if readable != 1 else ''} found name{'' if readable != 1 else 's'} what is asked",
                                ask_memory=not unfamiliar)
        elif mode == "adaptive" and unfamiliar:
            decision = Decision(True, "adaptive", None, f"the model does not know the name {unfamiliar!r}: its "
                                "vocabulary holds it only in pieces, so its memory of it cannot be trusted",
                                ask_memory=False)
        elif mode == "adaptive" and not _names_a_subject(question) and not _answer_is_checked(question):
            # nothing found could answer, and the request names nothing to look up ("Hi!", "What is 7 + 5?"):
            # the base model answers; the router's opinion would change nothing but the cost
            decision = Decision(False, "adaptive", None, "nothing to look up: the request names no subject and "
                                "no passage found could answer")
        elif mode == "adaptive" and memory_first and self._ensure_router():
            decision = Decision(True, "adaptive", None, "nothing found names what is asked: the model's memory "
                                "answers if confident, else the router decides", memory_first=True)
        elif mode == "adaptive":
            decision = self._adaptive(question)
        else:
            raise ConfigError(f"invalid decide mode {mode!r}; allowed: adaptive, always, never")
        return decision

    @staticmethod
    def answer_prompt(question: str, passages: Sequence[Passage], adapter: str | None = None) -> list[ChatMessage]:
        """The prompt for the answer from retrieved passages, suited to the decision's `answer_adapter`.

        A router trained on Adapt-LLM's context examples answers with its own context prompt; otherwise the
        base model answers with the grounded, citing prompt.
        """
        if adapter is not None:
            return prompts.router_context(question, passages)
        return prompts.grounded(question, passages)

    def route(self, question: str) -> Decision:
        """After an unsure closed-book answer (`memory_first`): the router's first token alone. `retrieve` False:
        the router holds that the model knows, and its memory answers; True: the documents were its only hope,
        and none answers."""
        _, p, wrote = self._first_token(question)
        if p is None:
            return Decision(True, "adaptive", None, "router produced no answer: retrieving")
        if not wrote:
            return Decision(True, "adaptive", p, f"router: P(<RET>) = {p:.3f}, no answer without it: retrieving")
        if p >= self.threshold:
            return Decision(True, "adaptive", p, f"router: P(<RET>) = {p:.3f} >= threshold {self.threshold:.3f}")
        return Decision(False, "adaptive", p, f"router: P(<RET>) = {p:.3f} < threshold {self.threshold:.3f}")

    def _first_token(self, question: str) -> tuple[str, float | None, bool]:
        """The router's prompt, P(<RET>) at its first position (one token) and whether it wrote a token there.
        When it ends its turn at once no position carries log-probs, and P(first token of <RET>) is read at that
        position directly (None when the backend cannot). Call after `_ensure_router`."""
        prompt = self.generator.render_chat(prompts.closed_book(question, router=True))
        first = self.generator.generate(GenerationRequest(
            prompt=prompt, max_new_tokens=1, top_logprobs=TOP_LOGPROBS, suppress=(prompts.RET_TOKEN,),
            adapter=ROUTER_ADAPTER, temperature=0.0,
        ))
        if first.top_logprobs:
            return prompt, ret_probability(first.top_logprobs[0]), True
        first_logprobs = getattr(self.generator, "first_token_logprobs", None)
        if first_logprobs is None:
            return prompt, None, False
        return prompt, ret_probability(first_logprobs(prompt, [prompts.RET_TOKEN], adapter=ROUTER_ADAPTER)), False

    def _answer_adapter(self) -> str | None:
        """After an adaptive decision: the router adapter when its card says it also answers."""
        return ROUTER_ADAPTER if self._loaded and self.card.get("answer_with_adapter") else None

    # -- internals --------------------------------------------------------------------------------

    def _adaptive(self, question: str) -> Decision:
        if not self._ensure_router():
            why = self._router_error or (
                f"no router adapter for {self.cfg.model.name}: retrieving always; "
                "build one with `adaptrag adapt train`"
            )
            return Decision(True, "always", None, why)
        # The decision costs one token: P(<RET>) at the first position (the reported log-probs are the raw
        # distribution, <RET> suppressed only in the text). Retrieving stops there: the evidence stage reads the
        # base model's closed-book answer in the same batch as the passages. Not retrieving, the router's
        # answer is generated (its ~60-token prompt is read again: cheaper than a full answer that is thrown away).
        prompt, p, wrote = self._first_token(question)
        if p is None:  # an empty answer is no answer: retrieve
            return Decision(True, "adaptive", None, "router produced no answer: retrieving")
        if not wrote:
            return Decision(True, "adaptive", p, f"router: P(<RET>) = {p:.3f}, no answer without it: retrieving",
                            answer_adapter=self._answer_adapter())
        if p >= self.threshold:
            return Decision(True, "adaptive", p, f"router: P(<RET>) = {p:.3f} >= threshold {self.threshold:.3f}",
                            answer_adapter=self._answer_adapter())
        gen = self.generator.generate(GenerationRequest(
            prompt=prompt, max_new_tokens=self.cfg.generation.max_new_tokens, top_logprobs=1,
            suppress=(prompts.RET_TOKEN,), adapter=ROUTER_ADAPTER, temperature=0.0,
        ))
        if not gen.text.strip():
            return Decision(True, "adaptive", p, f"router: P(<RET>) = {p:.3f}, no answer without it: retrieving",
                            answer_adapter=self._answer_adapter())
        return Decision(False, "adaptive", p, f"router: P(<RET>) = {p:.3f} < threshold {self.threshold:.3f}", gen)

    def _ensure_router(self) -> bool:
        """Load the router adapter into the generator once; False when there is none (or it failed)."""
        if self._loaded:
            return True
        if self.router_path is None or self._router_error is not None:
            return False
        try:
            self.generator.load_adapter(ROUTER_ADAPTER, str(self.router_path))
        except GeneratorError as e:
            self._router_error = f"router adapter {self.router_path} could not be loaded ({e}): retrieving always"
            return False
        keep_prefix = getattr(self.generator, "keep_prefix", None)  # in-process: the template's KV computed once
        if keep_prefix is not None:
            keep_prefix(router_prefix(self.generator), ROUTER_ADAPTER)
        self._loaded = True
        return True

    def _closed_book(self, question: str) -> Generation:
        """The base model's own closed-book answer (no adapter, never <RET>): the same request the evidence
        stage reads memory with (rag/evidence.py)."""
        from rag.evidence import closed_book_request

        return self.generator.generate(closed_book_request(self.generator, question,
                                                           self.cfg.generation.max_new_tokens))


def router_prefix(generator: Generator) -> str:
    """The router's rendered prompt up to where the question goes: the same for every question."""
    mark = "\u2063"  # an invisible separator no question holds (prompts.sanitize keeps it)
    rendered = generator.render_chat(prompts.closed_book(mark, router=True))
    return rendered.split(mark)[0] if mark in rendered else ""


def _names_a_subject(question: str) -> bool:
    from rag.evidence import looks_something_up

    return looks_something_up(question)


def _answer_is_checked(question: str) -> bool:
    from rag.evidence import answer_is_checked

    return answer_is_checked(question)


def _read_card(folder: Path) -> dict[str, Any]:
    path = folder / ROUTER_CARD
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON ({e}); retrain with `adaptrag adapt train`") from None
