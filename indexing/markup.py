"""Markdown and HTML as the text a reader sees, with the headings found on the way.

Chunks, passages, prompts and highlights all show a document's *extracted* text, and every chunk span
indexes it (`document.text[chunk.start:chunk.end] == chunk.text`). So structure is resolved here, once:
`# Kenya` becomes the line `Kenya` (recorded as a level-1 `Heading`), `**bold**` and `[text](url)` become
their text, list bullets become `• `, fences, rules and front matter disappear. Raw Markdown in passages was
reported as noise in the UI (issue 15) and `#`/`**` tokens are noise to the embedder too.

Markdown is converted line by line with regular expressions, not parsed into a tree: a 50 MB file then
costs its text a few times over, not the ~15x a token tree takes (the same bound that limits HTML pages in
loaders.py). It covers CommonMark as people write it (ATX and setext headings, emphasis, links, images,
code, lists, quotes, tables, front matter); a construct it misses stays as written, which is what the
index showed before.

    body, title, headings = markdown_text(text)   # title: front matter `title:`, else the first h1, else ""
    body, title, headings = html_text(page)       # title: <title>, else the first heading, else ""
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

BULLET = "• "  # what a Markdown/HTML list item's bullet becomes


@dataclass(frozen=True)
class Heading:
    """A heading at a character offset of the document text: text[start:start + len(heading.text)] is it."""

    start: int
    text: str
    level: int = 1  # 1 for `#`/<h1>, 2 for `##`/<h2>, ...


# ---------------------------------------------------------------------------------------------------- markdown
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)(.*)$")
_ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(?:\[[ xX]\][ \t]+)?")
_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]+\S+.*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPAN = 500  # longest inline span looked for (bounds the backtracking of an unclosed `*`, `[` or `` ` ``)
# Inline rules cost up to _SPAN steps per marker; a longer line (generated, minified) is not prose someone
# emphasised by hand, and is left as written so a 50 MB one-line file still loads in seconds.
MAX_INLINE_LINE = 20_000
_INLINE = [  # (pattern, replacement), applied in order
    (re.compile(rf"(`+)(.{{1,{_SPAN}}}?)\1"), r"\2"),  # code spans (their content is not Markdown)
    (re.compile(rf"!\[([^\]]{{0,{_SPAN}}})\]\([^)]{{0,{_SPAN}}}\)"), r"\1"),  # images: their alt text
    (re.compile(rf"\[([^\]]{{1,{_SPAN}}})\]\((?:[^()]|\([^)]{{0,{_SPAN}}}\)){{0,{_SPAN}}}\)"), r"\1"),  # links: text
    (re.compile(rf"\[([^\]]{{1,{_SPAN}}})\]\[[^\]]{{0,{_SPAN}}}\]"), r"\1"),  # reference links
    (re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?(?:a|b|i|u|em|strong|span|sup|sub|small|kbd|code|mark|abbr|br|img|del|ins|s)\b[^<>]*>",
                re.IGNORECASE), ""),  # inline HTML tags
    (re.compile(rf"(\*\*)(?=\S)(.{{1,{_SPAN}}}?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(rf"(?<!\w)(__)(?=[^\s_])(.{{1,{_SPAN}}}?)(?<=[^\s_])\1(?!\w)"), r"\2"),  # strong; window.__x stays
    (re.compile(rf"~~(?=\S)(.{{1,{_SPAN}}}?)(?<=\S)~~"), r"\1"),  # strikethrough
    (re.compile(rf"\*(?=[^\s*])(.{{1,{_SPAN}}}?)(?<=[^\s*])\*"), r"\1"),  # emphasis
    (re.compile(rf"(?<!\w)_(?=[^\s_])(.{{1,{_SPAN}}}?)(?<=[^\s_])_(?!\w)"), r"\1"),  # emphasis; snake_case stays
]
# escaped punctuation hides here while the inline rules run (a private-use plane nobody writes in)
_HIDE = 0xF0000


def _inline(line: str) -> str:
    """One line's inline Markdown as plain text."""
    if len(line) > MAX_INLINE_LINE:
        return line
    line = _ESCAPED.sub(lambda m: chr(_HIDE + ord(m.group(1))), line)
    for pattern, repl in _INLINE:
        line = pattern.sub(repl, line)
    line = html.unescape(line)
    return re.sub("[\U000f0000-\U000f007f]", lambda m: chr(ord(m.group()) - _HIDE), line)


def _front_matter(lines: list[str]) -> tuple[int, str]:
    """(lines to skip, `title:` value) of a YAML front matter block at the top, else (0, "")."""
    if len(lines) < 2 or lines[0].strip() != "---" or ":" not in lines[1]:
        return 0, ""
    for i in range(1, min(len(lines), 100)):
        if lines[i].strip() in ("---", "..."):
            title = next((ln.split(":", 1)[1].strip().strip("\"'") for ln in lines[1:i]
                          if ln.lower().startswith("title:")), "")
            return i + 1, title
    return 0, ""


