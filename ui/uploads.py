"""Saving uploaded documents safely into the upload folder.

An uploaded file's name is chosen by whoever uploads it: `sanitize_filename` reduces it to a
plain base name of safe characters (no `../`, no absolute path, no drive letter, no control or
odd characters, no hidden/dot names), and `save_upload` refuses anything that would still
resolve outside the folder, is too large, or has a type the indexer does not read.

    path = save_upload(folder, "../../etc/passwd.txt", data, max_bytes=50 * 2**20)  # -> folder/etc_passwd.txt
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

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


def save_upload(folder: str | Path, name: str, data: bytes, max_bytes: int) -> Path:
    """Write one uploaded file into `folder` under a sanitised name and return its path.

    An existing file of the same name is replaced (re-uploading a changed file re-indexes it).

    Raises:
        UploadError: empty/unsafe name, unsupported type, too large, or a path outside `folder`.
    """
    safe = sanitize_filename(name)
    if not safe:
        raise UploadError(f"{name!r}: the file name has no usable characters; rename the file and upload it again")
    kind = file_type(safe)
    if kind not in ACCEPTED_TYPES:
        raise UploadError(f"{safe}: file type {kind or '(none)'!r} is not indexed; accepted: "
                          + ", ".join(ACCEPTED_TYPES))
    if len(data) > max_bytes:
        raise UploadError(f"{safe}: {len(data) / 2**20:.1f} MB is over the upload limit of "
                          f"{max_bytes / 2**20:.0f} MB; split the file or index it with `adaptrag index add`")
    if not data:
        raise UploadError(f"{safe}: the file is empty")
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = (root / safe).resolve()
    if target.parent != root:  # belt and braces: sanitize_filename already makes this impossible
        raise UploadError(f"{name!r}: refused, the name points outside the upload folder")
    if target.is_symlink():
        raise UploadError(f"{safe}: refused, a symbolic link of that name exists in the upload folder")
    tmp = root / f".{safe}.part"
    with open(tmp, "wb") as f:  # write then rename: the indexer never sees half a file
        f.write(data)
    os.replace(tmp, target)
    return target
