"""The Streamlit app through `AppTest`: chat flow, conversations, modes, settings, error states, uploads.

The pipeline here is a stand-in (tests/ui/fakes.py) so these tests exercise the app itself;
test_app_real.py and test_browser.py run the real answer path.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rag.generators.base import GeneratorError
from rag.types import Chunk
from tests.ui.fakes import HOSTILE, FakePipeline, abstained_answer, memory_answer, retrieved_answer
from ui import resources

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """An app on an empty tmp index with the pipeline replaced by `FakePipeline`s built per config."""
    monkeypatch.setenv("ADAPTRAG_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("RAGAPP_SAMPLE_CORPUS", "")
    built: list = []
    state = {"answer": retrieved_answer(), "error": None}

    class StatePipeline(FakePipeline):  # reads the answer/error the test prepared at call time
        decider = SimpleNamespace(threshold=0.607)  # what the app reads of the real Decider

        def answer(self, question, **kw):
            self.answer_value, self.error = state["answer"], state["error"]
            return super().answer(question, **kw)

    def factory(cfg):
        p = StatePipeline()
        built.append((cfg, p))
        return p

    monkeypatch.setattr(resources, "PIPELINE_FACTORY", factory)
    resources.forget_pipelines()
    st.cache_resource.clear()
    yield {"built": built, "state": state, "tmp": tmp_path}
    resources.forget_pipelines()


def shown(elements) -> list[str]:
    """The text of Markdown elements as a reader sees it (untrusted text is backslash-escaped in the source)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in elements]


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def html_bodies(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question)
    return run(at)


