"""Table rows: the row a question names, and the value that row states.

Indexing writes a Markdown or HTML table as lines of cells joined by " | " (indexing/markup.py), one line per row.
SmolLM2-135M reads such a passage as a bag of values: asked "how much is the corporate membership at Brindle Gym per
person", it answered "£27/month" off the row above ("Student | £27/month | ..."), while the row it was asked about
says "Corporate | Contact us | ..."; asked what accidental damage would add to a policy, it took "£1,500" off "Any
single item | £1,500" where "Accidental damage | Not included" stands. A row is named by its first cell (its label), or by another cell of text ("Harvest Century" of a ride table's
"Sat 21 September | Harvest Century | 62 miles | ..."):

- `named_row`: the row with a cell whose words (parentheses aside) are all in the question, more of them than any
  other row's; None when no row is named, or two rows are named as well as each other.
- `row_value`: the named row's cell holding a value of the kind asked (a price for "how much does ... cost", a
  number for "how many", a time for "what time"), preferring the column whose header the question names ("joining
  fee" of "Membership | Monthly fee | Joining fee"); "" when the row states none ("Contact us").
- `from_another_row`: whether an answer's value is stated on another row of the table holding the named row, and
  not on the named row: such an answer does not answer (rag/evidence.py); `says_named_row`: whether a line found
  by meaning (rag/locate.py) speaks of the named row at all.

    named_row("how much is the corporate membership", "Standard | £32/month\\nCorporate | Contact us")
    # -> Row(cells=("Corporate", "Contact us"), ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from rag import answer_match as am

_SEPARATOR = " | "
_ASKS_LENGTH = re.compile(r"\bhow (?:high|tall|far|deep|wide)\b|\b(?:height|distance|depth|width)\b", re.IGNORECASE)
_ASKS_WEIGHT = re.compile(r"\bhow heavy\b|\bweigh(?:s|t)?\b", re.IGNORECASE)
_WEIGHT = re.compile(r"\d\s*(?:g|kg|grams?|kilos?|kilograms?|lbs?|pounds?|oz|ounces?|tonnes?|tons?|st|stone)\b",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Row:
    start: int  # offsets of the row's line in the text it was found in
    end: int
    cells: tuple[str, ...]
    header: tuple[str, ...] = ()  # the table's first row when it names columns (no values in it), else ()
    key: int = 0  # the cell naming the row: its first, or the text cell the question names (`named_row`)

    @property
    def label(self) -> str:
        return self.cells[self.key]


def rows(text: str) -> list[Row]:
    """The table rows of `text`: lines of two or more cells joined by " | ", each with its table's header."""
    out: list[Row] = []
    header: tuple[str, ...] = ()
    first = True  # the next row starts a table
    at = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if _SEPARATOR not in stripped:
            first, header = True, ()
            at += len(line)
            continue
        cells = tuple(c.strip() for c in stripped.strip("|").split("|"))
        if first and len(cells) >= 2 and not any(_holds_value(c) for c in cells):
            header = cells
        else:
            out.append(Row(at, at + len(line.rstrip("\r\n")), cells, header))
        first = False
        at += len(line)
    return out


def _holds_value(cell: str) -> bool:
    return any(ch.isdigit() for ch in cell) or bool(re.search(r"[£$€¥₹]", cell))


def _label_words(label: str) -> list[str]:
    return [w for w in am.tokens(am.PARENTHESES.sub(" ", label)) if w not in am.FILLER and not w.isdigit()]


@lru_cache(maxsize=256)  # asked of the same passage by several steps of one answer
def named_row(question: str, text: str) -> Row | None:
    """The row of `text` whose label the question names (see the module docstring), or None."""
    asked = set(am.tokens(question))
    best: list[tuple[int, Row]] = []
    for row in rows(text):
        for j, cell in enumerate(row.cells):
            if j and _holds_value(cell):
                continue  # a value ("62 miles", "Sat 21 September") names no row; its first cell may ("E4")
            words = _label_words(cell)
            if j and len(words) < 2:
                continue  # a one-word cell elsewhere in a row ("white" of "Salt | white | 1 coin") is no name for it
            if words and all(am.present_in(w, asked, forms=True) for w in words):
                best.append((len(words), replace(row, key=j)))
    if not best:
        return None
    top = max(n for n, _ in best)
    named = [r for n, r in best if n == top]
    return named[0] if len({r.cells for r in named}) == 1 else None


