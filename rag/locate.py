"""Locate: the line of a retrieved passage that states what a question asks, found by meaning.

Quotes (rag/quote.py) need the question's own words in the sentence, and the model's readings need a small model to
read well. Real documents say things their own way, and often leave the subject to their heading:
- "How much does the TideTrack T4 weigh?" is answered by the row "Weight | 62 g" of the TideTrack T4's
  specification sheet;
- "How often do I have to change my Quorvane password?" by "Passwords expire every 120 days" in Quorvane's IT FAQ;
- "How long can I keep a book borrowed from the Téllisford Public Library?" by "The standard loan period is 21 days
  for books".
Neither a quote nor a reading answered these (a blind workload written without sight of the code: 12 of its 26
document questions were declined with the right passage retrieved).

When no passage's reading answers and memory is unsure (the answer path would decline), each line of the retrieved
passages that could answer (sentence, table row, list item) is a candidate when
- it holds a value of the kind the question asks that the question does not (`value_kind`: a number for "how
  much/many/long/often", a date for "when", a name for "who", a place for "where"; a question naming no kind
  takes only a table row or "key: value" line, whose value is its cells that say none of the question's words),
  in the unit asked for when the question asks for one (a price, a length of time, a time of day, a phone number:
  `answer_match.asked_unit`), a date, a day or a time for "when", and a day of the year or of the week for
  "what date" or "which day";
- it is about the question's subject: every name and number of the question is in the line, in the line before
  it, in its paragraph, in a heading above it, or in the passage's title or heading (a specification sheet's rows
  do not repeat the product's name; a letter's "Cost: £18.50 per child" leaves "Year 4 trip" to its heading);
and the candidate closest in meaning to the question (sentence embeddings; the line read with its document's title)
answers when its similarity reaches the calibrated threshold (`conflict.locate_threshold`, fitted on the workloads'
dev splits). A table row keyed by a name or code the question asks about ("E4 | Wi-Fi pairing failed | ...") is
the document's entry for it, and a line saying every other word of the question states what is asked in its words:
either answers down to `KEYED_MARGIN` below that threshold. So does, when no line reaches it, a row keyed by what is
asked ("Referee: Alan Thwaite." for who refereed the final). Its words are the answer: the
line is quoted as the document states it.

    located = locate(question, passages, embedder.embed, threshold=0.55)
    # -> Located(passage narrowed to "Weight | 62 g", value="62 g", similarity=0.61) or None
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag import answer_match as am
from rag.quote import _clauses, _value_in, asked_kind
from rag.sentences import split_sentences
from rag.types import Passage

_HOW_NUMBER = re.compile(r"\bhow\s+(?:many|much|long|often|large|big|old|tall|far|high|heavy|fast|wide|deep|soon)\b",
                         re.IGNORECASE)
_WHEN = re.compile(r"\b(?:when|what\s+time|what\s+date|which\s+day|what\s+day)\b", re.IGNORECASE)
_ASKS_DAY = re.compile(r"\b(?:what|which)\s+(?:date|day)\b", re.IGNORECASE)
_TIME_OF_DAY = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:am|pm)\b|\bnoon\b|\bmidnight\b", re.IGNORECASE)
# a colon before a digit is a time's ("leaves at 1:30pm"), not a key's
_ROW = re.compile(r"^\s*(?P<key>[^|:\n]{1,60}?)\s*(?:\||:(?!\d))\s*(?P<value>.+?)\s*$")
# a person's name after a title of address: "Prof. Miriam Soltaire", "Dr Ravi Anand", "Cllr Sheikh"
_TITLED = re.compile(r"\b(?:Dr|Prof|Professor|Mr|Mrs|Ms|Mx|Miss|Sir|Dame|Cllr|Rev|Revd)\b\.?(?:\s+[A-Z][\w'’-]+)+")
_BULLET = re.compile(r"^\s*(?:[•\-*–]|\d+[.)])\s+")
_MARKUP = re.compile(r"\*\*|__|`")
_FAQ_ANSWER = re.compile(r"^(?:A|Answer)\s*:\s+")  # "A: Press 'Keep Warm' and ..." of a Q/A list
_FAQ_ASKED = re.compile(r"^(?:Q|Question)\s*:\s+")  # "Q: How long does it keep water warm?"
MIN_LINE_CHARS = 3
# a row keyed by a name the question asks about (`keyed_by`), or a line saying all its other words
# (`says_every_word`), answers a little further in meaning than other lines
KEYED_MARGIN = 0.15
# how far a line's closeness to a request may rise when it is read under its passage's title (`closest_line`): enough
# to tip a line near `topic_threshold`, never to make an unrelated line speak of the request (set by hand, session 13)
TITLE_LIFT = 0.05


@dataclass(frozen=True)
class Located:
    passage: Passage  # narrowed to the line, offsets exact
    value: str  # the value the line states ("62 g"; the whole line for a sentence)
    similarity: float


def value_kind(question: str) -> str | None:
    """"date", "number", "person", "place", or None: the kind of value `question` asks for (rag/quote.py
    `asked_kind`, and "how long/often/much ..." or "when" anywhere in it: "For how long at most can I book ...")."""
    kind = asked_kind(question)
    if kind is not None:
        return kind
    if _HOW_NUMBER.search(question):
        return "number"
    if _WHEN.search(question):
        return "date"
    return None


def lines(passage: Passage) -> list[tuple[int, int]]:
    """The passage's lines and sentences (character spans), bullets and table rows each one."""
    return [span for span in split_sentences(passage.text) if span[1] - span[0] >= MIN_LINE_CHARS]


