"""A hostile corpus: good files mixed with every kind of bad input issue 19 names, with what each should give.

    entries = build(folder)   # writes the files; each Entry says whether it is indexed or skipped, and why

Used by tests/indexing/test_hostile.py; also runnable against any checkout to compare (prints a summary):

    python -m tests.indexing.hostile CORPUS_DIR INDEX_DIR
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.indexing.test_loaders import minimal_pdf

OUTSIDE_SECRET = "zqxoutsidesecret"  # a word only the files outside the corpus contain


@dataclass(frozen=True)
class Entry:
    name: str  # path relative to the corpus folder, as the OS spells it (bytes for undecodable names)
    indexed: bool  # True: some of its text must be in the index
    reason: str = ""  # for a skipped entry: a substring of the reason printed for it
    probe: str = ""  # for an indexed entry: a word of its text that must be searchable


def _write(folder: Path, name: str | bytes, data: bytes | str) -> None:
    path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else os.fsencode(name))
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def build(folder: Path, outside: Path) -> list[Entry]:
    """Write the corpus into `folder` (and secrets into `outside`, which symlinks point at)."""
    folder.mkdir(parents=True)
    outside.mkdir(parents=True)
    (outside / "passwd.txt").write_text(f"root:x:0:0:{OUTSIDE_SECRET}:/root:/bin/bash\n")
    (outside / "etc").mkdir()
    (outside / "etc" / "shadow.txt").write_text(f"{OUTSIDE_SECRET} shadow\n")
    entries: list[Entry] = []

    def good(name: str | bytes, data: bytes | str, probe: str) -> None:
        _write(folder, name, data)
        entries.append(Entry(os.fsdecode(name), True, probe=probe))

    def bad(name: str | bytes, data: bytes | str | None, reason: str, indexed: bool = False, probe: str = "") -> None:
        if data is not None:
            _write(folder, name, data)
        entries.append(Entry(os.fsdecode(name), indexed, reason, probe))

    # good files of every supported type
    good("paris.txt", "Paris is the capital of France. The Seine flows through Paris.", "seine")
    good("berlin.md", "# Berlin\n\nBerlin is the capital of Germany.", "berlin")
    good("rome.html", "<html><title>Rome</title><body><p>Rome has the Colosseum.</p></body></html>", "colosseum")
    good("doc.pdf", minimal_pdf("Vienna is the capital of Austria."), "vienna")
    good("cities.jsonl", '{"id": "oslo", "text": "Oslo is the capital of Norway."}\n', "norway")
    good("latin1.txt", "Caf\u00e9 cr\u00e8me in Z\u00fcrich, a cp1252 file about quokkas.".encode("cp1252"), "quokkas")
    good("crlf.txt", b"Windows line endings about wombats.\r\nSecond line.\r\n", "wombats")
    # encodings
    good("utf16.txt", "A UTF-16 file with a BOM about narwhals.".encode("utf-16"), "narwhals")
    good("utf16be-nobom.txt", "A UTF-16BE file without BOM about axolotls.".encode("utf-16-be"), "axolotls")
    good("utf16le-nobom.md", "A UTF-16LE file without BOM about pangolins.".encode("utf-16-le"), "pangolins")
    good("utf32.txt", "A UTF-32 file about capybaras.".encode("utf-32"), "capybaras")
    good("bom8.txt", "\ufeffA UTF-8 BOM file about okapis.".encode(), "okapis")
    # deep nesting (recursion)
    deep = "[" * 1000 + "]" * 1000
    bad("deep.jsonl", f'{deep}\n{{"text": "Deep file line about lemurs."}}\n', "JSON nested too deep", indexed=True,
        probe="lemurs")
    bad("deep-only.jsonl", f"{deep}\n" * 3, "JSON nested too deep")
    bad("deep-object.jsonl", '{"a":' * 5000 + "1" + "}" * 5000 + "\n", "JSON nested too deep")
    good("deep.html", "<div>" * 1000 + "Nested page about tapirs." + "</div>" * 1000, "tapirs")
    good("unclosed.html", "<b><i><span>" * 400 + "Unclosed tags about ibexes.", "ibexes")
    good("unclosed-p.htm", "<p>Paragraph about gibbons " * 1000, "gibbons")
    good("deep.md", "\n".join("#" * (1 + i % 6) + f" heading {i}" for i in range(2000)) + "\nmarmots\n", "marmots")
    # odd names
    good(b"bad\xffname.txt", "A file whose name is not UTF-8, about dingos.", "dingos")
    good(b"latin1-\xe9t\xe9.txt", "Another non-UTF-8 name, about jerboas.", "jerboas")
    good("new\nline.txt", "A name with a newline, about echidnas.", "echidnas")
    good("tab\tname.md", "A name with a tab, about manatees.", "manatees")
    good("\x1b[31mansi.txt", "A name with a terminal escape, about aardvarks.", "aardvarks")
    good("名前.txt", "A Japanese name, about tanukis.", "tanukis")
    good("emoji \U0001f600.md", "An emoji name, about quolls.", "quolls")
    good("#hash?q=1&x%20.txt", "URL-like name, about numbats.", "numbats")
    good("-dash.txt", "A name starting with a dash, about bilbies.", "bilbies")
    good("quote\"'`.txt", "Quotes in the name, about dugongs.", "dugongs")
    good("back\\slash.txt", "A backslash in the name, about kinkajous.", "kinkajous")
    good("x" * 240 + ".txt", "A 244-byte name, about fossas.", "fossas")
    good("UPPER.TXT", "Upper-case suffix, about civets.", "civets")
    good("stopwords.txt", "The. And it is. Of the.", "")  # nothing for BM25 to index: must not break it
    # bad content
    bad("binary.txt", b"ELF\x00\x01\x02" * 100, "binary file")
    bad("zero.txt", b"", "empty file")
    bad("zero.md", b"", "empty file")
    bad("blank.md", "   \n\n\t ", "no text to index")
    bad("script-only.html", "<script>var x = 1;</script><style>p{}</style>", "no text to index")
    bad("garbage.txt", bytes(range(0x80, 0x100)) * 8, "undecodable")
    bad("invalid-utf8.md", b"\x81\x8d\x8f\x90\x9d" * 50, "undecodable")
    bad("corrupt.pdf", b"%PDF-1.4 garbage that is no PDF", "cannot parse")
    bad("truncated.pdf", minimal_pdf("Cut short about okapis.")[:120], "")
    bad("random.pdf", os.urandom(2048), "cannot parse")
    bad("bad-lines.jsonl", '{"text": "Good line about kiwis."}\nnot json\n{"title": "no text"}\n[1, 2]\n',
        "3 JSONL line(s) skipped", indexed=True, probe="kiwis")
    bad("all-bad.jsonl", "nope\n{}\n", "2 JSONL line(s) skipped")
    bad("ids.jsonl", '{"text": "Line one without id about puffins."}\n'
                     '{"id": 1, "text": "Explicit numeric id one about gannets."}\n'
                     '{"id": null, "text": "Null id about terns."}\n'
                     '{"id": null, "text": "Another null id about skuas."}\n'
                     '{"id": "line-1", "text": "An id that looks like a default about petrels."}\n'
                     '{"id": 1, "text": "A repeated id about boobies."}\n'
                     '{"id": {"x": 1}, "text": "An object id about shags."}\n',
        "duplicate id '1', first on line 2", indexed=True, probe="skuas")
    bad("surrogate.jsonl", '{"text": "Lone surrogate \\udcff about coatis."}\n', "", indexed=True, probe="coatis")
    # huge line without a single space or sentence end (one [UNK] token to WordPiece)
    bad("huge-line.txt", "abcdefghij" * 30_000 + " tail word hyraxes", "", indexed=True, probe="hyraxes")
    # special files and links
    os.mkfifo(folder / "fifo.txt")
    entries.append(Entry("fifo.txt", False, "not a regular file"))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "socket.txt"))
    sock.close()  # the socket file stays
    entries.append(Entry("socket.txt", False, "not a regular file"))
    (folder / "self.txt").symlink_to(folder / "self.txt")
    entries.append(Entry("self.txt", False, "looping symlink"))
    (folder / "dangling.txt").symlink_to(folder / "does-not-exist.txt")
    entries.append(Entry("dangling.txt", False, "broken or looping symlink"))
    (folder / "loop").symlink_to(folder)
    entries.append(Entry("loop", False, "symlink loop"))
    (folder / "p.txt").symlink_to(outside / "passwd.txt")
    entries.append(Entry("p.txt", False, "outside the folders named"))
    (folder / "etc").symlink_to(outside / "etc")
    entries.append(Entry("etc", False, "outside the folders named"))
    (folder / "alias.txt").symlink_to(folder / "paris.txt")  # inside: the same file, indexed once
    entries.append(Entry("alias.txt", False, "same file as"))
    (folder / "sub").mkdir()
    good("sub/nested.txt", "A nested file about serows.", "serows")
    (folder / "dir.txt").mkdir()  # a folder with a supported suffix
    good("dir.txt/inner.md", "Inside a folder named like a file, about takins.", "takins")
    # unsupported types: named, not errors
    for name in ("notes.docx", "photo.png", "tool.exe", "README", "data.csv", "archive.tar.gz", "名前なし",
                 "page.xhtml", "slides.pptx", "sheet.xlsx"):
        bad(name, b"PK\x03\x04 not indexed", "unsupported file type")
    _write(folder, ".hidden.txt", "hidden files are never documents")  # not an entry: silently ignored
    return entries


def main(argv: list[str]) -> int:
    """Build the corpus, run `index add` of the checkout on sys.path, print what came out."""
    corpus, index = Path(argv[0]), Path(argv[1])
    entries = build(corpus, corpus.parent / (corpus.name + "-outside"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ADAPTRAG_INJECT_INDEX_INPUTS": "off"}
    env.pop("ADAPTRAG_CONFIG", None)
    add = subprocess.run([sys.executable, "-m", "indexing.cli", "add", str(corpus), "--index", str(index),
                          "--no-progress"], check=False, env=env, capture_output=True, text=True, errors="replace")
    ls = subprocess.run([sys.executable, "-m", "indexing.cli", "ls", "--json", "--index", str(index)],
                        check=False, env=env, capture_output=True, text=True, errors="replace")
    docs = [json.loads(line) for line in ls.stdout.splitlines() if line.startswith("{")]
    good = [e for e in entries if e.indexed]
    skipped = [e for e in entries if not e.indexed]
    print(json.dumps({"entries": len(entries), "good": len(good), "skipped_expected": len(skipped),
                      "exit_code": add.returncode, "traceback": "Traceback" in add.stderr,
                      "documents": len(docs), "stderr_tail": add.stderr.strip().splitlines()[-3:]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