def _fits(question: str, cell: str) -> bool:
    """Whether `cell` holds a value of the kind `question` asks: in its unit (answer_match.asked_unit), else a date
    for "when", a number that is not a clock time for "how many" / "how high" (a tour's "10:30–15:00" is no height)."""
    unit = am.asked_unit(question)
    if unit is not None:
        return am.states_unit(unit, cell)
    kind = am.expected_type(question)
    dates, numbers = am.values(cell)
    if _ASKS_LENGTH.search(question) and am.measure(cell) != "length":
        return False
    if _ASKS_WEIGHT.search(question) and not _WEIGHT.search(cell):
        return False
    if kind == "date":
        return bool(dates)
    if kind == "number":
        return bool(numbers) and not am.states_unit("clock", cell) and am.counts_the_unit_asked(question, cell)
    return False


def row_value(question: str, row: Row) -> tuple[str, str]:
    """(the cell of `row` holding what `question` asks, its column's header or ""), or ("", ""): the cell of a
    value of the kind asked (`_fits`), of the column whose header the question names where several are; for a
    question whose words name no kind of value, the row's one other cell, or the cell of the one column whose
    header the question names ("Collection day" for "which day ..."). A yes/no question gets none."""
    if am.is_polar_question(question):
        return "", ""
    headed = len(row.header) == len(row.cells)
    asked = set(am.tokens(question))

    def said(j: int) -> float:
        words = _label_words(row.header[j]) if headed else []
        return sum(am.present_in(w, asked, forms=True) for w in words) / len(words) if words else 0.0

    cells = [(j, c) for j, c in enumerate(row.cells) if c and j != row.key]
    if am.asked_unit(question) is None and am.expected_type(question) is None:
        if len(row.cells) == 2:  # "Ingress protection | IP67"
            fitting = cells
        else:
            scores = [said(j) for j, _ in cells]
            top = max(scores, default=0.0)
            fitting = [cells[scores.index(top)]] if top > 0 and scores.count(top) == 1 else []
    else:
        fitting = [(j, c) for j, c in cells if _fits(question, c)]
        if len(fitting) > 1:
            scores = [said(j) for j, _ in fitting]
            if scores.count(max(scores)) == 1:
                fitting = [fitting[scores.index(max(scores))]]
    if not fitting:
        return "", ""
    j, cell = fitting[0]
    return cell, row.header[j] if headed else ""


def from_another_row(question: str, text: str, answer: str) -> bool:
    """Whether `answer`'s value (its value in the unit asked, else its first number) stands on a row of `text`'s
    tables other than the row `question` names, and not on the named row; or, when the question asks for a unit
    the named row states no value in ("Corporate | Contact us" for "how much is the corporate membership"), anywhere
    off that row ("Freezing: up to 2 months per year for £5/month", under the table, is another thing's price)."""
    row = named_row(question, text)
    if row is None:
        return False
    unit = am.asked_unit(question)
    found = am.written_numbers(am.unit_value(unit, answer) if unit else "") or am.written_numbers(answer)[:1]
    if not found:
        return False
    number = found[0]
    # on the named row, a value in the unit asked: "Minimum 5 employees" states no £5
    stated = [n for cell in row.cells for n in am.written_numbers(am.unit_value(unit, cell) if unit else cell)]
    if number in stated:
        return False
    if unit is not None and not row_value(question, row)[0] and number in am.written_numbers(text):
        return True
    return any(number in am.written_numbers(" ".join(r.cells)) for r in rows(text) if r.cells != row.cells)


def says_named_row(question: str, text: str, line: str) -> bool:
    """Whether `line` of `text` speaks of the row `question` names there, when it names one: it says every word of
    the row's label ("Joining fee: £15" does not speak of "Corporate | Contact us"). True when no row is named."""
    row = named_row(question, text)
    if row is None:
        return True
    said = set(am.tokens(line))
    return all(am.present_in(w, said, forms=True) for w in _label_words(row.label))