def row_value(line: str, asked: set[str] = frozenset()) -> str:
    """The value of a table row or "key: value" line, "" for any other line: the cells that say none of the
    question's words (`asked`), else the last one ("62 g" of "Weight | 62 g" for "How much does it weigh?", "B216"
    of "B216 | −80 °C freezers" for "In which room are the freezers?")."""
    text = _MARKUP.sub("", _BULLET.sub("", line))
    if "|" in text:
        cells = [c.strip() for c in text.strip().strip("|").split("|") if c.strip()]
    else:
        m = _ROW.match(text)
        cells = [m.group("key"), m.group("value")] if m is not None and len(m.group("key").split()) <= 6 else []
    if len(cells) < 2:
        return ""
    silent = [c for c in cells if not any(am.present_in(w, asked, forms=True) for w in am.tokens(c))]
    return " | ".join(silent) if silent and len(silent) < len(cells) else cells[-1]


def candidates(question: str, passage: Passage, terms: dict[str, float],
               heading: set[str]) -> list[tuple[tuple[int, int], str]]:
    """(span, value) of the lines of `passage` that could answer `question` (see the module docstring)."""
    kind = value_kind(question)
    day = _ASKS_DAY.search(question) is not None
    unit = am.asked_unit(question)  # a price, a length of time, a time of day, a phone number: its unit too
    asked = set(am.tokens(question))
    described = am.described_numbers(question)
    subject = [w for w, v in terms.items() if v > 1.0 and w not in described]
    text = passage.text
    spans = lines(passage)
    # the document's header names the subject (and may hold the value, in its first chunk); a later chunk has its
    # document's opening lines beside it (`Passage.head`)
    header = header_words(text) if passage.start == 0 else opening_words(passage.head)
    stuff = am.measured_stuff(question)  # "how much cream": a recipe's "500 g parsnips" is no answer
    out = []
    for i, (s, e) in enumerate(spans):
        line = text[s:e]
        said = set(am.tokens(text[_paragraph_start(text, s):e])) | heading | header | headings_before(text, s)
        if i:
            said |= set(am.tokens(text[spans[i - 1][0]:spans[i - 1][1]]))
        if not all(am.present_in(w, said) for w in subject):
            continue
        if stuff and not am.present_in(stuff, set(am.tokens(line)), forms=True):
            continue
        cell = row_value(line, asked)
        if kind is None:
            value = cell if cell and _value_in(None, cell, asked | heading) else ""
        else:  # the row's silent cells, else the whole line ("Cost: £18.50 per child" for "... for each child?")
            value = next((part for part in (cell, line) if part and _value_in(kind, part, asked | heading)), "")
            if value and kind in ("person", "place"):  # the name: "Tomas Revell" of "The winning goal was scored by ..."
                value = _value_in(kind, value, asked | heading)
            titled = _TITLED.search(line) if kind == "person" else None
            if titled and titled.group() not in value:  # "Prof. Miriam Soltaire", not the row's "Auditorium A"
                value = titled.group()
        if value and day and not am.names_a_day(value):
            continue  # "what date ...": a day, not "Autumn term 2025"
        if value and kind == "date" and not _dated(value):
            continue  # "when ...": a date or a time, not the "4" of "YEAR 4 TRIP TO THE PEMBERLY SCIENCE CENTRE"
        if value and (unit is None or am.states_unit(unit, value)) and am.counts_the_unit_asked(question, value):
            out.append(((_lead_in(text, spans, i), e), value))
    return out


