"""The generator as a langchain-core chat model (in-process backend; tests/integration covers vLLM)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from rag.generators import GeneratorError
from rag.generators.langchain import GeneratorChatModel, to_chat_messages


def test_invoke_and_stream_agree(hf_generator):
    chat = GeneratorChatModel(generator=hf_generator, max_new_tokens=16)
    msg = chat.invoke([HumanMessage("What is the capital of France?")])
    assert isinstance(msg, AIMessage) and "Paris" in msg.content
    assert msg.response_metadata["finish_reason"] in ("stop", "length")
    assert len(msg.response_metadata["token_logprobs"]) > 0
    chunks = list(chat.stream("What is the capital of France?"))
    assert len(chunks) > 2
    assert "".join(c.content for c in chunks) == chat.invoke("What is the capital of France?").content


def test_stop_is_passed_through(hf_generator):
    chat = GeneratorChatModel(generator=hf_generator, max_new_tokens=16)
    full = chat.invoke("What is the capital of France?").content
    assert " France" in full
    assert chat.invoke("What is the capital of France?", stop=[" France"]).content == full[: full.index(" France")]
    assert chat._llm_type == "adaptrag-hf"


def test_messages_map_to_roles():
    msgs = to_chat_messages([SystemMessage("s"), HumanMessage([{"type": "text", "text": "q"}]), AIMessage("a")])
    assert [(m.role, m.content) for m in msgs] == [("system", "s"), ("user", "q"), ("assistant", "a")]
    from langchain_core.messages import ToolMessage

    with pytest.raises(GeneratorError, match="not supported"):
        to_chat_messages([ToolMessage("x", tool_call_id="1")])
