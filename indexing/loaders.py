"""Turn files, folders and globs into `Document`s (extracted text + metadata).

Supported: .txt, .md/.markdown, .html/.htm (visible text only), .pdf (text layer), .jsonl (one document
per line with a `text` field and optional `id`, `title`, `source`). Everything else is skipped with a
one-line reason. Bad files (unreadable, binary, empty, undecodable, too large, symlink loops) are
reported per file as `Skipped(error=True)` and never stop the rest.

    docs, skipped = load_paths(["notes/", "*.pdf"], max_file_mb=50)
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                 ".pdf": "pdf", ".jsonl": "jsonl"}


@dataclass(frozen=True)
class Heading:
    """A heading at a character offset of the document text (markdown #, html title/h1..h3)."""

    start: int
    text: str


@dataclass(frozen=True)
class Document:
    """One indexable document: its extracted text and where it came from."""

    doc_id: str  # stable key: the resolved file path, or "path#id" for a JSONL line
    source: str  # what a user can open: the file path (or the JSONL `source` field)
    title: str  # document title (file stem, html <title>, JSONL `title`)
    text: str  # extracted text; chunk offsets point into this string
    content_hash: str  # sha256 of the raw bytes this document came from
    file: str  # the file it was read from (a JSONL file yields several documents)
    headings: tuple[Heading, ...] = ()  # sorted by start


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, with a one-line reason."""

    path: str
    reason: str
    error: bool  # True: bad input the user should look at; False: unsupported type (expected, not an error)


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # files that yielded documents


def iter_files(paths: Sequence[str | os.PathLike]) -> Iterator[tuple[Path, str | None]]:
    """Expand files, folders (recursively, following symlinks safely) and globs.

    Yields (path, problem): problem is None for a file to read, else a reason to skip it.
    """
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        text = os.fspath(raw)
        expanded = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]
        if not expanded:
            yield Path(text), "no file matches this pattern"
        for item in expanded:
            yield from _walk(Path(item), seen_dirs)


def _walk(path: Path, seen_dirs: set[tuple[int, int]]) -> Iterator[tuple[Path, str | None]]:
    try:
        st = path.stat()  # follows symlinks; a loop raises ELOOP
    except OSError as e:
        if path.is_symlink():
            yield path, f"broken or looping symlink ({e.strerror})"
        else:
            yield path, f"cannot access: {e.strerror or e}"
        return
    if not os.path.isdir(path):
        if not path.is_file():
            yield path, "not a regular file (device, FIFO or socket)"
        else:
            yield path, None
        return
    key = (st.st_dev, st.st_ino)
    if key in seen_dirs:
        yield path, "symlink loop: this folder was already visited"
        return
    seen_dirs.add(key)
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        yield path, f"cannot list folder: {e.strerror or e}"
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden files and folders (.git, .venv) are never documents
        yield from _walk(Path(entry.path), seen_dirs)


def load_paths(paths: Sequence[str | os.PathLike], max_file_mb: float = 50.0) -> LoadResult:
    """Load every supported file under `paths`; see the module docstring."""
    result = LoadResult()
    seen: set[str] = set()
    for path, problem in iter_files(paths):
        key = os.path.abspath(path)
        if key in seen:
            continue
        seen.add(key)
        if problem is not None:
            result.skipped.append(Skipped(str(path), problem, error=True))
            continue
        docs, skip = load_file(path, max_file_mb)
        if skip is not None:
            result.skipped.append(skip)
        if docs:
            result.documents.extend(docs)
            result.files.append(str(Path(key)))
    return result


def load_file(path: Path, max_file_mb: float = 50.0) -> tuple[list[Document], Skipped | None]:
    """Read one file. Returns its documents, or a `Skipped` saying why not."""
    kind = TEXT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        return [], Skipped(str(path), f"unsupported file type {path.suffix or '(none)'!r}; "
                                      f"supported: {', '.join(sorted(TEXT_SUFFIXES))}", error=False)
    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            return [], Skipped(str(path), f"too large: {size / 1024 / 1024:.1f} MB > index.max_file_mb={max_file_mb:g}",
                               error=True)
        if size == 0:
            return [], Skipped(str(path), "empty file", error=True)
        data = path.read_bytes()
    except OSError as e:
        return [], Skipped(str(path), f"unreadable: {e.strerror or e}", error=True)
    if kind == "pdf":
        return _from_result(path, data, _pdf_text)
    if b"\x00" in data[:8192]:
        return [], Skipped(str(path), "binary file (contains NUL bytes)", error=True)
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return [], Skipped(str(path), "undecodable: not UTF-8 text (convert it to UTF-8)", error=True)
    file_hash = hashlib.sha256(data).hexdigest()
    abspath = str(path.resolve())
    if kind == "jsonl":
        return _jsonl_documents(path, abspath, text)
    if kind == "html":
        body, title, headings = html_text(text)
        title = title or path.stem
    elif kind == "markdown":
        body, title, headings = text, "", markdown_headings(text)
        title = headings[0].text if headings else path.stem
    else:
        body, title, headings = text, path.stem, ()
    if not body.strip():
        return [], Skipped(str(path), "no text to index (only whitespace or markup)", error=True)
    return [Document(abspath, abspath, title, body, file_hash, abspath, tuple(headings))], None


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252 if the bytes look like Western text; raise otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="strict")  # raises on the 5 undefined bytes
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    letters = sum(ch.isascii() for ch in text)  # Western text in cp1252 is still mostly ASCII
    if printable / len(text) < 0.98 or letters / len(text) < 0.6:
        raise UnicodeDecodeError("cp1252", data, 0, len(data), "does not look like text")
    return text


def _from_result(path: Path, data: bytes, extract) -> tuple[list[Document], Skipped | None]:
    try:
        text = extract(data)
    except Exception as e:  # noqa: BLE001 - any parser failure is a per-file skip
        return [], Skipped(str(path), f"cannot parse: {type(e).__name__}: {e}", error=True)
    if not text.strip():
        return [], Skipped(str(path), "no text layer (scanned PDF? run OCR first)", error=True)
    abspath = str(path.resolve())
    return [Document(abspath, abspath, path.stem, text, hashlib.sha256(data).hexdigest(), abspath)], None


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()


def _jsonl_documents(path: Path, abspath: str, text: str) -> tuple[list[Document], Skipped | None]:
    docs: list[Document] = []
    bad: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            bad.append(f"{lineno} (not JSON)")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            bad.append(f"{lineno} (no 'text' string)")
            continue
        rid = str(row.get("id", lineno))
        docs.append(Document(
            doc_id=f"{abspath}#{rid}", source=str(row.get("source") or f"{abspath}#{rid}"),
            title=str(row.get("title") or ""), text=row["text"],
            content_hash=hashlib.sha256(line.encode("utf-8")).hexdigest(), file=abspath,
        ))
    if len({d.doc_id for d in docs}) != len(docs):
        return [], Skipped(str(path), "duplicate 'id' values in JSONL lines", error=True)
    skip = None
    if bad:
        skip = Skipped(str(path), f"{len(bad)} JSONL line(s) skipped: {', '.join(bad[:5])}", error=True)
    if not docs and skip is None:
        skip = Skipped(str(path), "no JSONL lines with a 'text' field", error=True)
    return docs, skip


_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def markdown_headings(text: str) -> tuple[Heading, ...]:
    return tuple(Heading(m.start(), m.group(1).strip()) for m in _MD_HEADING.finditer(text))


_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre",
               "table", "ul", "ol", "dd", "dt", "blockquote", "header", "footer", "nav", "main", "aside"}


def html_text(html: str) -> tuple[str, str, tuple[Heading, ...]]:
    """Visible text of an HTML page (no head/script/style), its <title> and h1..h3 headings with offsets."""
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "head", "noscript", "template", "svg"]):
        tag.decompose()
    parts: list[str] = []
    headings: list[Heading] = []
    length = 0

    def emit(s: str) -> None:
        nonlocal length
        parts.append(s)
        length += len(s)

    def newline() -> None:
        if parts and not parts[-1].endswith("\n"):
            emit("\n")

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Doctype, Declaration, ProcessingInstruction)):
                continue  # markup, not visible text (a <!DOCTYPE html> would otherwise read as "html")
            if isinstance(child, NavigableString):
                s = re.sub(r"\s+", " ", str(child))
                if s.strip():
                    if parts and parts[-1].endswith((" ", "\n")):
                        s = s.lstrip()
                    emit(s)
            elif isinstance(child, Tag):
                block = child.name in _BLOCK_TAGS
                if block:
                    newline()
                if child.name in ("h1", "h2", "h3"):
                    heading = child.get_text(" ", strip=True)
                    if heading:
                        headings.append(Heading(length, heading))
                walk(child)
                if block:
                    newline()

    walk(soup)
    body = "".join(parts)
    return body, title or (headings[0].text if headings else ""), tuple(headings)
