"""ui.uploads and ui.indexing_job: hostile file names, limits, background jobs with per-file errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from ui.indexing_job import IndexJob, describe_result
from ui.uploads import UploadError, UploadNames, display_name, sanitize_filename, save_upload

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
    with pytest.raises(UploadError, match=r"no extension.*accepted: txt, md"):
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
    saved = save_upload(folder, "doc.txt", b"overwrite", 100)
    assert saved.parent == folder.resolve() and not saved.is_symlink() and saved.read_bytes() == b"overwrite"
    assert outside.read_text() == "keep"


def test_same_name_twice_keeps_both_files(tmp_path: Path):
    first = save_upload(tmp_path, "notes.txt", b"one", 100)
    second = save_upload(tmp_path, "dir/notes.txt", b"two", 100)  # cleans to a different, and
    third = save_upload(tmp_path, "notes.txt", b"three", 100)  # to the same name: never overwritten
    assert len({first, second, third}) == 3
    assert [p.read_bytes() for p in (first, second, third)] == [b"one", b"two", b"three"]


def test_non_ascii_names_are_accepted_and_kept_for_display(tmp_path: Path):
    path = save_upload(tmp_path / "uploads", "名前.txt", "こんにちは".encode(), 100)
    assert path.suffix == ".txt" and path.name.isascii() and path.read_text() == "こんにちは"
    names = UploadNames(tmp_path / "uploads.sqlite")
    names.add(path, "名前.txt")
    assert names.all() == {str(path): "名前.txt"}
    assert display_name("../../résumé\n.md") == "résumé.md" and display_name("a/b/报告.pdf") == "报告.pdf"
    names.forget(path)
    assert names.all() == {}


def test_a_name_with_an_unknown_type_names_it(tmp_path: Path):
    with pytest.raises(UploadError, match=r"名前\.exe: file type \.exe is not indexed"):
        save_upload(tmp_path, "名前.exe", b"x", 100)


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
