"""End-to-end: `streamlit run app.py` driven by Debian's Chromium through Playwright.

Three app servers, each with its own tmp data folder (conversations, uploads):
- the real one: a small corpus (a counter-memory document, a document carrying script/HTML
  injection, Kilimanjaro) indexed into a tmp ADAPTRAG_INDEX, answered by the real small model
  (smollm2-135m). Tests: answers, citations, the conflict banner, inert injected markup, uploads
  in the background, a reload keeps the conversation, New chat starts empty, a second tab is
  independent, a document deleted in the documents panel is gone from answers.
- the document one: an index of one long document and a stand-in answer path citing a chunk in its
  middle (`tests.ui.fakes:make_indexed_passage_pipeline`). Test: "Open document" shows the whole text
  scrolled to the marked span, its markup inert, and says so when the file is gone.
- the showcase one: the same app with `RAGAPP_PIPELINE=tests.ui.fakes:make_showcase_pipeline`, a
  stand-in answer path that streams one prepared answer holding every part at once (Markdown,
  citations, a memory-only sentence, a conflict, hostile markup), or by the question's words a
  documents-vs-documents conflict or an abstention. Tests: Markdown renders while
  `<script>`/`onerror`/`javascript:` stay inert, no layout jump when the banner arrives, text
  contrast >= 4.5:1 in light and dark (both banner kinds and an abstention), the two banner kinds
  in different colours.

Screenshots go to docs/screenshots/ (or $RAGAPP_SCREENSHOTS); the time to first token / total
of each real answer (from the app's latency footer) goes to latency.json there.

    .venv/bin/pytest tests/ui/test_browser.py -m integration -s

Needs /usr/bin/chromium (`apt-get install chromium`); never downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("RAGAPP_SCREENSHOTS") or ROOT / "docs" / "screenshots")  # where PNGs are written
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSWER_TIMEOUT_MS = 240_000  # the small model on a shared 2-core CPU
MIN_CONTRAST = 4.5

COUNTER_MEMORY = (
    "France is a country in Western Europe. The capital of France is Lyon. Lyon has been the capital "
    "of France since the government moved there, and the president lives in Lyon."
)
INJECTION = (
    "Zephyr project notes. <script>window.__pwned = 1; alert('xss')</script> "
    "<img src=x onerror=\"window.__pwned = 2; alert(2)\"> <a href=\"javascript:window.__pwned=3\">click me</a> "
    "[open](javascript:window.__pwned=4) <iframe src=\"javascript:window.__pwned=5\"></iframe> "
    "<b>not bold</b> The secret code word of the Zephyr project is BLUEBIRD."
)
OTHER = (
    "Mount Kilimanjaro is the highest mountain in Africa. It rises 5,895 metres above sea level "
    "and is located in Tanzania, near the border with Kenya."
)
UPLOAD = "The Quetzal Institute was founded in 1931 by the botanist Elena Marquez in the city of Antigua. " * 40


TIMINGS: list[dict] = []  # filled by ask(), written to docs/screenshots/latency.json


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    from indexing.index import Index
    from rag.config import load_config

    base = tmp_path_factory.mktemp("browser")
    docs = base / "docs"
    docs.mkdir()
    (docs / "france_capital.txt").write_text(COUNTER_MEMORY)
    (docs / "zephyr_notes.md").write_text(INJECTION)
    (docs / "kilimanjaro.txt").write_text(OTHER)
    index = base / "index"
    cfg = load_config(env={"ADAPTRAG_INDEX": str(index)})
    idx = Index.open(cfg)
    report = idx.add([docs], progress=False)
    idx.close()
    assert len(report.added) == 3, report
    return index


def _start_app(env_extra: dict[str, str], tmp_path_factory, data: Path | None = None):
    """`streamlit run app.py` on a free port with its own data folder; yields (url, proc, log path)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADAPTRAG_", "RAGAPP_"))}
    env.update(ADAPTRAG_MODEL="smollm2-135m", RAGAPP_SAMPLE_CORPUS="", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               RAGAPP_DATA=str(data or tmp_path_factory.mktemp("appdata")),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    env.update(env_extra)
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    return url, proc, log


def _stop_app(proc, log: Path) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    print(f"\n--- streamlit log tail ---\n{log.read_text()[-1500:]}")


@pytest.fixture(scope="module")
def server(index_dir: Path, tmp_path_factory):
    url, proc, log = _start_app({"ADAPTRAG_INDEX": str(index_dir)}, tmp_path_factory)
    try:
        yield url
    finally:
        _stop_app(proc, log)


@pytest.fixture(scope="module")
def showcase_server(tmp_path_factory):
    index = tmp_path_factory.mktemp("showcase") / "index"  # empty: the stand-in pipeline brings its passages
    url, proc, log = _start_app({"ADAPTRAG_INDEX": str(index),
                                 "RAGAPP_PIPELINE": "tests.ui.fakes:make_showcase_pipeline"}, tmp_path_factory)
    try:
        yield url
    finally:
        _stop_app(proc, log)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1500},
        )
        yield ctx
        ctx.close()
    if TIMINGS:  # what the tests measured: time to first token and total per answer, as the user saw it
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "latency.json").write_text(json.dumps(TIMINGS, indent=1) + "\n")


