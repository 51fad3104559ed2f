"""Any adaptrag generator as a langchain-core chat model, so LangChain code and ragas can use it.

    from rag.generators.langchain import GeneratorChatModel
    chat = GeneratorChatModel(generator=make_generator(ModelConfig()), max_new_tokens=64)
    chat.invoke("What is the capital of France?").content

Messages are rendered with the model's own chat template; the reply's `response_metadata` carries
the token log-probs, finish reason and timings of the underlying `Generation`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from rag.generators.base import ChatMessage, GenerationRequest, GeneratorError
from rag.types import Generation

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "user": "user", "assistant": "assistant"}


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[ChatMessage]:
    """LangChain messages -> adaptrag `ChatMessage`s (text parts only)."""
    out = []
    for m in messages:
        role = _ROLES.get(m.type)
        if role is None:
            raise GeneratorError(f"message type {m.type!r} is not supported; use system, human or ai messages")
        content = m.content if isinstance(m.content, str) else "".join(
            p if isinstance(p, str) else str(p.get("text", "")) for p in m.content
        )
        out.append(ChatMessage(role, content))
    return out


class GeneratorChatModel(BaseChatModel):
    """A langchain-core chat model backed by an adaptrag `Generator` (hf in-process or openai/vLLM)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    generator: Any  # rag.generators.Generator
    max_new_tokens: int = 256  # longer than the answer path's default: judges write explanations
    temperature: float = 0.0  # greedy
    stop: list[str] | None = None  # default stop strings, extended by the call's `stop`
    adapter: str | None = None  # LoRA adapter name to use for every call

    @property
    def _llm_type(self) -> str:
        return f"adaptrag-{self.generator.info.backend}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.generator.info.name, "backend": self.generator.info.backend,
                "max_new_tokens": self.max_new_tokens, "temperature": self.temperature}

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> GenerationRequest:
        prompt = self.generator.render_chat(to_chat_messages(messages))
        stops = tuple((self.stop or []) + (stop or []))
        return GenerationRequest(prompt, max_new_tokens=self.max_new_tokens, stop=stops,
                                 temperature=self.temperature, adapter=self.adapter)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        g = self.generator.generate(self._request(messages, stop))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(g.text, response_metadata=_metadata(g)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for event in self.generator.stream(self._request(messages, stop)):
            meta = _metadata(event.generation) if event.generation is not None else {}
            if not event.text and not meta:
                continue
            chunk = ChatGenerationChunk(message=AIMessageChunk(event.text, response_metadata=meta))
            if run_manager and event.text:
                run_manager.on_llm_new_token(event.text, chunk=chunk)
            yield chunk


def _metadata(g: Generation) -> dict[str, Any]:
    return {"finish_reason": g.finish_reason, "token_logprobs": list(g.token_logprobs),
            "prompt_tokens": g.prompt_tokens, "timings_ms": dict(g.timings_ms)}