def _dated(value: str) -> bool:
    """Whether `value` states a date, a day or a time of day ("Friday 14 March 2025", "in 1902", "every Tuesday",
    "at 11:30am"), as a "when" question asks."""
    return bool(am.values(value)[0] or am.names_a_day(value) or _TIME_OF_DAY.search(value))


def _lead_in(text: str, spans: list[tuple[int, int]], i: int) -> int:
    """Where line `i` starts, with the line before it when that line leads into it:
    - a line ending ":" above a line that is no row of its own: "The Year 4 trip ... will now take place on:" above
      "FRIDAY 21 MARCH 2025" says what the date is of;
    - a question on a line of its own above its answer: "Q: How long does it keep water warm?" above "A: Press 'Keep
      Warm' ... up to 30 minutes" (the answer alone does not say it keeps water warm)."""
    s, e = spans[i]
    if not i:
        return s
    line = _BULLET.sub("", text[s:e])
    row = _ROW.match(line) is not None
    before = text[spans[i - 1][0]:spans[i - 1][1]].rstrip()
    asks = _MARKUP.sub("", before).rstrip().endswith("?") and "|" not in before and "\n" in text[spans[i - 1][1]:s]
    if asks and (not row or _FAQ_ANSWER.match(line)):
        return spans[i - 1][0]
    return spans[i - 1][0] if not row and before.endswith(":") and len(before) > 1 else s


def locate(question: str, passages: Sequence[Passage], embed: Callable[[Sequence[str]], np.ndarray],
           terms: dict[str, float], headings: Sequence[set[str]], threshold: float) -> Located | None:
    """The line closest in meaning to `question` among the candidates of every passage, if it reaches `threshold`;
    a row keyed by the question's name or code (`keyed_by`), or a line saying all its other words (`says_every_word`),
    comes first, down to `KEYED_MARGIN` below it."""
    found: list[tuple[int, tuple[int, int], str]] = []
    for n, (passage, heading) in enumerate(zip(passages, headings)):
        heading = heading | _headings_of_chunk_before(passage, passages)
        found += [(n, span, value) for span, value in candidates(question, passage, terms, heading)]
    if not found:
        return None
    texts = [_MARKUP.sub("", passages[n].text[s:e]) for n, (s, e), _ in found]
    vecs = embed([asking(question, terms), question, *texts])
    names = {w for w, v in terms.items() if v > 1.0}
    # a row keyed by the code asked ("E07: battery overheat.") is compared with the question that says the code:
    # without it, "My display shows - what does that mean?" is close to nothing (`_coded`)
    sims = np.array([float(v @ vecs[1]) if _coded(text, names) else float(v @ vecs[0])
                     for v, text in zip(vecs[2:], texts)])
    predicate = predicate_words(terms)
    keyed = [i for i, text in enumerate(texts) if sims[i] >= threshold - KEYED_MARGIN
             and (keyed_by(text, names) or says_every_word(text, predicate))]
    best = max(keyed, key=lambda i: sims[i]) if keyed else int(np.argmax(sims))
    if not keyed and float(sims[best]) < threshold:  # no line close enough: a row keyed by what is asked, if any
        keyed = [i for i, text in enumerate(texts) if sims[i] >= threshold - KEYED_MARGIN
                 and keyed_by_what(text, predicate)]
        if not keyed:
            return None
        best = max(keyed, key=lambda i: sims[i])
    n, (s, e), value = found[best]
    p = passages[n]
    return Located(replace(p, text=p.text[s:e], start=p.start + s, end=p.start + e), value.strip(), float(sims[best]))