def test_chat_flow_renders_answer_citations_and_keeps_history(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    assert any("index is empty" in w.value for w in at.warning)
    ask(at, "What is the capital of France?")
    bodies = "\n".join(html_bodies(at))
    assert "searched documents" in bodies
    assert "searched your documents: the model was unsure (P(&lt;RET&gt;) 0.87 ≥ threshold 0.61)" in bodies
    assert 'href="#m' in bodies and "<mark" in bodies  # drawn from the stored conversation
    assert ">france.txt<" in bodies and "docs/france.txt" not in bodies  # the document's name, not a path
    assert "from model memory" in bodies and "no conflict found" in bodies
    assert "first words after" in bodies and "searching your documents 30 ms" in bodies
    # the uncited passage (lyon.txt) folds under "also searched", still openable
    assert [e.label for e in at.expander if "also searched" in e.label] == ["also searched: 1 passage not cited"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in bodies  # the document's script, as text
    app_env["state"]["answer"] = memory_answer(0.04)
    ask(at, "And of Italy?")
    assert len(at.chat_message) == 4  # two questions, two answers: history is kept
    bodies = "\n".join(html_bodies(at))
    assert "answered from memory" in bodies and "searched documents" in bodies
    assert "conflict check not available" in bodies


def test_modes_and_dyprag_reach_the_pipeline(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    at.sidebar.selectbox(key="mode").set_value("never")
    at.sidebar.selectbox(key="dyprag").set_value("combine")
    run(at)
    assert not any("index is empty" in w.value for w in at.warning)  # memory-only mode needs no index
    ask(at, "Who wrote Dracula?")
    cfg, pipeline = app_env["built"][-1]
    assert pipeline.calls[-1] == {"question": "Who wrote Dracula?", "mode": "never", "dyprag": "combine"}
    assert cfg.decide.mode == "adaptive"  # per call, not baked into the shared pipeline


def test_changing_retrieval_settings_builds_a_new_pipeline(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "q1")
    at.sidebar.number_input(key="top_k").set_value(5)
    run(at)
    ask(at, "q2")
    cfgs = [cfg for cfg, _ in app_env["built"]]
    assert cfgs[0].retrieval.top_k != 5 and cfgs[-1].retrieval.top_k == 5


def test_model_is_a_select_box_of_installed_models(app_env):
    from ui.sidebar import installed_models

    at = run(AppTest.from_file(APP, default_timeout=30))
    box = at.sidebar.selectbox(key="model")
    assert list(box.options) == [o.name for o in installed_models("smollm2-135m")]
    assert "smollm2-135m" in box.options
    assert any("speed:" in c.value for c in at.sidebar.caption)  # the one-line description
    with pytest.raises(Exception):  # noqa: B017 - AppTest refuses a value that is not an option
        box.set_value("no-such-model").run()


def test_an_invalid_model_restored_from_a_conversation_is_refused_at_once(app_env):
    from ui.conversations import ConversationStore

    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "q1")
    conv_id = at.query_params["c"][0] if isinstance(at.query_params["c"], list) else at.query_params["c"]
    store = ConversationStore(app_env["tmp"] / "index-app" / "conversations.sqlite")
    store.set_settings(conv_id, {"model": "not-installed-model", "mode": "never"})
    again = AppTest.from_file(APP, default_timeout=30)
    again.query_params["c"] = conv_id
    run(again)
    assert any("not-installed-model" in w and "not installed" in w for w in shown(again.sidebar.warning))
    assert again.sidebar.selectbox(key="model").value == "smollm2-135m"
    assert again.sidebar.selectbox(key="mode").value == "never"  # the valid settings are kept


def test_pipeline_error_is_a_readable_message_not_a_trace(app_env):
    app_env["state"]["error"] = GeneratorError("cannot reach http://127.0.0.1:9/v1: connection refused")
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "q")
    errors = shown(at.error)
    assert len(errors) == 1 and "not reachable" in errors[0] and "Fix:" in errors[0]
    assert "Traceback" not in errors[0]


def test_openai_backend_without_url_is_explained(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    at.sidebar.selectbox(key="backend").set_value("openai")
    run(at)
    assert any("needs a server URL" in e for e in shown(at.sidebar.error))
    ask(at, "q")
    assert any("settings in the sidebar are invalid" in e for e in shown(at.error))
    assert not app_env["built"]  # nothing was built from invalid settings


def test_untrusted_answer_text_is_escaped_in_the_page(app_env):
    app_env["state"]["answer"] = replace(memory_answer(), answer=HOSTILE, citations=())
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, HOSTILE)
    bodies = "\n".join(html_bodies(at))
    assert "<img" not in bodies and "&lt;img src=x onerror=" in bodies and 'href="javascript' not in bodies
    assert bodies.count("&lt;b&gt;bold&lt;/b&gt;") >= 2  # the question and the answer


class RecordingIndex:
    """Neighbour of the upload panel: records what it was asked to index."""

    added: ClassVar[list[Path]] = []

    def add(self, paths, progress=True):
        for p in paths:
            if p.name.startswith("bad-"):  # not `"bad" in`: the unique suffix is hex and can read "…bad…"
                raise ValueError(f"{p.name}: not valid UTF-8; save it as UTF-8 and upload again")
            RecordingIndex.added.append(Path(p))

    def stats(self):
        return {"documents": len(RecordingIndex.added), "chunks": len(RecordingIndex.added)}


def test_upload_sanitises_names_and_reports_per_file(app_env, monkeypatch):
    RecordingIndex.added = []
    monkeypatch.setattr(resources, "open_index", lambda cfg, readonly=False: RecordingIndex())
    at = run(AppTest.from_file(APP, default_timeout=30))
    at.sidebar.get("file_uploader")[0].set_value([
        ("../../escape.txt", b"climbing out", "text/plain"),
        ("/etc/cron.d/evil.md", b"absolute", "text/markdown"),
        ("<img src=x onerror=alert(1)>.html", b"<p>hi</p>", "text/html"),
        ("bad.txt", b"\xff\xfe", "text/plain"),
        ("tool.exe", b"MZ", "application/octet-stream"),
    ])
    run(at)
    toasts = shown(at.toast)  # the job may finish within this run
    folder = app_env["tmp"] / "index-app" / "uploads"  # the app's data folder, beside the index
    names = sorted(p.name for p in folder.iterdir())
    assert [re.sub(r"-[0-9a-f]{8}\.", ".", n) for n in names] == [
        "bad.txt", "escape.txt", "etc_cron.d_evil.md", "img_src_x_onerror_alert_1.html"]
    outside = [p for p in app_env["tmp"].rglob("*") if p.is_file() and folder not in p.parents
               and not (p.parent == folder.parent and ".sqlite" in p.name)]  # the app's own databases
    assert outside == []
    assert any("tool.exe" in e and "not indexed" in e for e in shown(at.sidebar.error))
    for _ in range(50):  # the job runs in a thread; the next rerun shows its results
        if len(RecordingIndex.added) == 3:
            break
        time.sleep(0.1)
    time.sleep(0.2)
    run(at)
    assert sorted(re.sub(r"-[0-9a-f]{8}\.", ".", p.name) for p in RecordingIndex.added) == [
        "escape.txt", "etc_cron.d_evil.md", "img_src_x_onerror_alert_1.html"]
    assert any("bad.txt" in e and "save it as UTF-8" in e for e in shown(at.sidebar.error))
    toasts += shown(at.toast)
    assert sum("bad.txt: not indexed (the reason is under Upload documents)" in t for t in toasts) == 1, toasts


def test_upload_over_the_size_limit_is_refused_with_a_message(app_env, monkeypatch):
    import ui.upload_panel

    RecordingIndex.added = []
    monkeypatch.setattr(resources, "open_index", lambda cfg, readonly=False: RecordingIndex())
    monkeypatch.setattr(ui.upload_panel, "max_upload_bytes", lambda cfg: 2**20)
    at = run(AppTest.from_file(APP, default_timeout=30))
    at.sidebar.get("file_uploader")[0].set_value(("huge.txt", b"x" * (2**20 + 10), "text/plain"))
    run(at)
    assert any("huge.txt" in e and "over the upload limit of 1 MB" in e for e in shown(at.sidebar.error))
    assert any("huge.txt: not uploaded" in t for t in shown(at.toast)), [t.value for t in at.toast]
    assert not list((app_env["tmp"] / "index-app" / "uploads").glob("huge*"))
    time.sleep(0.3)
    assert RecordingIndex.added == []


def conv_param(at: AppTest) -> str | None:
    value = at.query_params.get("c")
    return value[0] if isinstance(value, list) else value


def questions_shown(at: AppTest) -> list[str]:
    return [b for b in html_bodies(at) if b.startswith('<div class="ar-question">')]


def test_a_reload_restores_the_conversation_and_its_settings(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    assert conv_param(at) is None  # an empty new chat is not stored
    at.sidebar.selectbox(key="mode").set_value("never")
    run(at)
    ask(at, "What is the capital of France?")
    conv_id = conv_param(at)
    assert conv_id and len(conv_id) == 16
    reloaded = AppTest.from_file(APP, default_timeout=30)  # a new browser session on the same URL
    reloaded.query_params["c"] = conv_id
    run(reloaded)
    assert questions_shown(reloaded) == ['<div class="ar-question">What is the capital of France?</div>']
    bodies = "\n".join(html_bodies(reloaded))
    assert "searched documents" in bodies and "<mark" in bodies and "first words after" in bodies  # the full answer
    assert "≥ threshold 0.61" in bodies  # the router's threshold is kept with the answer
    assert reloaded.sidebar.selectbox(key="mode").value == "never"  # settings kept per conversation
    assert conv_param(reloaded) == conv_id


def test_new_chat_starts_empty_and_the_list_is_newest_first(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "first question")
    first = conv_param(at)
    at.sidebar.button(key="new_chat").click()
    run(at)
    assert questions_shown(at) == [] and conv_param(at) is None
    ask(at, "second question")
    second = conv_param(at)
    assert second != first and len(questions_shown(at)) == 1
    titles = [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-") and len(b.key) == 21]
    assert titles[:2] == ["second question", "first question"]
    at.sidebar.button(key=f"conv-{first}").click()  # back to the first one
    run(at)
    assert conv_param(at) == first and questions_shown(at) == ['<div class="ar-question">first question</div>']


def test_two_sessions_never_write_into_each_other(app_env):
    tab1 = run(AppTest.from_file(APP, default_timeout=30))
    tab2 = run(AppTest.from_file(APP, default_timeout=30))
    ask(tab1, "from tab one")
    ask(tab2, "from tab two")
    ask(tab1, "tab one again")
    assert conv_param(tab1) != conv_param(tab2)
    from ui.conversations import ConversationStore

    store = ConversationStore(app_env["tmp"] / "index-app" / "conversations.sqlite")
    assert [m.question for m in store.messages(conv_param(tab1))] == ["from tab one", "tab one again"]
    assert [m.question for m in store.messages(conv_param(tab2))] == ["from tab two"]


def test_rename_and_delete_a_conversation(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "to be renamed")
    conv_id = conv_param(at)
    at.sidebar.text_input(key=f"title-{conv_id}").set_value("Renamed <b>chat</b>")
    at.sidebar.button(key="conv-rename").click()
    run(at)
    assert at.sidebar.button(key=f"conv-{conv_id}").label == r"Renamed \<b\>chat\</b\>"  # shown as text
    at.sidebar.button(key="conv-delete").click()
    run(at)
    at.sidebar.button(key="conv-delete-yes").click()
    run(at)
    assert conv_param(at) is None and questions_shown(at) == []
    assert not [b for b in at.sidebar.button if b.key == f"conv-{conv_id}"]


def test_an_abstention_lists_what_was_searched_live_and_restored(app_env):
    app_env["state"]["answer"] = abstained_answer()
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "What is the phone number of Halworth's canteen?")
    for app in (at, run(_reopened(conv_param(at)))):
        bodies = "\n".join(html_bodies(app))
        assert "not found in your documents" in bodies and "Not found in your documents." in bodies
        assert "searched 2 passages, none answers" in bodies and 'class="ar-cite"' not in bodies
        assert "searched your documents, none answers; the model&#x27;s memory is not confident enough (31%)" in bodies


def _reopened(conv_id: str) -> AppTest:
    reloaded = AppTest.from_file(APP, default_timeout=30)
    reloaded.query_params["c"] = conv_id
    return reloaded


def _indexed_france(tmp: Path):
    """france.txt on disk and a real manifest of it holding the fake answer's passage p1 (DOC at offset 100)."""
    from indexing.loaders import load_file
    from indexing.manifest import Manifest
    from tests.ui.fakes import DOC

    path = tmp / "docs" / "france.txt"
    path.parent.mkdir()
    before = ("France, an overview of the country. " * 3)[:98] + ".\n"  # 100 characters
    path.write_text(before + DOC + "\n\nAfterword: the rest of the document about France.", encoding="utf-8")
    (doc,), _ = load_file(path)
    manifest = Manifest(tmp / "meta.sqlite", readonly=False)
    manifest.add_chunks([Chunk("p0", doc.doc_id, doc.source, "France", before[:-1], 0, len(before) - 1),
                         Chunk("p1", doc.doc_id, doc.source, "France", DOC, 100, 100 + len(DOC))])
    manifest.add_document(doc.doc_id, doc.source, doc.title, doc.file, doc.content_hash, 2, len(doc.text))
    manifest.commit()
    manifest.close()
    return path, lambda cfg, readonly=False: Manifest(tmp / "meta.sqlite", readonly=True)


def test_open_document_shows_the_whole_text_at_the_cited_span(app_env, monkeypatch):
    path, open_manifest = _indexed_france(app_env["tmp"])
    monkeypatch.setattr(resources, "open_index", open_manifest)
    at = run(AppTest.from_file(APP, default_timeout=30))
    ask(at, "What is the capital of France?")
    buttons = [b for b in at.button if b.key and b.key.startswith("opendoc-")]
    assert [b.label for b in buttons] == ["Open document", "Open document"]  # one per passage card
    buttons[0].click()  # card 1: the cited passage of france.txt
    run(at)
    shown_html = [b for b in html_bodies(at) if 'class="ar-docview"' in b]
    assert len(shown_html) == 1, html_bodies(at)
    view = shown_html[0]
    assert "France, an overview" in view and "Afterword: the rest of the document" in view  # beyond the chunk
    assert '<mark class="ar-span">Paris is the capital of France.</mark>' in view
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in view and "<script" not in view
    assert ">france.txt<" in view and "ar-notice" not in view
    run(at)  # a rerun keeps it open
    assert [b for b in html_bodies(at) if 'class="ar-docview"' in b] == [view]
    path.unlink()  # gone since it was indexed: said so, no trace, the stored text instead
    run(at)
    (view,) = [b for b in html_bodies(at) if 'class="ar-docview"' in b]
    assert "france.txt is no longer where it was indexed" in view and "Showing the text as it was indexed" in view
    assert '<mark class="ar-span">Paris is the capital of France.</mark>' in view


def test_open_document_of_a_passage_gone_from_the_index_shows_the_passage(app_env):
    at = run(AppTest.from_file(APP, default_timeout=30))  # the empty index: the fake's passages are in no index
    ask(at, "What is the capital of France?")
    next(b for b in at.button if b.key and b.key.startswith("opendoc-")).click()
    run(at)
    (view,) = [b for b in html_bodies(at) if 'class="ar-docview"' in b]
    assert "no longer in the index" in view and "Showing the cited passage only." in view
    assert '<mark class="ar-span">Paris is the capital of France.</mark>' in view


def test_the_documents_count_is_the_same_in_settings_and_the_panel(app_env):
    """A JSONL file is one file holding a document per line: the Settings metric counted 21 documents where the
    Documents panel listed 16 files (a new user's check). Both count files; the metric's help says the rest."""
    docs = app_env["tmp"] / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# Notes\n\nThe lantern festival is in October.")
    (docs / "lines.jsonl").write_text("".join(f'{{"id": "{i}", "text": "Line {i} of three."}}\n' for i in range(3)))
    from rag.config import load_config

    index = resources.open_index(load_config())
    index.add([docs], progress=False)
    index.close()
    at = run(AppTest.from_file(APP, default_timeout=60))
    metric = next(m for m in at.sidebar.metric if m.label == "Documents")
    assert metric.value == "2" and "2 files holding 4 documents" in metric.help
    assert [e.label for e in at.sidebar.expander if e.label.startswith("Documents (")] == ["Documents (2 · 4 chunks)"]