def _markdown_lines(lines: list[str]) -> Iterator[tuple[str, int]]:
    """(output line, heading level or 0) for each Markdown line that shows text (some show none)."""
    fence = ""
    paragraph = False  # the previous line was paragraph text (a `---` under it makes it a heading)
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r")
        plain = not (_BULLET.match(line) or _QUOTE.match(line) or line.lstrip().startswith("|")
                     or line.startswith((" ", "\t")))
        if fence:
            if line.lstrip(" ").startswith(fence):
                fence = ""
                continue
            yield line, 0  # code: verbatim
            continue
        m = _FENCE.match(line)
        if m:
            fence, paragraph = m.group(1)[0] * 3, False
            continue
        nxt = lines[i + 1].rstrip("\r") if i + 1 < len(lines) else ""
        if not line.strip():
            paragraph = False
            yield "", 0
            continue
        if paragraph and _SETEXT.match(line):
            paragraph = False
            continue  # the underline of the heading just yielded
        m = _ATX.match(line)
        if m:
            paragraph = False
            text = _inline(_ATX_CLOSE.sub("", m.group(2)).strip())
            if text:
                yield text, len(m.group(1))
            continue
        if _RULE.match(line) or _TABLE_RULE.match(line) or _REF_DEF.match(line):
            paragraph = False
            continue
        line = _QUOTE.sub("", line)
        line = _BULLET.sub(lambda b: b.group(1) + BULLET, line)
        if line.lstrip().startswith("|") and line.rstrip().endswith("|"):
            line = " | ".join(cell.strip() for cell in line.strip()[1:-1].split("|"))
        text = _inline(line)
        if plain and not paragraph and _SETEXT.match(nxt) and text.strip():
            yield text.strip(), 1 if nxt.strip().startswith("=") else 2
            paragraph = True  # so the underline is skipped
            continue
        paragraph = True
        yield text, 0


def markdown_text(text: str) -> tuple[str, str, tuple[Heading, ...]]:
    """Readable text of a Markdown document, its title and its headings (offsets into the returned text)."""
    lines = _COMMENT.sub("", text).split("\n")
    skip, title = _front_matter(lines)
    out: list[str] = []
    headings: list[Heading] = []
    length = 0
    for line, level in _markdown_lines(lines[skip:]):
        if level:
            headings.append(Heading(length, line, level))
        out.append(line)
        length += len(line) + 1
    body = "\n".join(out)
    if not title and headings:
        title = next((h.text for h in headings if h.level == 1), headings[0].text)
    return body, title, tuple(headings)


# -------------------------------------------------------------------------------------------------------- html
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre",
               "table", "ul", "ol", "dd", "dt", "blockquote", "header", "footer", "nav", "main", "aside",
               "figure", "figcaption", "details", "summary", "hr"}
_CELL_TAGS = {"td", "th"}
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_HIDDEN_TAGS = ["script", "style", "head", "noscript", "template", "svg"]


def html_text(page: str) -> tuple[str, str, tuple[Heading, ...]]:
    """Visible text of an HTML page (no head/script/style), its <title> and its h1..h6 headings with offsets.

    Blocks end with a newline, list items get a bullet (`• `, or `3. ` in an <ol>), table cells are
    separated by ` | `. The tree is walked with an explicit stack, not recursion: a page of thousands of
    nested or unclosed tags is as deep as it is long.
    """
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

    soup = BeautifulSoup(page, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_HIDDEN_TAGS):
        tag.decompose()
    parts: list[str] = []
    headings: list[Heading] = []
    length = 0
    items: dict[int, int] = {}  # id(<ol>) -> items numbered so far
    marker = ""  # a list item's bullet, written before its first text (so `<li><p>x` reads "• x")

    def emit(s: str) -> None:
        nonlocal length
        parts.append(s)
        length += len(s)

    def newline() -> None:
        if parts and not parts[-1].endswith("\n"):
            emit("\n")

    end = object()  # stack marker: the end of a block tag (emit its closing newline)
    stack: list = list(reversed(list(soup.children)))
    while stack:
        node = stack.pop()
        if node is end:
            newline()
        elif isinstance(node, (Comment, Doctype, Declaration, ProcessingInstruction)):
            continue  # markup, not visible text (a <!DOCTYPE html> would otherwise read as "html")
        elif isinstance(node, NavigableString):
            s = re.sub(r"\s+", " ", str(node))
            if s.strip():
                if marker:
                    newline()
                    emit(marker)
                    marker = ""
                if not parts or parts[-1].endswith((" ", "\n")):
                    s = s.lstrip()
                emit(s)
        elif isinstance(node, Tag):
            if node.name in _BLOCK_TAGS:
                newline()
                stack.append(end)
            elif node.name in _CELL_TAGS and parts and not parts[-1].endswith("\n"):
                emit(" | ")
            if node.name == "li":
                parent = node.parent
                if parent is not None and parent.name == "ol":
                    items[id(parent)] = items.get(id(parent), 0) + 1
                    marker = f"{items[id(parent)]}. "
                else:
                    marker = BULLET
            level = _HEADING_TAGS.get(node.name)
            if level:
                heading = node.get_text(" ", strip=True)
                if heading:
                    headings.append(Heading(length, heading, level))
            stack.extend(reversed(list(node.children)))
    body = "".join(parts)
    return body, title or (headings[0].text if headings else ""), tuple(headings)