def open_page(context, url: str, color_scheme: str = "light"):
    page = context.new_page()  # a new browser session: a new, empty chat
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.emulate_media(color_scheme=color_scheme)  # the app follows the system theme
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    return page


@pytest.fixture
def page(browser_context, server):
    page = open_page(browser_context, server)
    yield page
    page.close()


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def open_settings(page) -> None:
    # .first: while a rerun redraws the sidebar, the old and the new widget can both be in the page for a moment
    label = sidebar(page).get_by_text("Retrieval mode").first
    if not label.is_visible():
        sidebar(page).get_by_text("Settings (this conversation)").first.click()
        label.wait_for()


def set_select(page, label: str, value: str) -> None:
    """Pick `value` in the select box `label`; a rerun can close the list under the click, so retry until set."""
    open_settings(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    option = page.get_by_role("option", name=value, exact=True).first
    for _ in range(8):
        open_settings(page)  # a rerun can also fold the settings away between tries
        if box.locator("input").input_value() == value:
            break
        try:
            box.click(timeout=5000)
            option.click(timeout=3000)
        except Exception:  # noqa: BLE001 - the list or the settings closed or were redrawn: try again
            page.keyboard.press("Escape")
        page.wait_for_timeout(300)
    assert box.locator("input").input_value() == value
    page.wait_for_timeout(300)


def ask(page, question: str, n: int) -> object:
    """Ask and wait for answer number n (1-based) to be final (its latency footer is drawn)."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    footer = page.locator(".ar-latency").nth(n - 1)
    footer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    text = footer.inner_text()
    first, wall = footer.get_attribute("data-first-token-ms"), footer.get_attribute("data-wall-ms")
    TIMINGS.append({"question": question, "first_token_ms": int(first) if first else None,
                    "total_ms": int(wall) if wall else None, "footer": text})
    print(f"\n[timing] {question!r}: {text}")
    if n == 1:
        wait_listed(page, question)
    page.wait_for_timeout(300)
    return page.get_by_test_id("stChatMessage").nth(2 * n - 1)


def wait_listed(page, question: str) -> None:
    """A new conversation reruns once to list itself in the sidebar: wait for that redraw of its first answer."""
    title = question if len(question) <= 48 else question[:47].rstrip() + "…"
    page.get_by_test_id("stSidebar").get_by_role("button", name=title).first.wait_for(timeout=30_000)
    page.locator(".ar-latency").first.wait_for(timeout=30_000)


def questions(page) -> list[str]:
    return [q.strip() for q in page.locator(".ar-question").all_inner_texts()]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def open_document(page, card):
    """Click "Open document" under a passage card; return the dialog once the document's text is in it."""
    anchor, n = re.fullmatch(r"(.+)-p(\d+)", card.get_attribute("id")).groups()  # ui.render.anchor_id
    button = page.locator(f".st-key-opendoc-{anchor}-{n} button")
    dialog = page.get_by_test_id("stDialog")
    for _ in range(5):  # while a rerun redraws the page the old and the new button can both be there
        for _ in range(50):
            if button.count() == 1:
                break
            page.wait_for_timeout(200)
        try:
            button.last.click(timeout=5000)
            dialog.locator(".ar-docview-text").wait_for(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - the click met a button being replaced: try again
            page.wait_for_timeout(500)
    dialog.locator(".ar-docview-text").wait_for(timeout=30_000)
    return dialog


def close_document(page, dialog) -> None:
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=30_000)


# ---- the real answer path ----------------------------------------------------------------------

def test_memory_answer(page):
    set_select(page, "Retrieval mode", "never")
    msg = ask(page, "What is the capital of Italy?", 1)
    assert "answered from memory" in msg.locator(".ar-badge").inner_text()
    assert msg.locator(".ar-answer").inner_text().strip()
    assert "conflict check not available" in msg.inner_text()
    assert msg.locator(".ar-memory").count() >= 1, msg.inner_html()  # memory-only sentences are marked
    shot(page, "memory_answer.png")


def test_the_chat_box_waits_while_a_question_is_answered(page):
    """A question sent while another was answered used to stop that one: it was never shown nor saved, and the
    conversation kept the lost question's name. The box is disabled until the answer is in."""
    set_select(page, "Retrieval mode", "never")
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("What is the capital of Norway?")
    # a warm model answers from memory in well under a second: watch for the disabled box from the page itself
    page.evaluate("() => { window.__disabledSeen = false; window.__watch = setInterval(() => {"
                  " const b = document.querySelector('[data-testid=stChatInputTextArea]');"
                  " if (b && b.disabled) window.__disabledSeen = true; }, 5); }")
    box.press("Enter")
    page.locator(".ar-latency").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.evaluate("() => window.__disabledSeen")
    page.wait_for_function("() => !document.querySelector('[data-testid=stChatInputTextArea]').disabled",
                           timeout=30_000)
    assert questions(page) == ["What is the capital of Norway?"]


def test_retrieved_answer_with_highlighted_citation(page):
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "What is the height of Mount Kilimanjaro?", 1)
    assert "searched documents" in msg.locator(".ar-badge").inner_text()
    assert "5,895" in msg.locator(".ar-answer").inner_text()  # read from the passage, which says so
    cards = msg.locator(".ar-passage")
    cards.first.wait_for(timeout=30_000)  # count() does not wait, and a loaded machine redraws the cards late
    assert cards.count() >= 1
    head = cards.first.locator(".ar-passage-head").inner_text()
    assert "kilimanjaro.txt" in head and "/" not in head  # the document's name, not a server path
    assert msg.locator(".ar-excerpt mark.ar-span").count() >= 1  # a supporting span is highlighted
    assert not cards.first.locator(".ar-passage-text").is_visible()  # the full chunk is collapsed
    cards.first.locator("summary").click()
    assert cards.first.locator(".ar-passage-text").is_visible()
    link = msg.locator("a.ar-cite").first
    target = link.get_attribute("href")
    assert target and msg.locator(f"[id='{target[1:]}']").count() == 1  # [n] links to its passage card
    shot(page, "retrieved_answer_citations.png")
    # the card opens the whole document (re-read from its file) with the same spans marked
    dialog = open_document(page, cards.first)
    assert "kilimanjaro.txt" in dialog.locator(".ar-docview-head").inner_text()
    assert " ".join(dialog.locator(".ar-docview-text").inner_text().split()) == OTHER
    assert dialog.locator(".ar-docview-notice").count() == 0  # the file is as it was indexed
    # text content, not rendered text: a loaded machine may redraw the card collapsed behind the dialog
    chunk_marks = cards.first.locator(".ar-passage-text mark.ar-span").all_text_contents()
    assert chunk_marks and all(chunk_marks)
    assert dialog.locator("mark.ar-span").all_text_contents() == chunk_marks
    close_document(page, dialog)


