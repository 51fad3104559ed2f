"""Peak memory and time of indexing big files: `index add` in a child process, its peak RSS read from /proc.

    python -m indexing.bench_memory --make 50 /tmp/big50.txt          # write a 50 MB single-line text file
    python -m indexing.bench_memory /tmp/big50.txt [--out report.json]  # chunk, then index it; print JSON

Three phases, each in a fresh process so one cannot hide another's peak: `chunk` (load + chunk the
files, no model but the tokenizer), `bm25` (chunk, then build the BM25 index from the chunk texts as a
commit does) and `index` (the whole `python -m indexing.cli add` into a temporary index folder that is
deleted afterwards, unless --index DIR is given). `--phases chunk,bm25` leaves out the embedding, which
dominates the time (~10 chunks per CPU-second with MiniLM). The peak is the child's VmHWM (the
kernel's high-water mark of resident memory), polled every second; progress goes to stderr every
--every seconds. The bound issue 19 sets: peak RSS <= 1.5 GB for a 50 MB text file. Nothing is written
except the files named on the command line and the temporary index.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BOUND_MB = 1536  # issue 19: peak RSS <= 1.5 GB while chunking and indexing a 50 MB text file

_VOCAB = ("the of and to in a is that for it as was with be by on not he this are or his from at which but "
          "river mountain castle harbour festival library railway bridge market cathedral museum garden island "
          "valley forest desert glacier canyon volcano lagoon meadow orchard vineyard quarry century kingdom "
          "treaty parliament election province population language composer painter novel symphony")
_WORDS = _VOCAB.split()


def make_text(path: Path, mb: float, seed: int = 0) -> None:
    """A single line of English-like sentences, `mb` MB long (the shape that blew up in issue 19)."""
    rng = random.Random(seed)
    target = int(mb * 1024 * 1024)
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < target:
            sentences = []
            for _ in range(1000):
                words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 24))]
                sentences.append(" ".join(words).capitalize() + f" {rng.randint(1000, 2000)}.")
            block = " ".join(sentences) + " "
            block = block[: target - written]
            f.write(block)
            written += len(block)


def _peak_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (wall time on a shared machine says little)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def measure(cmd: list[str], every: float, label: str) -> dict:
    """Run `cmd`, polling its peak RSS; returns peak_rss_mb, seconds (wall), cpu_seconds, exit_code, stderr tail."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "ADAPTRAG_INJECT_INDEX_INPUTS": "off"}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
        peak, cpu, last = 0.0, 0.0, start
        while proc.poll() is None:
            peak = max(peak, _peak_mb(proc.pid))
            cpu = max(cpu, _cpu_seconds(proc.pid))
            if time.perf_counter() - last >= every:
                last = time.perf_counter()
                print(f"[{label}] {last - start:.0f} s, {cpu:.0f} CPU s, peak RSS so far {peak:.0f} MB",
                      file=sys.stderr, flush=True)
            time.sleep(1.0)
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
    return {"peak_rss_mb": round(peak, 1), "seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(cpu, 1), "load_average": os.getloadavg()[0],
            "exit_code": proc.returncode, "stdout": out.strip()[-500:], "stderr_tail": tail}


_CHUNK_ONLY = """
import sys, time
from indexing.chunking import Chunker
from indexing.loaders import iter_loaded
from transformers import AutoTokenizer
from rag.models import resolve_model
tok = AutoTokenizer.from_pretrained(str(resolve_model("minilm-l6").path))
chunker, n, t = Chunker(tok, 200, 40), 0, time.perf_counter()
for loaded in iter_loaded(sys.argv[1:], max_file_mb=1e9):
    for doc in loaded.documents:
        for _ in chunker.iter_chunks(doc):
            n += 1
print(n, "chunks in", round(time.perf_counter() - t, 1), "s")
"""

_BM25_ONLY = """
import sys, time, uuid
from indexing.bm25 import BM25Index
from indexing.chunking import Chunker
from indexing.loaders import iter_loaded
from transformers import AutoTokenizer
from rag.models import resolve_model
tok = AutoTokenizer.from_pretrained(str(resolve_model("minilm-l6").path))
chunker, t = Chunker(tok, 200, 40), time.perf_counter()
rows = ((c.id, c.text) for loaded in iter_loaded(sys.argv[1:], max_file_mb=1e9) for doc in loaded.documents
        for c in chunker.iter_chunks(doc))
index = BM25Index.build(rows=rows)
print(len(index), "chunks in BM25 in", round(time.perf_counter() - t, 1), "s;",
      len(index.search("river castle", 5)), "hits")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexing.bench_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to index (or, with --make, the file to write)")
    parser.add_argument("--make", type=float, metavar="MB", help="write a single-line text file of MB megabytes")
    parser.add_argument("--index", metavar="DIR", help="index folder (default: a temporary one, deleted after)")
    parser.add_argument("--phases", default="chunk,bm25,index", help="which of chunk,bm25,index to run")
    parser.add_argument("--every", type=float, default=60.0, metavar="S", help="progress every S seconds")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.make:
        for p in args.paths:
            make_text(Path(p), args.make)
            print(f"wrote {p}: {Path(p).stat().st_size / 1024 / 1024:.1f} MB", file=sys.stderr)
        return 0
    size_mb = sum(Path(p).stat().st_size for p in args.paths) / 1024 / 1024
    report: dict = {"paths": args.paths, "size_mb": round(size_mb, 1), "bound_mb": BOUND_MB}
    phases = args.phases.split(",")
    if "chunk" in phases:
        report["chunk"] = measure([sys.executable, "-c", _CHUNK_ONLY, *args.paths], args.every, "chunk")
    if "bm25" in phases:
        report["bm25"] = measure([sys.executable, "-c", _BM25_ONLY, *args.paths], args.every, "bm25")
    if "index" in phases:
        index = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="adaptrag-bench-"))
        try:
            report["index"] = measure([sys.executable, "-m", "indexing.cli", "add", *args.paths, "--index",
                                       str(index / "ix"), "--no-progress", "--set",
                                       f"index.max_file_mb={size_mb + 1:.0f}"], args.every, "index")
        finally:
            if not args.index:
                shutil.rmtree(index, ignore_errors=True)
    done = [report[k] for k in ("chunk", "bm25", "index") if k in report]
    report["within_bound"] = all(r["peak_rss_mb"] <= BOUND_MB and r["exit_code"] == 0 for r in done)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if report["within_bound"] else 1


if __name__ == "__main__":
    sys.exit(main())
