"""Turn files, folders and globs into `Document`s (extracted text + metadata).

Supported: .txt, .md/.markdown (as the text a reader sees: indexing/markup.py), .html/.htm (visible text
only), .pdf (text layer), .jsonl (one document
per line with a `text` field and optional `id`, `title`, `source`). Text may be UTF-8 (with or without
BOM), UTF-16/32 with a BOM, BOM-less UTF-16, or Western cp1252. Everything else is skipped with a one-line
reason. Bad files (unreadable, binary, empty, undecodable, too large, nested too deep, symlink loops) are
reported per file as `Skipped(error=True)` and never stop the rest.

Only files inside the folders named by the caller are read: a symlink found while walking a folder (or
matched by a glob) that resolves outside every named path is skipped and named, unless
`follow_symlinks=True`. A path the caller names itself is read even if it is a symlink. Documents are
keyed by the path they were reached by (`path_key`), not by where a link points, so `index rm` takes the
path the user added.

    docs, skipped = load_paths(["notes/", "*.pdf"], max_file_mb=50)
    for loaded in iter_loaded(["notes/"]): ...   # one file at a time (what `Index.add` streams)
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexing.markup import Heading, html_text, markdown_text

__all__ = ["Document", "FileWarning", "Heading", "LoadResult", "Loaded", "Skipped", "decode", "html_text",
           "iter_files", "iter_loaded", "load_file", "load_paths", "markdown_text", "path_key", "printable_name"]

TEXT_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                 ".pdf": "pdf", ".jsonl": "jsonl"}
# html.parser + BeautifulSoup hold ~15x the page in memory (measured on a 10 MB page: ~160 MB); above this the
# 1.5 GB bound of a 50 MB file would not hold, so larger pages are skipped with a hint to convert them.
MAX_HTML_MB = 20.0
MAX_JSONL_ERRORS_SHOWN = 5  # bad JSONL lines named in the skip reason; the rest are counted


@dataclass(frozen=True)
class Document:
    """One indexable document: its extracted text and where it came from."""

    doc_id: str  # stable key: `path_key` of the file, or "path#id" for a JSONL line
    source: str  # what a user can open: the file path (or the JSONL `source` field)
    title: str  # document title (markdown front matter/first h1, html <title>, JSONL `title`, a plain-text file's
    # title line or email subject (`text_title`), else file stem)
    text: str  # extracted text (markup resolved: indexing/markup.py); chunk offsets point into this string
    content_hash: str  # sha256 of the raw bytes this document came from
    file: str  # the file it was read from (a JSONL file yields several documents)
    headings: tuple[Heading, ...] = ()  # sorted by start


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, with a one-line reason."""

    path: str
    reason: str
    error: bool  # True: bad input the user should look at; False: unsupported type (expected, not an error)


@dataclass(frozen=True)
class FileWarning:
    """A file that was indexed, with something the user may want to know (a PDF parser's complaint)."""

    path: str
    message: str


@dataclass(frozen=True)
class Loaded:
    """What reading one file gave: its documents, why (some of) it was skipped, warnings."""

    path: str  # `path_key` of the file
    documents: tuple[Document, ...] = ()
    skipped: Skipped | None = None
    warnings: tuple[FileWarning, ...] = ()
    size: int = 0  # bytes on disk


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # files that yielded documents
    warnings: list[FileWarning] = field(default_factory=list)


def path_key(path: str | os.PathLike) -> str:
    """The absolute path as reached (symlinks not resolved), as text that any UTF-8 sink accepts.

    File names are bytes on Linux; one that is not UTF-8 (byte 0xFF) decodes to a lone surrogate that
    sqlite, JSON and print() refuse. Those bytes are spelled `\\xff` instead, the same way every time, so
    `index rm` with the same path finds the document again.
    """
    return printable_name(os.path.abspath(os.fspath(path)))


def printable_name(name: str) -> str:
    """A file name (str from the OS, maybe with lone surrogates for undecodable bytes) as valid Unicode text."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_text(text: str) -> str:
    """Strings from JSON may hold lone surrogates ("\\udcff"), which sqlite and Qdrant refuse: make them U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)  # same length: nothing else moves
    return text


def _inside(real: str, roots: Sequence[str]) -> bool:
    return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)


def _glob_base(pattern: str) -> str:
    """The folder a glob pattern names: its path up to the first part with a wildcard."""
    parts = Path(pattern).parts
    base: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        base.append(part)
    return os.path.join(*base) if base else "."


