"""ui.uploads and ui.indexing_job: hostile file names, limits, background jobs with per-file errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from ui.indexing_job import IndexJob, describe_result
from ui.uploads import UploadError, sanitize_filename, save_upload

HOSTILE_NAMES = [
    "../../evil.txt", "../../../../tmp/evil.txt", "/etc/passwd.txt", "C:\\Windows\\evil.txt", "..\\..\\evil.md",
    "....//....//evil.txt", "a/../../b.txt", ".hidden.txt", "-rf.txt", "na\x00me.txt", "new\nline.txt",
    "<script>alert(1)</script>.html", "spaces and ünïcödé ☃.md", "%2e%2e%2fevil.txt", "\u2025\u2215evil.txt",
    "x" * 500 + ".txt",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_stay_inside_the_folder(tmp_path: Path, name: str):
    folder = tmp_path / "uploads"
    path = save_upload(folder, name, b"hello", max_bytes=1000)
    assert path.parent == folder.resolve()
    assert path.read_bytes() == b"hello"
    assert not path.name.startswith((".", "-"))
    assert all(c.isalnum() and c.isascii() or c in "._-" for c in path.name)
    assert len(path.name) <= 120
    # nothing was written anywhere else under tmp_path
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == [path]


def test_sanitize_examples():
    assert sanitize_filename("../../etc/passwd.txt") == "etc_passwd.txt"
    assert sanitize_filename("report 2024.pdf") == "report_2024.pdf"
    assert sanitize_filename("..") == "" and sanitize_filename("/") == ""


def test_refusals_name_the_file_and_the_fix(tmp_path: Path):
    with pytest.raises(UploadError, match="no usable characters"):
        save_upload(tmp_path, "../..", b"x", 10)
    with pytest.raises(UploadError, match=r"evil\.exe.*accepted: txt, md"):
        save_upload(tmp_path, "evil.exe", b"x", 10)
    with pytest.raises(UploadError, match=r"big\.txt.*over the upload limit of 1 MB"):
        save_upload(tmp_path, "big.txt", b"x" * (2**20 + 1), 2**20)
    with pytest.raises(UploadError, match="empty"):
        save_upload(tmp_path, "empty.txt", b"", 10)
    assert not any(tmp_path.iterdir()) or all(not p.is_file() for p in tmp_path.iterdir())


def test_symlink_in_folder_is_not_followed(tmp_path: Path):
    folder = tmp_path / "up"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (folder / "doc.txt").symlink_to(outside)
    with pytest.raises(UploadError):
        save_upload(folder, "doc.txt", b"overwrite", 100)
    assert outside.read_text() == "keep"


def test_job_runs_in_background_and_reports_each_file(tmp_path: Path):
    release = threading.Event()
    seen: list[str] = []

    def add_one(path: Path):
        release.wait(5)
        seen.append(path.name)
        if path.name == "bad.txt":
            raise ValueError("cannot decode bad.txt as UTF-8; save it as UTF-8")

    done = threading.Event()
    paths = [tmp_path / n for n in ("a.txt", "bad.txt", "c.txt")]
    job = IndexJob(paths, add_one, on_done=done.set).start()
    time.sleep(0.1)
    state = job.snapshot()
    assert not state.finished and state.done == 0 and state.current == "a.txt"  # caller was not blocked
    release.set()
    job.join(5)
    state = job.snapshot()
    assert state.finished and state.done == 3 and state.fraction == 1.0 and done.is_set()
    assert [(r.path, r.ok) for r in state.results] == [("a.txt", True), ("bad.txt", False), ("c.txt", True)]
    assert "save it as UTF-8" in state.failed[0].message


def test_describe_result_reads_reports():
    class Report:
        errors: ClassVar[dict[str, str]] = {"x.pdf": "no text layer"}

    assert describe_result(Report()) == (False, "x.pdf: no text layer")
    assert describe_result(None) == (True, "indexed")
