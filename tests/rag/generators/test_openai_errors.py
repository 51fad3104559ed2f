"""The openai backend's client behaviour against a tiny local HTTP server standing in for the neighbour
(vLLM): down, slow, failing then recovering, malformed, unknown model, LoRA routes present or not.
The backend itself is real; `tests/integration/test_vllm_backend.py` runs it against a real vLLM."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.config import ModelConfig
from rag.generators import ChatMessage, GenerationRequest, GeneratorError, make_generator, openai_backend
from rag.models import ModelNotFound

MODELS = {"object": "list", "data": [{"id": "smollm2-135m", "object": "model", "owned_by": "test", "max_model_len": 8192}]}


def sse(*texts: str, finish: str = "stop") -> bytes:
    events = []
    for i, t in enumerate(texts):
        fr = finish if i == len(texts) - 1 else None
        events.append({"id": "c", "object": "text_completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "text": t, "logprobs": None, "finish_reason": fr}]})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


class FakeServer:
    """routes: (method, path) -> handler(body) -> (status, content_type, bytes); records requests."""

    def __init__(self, routes: dict[tuple[str, str], Callable[[dict], tuple[int, str, bytes]]]):
        self.routes = routes
        self.requests: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}") if n else {}
                outer.requests.append((method, self.path, body))
                route = outer.routes.get((method, self.path))
                status, ctype, data = route(body) if route else (404, "application/json", b'{"error": "no route"}')
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def models_ok(body):
    return 200, "application/json", json.dumps(MODELS).encode()


@pytest.fixture
def fake():
    servers = []

    def start(routes):
        s = FakeServer(routes)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(openai_backend, "BACKOFF_S", 0.01)


def cfg(url: str, **kw) -> ModelConfig:
    return ModelConfig(name="smollm2-135m", backend="openai", base_url=url, **{"timeout_s": 2.0, "max_retries": 1, **kw})


def test_missing_base_url_says_which_setting():
    with pytest.raises(GeneratorError, match="model.base_url"):
        make_generator(ModelConfig(name="smollm2-135m", backend="openai"))


def test_server_down_names_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    import openai  # noqa: F401  (import time is not what this test measures)
    from transformers import AutoTokenizer  # noqa: F401

    t0 = time.monotonic()
    with pytest.raises(GeneratorError, match=f"{url}.*failed after 2 attempt"):
        make_generator(cfg(url))
    assert time.monotonic() - t0 < 30  # refused at once, no long hang (generous: the CPU is shared)


def test_slow_server_times_out_with_the_url(fake):
    def slow(body):
        time.sleep(3)
        return models_ok(body)

    server = fake({("GET", "/v1/models"): slow})
    t0 = time.monotonic()
    with pytest.raises(GeneratorError, match=f"{server.url} timed out after 2 attempt"):
        make_generator(cfg(server.url, timeout_s=0.5))
    assert time.monotonic() - t0 < 5.5  # two 0.5 s attempts, not two 3 s waits
    assert len(server.requests) == 2


def test_5xx_is_retried_then_succeeds(fake):
    calls = []

    def flaky(body):
        calls.append(1)
        return (500, "application/json", b'{"error": "busy"}') if len(calls) == 1 else models_ok(body)

    server = fake({("GET", "/v1/models"): flaky})
    gen = make_generator(cfg(server.url))
    assert gen.info.context_window == 8192 and len(calls) == 2


def test_garbage_json_is_a_clear_error(fake):
    server = fake({("GET", "/v1/models"): lambda b: (200, "application/json", b"{not json at all")})
    with pytest.raises(GeneratorError, match=f"{server.url}.*malformed"):
        make_generator(cfg(server.url))


def test_models_listing_without_data_is_a_clear_error(fake):
    server = fake({("GET", "/v1/models"): lambda b: (200, "application/json", b'{"object": "list"}')})
    with pytest.raises(GeneratorError, match="malformed"):
        make_generator(cfg(server.url))


def test_model_not_served_lists_what_is(fake):
    other = {"object": "list", "data": [{"id": "qwen-7b", "object": "model", "owned_by": "x"}]}
    server = fake({("GET", "/v1/models"): lambda b: (200, "application/json", json.dumps(other).encode())})
    with pytest.raises(ModelNotFound, match=r"'smollm2-135m' is not served at .*served: qwen-7b"):
        make_generator(cfg(server.url))


def test_unknown_model_name_lists_the_registry(fake):
    server = fake({("GET", "/v1/models"): models_ok})
    with pytest.raises(ModelNotFound, match="smollm2-135m, qwen2.5-coder-0.5b"):
        make_generator(ModelConfig(name="gpt-17", backend="openai", base_url=server.url, served_name="smollm2-135m"))


def completions_server(fake, completions, lora: bool):
    routes = {("GET", "/v1/models"): models_ok, ("POST", "/v1/completions"): completions}
    if lora:
        ok = lambda b: (200, "text/plain", b"Success")
        routes[("POST", "/v1/load_lora_adapter")] = ok
        routes[("POST", "/v1/unload_lora_adapter")] = ok
    return fake(routes)


def test_completion_stream_without_choices_fields_is_a_clear_error(fake):
    bad = b'data: {"id": "c", "choices": [{"index": 0}]}\n\ndata: [DONE]\n\n'
    server = completions_server(fake, lambda b: (200, "text/event-stream", bad), lora=False)
    gen = make_generator(cfg(server.url))
    with pytest.raises(GeneratorError, match=f"{server.url}.*(malformed|no completion)"):
        gen.generate(GenerationRequest("Hi"))


def test_completion_that_is_not_a_stream_is_a_clear_error(fake):
    server = completions_server(fake, lambda b: (200, "application/json", b'{"weird": true}'), lora=False)
    gen = make_generator(cfg(server.url))
    with pytest.raises(GeneratorError, match=f"{server.url}.*no completion"):
        gen.generate(GenerationRequest("Hi"))


@pytest.mark.parametrize("lora", [False, True])
def test_base_requests_use_the_zero_adapter_only_when_lora_is_served(fake, lora):
    server = completions_server(fake, lambda b: (200, "text/event-stream", sse("Pa", "ris")), lora=lora)
    gen = make_generator(cfg(server.url))
    prompt = gen.render_chat([ChatMessage("user", "Capital of France?")])
    g = gen.generate(GenerationRequest(prompt, stop=("\n",), suppress=("<RET>",)))
    assert g.text == "Paris" and g.prompt_tokens == gen.count_tokens(prompt)
    sent = [b for m, p, b in server.requests if p == "/v1/completions"][-1]
    assert sent["model"] == ("base-zero" if lora else "smollm2-135m")
    assert sent["prompt"] == gen.tokenizer(prompt, add_special_tokens=False).input_ids  # token ids, rendered locally
    assert sent["stop"] == ["\n"] and list(sent["logit_bias"].values()) == [-100]
    loads = [b for m, p, b in server.requests if p == "/v1/load_lora_adapter"]
    assert [b["lora_name"] for b in loads] == ["base-zero"]  # tried once; a 404 means no runtime LoRA
    gen.generate(GenerationRequest(prompt))
    assert len([p for m, p, b in server.requests if p == "/v1/load_lora_adapter"]) == 1


def test_deltas_are_loaded_used_and_unloaded(fake):
    from tests.rag.generators.suite import random_deltas

    server = completions_server(fake, lambda b: (200, "text/event-stream", sse("Paris")), lora=True)
    gen = make_generator(cfg(server.url))
    gen.generate(GenerationRequest("Hi", deltas=random_deltas(seed=1)))
    paths = [(p, b.get("lora_name") or b.get("model")) for m, p, b in server.requests if m == "POST"]
    load, use, unload = paths[-3:]
    assert load[0] == "/v1/load_lora_adapter" and use[0] == "/v1/completions" and unload[0] == "/v1/unload_lora_adapter"
    assert load[1] == use[1] == unload[1] and load[1].startswith("test1-")
    assert gen.info.adapters == ()
