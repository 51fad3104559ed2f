"""Recase: a question typed in lower case names what its documents name ("who refereed brackwater town's county cup
final" asks about Brackwater Town).

The answer path finds a question's subject by its capitals (rag/evidence.py `names_a_subject`, answer_match
`subject_phrase`). People type in lower case; a blind workload asked a third of its document questions that way, and
with no subject found, a question about the user's own things was treated as a request naming nothing: a quote or a
located line needed none of its names, and when no passage answered, memory invented ("The 2022 season saw Corrabeg
Roms score 10 goals").

The retrieved passages say how the user's things are spelt. A run of the question's words is written as the passages
write it when they capitalise it as a name:
- two or more words, each capitalised ("Maple Street Chess Club", "TideTrack T4"), anywhere, headings included (a
  sentence capitalises only its first word);
- one word capitalised in the middle of a sentence ("... played for Corrabeg in 2021"), standing alone (not "Farm" of
  "Green Valley Farm", "Week" of "Lantern Week"), not a word a sentence or a heading would capitalise anyway, nor a
  question or function word, a day or a month (a run neither begins nor ends with one), nor a word the passages
  also write in lower case ("boil" beside a kettle's "Boil" preset and a quiz sheet's "water boils at");
- one word opening two or more capitalised names ("greenfold" of "GREENFOLD FOOD BANK" and "Greenfold Road"): the
  distinctive word of a name, which people use alone.
A question with a capital already past its first word is left as it is: its writer said what the names are.

    recased("who is the head chef at the marrowgate hotel", passages)
    # -> "who is the head chef at the Marrowgate Hotel"
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag import answer_match as am

MAX_RUN = 5  # words in one name ("Elmfield Residents' Association Quiz Night")
LEADING_TIMES = 2  # a word opening this many capitalised names in the passages is a name of its own (`_as_name`)
_WORD = re.compile(r"[\w][\w'’.-]*\w|\w")
_CALENDAR = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december",
})  # written with a capital, and never what a question is about ("she's turning 30 on saturday")
_COMMON = am.FILLER | am.QUESTION_WORDS | _CALENDAR | frozenset({
    "i", "you", "we", "my", "your", "our", "me", "us", "do", "does", "did", "can", "could", "should", "would", "will",
    "much", "many", "long", "often", "not", "no", "yes", "a", "an", "or", "but", "if", "then", "so", "per", "each",
})


def recased(question: str, texts: Sequence[str]) -> str:
    """`question` with the runs of its words that `texts` write as names written their way (see the module
    docstring); `question` itself when it capitalises a word past its first, or nothing matches."""
    words = list(_WORD.finditer(question))
    if len(words) < 2 or any(w.group()[:1].isupper() for w in words[1:]):
        return question
    joined = "\n".join(texts)
    out = question
    i = 0
    while i < len(words):
        for n in range(min(MAX_RUN, len(words) - i), 0, -1):
            run = words[i:i + n]
            if run[0].group().lower() in _COMMON or run[-1].group().lower() in _COMMON:
                continue
            s, e = run[0].start(), run[-1].end()
            phrase = question[s:e]
            possessive = re.search(r"['’]s$", phrase)
            if possessive:  # "brackwater town's": the documents write "Brackwater Town"
                e -= 2
                phrase = phrase[:-2]
            spelt = _as_name(phrase, joined, n)
            if spelt is not None:
                out = out[:s] + spelt + out[e:]  # same length: later offsets still hold
                i += n
                break
        else:
            i += 1
    return out


def _written_lower(word: str, text: str) -> bool:
    """Whether `text` writes `word`, or it with an ending ("boils", "boiled"), in lower case: a word, not a name."""
    lower = re.compile(r"(?<![\w'’-])" + re.escape(word.lower()) + r"(?:s|es|ed|d|ing)?(?![\w'’-])")
    return lower.search(text) is not None


def _as_name(phrase: str, text: str, n_words: int) -> str | None:
    """How `text` spells `phrase` as a name (the same words, same length, capitalised as the module docstring says),
    or None."""
    pattern = re.compile(r"(?<![\w'’-])" + r"\s+".join(re.escape(w) for w in phrase.split()) + r"(?![\w'’-])",
                         re.IGNORECASE)
    if n_words == 1 and _written_lower(phrase, text):
        return None  # "boil": the kettle's "Boil" preset, yet the quiz sheet's "water boils at" is the word
    leading: list[str] = []  # the word opening a longer name: "Greenfold" of "GREENFOLD FOOD BANK" and "Greenfold Road"
    for m in pattern.finditer(text):
        found = m.group()
        words = found.split()
        if not all(w[:1].isupper() or not w[:1].isalpha() for w in words) or not words[0][:1].isupper():
            continue
        spelt = " ".join(words)
        if len(spelt) != len(phrase):
            continue
        capitals = sum(w[:1].isupper() for w in words)
        if n_words >= 2 and capitals >= 2:
            return spelt
        if n_words == 1 and not _alone(text, m.start(), m.end()):
            if _opens_name(text, m.start(), m.end()):
                leading.append(spelt)
            continue  # one word of a longer name: "Farm" of "Green Valley Farm" is no name of its own
        if _mid_sentence(text, m.start()) or (n_words >= 2 and words[0].isupper()):  # "in Corrabeg", "CHEM 204"
            return spelt
    if len(leading) >= LEADING_TIMES:  # the distinctive word of the user's names, opening more than one of them
        return next((w for w in leading if not w.isupper()), leading[0].capitalize())
    return None


def _opens_name(text: str, start: int, end: int) -> bool:
    """Whether the word at text[start:end] opens a run of capitalised words: no capitalised word before it on its
    line, one after it ("Greenfold" of "St Bede's Church Hall, Greenfold Road" and of "GREENFOLD FOOD BANK")."""
    before, after = _beside(text, start, end)
    apart = before is None or not before[:1].isupper() or before[-1] in ",;:)—–-"
    return apart and after is not None and after[:1].isupper()


def _alone(text: str, start: int, end: int) -> bool:
    """Whether the word at text[start:end] stands without a capitalised word just before or after it."""
    return not any(w is not None and w[:1].isupper() for w in _beside(text, start, end))


def _beside(text: str, start: int, end: int) -> tuple[str | None, str | None]:
    """The words just before and just after text[start:end] on its line (None where there is none)."""
    before = re.search(r"(\S+)[ \t]+$", text[max(0, start - 40):start])
    after = re.match(r"[ \t]+(\S+)", text[end:end + 40])
    return (before.group(1) if before else None), (after.group(1) if after else None)


def _mid_sentence(text: str, at: int) -> bool:
    """Whether offset `at` follows a word of the same sentence on its line (not a sentence's or a line's start)."""
    line_start = text.rfind("\n", 0, at) + 1
    before = text[line_start:at].rstrip()
    if not before or not re.search(r"[a-z0-9,;]$", before):
        return False
    return not am.ends_sentence(before)
