"""Generator backends behind one protocol, chosen by name through a small registry.

    gen = make_generator(ModelConfig(name="smollm2-135m", backend="hf"))
    gen = make_generator(ModelConfig(name="smollm2-135m", backend="openai", base_url="http://127.0.0.1:8000/v1"))

Backends are imported lazily, so the openai client is not needed for hf and vice versa.
`generate_all(gen, requests)` generates several requests at once with any backend (or one by one).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from rag.config import ConfigError, GenerationConfig, ModelConfig
from rag.generators.base import (
    ChatMessage,
    GenerationRequest,
    Generator,
    GeneratorError,
    LoraDeltas,
    ModelInfo,
    StreamEvent,
)
from rag.generators.common import generate_all

# backend name -> "module:class"; each class takes (ModelConfig, GenerationConfig | None)
BACKENDS: dict[str, str] = {
    "hf": "rag.generators.hf:HFGenerator",
    "openai": "rag.generators.openai_backend:OpenAIGenerator",
}


def backend_class(name: str) -> Callable[..., Generator]:
    """The generator class registered under `name`.

    Raises:
        ConfigError: unknown backend, naming the valid ones.
    """
    if name not in BACKENDS:
        raise ConfigError(f"unknown generator backend {name!r} (model.backend); valid: {', '.join(BACKENDS)}")
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(import_module(module), cls)


def make_generator(model: ModelConfig, generation: GenerationConfig | None = None) -> Generator:
    """Build the generator for `model.backend` (hf: in-process; openai: an OpenAI-compatible server).

    Raises:
        ConfigError: unknown backend. GeneratorError / ModelNotFound: the model or server is unusable.
    """
    return backend_class(model.backend)(model, generation)


__all__ = [
    "BACKENDS", "ChatMessage", "GenerationRequest", "Generator", "GeneratorError", "LoraDeltas", "ModelInfo",
    "StreamEvent", "backend_class", "generate_all", "make_generator",
]