def iter_files(paths: Sequence[str | os.PathLike], follow_symlinks: bool = False
               ) -> Iterator[tuple[Path, str | None]]:
    """Expand files, folders (recursively) and globs.

    Yields (path, problem): problem is None for a file to read, else a reason to skip it. Entries found
    by walking a folder or matching a glob must resolve inside a path named in `paths` (see the module
    docstring); folders are visited once (symlink loops end there).
    """
    items: list[tuple[Path, str]] = []  # (path, what the user named: the path itself or a glob's folder)
    for raw in paths:
        text = os.fspath(raw)
        if glob.has_magic(text):
            expanded = sorted(glob.glob(text, recursive=True))
            if not expanded:
                yield Path(text), "no file matches this pattern"
            items.extend((Path(item), _glob_base(text)) for item in expanded)
        else:
            items.append((Path(text), text))
    roots = [os.path.realpath(named) for _, named in items]
    seen_dirs: set[tuple[int, int]] = set()
    for item, named in items:
        yield from _walk(item, seen_dirs, roots, follow_symlinks, named=os.fspath(item) == named)


def _walk(path: Path, seen_dirs: set[tuple[int, int]], roots: Sequence[str], follow: bool, named: bool
          ) -> Iterator[tuple[Path, str | None]]:
    if not named and not follow and path.is_symlink():
        real = os.path.realpath(path)
        if not _inside(real, roots):
            yield path, (f"symlink to {path_key(real)}, outside the folders named on the command line "
                         "(pass --follow-symlinks to index it)")
            return
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
        yield from _walk(Path(entry.path), seen_dirs, roots, follow, named=False)


def iter_loaded(paths: Sequence[str | os.PathLike], max_file_mb: float = 50.0, follow_symlinks: bool = False,
                files: Sequence[tuple[Path, str | None]] | None = None) -> Iterator[Loaded]:
    """Read the files under `paths` one at a time (a file reached twice, e.g. through a link, once).

    `files`: the output of `iter_files` when the caller listed them already (to count them first).
    """
    files = list(files if files is not None else iter_files(paths, follow_symlinks))  # paths only: small
    chosen: dict[str, str] = {}  # real path -> the one path it is read by: itself if listed, else the first link
    for path, problem in files:
        if problem is None:
            real, key = os.path.realpath(path), path_key(path)
            if real not in chosen or key == path_key(real):
                chosen[real] = key
    done: set[str] = set()
    for path, problem in files:
        key = path_key(path)
        if problem is not None:
            yield Loaded(key, skipped=Skipped(key, problem, error=True))
            continue
        if key in done:
            continue  # named twice (a folder and a file in it)
        done.add(key)
        real = chosen[os.path.realpath(path)]
        if real != key:
            yield Loaded(key, skipped=Skipped(key, f"same file as {real} (a link), indexed once", error=False))
            continue
        yield _load(path, key, max_file_mb)


def load_paths(paths: Sequence[str | os.PathLike], max_file_mb: float = 50.0,
               follow_symlinks: bool = False) -> LoadResult:
    """Load every supported file under `paths`; see the module docstring."""
    result = LoadResult()
    for loaded in iter_loaded(paths, max_file_mb, follow_symlinks):
        if loaded.skipped is not None:
            result.skipped.append(loaded.skipped)
        result.warnings.extend(loaded.warnings)
        if loaded.documents:
            result.documents.extend(loaded.documents)
            result.files.append(loaded.path)
    return result


def load_file(path: Path, max_file_mb: float = 50.0) -> tuple[list[Document], Skipped | None]:
    """Read one file. Returns its documents, or a `Skipped` saying why not."""
    loaded = _load(Path(path), path_key(path), max_file_mb)
    return list(loaded.documents), loaded.skipped