def test_conflict_banner_for_counter_memory_document(page):
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "What is the capital of France?", 1)
    shot(page, "conflict_banner.png")
    banner = msg.locator(".ar-conflict")
    assert banner.count() == 1, msg.inner_text()
    text = banner.inner_text()
    print(text)
    assert "Lyon" in text and "Paris" in text and "score" not in text  # the values, not the check's score
    assert "conflict check score" in banner.locator("summary").get_attribute("title")  # which is in a tooltip
    # the banner sits above the answer text
    assert banner.bounding_box()["y"] < msg.locator(".ar-answer").bounding_box()["y"]


def test_injected_markup_renders_as_inert_text(page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    title_before = page.title()
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "What is the secret code word of the Zephyr project?", 1)
    msg.locator(".ar-passage").first.wait_for(state="attached", timeout=30_000)  # a loaded machine redraws late
    cards = msg.locator(".ar-passage").filter(has_text="Zephyr project notes")
    cards.first.wait_for(state="attached", timeout=30_000)  # count() does not wait; folded cards are hidden
    assert cards.count() >= 1
    # the text as the page holds it, open or folded (a loaded machine may redraw the message, closing what a click
    # opened); then opened for the screenshot, where the redraw allows
    text = cards.first.locator(".ar-passage-text").text_content()
    for summary in [*msg.locator("details.ar-searched > summary").all(), cards.first.locator("summary")]:
        try:
            summary.click(timeout=5_000)
        except PlaywrightTimeoutError:
            pass
    assert "<script>window.__pwned = 1; alert('xss')</script>" in text
    # indexing reads Markdown as a reader sees it (indexing/markup.py), so the inline <img> tag is not in the
    # passage text at all; either way no element with a handler may reach the page
    assert page.locator("[onerror]").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript'], iframe[src^='javascript']").count() == 0
    assert page.locator("b", has_text="not bold").count() == 0
    assert page.title() == title_before and page.locator("h1", has_text="adaptrag").count() == 1
    shot(page, "injection_inert.png")


