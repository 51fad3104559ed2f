"""What both generator backends share, so they behave the same: chat rendering, token texts,
stop strings (also while streaming), the context-window check, and batched generation for any generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from rag.generators.base import ChatMessage, GenerationRequest, GeneratorError, StreamEvent
from rag.types import Generation


def render_chat(tokenizer: Any, messages: Sequence[ChatMessage]) -> str:
    """Render with the tokenizer's own chat template, ending with the opened assistant turn."""
    if not getattr(tokenizer, "chat_template", None):
        raise GeneratorError(
            f"the tokenizer of {getattr(tokenizer, 'name_or_path', '?')} has no chat template; "
            "use an instruction-tuned model"
        )
    return tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in messages], tokenize=False, add_generation_prompt=True
    )


def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a rendered prompt: the template already wrote any BOS, so no special tokens are added."""
    return list(tokenizer(text, add_special_tokens=False).input_ids)


def token_text(tokenizer: Any, token_id: int) -> str:
    """The text of one token, as used for `Generation.tokens` and the keys of `top_logprobs`."""
    return tokenizer.decode([int(token_id)])


def top_dict(pairs: Sequence[tuple[str, float]]) -> dict[str, float]:
    """token text -> log-prob, keeping the best when two ids decode to the same text (e.g. byte pieces)."""
    out: dict[str, float] = {}
    for text, lp in pairs:
        if text not in out or lp > out[text]:
            out[text] = lp
    return out


def find_stop(text: str, stops: Sequence[str]) -> int:
    """Index of the earliest stop string in `text`, or -1."""
    hits = [i for s in stops if s and (i := text.find(s)) >= 0]
    return min(hits) if hits else -1


def first_clause_done(text: str) -> bool:
    """Whether the answer in `text` has written its first clause (rag.answer_match.first_clause) and begun the next:
    what follows cannot change that clause. Judged on the answer as shown (rag.answer_text.clean_answer); while
    the model is still echoing "Question: ..." nothing is done."""
    from rag.answer_match import split_first_clause
    from rag.answer_text import clean_answer

    shown = clean_answer(text)
    if not shown or shown.lower().startswith("question:"):
        return False
    clause, after = split_first_clause(shown)
    return bool(clause.strip()) and re.search(r"\w", after) is not None


def holdback(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of `text` might begin a stop string (not safe to stream yet)."""
    keep = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:k]):
                keep = max(keep, k)
                break
    return keep


def fit_window(prompt_tokens: int, max_new_tokens: int, window: int, model: str) -> int:
    """Clamp the number of new tokens to the context window; a prompt that fills it is an error.

    Raises:
        GeneratorError: the prompt alone needs the whole window (the caller should drop passages).
    """
    if prompt_tokens >= window:
        raise GeneratorError(
            f"prompt has {prompt_tokens} tokens but {model} has a context window of {window}; "
            "use fewer or shorter passages (generation.context_tokens)"
        )
    return max(0, min(max_new_tokens, window - prompt_tokens))


def final_generation(events: Iterable[StreamEvent]) -> Generation:
    """Drain a backend's stream and return the Generation its last event carries (what `generate` returns)."""
    final = None
    for event in events:
        final = event.generation
    if final is None:
        raise GeneratorError("the generator's stream ended without a final result")
    return final


def generate_streamed(generator: Any, request: GenerationRequest,
                      on_token: Callable[[str], None] | None) -> Generation:
    """`generator.generate(request)`, its text handed to `on_token` piece by piece as it is written when given."""
    if on_token is None:
        return generator.generate(request)

    def pieces() -> Iterator[StreamEvent]:
        for event in generator.stream(request):
            if event.text:
                on_token(event.text)
            yield event

    return final_generation(pieces())


def generate_all(generator: Any, requests: Sequence[GenerationRequest]) -> list[Generation]:
    """Generations of `requests` in order: through `generate_batch` when the generator has it (one batched
    forward, or concurrent server requests), else one `generate` after another (fakes, wrappers)."""
    batch = getattr(generator, "generate_batch", None)
    if callable(batch):
        return list(batch(requests))
    return [generator.generate(r) for r in requests]