def _load(path: Path, key: str, max_file_mb: float) -> Loaded:
    kind = TEXT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        suffix = printable_name(path.suffix) if path.suffix else "(none)"
        return Loaded(key, skipped=Skipped(key, f"unsupported file type {suffix!r}; "
                                                f"supported: {', '.join(sorted(TEXT_SUFFIXES))}", error=False))

    def skip(reason: str) -> Loaded:
        return Loaded(key, skipped=Skipped(key, reason, error=True))

    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            return skip(f"too large: {size / 1024 / 1024:.1f} MB > index.max_file_mb={max_file_mb:g}")
        if kind == "html" and size > MAX_HTML_MB * 1024 * 1024:
            return skip(f"HTML page too large to parse in bounded memory: {size / 1024 / 1024:.1f} MB > "
                        f"{MAX_HTML_MB:g} MB (save it as text or split it)")
        if size == 0:
            return skip("empty file")
        data = path.read_bytes()
    except OSError as e:
        return skip(f"unreadable: {e.strerror or e}")
    if kind == "pdf":
        return _pdf_document(path, key, data)
    try:
        text = decode(data)
    except UnicodeDecodeError:
        if b"\x00" in data[:8192]:
            return skip("binary file (contains NUL bytes)")
        return skip("undecodable: not UTF-8, UTF-16 or cp1252 text (convert it to UTF-8)")
    if "\x00" in text[:8192]:
        return skip("binary file (contains NUL bytes)")
    file_hash = hashlib.sha256(data).hexdigest()
    del data  # a 50 MB file: keep only the text
    if kind == "jsonl":
        return _jsonl_documents(key, text, size)
    stem = printable_name(path.stem)
    if kind == "html":
        body, title, headings = html_text(text)
        title = _with_stem(title, stem)
    elif kind == "markdown":
        body, title, headings = markdown_text(text)
        title = _with_stem(title, stem)
    else:
        body, title, headings = text, _with_stem(text_title(text), stem), ()
    if not body.strip():
        return skip("no text to index (only whitespace or markup)")
    return Loaded(key, (Document(key, key, title, body, file_hash, key, tuple(headings)),), size=size)


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


_EMAIL_HEADER = re.compile(r"^(?:from|to|cc|date|sent|subject)\s*:", re.IGNORECASE)
_SUBJECT = re.compile(r"^subject\s*:\s*(?P<subject>\S.*)$", re.IGNORECASE | re.MULTILINE)
MAX_TITLE_CHARS = 100


def text_title(text: str) -> str:
    """A plain-text document's title, "" when it has none: an email's subject ("Subject: CHEM 204 final exam
    arrangements"), else its first line when that line reads as a title (short, no sentence ending: "GREEN VALLEY
    FARM COOPERATIVE", "MATCH REPORT — COUNTY CUP FINAL"). Every chunk carries it, so a chunk from the middle of
    the minutes still says whose minutes they are."""
    head = text[:2000].lstrip("\ufeff")
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    if not lines:
        return ""
    if _EMAIL_HEADER.match(lines[0]):
        m = _SUBJECT.search("\n".join(lines[:12]))
        return m.group("subject").strip()[:MAX_TITLE_CHARS] if m else ""
    first = lines[0].strip("=-*#_ \t")
    if (not first or len(first) > MAX_TITLE_CHARS or first[-1] in ".!?,;:" or len(first.split()) > 15
            or not any(c.isalpha() for c in first)):
        return ""
    return first


_UPLOAD_TAG = re.compile(r"-[0-9a-f]{8}$")


def _with_stem(title: str, stem: str) -> str:
    """A title with the file's name after it when the name says more ("CONTRACT SUMMARY - FOR INTERNAL USE
    (blue_harbor_contract_summary)", "Tenancy Agreement — My Summary (marsh_lane_tenancy_summary)": the user's name
    for a file often names what the document is about); the name alone when there is no title. A random tag ending the name (the
    app's uploads are stored as "email_rota-1797ea7b.txt": ui/uploads.py `stored_name`) is no part of it."""
    stem = _UPLOAD_TAG.sub("", stem) or stem
    if not title:
        return stem
    said = set(re.findall(r"[a-z0-9]+", title.lower()))
    more = [w for w in re.findall(r"[a-z]+", stem.lower()) if len(w) > 2 and w not in said]
    return f"{title} ({stem})" if more else title


def decode(data: bytes) -> str:
    """Text of a file: by BOM (UTF-8/16/32), else UTF-8, else BOM-less UTF-16, else cp1252 if it looks like
    Western text; raise UnicodeDecodeError otherwise."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if codec == "utf-16" and _eight_bit(data[len(bom):len(bom) + 8192]):
                raise UnicodeDecodeError(codec, data, 0, len(bom), "a UTF-16 mark before 8-bit text")
            return data.decode(codec)
    codec = _utf16_without_bom(data[:8192])  # before UTF-8: ASCII in UTF-16 is valid UTF-8 full of NULs
    if codec:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            text = ""
        if _looks_like_text(text, ascii_share=0.0):
            return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="strict")  # raises on the 5 undefined bytes
    if not _looks_like_text(text, ascii_share=0.6):  # Western text in cp1252 is still mostly ASCII
        raise UnicodeDecodeError("cp1252", data, 0, len(data), "does not look like text")
    return text


def _eight_bit(sample: bytes) -> bool:
    """Whether bytes after a UTF-16 mark are plain 8-bit text (mostly printable ASCII): UTF-16 text has a NUL
    or a non-ASCII byte in most pairs, and these decode to a run of unrelated CJK characters."""
    plain = sum(32 <= b < 127 or b in (9, 10, 13) for b in sample)
    return len(sample) >= 4 and plain >= 0.7 * len(sample)


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit on one side of most byte pairs (ASCII-range UTF-16)."""
    pairs = len(sample) // 2
    if pairs < 2 or len(sample) % 2 and len(sample) < 8192:
        return None
    odd = sample[1:2 * pairs:2].count(0)
    even = sample[0:2 * pairs:2].count(0)
    if odd >= 0.4 * pairs and even == 0:
        return "utf-16-le"
    if even >= 0.4 * pairs and odd == 0:
        return "utf-16-be"
    return None