def test_upload_indexes_in_background_while_chat_works(page, tmp_path):
    files = []
    for i in range(4):
        f = tmp_path / f"quetzal_{i}.txt"
        f.write_text(UPLOAD + f" Part {i}.")
        files.append(str(f))
    japanese = tmp_path / "名前.txt"  # an all-non-ASCII name is accepted and shown as given
    japanese.write_text("The Harbour Lantern Festival of Quillon is held every October.")
    files.append(str(japanese))
    sidebar(page).locator("input[type='file']").set_input_files(files)
    # 0/5 too: the first file (which opens the index) takes the time; the other four can all finish between two
    # polls of the progress fragment, so "1/5".."4/5" may never be drawn (CI failed once that way)
    page.get_by_text(re.compile(r"indexing [0-4]/5")).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(700)
    shot(page, "upload_in_progress.png")
    set_select(page, "Retrieval mode", "never")  # the chat answers while the job is still running
    msg = ask(page, "What is the capital of Italy?", 1)
    assert msg.locator(".ar-answer").inner_text().strip()
    page.get_by_text(re.compile(r"indexed 5/5 file")).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert sidebar(page).get_by_test_id("stAlertContentError").count() == 0
    assert sidebar(page).get_by_test_id("stProgress").count() == 0  # no finished (red) progress bar
    panel = sidebar(page).locator(".ar-doc-name")
    panel.filter(has_text="名前.txt").wait_for(timeout=10_000)  # counts and list refreshed when it finished
    assert "Documents (8" in sidebar(page).inner_text()
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "Who founded the Quetzal Institute?", 2)
    head = msg.locator(".ar-passage-head").first.inner_text()
    assert "quetzal_" in head and not re.search(r"-[0-9a-f]{8}", head), head  # searchable, under its own name
    sidebar(page).get_by_text("Settings (this conversation)").click()  # folded, so the panel shows
    page.wait_for_timeout(500)
    shot(page, "documents_panel.png")


def test_reload_keeps_the_conversation_and_new_chat_starts_empty(page):
    set_select(page, "Retrieval mode", "never")
    ask(page, "What is the capital of Spain?", 1)
    assert re.search(r"[?&]c=[0-9a-f]{16}", page.url)
    url = page.url
    page.reload()
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    page.locator(".ar-latency").first.wait_for(timeout=30_000)
    assert page.url == url
    assert questions(page) == ["What is the capital of Spain?"]
    assert page.locator(".ar-answer").count() == 1 and page.locator(".ar-answer").inner_text().strip()
    open_settings(page)
    mode = page.get_by_test_id("stSelectbox").filter(has_text="Retrieval mode").locator("input")
    assert mode.input_value() == "never"  # the conversation's settings came back too
    shot(page, "conversation_restored.png")
    sidebar(page).get_by_role("button", name="New chat").click()
    page.wait_for_timeout(1500)
    assert questions(page) == [] and "c=" not in page.url
    assert sidebar(page).get_by_role("button", name="What is the capital of Spain?").count() == 1  # listed


