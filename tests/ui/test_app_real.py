"""The app through `AppTest` with the real answer path: the small model, a real tmp index.

    .venv/bin/pytest tests/ui/test_app_real.py -q
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import resources

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def real_app(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTRAG_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("ADAPTRAG_MODEL", "smollm2-135m")
    monkeypatch.setenv("RAGAPP_SAMPLE_CORPUS", "")
    monkeypatch.delenv("RAGAPP_PIPELINE", raising=False)
    monkeypatch.setattr(resources, "PIPELINE_FACTORY", None)
    resources.forget_pipelines()
    yield tmp_path
    resources.forget_pipelines()


def _dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_memory_answer_with_the_real_model(real_app):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.sidebar.selectbox(key="mode").set_value("never").run()
    at.chat_input(key="question").set_value("What is the capital of France?").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    bodies = "\n".join(h.proto.body for h in at.get("html"))
    assert "answered from memory" in bodies and "answered from memory (mode never)" in bodies
    assert "conflict check not available" in bodies and "first words after" in bodies
    answer = re.search(r'<div class="ar-answer">(.*?)</div>', bodies, re.DOTALL)
    assert answer and answer.group(1).strip()


def test_openai_backend_with_a_dead_server_is_a_readable_error(real_app):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.sidebar.selectbox(key="backend").set_value("openai").run()  # the URL field is enabled for openai only
    at.sidebar.text_input(key="base_url").set_value(_dead_url())
    at.sidebar.selectbox(key="mode").set_value("never").run()
    at.chat_input(key="question").set_value("What is the capital of France?").run()
    assert not at.exception
    errors = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]  # untrusted text is Markdown-escaped
    assert len(errors) == 1, errors
    assert "not reachable" in errors[0] and "Fix:" in errors[0] and "vllm serve" in errors[0]
    assert "Traceback" not in errors[0]


def test_first_run_indexes_the_sample_corpus_once(real_app, monkeypatch):
    corpus = real_app / "sample"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Alpha\nAlpha is the first letter of the Greek alphabet.")
    (corpus / "b.txt").write_text("Beta is the second letter of the Greek alphabet.")
    monkeypatch.setenv("RAGAPP_SAMPLE_CORPUS", str(corpus))
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.chat_input(key="question")  # usable at once: the corpus is indexed in the background
    for _ in range(600):
        metrics = {m.label: m.value for m in at.sidebar.metric}
        if metrics.get("Documents") == "2":
            break
        time.sleep(0.5)
        at.run()
    assert {m.label: m.value for m in at.sidebar.metric} == {"Documents": "2", "Chunks": "2"}
    assert not any("index is empty" in w.value for w in at.warning)
    examples = sorted(b.label for b in at.button if b.key and b.key.startswith("example-"))
    assert examples == ["What do the documents say about Alpha?", "What do the documents say about b?"], examples
    (corpus / "c.txt").write_text("Gamma is the third letter.")  # a non-empty index is never re-seeded
    at = AppTest.from_file(APP, default_timeout=300).run()
    time.sleep(2)
    at.run()
    assert {m.label: m.value for m in at.sidebar.metric}["Documents"] == "2"
