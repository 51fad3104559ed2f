"""Saving uploaded documents safely into the upload folder of the app's data folder.

An uploaded file's name is chosen by whoever uploads it: `sanitize_filename` reduces it to a
plain base name of safe characters (no `../`, no absolute path, no drive letter, no control or
odd characters, no hidden/dot names), and `save_upload` refuses anything that would still
resolve outside the folder, is too large, or has a type the indexer does not read.

Every upload gets a unique stored name (`NAME-XXXXXXXX.EXT`), so two files whose names clean to
the same name never overwrite each other, and a name with no ASCII letters (`名前.txt`) is
stored as `upload-XXXXXXXX.txt`. The name the user gave is kept in `UploadNames` (SQLite in
the data folder) and shown wherever the document appears.

    path = save_upload(folder, "../../etc/passwd.txt", data, max_bytes=50 * 2**20)  # -> folder/etc_passwd-1a2b3c4d.txt
    names = UploadNames(data_folder / "uploads.sqlite"); names.add(path, "名前.txt"); names.display(str(path))
"""

from __future__ import annotations

import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from ui.sqlite_file import SqliteFile

# The file types `adaptrag index add` reads (ARCHITECTURE.md / issue 2).
ACCEPTED_TYPES: tuple[str, ...] = ("txt", "md", "html", "htm", "pdf", "jsonl")
MAX_NAME_CHARS = 120


class UploadError(ValueError):
    """An upload was refused; the message names the file and what to do."""


def sanitize_filename(name: str) -> str:
    """A safe base name for an uploaded file: letters, digits, `.`, `-`, `_` only.

    Directory parts (`/` and `\\`) are folded into the name instead of followed, so
    `../../x.txt` becomes `x.txt`-like and never climbs out of the upload folder.
    Returns "" when nothing usable is left.
    """
    name = unicodedata.normalize("NFKC", name or "")
    parts = [p for p in re.split(r"[\\/]+", name) if p not in ("", ".", "..")]
    name = "_".join(parts)
    name = re.sub(r"^[A-Za-z]:", "", name)  # a Windows drive letter
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    name = re.sub(r"\.{2,}", ".", name)  # no `..` anywhere
    name = name.strip("._-")  # no hidden files, no leading dash (option-like)
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else name[:MAX_NAME_CHARS]
    return name


def file_type(name: str) -> str:
    """Lower-case extension without the dot ("" if none)."""
    return name.rpartition(".")[2].lower() if "." in name else ""


def display_name(name: str) -> str:
    """The uploaded file's own base name, printable, for showing to users (escaped where it is shown)."""
    name = unicodedata.normalize("NFKC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if len(name) > 2 * MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep = 2 * MAX_NAME_CHARS - len(ext) - 2
        name = stem[:keep] + "…." + ext if dot and len(ext) <= 8 else name[: 2 * MAX_NAME_CHARS]
    return name or "upload"


def stored_name(name: str) -> str:
    """A unique, safe file name for an upload: the sanitised stem, 8 random hex digits, the type."""
    kind = file_type(display_name(name))
    raw = unicodedata.normalize("NFKC", name or "")
    raw = raw[: -len(kind) - 1] if kind and raw.lower().endswith("." + kind) else raw
    stem = sanitize_filename(raw)[: MAX_NAME_CHARS - 20].strip("._-") or "upload"
    return f"{stem}-{secrets.token_hex(4)}" + (f".{kind}" if kind else "")


def save_upload(folder: str | Path, name: str, data: bytes, max_bytes: int) -> Path:
    """Write one uploaded file into `folder` under a new unique, sanitised name and return its path.

    Raises:
        UploadError: unsupported type, too large, empty, or a path outside `folder`.
    """
    shown = display_name(name)
    kind = file_type(shown)
    if kind not in ACCEPTED_TYPES:
        raise UploadError(f"{shown}: file type {('.' + kind) if kind else '(no extension)'!s} is not indexed; "
                          "accepted: " + ", ".join(ACCEPTED_TYPES))
    if len(data) > max_bytes:
        raise UploadError(f"{shown}: {len(data) / 2**20:.1f} MB is over the upload limit of "
                          f"{max_bytes / 2**20:.0f} MB; split the file or index it with `adaptrag index add`")
    if not data:
        raise UploadError(f"{shown}: the file is empty")
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(20):
        target = (root / stored_name(name)).resolve()
        if not target.exists() and not target.is_symlink():
            break
    else:  # 20 collisions of 32 random bits: the folder is not what we think it is
        raise UploadError(f"{shown}: could not find a free file name in {root}")
    if target.parent != root:  # belt and braces: sanitize_filename already makes this impossible
        raise UploadError(f"{shown}: refused, the name points outside the upload folder")
    tmp = root / f".{target.name}.part"
    with open(tmp, "wb") as f:  # write then rename: the indexer never sees half a file
        f.write(data)
    os.replace(tmp, target)
    return target


UPLOADS_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (path TEXT PRIMARY KEY, name TEXT NOT NULL, added_at REAL NOT NULL);
"""


class UploadNames:
    """Stored upload path -> the name the user uploaded it under (SQLite, shared by all sessions)."""

    def __init__(self, path: str | Path) -> None:
        self.db = SqliteFile(path, UPLOADS_SCHEMA)

    def add(self, stored: str | Path, original: str) -> None:
        with self.db.connect(write=True) as con:
            con.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?)",
                        (os.path.abspath(stored), display_name(original), time.time()))

    def forget(self, stored: str | Path) -> None:
        with self.db.connect(write=True) as con:
            con.execute("DELETE FROM uploads WHERE path = ?", (os.path.abspath(stored),))

    def all(self) -> dict[str, str]:
        with self.db.connect() as con:
            return dict(con.execute("SELECT path, name FROM uploads").fetchall())