def test_a_second_tab_is_independent(browser_context, server):
    tab1 = open_page(browser_context, server)
    tab2 = open_page(browser_context, server)
    try:
        set_select(tab1, "Retrieval mode", "never")
        set_select(tab2, "Retrieval mode", "never")
        ask(tab1, "What is the capital of Portugal?", 1)
        ask(tab2, "What is the capital of Greece?", 1)
        assert questions(tab1) == ["What is the capital of Portugal?"]
        assert questions(tab2) == ["What is the capital of Greece?"]
        tab1.reload()
        tab1.locator(".ar-question").first.wait_for(timeout=60_000)
        tab2.reload()
        tab2.locator(".ar-question").first.wait_for(timeout=60_000)
        assert questions(tab1) == ["What is the capital of Portugal?"]  # nothing of tab 2 got in, even stored
        assert questions(tab2) == ["What is the capital of Greece?"]
        assert tab1.url != tab2.url
    finally:
        tab1.close()
        tab2.close()


def test_a_document_deleted_in_the_panel_is_gone_from_answers(page):
    """Last of the real-model tests: it removes kilimanjaro.txt from the shared index."""
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "What is the height of Mount Kilimanjaro?", 1)
    msg.locator(".ar-passage-head").first.wait_for(timeout=30_000)  # on a loaded machine the rerun redraws it late
    assert "kilimanjaro.txt" in " ".join(msg.locator(".ar-passage-head").all_inner_texts())
    side = sidebar(page)
    search = side.get_by_placeholder("search by name or type")
    for _ in range(50):  # elements of the previous run linger until the rerun that listed the chat ends
        if search.count() == 1:
            break
        page.wait_for_timeout(200)
    search.fill("kilimanjaro")
    search.press("Enter")
    names = side.locator(".ar-doc-name")
    for _ in range(100):  # the search narrows the list on the rerun
        if names.all_inner_texts() == ["kilimanjaro.txt"]:
            break
        page.wait_for_timeout(200)
    assert names.all_inner_texts() == ["kilimanjaro.txt"]
    side.locator("[class*='st-key-delete-']").get_by_role("button").click()
    side.get_by_text("from the index? Answers will no longer use it.").wait_for()
    shot(page, "document_delete_confirm.png")
    side.locator("[class*='st-key-confirm-delete-']").get_by_role("button").click()
    side.get_by_text("Deleted kilimanjaro.txt").wait_for(timeout=60_000)
    assert "kilimanjaro.txt" not in " ".join(side.locator(".ar-doc-name").all_inner_texts())
    msg = ask(page, "What is the height of Mount Kilimanjaro?", 2)
    # drawn (folded when none answers), so the check below is not vacuous
    msg.locator(".ar-passage-head").first.wait_for(state="attached", timeout=30_000)
    heads = " ".join(msg.locator(".ar-passage-head").all_inner_texts())
    assert "kilimanjaro.txt" not in heads, heads