def keyed_by(line: str, names: set[str]) -> bool:
    """Whether `line` is a table row or "key: value" line whose key is a name or code the question asks about: the
    row "E4 | Wi-Fi pairing failed | Hold the Keep Warm button ..." is the document's entry for "E4" in "My kettle
    is showing E4, what does that mean?", however its words compare in meaning."""
    words = am.tokens(_key(line))
    return bool(words) and all(w in names for w in words)


def _key(line: str) -> str:
    """The key of a table row or "key: value" line ("E4" of "E4 | Wi-Fi pairing failed | ..."), "" for another line."""
    text = _MARKUP.sub("", _BULLET.sub("", line)).strip()
    if "|" in text:
        return next((c for c in text.strip("|").split("|") if c.strip()), "")
    m = _ROW.match(text)
    return m.group("key") if m is not None else ""


def is_field(line: str) -> bool:
    """Whether `line` is a form's "key: value" field of a few words' key ("Cost: £12.50 per child")."""
    text = _MARKUP.sub("", _BULLET.sub("", line)).strip()
    m = _ROW.match(text)
    return m is not None and "|" not in text and 0 < len(am.tokens(m["key"])) <= FIELD_KEY_WORDS


def keyed_by_what(line: str, predicate: Sequence[str]) -> bool:
    """Whether `line` is a "key: value" line or table row whose key says what the question asks, in some form of its
    words beside its names: "Referee: Alan Thwaite." for "who refereed Brackwater Town's County Cup final"."""
    words = am.tokens(_key(line))
    return bool(words) and len(words) <= 3 and all(any(am.present_in(w, {p}, forms=True) for p in predicate)
                                                   for w in words)


def _coded(line: str, names: set[str]) -> bool:
    """A row keyed by a code the question asks about ("E07: battery overheat."): a code means only what its row
    says, so the row is compared with the whole question, code included. A row keyed by a name ("Ravgate Textiles: a
    textile mill") is not: the name alone would make it close to any question about that name."""
    return keyed_by(line, names) and any(c.isdigit() for c in _key(line))


def predicate_words(terms: dict[str, float]) -> list[str]:
    """The question's words beside its names and numbers (weight 1 in `terms`), those naming the kind of value asked
    ("date", "year") aside: what a line must speak of to state what is asked ("bread-making class", "office hours")."""
    return [w for w, v in terms.items() if v == 1.0 and w not in am.KIND_WORDS]


def says_every_word(line: str, predicate: Sequence[str]) -> bool:
    """Whether `line` says every one of the question's words beside its names, in some form, and there are two or
    more: "Last month (February) we gave out 312 food parcels" for "how many food parcels did Greenfold give out in
    February" (its name in the title). A verb saying little of its own (`LIGHT_VERBS`: "giving" of "Who is giving
    the opening keynote?") need not be said: a programme's row says "Opening keynote: ... — Prof. Miriam Soltaire"."""
    said = set(am.tokens(line))
    words = [w for w in predicate if not am.present_in(w, LIGHT_VERBS, forms=True)]
    return len(words) >= 2 and all(am.present_in(w, said, forms=True) for w in words)


# verbs whose forms say little beside their object: "giving a keynote", "getting a permit", "making a booking"
LIGHT_VERBS = frozenset({"give", "get", "make", "take", "have", "do", "put"})


