"""End-to-end: `streamlit run app.py` driven by Debian's Chromium through Playwright.

A small corpus (with a counter-memory document and a document carrying script/HTML injection)
is indexed into a tmp ADAPTRAG_INDEX; the app runs on 127.0.0.1 with the real small model
(smollm2-135m). The tests ask questions, check the rendered answer, citations, the conflict
banner and that injected markup stays inert text; screenshots go to docs/screenshots/ (or
$RAGAPP_SCREENSHOTS) and the
time to first token / total time of each answer (from the app's latency footer) are printed.

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


@pytest.fixture(scope="module")
def server(index_dir: Path, tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADAPTRAG_")}
    env.update(ADAPTRAG_INDEX=str(index_dir), ADAPTRAG_MODEL="smollm2-135m", RAGAPP_SAMPLE_CORPUS="",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    env.update({k: v for k, v in os.environ.items() if k == "RAGAPP_PIPELINE"})
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        print(f"\n--- streamlit log tail ---\n{log.read_text()[-1500:]}")


@pytest.fixture(scope="module")
def browser_context(server, tmp_path_factory):
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


@pytest.fixture
def page(browser_context, server):
    page = browser_context.new_page()  # a new browser session: empty chat history
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    yield page
    page.close()


def set_select(page, label: str, value: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box.click()
    page.get_by_role("option", name=value, exact=True).click()
    page.wait_for_timeout(300)


def ask(page, question: str, n: int) -> object:
    """Ask and wait for answer number n (1-based) to be final (its latency footer is drawn)."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    footer = page.locator(".ar-latency").nth(n - 1)
    footer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    text = footer.inner_text()
    first = re.search(r"first token (\d+) ms", text)
    wall = re.search(r"wall (\d+) ms", text)
    TIMINGS.append({"question": question, "first_token_ms": int(first.group(1)) if first else None,
                    "total_ms": int(wall.group(1)) if wall else None, "footer": text})
    print(f"\n[timing] {question!r}: {text}")
    return page.get_by_test_id("stChatMessage").nth(2 * n - 1)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_memory_answer(page):
    set_select(page, "Retrieval mode", "never")
    msg = ask(page, "What is the capital of Italy?", 1)
    assert "answered from memory" in msg.locator(".ar-badge").inner_text()
    assert msg.locator(".ar-answer").inner_text().strip()
    assert "conflict check not available" in msg.inner_text()
    assert msg.locator(".ar-memory").count() >= 1  # memory-only sentences are marked
    shot(page, "memory_answer.png")


def test_retrieved_answer_with_highlighted_citation(page):
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "How high is Mount Kilimanjaro?", 1)
    assert "searched documents" in msg.locator(".ar-badge").inner_text()
    assert msg.locator(".ar-answer").inner_text().strip()
    cards = msg.locator(".ar-passage")
    assert cards.count() >= 1 and "kilimanjaro.txt" in cards.first.inner_text()
    assert msg.locator("mark.ar-span").count() >= 1  # a supporting span is highlighted
    link = msg.locator("a.ar-cite").first
    target = link.get_attribute("href")
    assert target and msg.locator(f"[id='{target[1:]}']").count() == 1  # [n] links to its passage card
    shot(page, "retrieved_answer_citations.png")


def test_conflict_banner_for_counter_memory_document(page):
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "What is the capital of France?", 1)
    shot(page, "conflict_banner.png")
    banner = msg.locator(".ar-conflict")
    assert banner.count() == 1, msg.inner_text()
    text = banner.inner_text()
    print(text)
    assert "Lyon" in text and "score" in text
    # the banner sits above the answer text
    assert banner.bounding_box()["y"] < msg.locator(".ar-answer").bounding_box()["y"]


def test_injected_markup_renders_as_inert_text(page):
    title_before = page.title()
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "What is the secret code word of the Zephyr project?", 1)
    page.wait_for_timeout(1000)
    cards = msg.locator(".ar-passage").filter(has_text="Zephyr project notes")
    assert cards.count() >= 1
    text = cards.first.inner_text()
    assert "<script>window.__pwned = 1; alert('xss')</script>" in text
    assert '<img src=x onerror="window.__pwned = 2; alert(2)">' in text
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
    page.locator("section[data-testid='stSidebar'] input[type='file']").set_input_files(files)
    page.get_by_text(re.compile(r"indexing [1-3]/4")).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(700)
    shot(page, "upload_in_progress.png")
    set_select(page, "Retrieval mode", "never")  # the chat answers while the job is still running
    msg = ask(page, "What is the capital of Italy?", 1)
    assert msg.locator(".ar-answer").inner_text().strip()
    page.get_by_text(re.compile(r"indexed 4/4 file")).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("section[data-testid='stSidebar'] [data-testid='stAlertContentError']").count() == 0
    set_select(page, "Retrieval mode", "always")
    msg = ask(page, "Who founded the Quetzal Institute?", 2)
    assert "quetzal_" in msg.locator(".ar-passage").first.inner_text()  # the upload is searchable