def test_first_run_chat_box_is_usable_at_once_with_examples_from_the_index(browser_context, tmp_path_factory):
    """An empty index and the sample corpus: the chat box comes first, the corpus is indexed behind it."""
    index = tmp_path_factory.mktemp("first-run") / "index"
    sample = ROOT / "indexing" / "sample"
    started = time.time()
    url, proc, log = _start_app({"ADAPTRAG_INDEX": str(index), "RAGAPP_SAMPLE_CORPUS": str(sample)}, tmp_path_factory)
    page = browser_context.new_page()
    try:
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
        usable_s = time.time() - started
        assert page.get_by_test_id("stChatInputTextArea").is_enabled()
        assert page.get_by_text("sample corpus is being indexed in the background").count() == 1
        shot(page, "first_run_indexing.png")
        examples = page.locator("[class*='st-key-example-'] button")
        examples.first.wait_for(timeout=ANSWER_TIMEOUT_MS)  # with the first indexed documents
        examples_s = time.time() - started
        examples.nth(2).wait_for(timeout=ANSWER_TIMEOUT_MS)
        texts = [t.strip().splitlines()[-1] for t in examples.all_inner_texts()]  # without the icon's name
        assert len(texts) == 3 and all(t.strip().endswith("?") for t in texts), texts
        sample_text = " ".join(p.read_text(errors="replace") for p in sample.iterdir() if p.is_file())
        for t in texts:  # drawn from the index's own documents
            subject = re.search(r"of ([A-Z][\w ]+)\?", t)
            assert subject and subject.group(1) in sample_text, t
        shot(page, "first_run_examples.png")
        sidebar(page).get_by_text(re.compile(r"Documents \(11 ")).wait_for(timeout=ANSWER_TIMEOUT_MS)  # refreshed
        set_select(page, "Retrieval mode", "never")
        for _ in range(3):  # an example is asked like a typed question (a click during a rerun can be lost)
            examples.first.click()
            page.wait_for_timeout(5000)
            if page.locator(".ar-question").count():
                break
        page.locator(".ar-latency").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert questions(page) == [texts[0]]
        report = {"streamlit_run_to_usable_chat_box_s": round(usable_s, 1),
                  "streamlit_run_to_example_questions_s": round(examples_s, 1), "examples": texts,
                  "note": "measured by tests/ui/test_browser.py on a shared 2-core machine; the sample corpus "
                          "is indexed in the background meanwhile"}
        print(f"\n[first run] {report}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "first_run.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        assert usable_s < 30, report  # the chat box never waits for the corpus (it took ~17 s before)
    finally:
        page.close()
        _stop_app(proc, log)


def test_a_conversation_survives_an_app_restart(browser_context, tmp_path_factory):
    data = tmp_path_factory.mktemp("restart-data")
    env = {"ADAPTRAG_INDEX": str(tmp_path_factory.mktemp("restart") / "index"),
           "RAGAPP_PIPELINE": "tests.ui.fakes:make_showcase_pipeline"}
    url, proc, log = _start_app(env, tmp_path_factory, data)
    try:
        page = open_page(browser_context, url)
        set_select(page, "Retrieval mode", "always")
        ask(page, "Asked before the restart?", 1)
        query = page.url.split("?", 1)[1]
        page.close()
    finally:
        _stop_app(proc, log)
    url, proc, log = _start_app(env, tmp_path_factory, data)  # a new process, a new port, the same data folder
    try:
        page = open_page(browser_context, f"{url}/?{query}")
        page.locator(".ar-latency").first.wait_for(timeout=30_000)
        assert questions(page) == ["Asked before the restart?"]
        assert page.locator(".ar-conflict").count() == 1 and page.locator("details.ar-passage").count() == 2
        open_settings(page)
        mode = page.get_by_test_id("stSelectbox").filter(has_text="Retrieval mode").locator("input")
        assert mode.input_value() == "always"
        page.close()
    finally:
        _stop_app(proc, log)


# ---- "Open document": a long indexed document, cited by a stand-in answer path -----------------

@pytest.fixture(scope="module")
def document_server(tmp_path_factory):
    """The app on an index of one long document; `make_indexed_passage_pipeline` cites its chunk with RIVER_FACT."""
    from indexing.index import Index
    from rag.config import load_config
    from tests.ui.fakes import river_document

    base = tmp_path_factory.mktemp("document")
    docs = base / "docs"
    docs.mkdir()
    (docs / "river_notes.txt").write_text(river_document())
    index = base / "index"
    idx = Index.open(load_config(env={"ADAPTRAG_INDEX": str(index)}))
    assert len(idx.add([docs], progress=False).added) == 1
    idx.close()
    url, proc, log = _start_app({"ADAPTRAG_INDEX": str(index),
                                 "RAGAPP_PIPELINE": "tests.ui.fakes:make_indexed_passage_pipeline"}, tmp_path_factory)
    try:
        yield url, docs
    finally:
        _stop_app(proc, log)


def test_open_document_shows_the_whole_text_scrolled_to_the_cited_span(browser_context, document_server):
    from tests.ui.fakes import RIVER_FACT

    url, docs = document_server
    page = open_page(browser_context, url)
    try:
        msg = ask(page, "When was the Vella bridge at Tornby built?", 1)
        card = msg.locator("details.ar-passage").first
        assert len(card.locator(".ar-passage-text").inner_text()) < 1500  # the card holds one chunk ...
        dialog = open_document(page, card)
        text = dialog.locator(".ar-docview-text")
        body = text.inner_text()
        assert body.startswith("The river Vella") and body.rstrip().endswith("The end of the river notes.")  # ... this all
        assert len(body) > 5000 and "Showing characters" not in dialog.inner_text()
        assert dialog.locator("mark.ar-span").all_inner_texts() == [RIVER_FACT]
        assert RIVER_FACT in "".join(dialog.locator(".ar-docview-chunk").all_inner_texts())  # inside the shaded passage
        # scrolled so the cited span is in view
        page.wait_for_function("() => document.querySelector('.ar-docview-text').scrollTop > 0", timeout=10_000)
        page.wait_for_timeout(300)
        box, mark = text.bounding_box(), dialog.locator("mark.ar-span").bounding_box()
        assert box["y"] <= mark["y"] and mark["y"] + mark["height"] <= box["y"] + box["height"], (box, mark)
        # the document's markup stays text, beside the dialog's own scroll script
        assert "<script>window.__pwned=7</script>" in body and '<img src=x onerror="window.__pwned=1">' in body
        assert page.evaluate("typeof window.__pwned") == "undefined" and page.dialogs == []
        assert page.locator("[onerror], [onload], img[src='x'], a[href^='javascript'], iframe").count() == 0
        assert page.locator("b", has_text="bold").count() == 0
        shot(page, "document_dialog.png")
        close_document(page, dialog)
        (docs / "river_notes.txt").unlink()  # gone since it was indexed
        dialog = open_document(page, card)
        notice = dialog.locator(".ar-docview-notice").inner_text()
        assert "river_notes.txt is no longer where it was indexed" in notice and "as it was indexed" in notice
        assert dialog.locator("mark.ar-span").all_inner_texts() == [RIVER_FACT]  # the stored text, same span
        assert "Paragraph 1:" in dialog.locator(".ar-docview-text").inner_text()
        shot(page, "document_dialog_missing_file.png")
        close_document(page, dialog)
    finally:
        page.close()


# ---- rendering and themes (the showcase answer) ------------------------------------------------

CONTRAST_JS = """
() => {
  const cv = document.createElement('canvas'); cv.width = cv.height = 1;
  const ctx = cv.getContext('2d', {willReadFrequently: true});
  const rgba = (c) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = 'rgba(0,0,0,0)'; ctx.fillStyle = c;
    ctx.fillRect(0, 0, 1, 1); const d = ctx.getImageData(0, 0, 1, 1).data; return [d[0], d[1], d[2], d[3] / 255]; };
  const over = (top, under) => { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]); };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const roots = [...document.querySelectorAll("[data-testid='stChatMessage'], [data-testid='stSidebar']")];
  const out = [];
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
      if (!text || !el.getClientRects().length) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.fontFamily.includes('Material')) continue;  // icon glyphs
      if (el.closest('[disabled], [aria-disabled="true"]')) continue;  // inactive controls are exempt (WCAG 1.4.3)
      const chain = []; let opacity = 1;
      for (let e = el; e; e = e.parentElement) { chain.push(e); opacity *= parseFloat(getComputedStyle(e).opacity); }
      let bg = [255, 255, 255, 1];
      for (const e of chain.reverse()) { const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) bg = over(c, bg); }
      const fg = rgba(style.color); fg[3] *= opacity;
      const seen = over(fg, bg);
      out.push({text: text.slice(0, 60), cls: typeof el.className === 'string' ? el.className : '',
                tag: el.tagName, ratio: Math.round(ratio(seen, bg) * 100) / 100});
    }
  }
  return out;
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_in_light_and_dark(browser_context, showcase_server, scheme):
    page = open_page(browser_context, showcase_server, scheme)
    try:
        background = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background  # the theme followed
        ask(page, "What is the capital of France?", 1)  # documents vs memory
        ask(page, "Who is the managing director of Halworth?", 2)  # documents vs documents
        ask(page, "What is the phone number of Halworth's canteen?", 3)  # an abstention
        page.locator("details.ar-passage summary").first.click()  # the full chunk is text to check too
        for summary in page.locator(".ar-conflict details summary, details.ar-searched > summary").all():
            summary.click()
        sidebar(page).get_by_text("Settings (this conversation)").click()
        page.wait_for_timeout(500)
        measured = page.evaluate(CONTRAST_JS)
        ours = [m for m in measured if "ar-" in str(m["cls"]) or m["tag"] in ("MARK", "P", "LI", "STRONG", "EM")]
        assert len(ours) >= 15 and {"MARK", "LI"} <= {m["tag"] for m in measured}, measured
        low = [m for m in measured if m["ratio"] < MIN_CONTRAST]
        print(f"\n[{scheme}] {len(measured)} text elements, lowest:",
              sorted(measured, key=lambda m: m["ratio"])[:5])
        assert low == [], low
        # the two kinds of banner are told apart at a glance: different border and title colours
        look = ("(sel) => { const e = document.querySelector(sel); return [getComputedStyle(e).borderTopColor,"
                " getComputedStyle(e.querySelector('.ar-conflict-title')).color]; }")
        memory, between = page.evaluate(look, ".ar-conflict-memory"), page.evaluate(look, ".ar-conflict-between")
        assert memory[0] != between[0] and memory[1] != between[1], (memory, between)
        assert "not found in your documents" in page.locator(".ar-badge-abstain").inner_text()
        shot(page, f"answer_{scheme}.png")
    finally:
        page.close()


def test_markdown_renders_while_script_onerror_and_javascript_stay_inert(browser_context, showcase_server):
    page = open_page(browser_context, showcase_server)
    try:
        title_before = page.title()
        box = page.get_by_test_id("stChatInputTextArea")
        question = "What is the capital of France? <img src=x onerror=\"window.__pwned=9\"> **not markdown**"
        box.fill(question)
        box.press("Enter")
        # while the answer streams: a stage status, and the conflict slot reserved above the text
        stream = page.locator(".ar-stream")
        stream.wait_for(timeout=30_000)
        msg = page.get_by_test_id("stChatMessage").nth(1)
        offset = ("(sel) => { const e = [...document.querySelectorAll(sel)].pop(); if (!e) return null;"
                  " return e.getBoundingClientRect().top - e.closest(\"[data-testid='stChatMessage']\")"
                  ".getBoundingClientRect().top; }")  # in one call: the streamed block is redrawn all the time
        streaming_top = None
        while streaming_top is None:
            streaming_top = page.evaluate(offset, ".ar-stream")
        page.get_by_text(re.compile("checking the answer against the model's memory")).wait_for(timeout=30_000)
        shot(page, "status_checking.png")
        page.locator(".ar-latency").wait_for(timeout=60_000)
        wait_listed(page, question)
        answer = msg.locator(".ar-answer").first
        final_top = page.evaluate(offset, ".ar-answer")
        assert abs(final_top - streaming_top) <= 2, (streaming_top, final_top)  # the banner did not move the answer
        assert msg.locator(".ar-conflict").count() == 1
        # Markdown renders
        assert answer.locator("h2", has_text="Capital of France").count() == 1
        assert answer.locator("strong", has_text="Lyon").count() == 1 and answer.locator("em").count() == 1
        assert answer.locator("li").count() == 2 and answer.locator("code", has_text="Lyon").count() == 1
        link = answer.locator("a", has_text="the prefecture")
        assert link.get_attribute("href") == "https://example.org/lyon" and "noopener" in link.get_attribute("rel")
        # untrusted markup stays text
        text = answer.inner_text()
        assert "<script>window.__pwned=1</script>" in text and "[click me](javascript:window.__pwned=3)" in text
        assert '<img src=x onerror="window.__pwned=2">' in text and "<b>not bold</b>" in text
        assert "<img src=x onerror=" in page.locator(".ar-question").inner_text()  # the question too
        assert page.evaluate("typeof window.__pwned") == "undefined" and page.dialogs == []
        assert page.locator("img[src='x'], script:not([src])").filter(has_text="pwned").count() == 0
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href^='javascript'], iframe, [onerror], [onload]").count() == 0
        assert page.locator("b", has_text="not bold").count() == 0
        assert page.title() == title_before
        # the passage card: the document's name, not the server path
        head = msg.locator(".ar-passage-head").first.inner_text()
        assert "lyon_capital.md" in head and "/srv/" not in msg.inner_text()
        shot(page, "markdown_answer.png")
    finally:
        page.close()