def remembered(embed: Callable[[Sequence[str]], np.ndarray]) -> Callable[[Sequence[str]], np.ndarray]:
    """`embed`, embedding each distinct text once: an answer's steps look at the same passage lines more than once
    (adaptive mode's `topical` before reading, `on_topic` and `with_located` after). Use one per answer."""
    seen: dict[str, np.ndarray] = {}

    def embed_once(texts: Sequence[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in seen))
        if new:
            seen.update(zip(new, embed(new)))
        return np.stack([seen[t] for t in texts]) if texts else embed(texts)

    return embed_once


def similarity(embed: Callable[[Sequence[str]], np.ndarray]) -> Callable[[str, str], float]:
    """Closeness in meaning of two texts (cosine of their embeddings; `embed` normalises), for
    rag/quote.py's documents' own questions."""
    def similar(a: str, b: str) -> float:
        first, second = embed([a, b])
        return float(first @ second)

    return similar


def closest_line(question: str, passages: Sequence[Passage],
                 embed: Callable[[Sequence[str]], np.ndarray]) -> list[float]:
    """For each passage, the similarity in meaning of its line, or clause of a line, closest to `question` (the whole
    passage when it has no line): whether the passage speaks of what is asked at all ("A guest permit expires after
    72 hours" does not speak of how many hours a day has, 0.21; "Water freezes at 10 °C" of "Water freezes at 10 °C,
    so any freezer will keep your pasta frozen solid" speaks of the temperature water freezes at, 0.75). A line is
    also read under its passage's title, which may lift it by `TITLE_LIFT` at most: a school letter's lines leave
    its trip to the letter's title ("when's the school science museum trip happening", 0.545 -> 0.564), but a fee
    guide's title does not make its payment terms speak of "how much is a root canal at brightsmile" (0.28 -> 0.62
    unbounded)."""
    groups = [[_MARKUP.sub("", p.text[s:e]) for s, e in lines(p)] for p in passages]
    plain = [_pieces(g) or [p.text] for g, p in zip(groups, passages)]
    titled = [[f"{p.title}: {t}" for t in g] if p.title.strip() else [] for g, p in zip(groups, passages)]
    if not passages:
        return []
    flat = [t for a, b in zip(plain, titled) for t in (*a, *b)]
    vecs = embed([question, *flat])
    sims = vecs[1:] @ vecs[0]
    out, at = [], 0
    for a, b in zip(plain, titled):
        own = float(np.max(sims[at:at + len(a)]))
        under = float(np.max(sims[at + len(a):at + len(a) + len(b)])) if b else own
        out.append(max(own, min(under, own + TITLE_LIFT)))
        at += len(a) + len(b)
    return out


def _pieces(texts: list[str]) -> list[str]:
    """Each line, and each clause of a line that has several."""
    out = []
    for text in texts:
        clauses = [c for c in _clauses(text) if len(c) >= MIN_LINE_CHARS]
        out += [text, *clauses] if len(clauses) > 1 else [text]
    return out


_UNDERLINE = re.compile(r"^\s*[-=~_]{3,}\s*$")


def headings_before(text: str, at: int) -> set[str]:
    """The words of the headings above offset `at`: lines standing alone as a paragraph (or underlined), short
    and not a sentence ("YEAR 4 TRIP TO THE PEMBERLY SCIENCE & DISCOVERY CENTRE" above "Trip details" above
    "Cost: £18.50 per child"). A section's lines leave its subject to them."""
    words: set[str] = set()
    for block in re.split(r"\n\s*\n", text[:at]):
        rows = [r for r in block.strip().splitlines() if r.strip() and not _UNDERLINE.match(r)]
        if len(rows) == 1 and len(rows[0]) <= 80 and not rows[0].rstrip().endswith((".", "!", "?", ",", ":")) \
                and "|" not in rows[0]:
            words |= set(am.tokens(rows[0]))
    return words