def _looks_like_text(text: str, ascii_share: float) -> bool:
    sample = text[:100_000]
    if not sample:
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in sample)
    letters = sum(ch.isascii() for ch in sample)
    return printable / len(sample) >= 0.98 and letters / len(sample) >= ascii_share


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _pdf_document(path: Path, key: str, data: bytes) -> Loaded:
    """A PDF's text layer; pypdf's own warnings are collected and given back with the file's name."""
    logger = logging.getLogger("pypdf")
    collect, propagate = _Collect(), logger.propagate
    logger.addHandler(collect)
    logger.propagate = False  # otherwise they reach stderr without saying which file they are about
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = _pdf_text(data)
    except Exception as e:  # noqa: BLE001 - any parser failure is a per-file skip
        return Loaded(key, skipped=Skipped(key, f"cannot parse: {type(e).__name__}: {e}", error=True))
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate
    notes = list(dict.fromkeys([*collect.messages, *(str(w.message) for w in caught)]))
    found = tuple(FileWarning(key, f"PDF: {m}") for m in notes)
    if not text.strip():
        return Loaded(key, skipped=Skipped(key, "no text layer (scanned PDF? run OCR first)", error=True),
                      warnings=found)
    doc = Document(key, key, printable_name(path.stem), text, hashlib.sha256(data).hexdigest(), key)
    return Loaded(key, (doc,), warnings=found, size=len(data))


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()


def _jsonl_documents(key: str, text: str, size: int) -> Loaded:
    """One document per line. Ids: the line's `id` (a string or an integer), else `line-N` for line N.

    Explicit ids win: a default id that another line uses explicitly becomes `line-N-2`, `-3`, ... A repeated
    explicit id keeps its first line; the later ones are bad lines, reported with the rest.
    """
    rows: list[tuple[int, str, dict, str | None]] = []
    bad: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            bad.append(f"{lineno} (not JSON)")
            continue
        except RecursionError:
            bad.append(f"{lineno} (JSON nested too deep)")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            bad.append(f"{lineno} (no 'text' string)")
            continue
        rid = row.get("id")
        if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (str, int))):
            bad.append(f"{lineno} ('id' must be a string or an integer)")
            continue
        rows.append((lineno, line, row, None if rid is None else str(rid)))
    explicit: dict[str, int] = {}
    for lineno, _, _, rid in rows:
        if rid is not None:
            explicit.setdefault(rid, lineno)
    docs: list[Document] = []
    taken: set[str] = set()
    for lineno, line, row, rid in rows:
        if rid is not None and explicit[rid] != lineno:
            bad.append(f"{lineno} (duplicate id {rid!r}, first on line {explicit[rid]})")
            continue
        if rid is None:
            rid, n = f"line-{lineno}", 1
            while rid in explicit or rid in taken:
                n += 1
                rid = f"line-{lineno}-{n}"
        taken.add(rid)
        doc_id = _valid_text(f"{key}#{rid}")
        docs.append(Document(
            doc_id=doc_id, source=_valid_text(str(row.get("source") or doc_id)),
            title=_valid_text(str(row.get("title") or "")), text=_valid_text(row["text"]),
            content_hash=hashlib.sha256(line.encode("utf-8", "surrogatepass")).hexdigest(), file=key,
        ))
    skip = None
    if bad:
        bad.sort(key=lambda b: int(b.split(" ", 1)[0]))
        more = f" and {len(bad) - MAX_JSONL_ERRORS_SHOWN} more" if len(bad) > MAX_JSONL_ERRORS_SHOWN else ""
        skip = Skipped(key, f"{len(bad)} JSONL line(s) skipped: {', '.join(bad[:MAX_JSONL_ERRORS_SHOWN])}{more}",
                       error=True)
    if not docs and skip is None:
        skip = Skipped(key, "no JSONL lines with a 'text' field", error=True)
    return Loaded(key, tuple(docs), skip, size=size)