HEADER_LINES = 4  # at most this many lines in a document's opening block for it to be a header (`header_words`)
HEADER_LINE_CHARS = 100
FIELD_KEY_WORDS = 3  # at most this many words in a form field's key (`is_field`)
TITLE_LINES = 2  # a document's title and the line under it name what it is about (`opening_words`)


def header_words(text: str) -> set[str]:
    """The words of a document's header: its opening block of a few short lines, when more follows ("MATCH REPORT —
    COUNTY CUP FINAL / Brackwater Town 2-1 Pellow Rovers / Saturday 3 May 2025, Fenwick Park. ..." above a report
    whose "The winning goal was scored by Tomas Revell" leaves the club, the cup and the year to it)."""
    block, blank, rest = text.strip().partition("\n\n")
    rows = [r for r in block.splitlines() if r.strip()]
    if not blank or not rest.strip() or len(rows) > HEADER_LINES or any(len(r) > HEADER_LINE_CHARS for r in rows):
        return set()
    return set(am.tokens(block))


def opening_words(head: str) -> set[str]:
    """The words of a document's header (`header_words`), else of its first `TITLE_LINES` lines when they are short:
    "Home Contents Insurance — Policy Summary / Harbourline Insurance · Policy number: HLC-2093341" opens a page
    converted from HTML without a blank line, and says whose policy its excess table is."""
    header = header_words(head)
    if header:
        return header
    rows = [r for r in head.strip().splitlines() if r.strip()][:TITLE_LINES]
    if len(rows) < TITLE_LINES or any(len(r) > HEADER_LINE_CHARS for r in rows):
        return set()
    return set(am.tokens("\n".join(rows)))


def _headings_of_chunk_before(passage: Passage, passages: Sequence[Passage]) -> set[str]:
    """The headings of the passage found just before `passage` in its document, when one was (chunks end where the
    indexer cut them: "Cost: £18.50 per child" may open a chunk whose section heading ended the one before)."""
    for other in passages:
        if other.source == passage.source and other.start < passage.start <= other.end:
            header = header_words(other.text) if other.start == 0 else set()
            return headings_before(other.text, len(other.text)) | header
    return set()


def _paragraph_start(text: str, at: int) -> int:
    """Where the paragraph holding offset `at` begins: after the last blank line before it ("The Clockhouse Museum
    ... It is open Tuesday to Sunday. Admission is €8 for adults" is one paragraph about the museum)."""
    blank = text.rfind("\n\n", 0, at)
    return 0 if blank < 0 else blank + 2


def shown_line(line: str) -> str:
    """The line as an answer shows it: a table row's cells as "key: value" ("Routine check-up: £38; 20 minutes"
    of "Routine check-up | £38 | 20 minutes"), without bullets or markup, and columns
    aligned with spaces closed up ("Date:              Friday 14 March 2025" as "Date: Friday 14 March 2025"), and
    a question-and-answer list's answer without its question and its "A:"."""
    first, _, rest = line.strip().partition("\n")
    if rest.strip() and _MARKUP.sub("", first).rstrip().endswith("?"):
        line = rest  # a question-and-answer list's answer, read with its question (`_lead_in`), shows without it
    text = _FAQ_ANSWER.sub("", _MARKUP.sub("", _BULLET.sub("", line)).strip())
    if "|" in text:
        cells = [c.strip() for c in text.strip("|").split("|") if c.strip()]
        return f"{cells[0]}: {'; '.join(cells[1:])}" if len(cells) >= 2 else text
    return " ".join(text.split())


def asking(question: str, terms: dict[str, float]) -> str:
    """What the question asks, without its subject: "How much does weigh?" of "How much does the TideTrack T4
    weigh?". The subject picked the candidates; what is compared is what is said of it, so a line that only names
    the subject ("Bredale Labs: a research laboratory.") is not close to every question about it."""
    subject = {w for w, v in terms.items() if v > 1.0}
    asked = am.question_part(question)  # "I can't make my shift - what number do I text ...?": the part that asks
    kept = [w for w in re.findall(r"[\w'’-]+|[^\w\s]", asked) if am.fold(w) not in subject]
    return " ".join(kept) or asked
