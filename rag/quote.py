"""Quotes: the passage's own sentence that states what a question asks, instead of the model's reading of it.

SmolLM2-135M misreads short, plain statements of numbers and names. Given "Staff of Halworth Textiles receive 25
days of annual leave each year." it answers "How many days of annual leave do staff at Halworth Textiles get?"
with "1" (and, shown that one sentence alone, "The answer is: 2."); given "It was founded in 1952." it writes
"2018"; it turns "Mira Ravworth" into "Mira Ravhallow". The answer path then declined a question its documents
answer (false abstention, issue 15), or cited a passage for a name it does not hold.

A quote needs no model call. It is the sentence of a passage that
- names the question's subject: every name and number of the question ("Halworth Textiles", "1632"), in the
  sentence itself or, when the sentence opens with a pronoun ("It was founded in 1952."), in the sentence before
  it or the document's heading, or in the heading when the document speaks of itself ("we gave out 312 food
  parcels" in a rota titled "GREENFOLD FOOD BANK");
- says what was asked: half of the question's other words ("annual", "leave", "staff"), in any form ("leads" ~
  "led"); words that only name the kind of answer ("year", "city", "sport") or say nothing of it ("use") need
  not appear;
- holds a value of the kind asked that the question does not: a date for "when" / "what year", a number for
  "how many", a name for "who", a place after "in", "at", "near" or "the town of" for "where" / "in which
  city". A question whose words do not say what kind of value it wants ("What is the internet country domain
  of Kenya?") needs every one of its other words in the sentence ("... and its internet country domain is
  .ke."), all but one when it has three or more ("The international calling code of Poland is +48." for "Which
  telephone calling code does Poland use?"), and a word of the sentence's own beside them; a yes/no question,
  or one naming only its subject, gets no quote.
The value is read off the clause that holds it and says most of the question's words (`_value_in`). A document
that asks the question itself and answers it (a quiz sheet's row "| 2 | What is the chemical symbol for gold? | Ag |",
an FAQ's "Q: ..." and "A: ..." lines) is quoted for its answer, whatever the kind asked (`answered_in_place`).

The caller (rag/evidence.py) judges the quote as it judges a reading (`make_reading`): the sentence is the
reading's text, so it is grounded word for word, and it still has to reach the calibrated threshold.

    quote("Who leads Project Griswick?", passage, question_terms(q), heading_words(passage))
    # -> the passage narrowed to "Projects. Project Griswick is led by Quinn Tarnley." (exact offsets kept)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from rag import answer_match as am
from rag import tables
from rag.sentences import split_sentences
from rag.types import Passage

# Verbs that say nothing of what is asked ("Which currency does Peru use?" ~ "The currency of Peru is the sol.").
LIGHT_VERBS = frozenset({"use", "uses", "used", "using", "have", "get", "gets", "got"})
PRONOUNS = frozenset({"it", "its", "they", "their", "he", "his", "she", "her", "this", "these", "there"})
# a document's author speaking of itself: in a food bank's rota titled by its name, "we gave out 312 food parcels"
# is the food bank's statement, and in a lecturer's email headed "CHEM 204 final exam arrangements", "I will run a
# revision session on Monday 8 December" is the course's
FIRST_PERSON = frozenset({"we", "our", "us", "ours", "i", "my", "me"})
PREDICATE_SHARE = 0.5  # of the question's other words the sentence must say (at least one)
_WHO = am.ASKS_WHO
_WHERE = re.compile(r"^\s*where\b|^\s*(?:in|at|from|near)?\s*(?:which|what)\s+(?:town|city|village|country|region|"
                    r"state|place|province)\b", re.IGNORECASE)
_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|van\s+|von\s+)?[A-Z][\w'’.-]*)*")
# the last word of an address's street, not of a person's name
_STREET_WORDS = frozenset({"road", "street", "lane", "avenue", "drive", "close", "crescent", "way", "terrace",
                           "gardens", "square", "place", "row", "grove", "walk", "mews", "rd", "st", "ave"})
_DAY_SHORT = frozenset({"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"})  # "[Sun 15 Sep 2024]"
_WORDS = re.compile(r"[\w'’.-]+")
_COPULA = re.compile(r"\s(?:is|are|was|were|became|becomes|remains)\s", re.IGNORECASE)
# "When is the school trip?": an event's day, not the coach's 8:45am departure (asks a day unless it asks a time)
_WHEN_IS = re.compile(r"^\s*when(?:\s+(?:is|are|was|were|will)\b|['’]s\b)", re.IGNORECASE)
# a form's field naming the day of what the document is about: "Date: Thursday 12 March 2026" of a trip letter
_DAY_FIELD = re.compile(r"^\s*(?:[•\-*–]\s*)?(?:\*\*)?(?:date|dates|day|when)(?:\*\*)?\s*:(?!\d)", re.IGNORECASE)
# an email's header block: its "Date:" is when it was sent, of nothing it speaks of
_EMAIL_HEADER = re.compile(r"^\s*(?:from|to|cc|subject|sent)\s*:", re.IGNORECASE | re.MULTILINE)
_RELATIVE = re.compile(r"^\s*(?:where|which|who|whom|whose|when|that|while)\b", re.IGNORECASE)
_CLAUSE = re.compile(r",\s(?!\d)|;\s|\s[–—-]\s")
_MARKUP = re.compile(r"\*\*|__|`|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)")
_FAQ_QUESTION = re.compile(r"^\s*(?:Q|Question)\s*[:.)]\s*(?P<q>.+\?)\s*$", re.IGNORECASE)
_FAQ_ANSWER = re.compile(r"^\s*(?:A|Answer)\s*[:.)]\s*(?P<a>.+?)\s*$", re.IGNORECASE | re.DOTALL)
# a quiz sheet's line holding its question and answer: "2. What is the capital of Canada? — Toronto"
_ASKED_AND_ANSWERED = re.compile(r"^\s*(?:\d+\s*[.)]\s*)?(?P<q>[^?\n]{8,}\?)\s*(?:—|–|-|:)\s*(?P<a>[^\n]+?)\s*$")
RESTATES_SHARE = 0.75  # of the question's content words a document's own question must say to restate it
RESTATES_SIMILARITY = 0.7  # or this close in meaning (all-MiniLM-L6-v2 cosine), with all the question's names
# (a question naming none is restated only word for word).
# Set by hand on the questions of handwritten-a, -b, -c, fictional and reference against every question their
# documents write: restatements in other words 0.72-0.96 ("who was the author of Pride and Prejudice" ~ "Who
# wrote Pride and Prejudice?" 0.90; "What is the capital city of Canada?" ~ "What is the capital of Canada?"
# 0.96; a bike's guarantee ~ "Q: What warranty do I get with my Kalvani bike?" 0.72); a different question on
# the same subject 0.60 ("which country is mount everest in" ~ "About how tall is Mount Everest in metres?")
Similar = Callable[[str, str], float]  # closeness in meaning of two texts, -1..1 (rag/locate.py `similarity`)
_PLACE_BEFORE = re.compile(r"\b(?:in|at|near|outside|from)\s+(?:the\s+(?:town|city|village|country|region|state|"
                           r"province|district)\s+of\s+)?$", re.IGNORECASE)


def asked_kind(question: str) -> str | None:
    """"date", "number", "person", "place", or None when the question's words do not say."""
    expected = am.expected_type(question)
    if expected is not None:
        return expected
    if _WHERE.search(question):
        return "place"
    if _WHO.search(question):
        return "person"
    return None


@dataclass(frozen=True)
class Quote:
    passage: Passage  # narrowed to the quoted sentence(s), offsets exact
    firm: bool  # the value is of the kind asked, or the side of an "is" opposite the question's words: the quote
    # stands over the model's reading of its passage; otherwise it only answers where that reading does not
    value: str  # what the sentence states: "Quinn Tarnley", "founded in 1992." (of "X is a mill, founded in 1992."),
    # "Ankara" (of "Its capital and largest administrative centre is Ankara, where ...")
    shown: str = ""  # the quote as an answer shows it, when not its passage's text (`answered_in_place`)
    row: bool = False  # a table row the question names (`row_quote`)


def quote(question: str, passage: Passage, terms: dict[str, float], heading: set[str],
          similar: Similar | None = None) -> Quote | None:
    """The passage narrowed to the sentence (with the one before it when it opens with a pronoun) that states a
    value of the kind `question` asks for (see the module docstring), and the clause holding it; or None.
    `terms`: the question's weighted content words (rag/evidence.py `question_terms`); `heading`: the words naming
    the passage's document; `similar`: closeness in meaning, for a document's own question in other words."""
    answered = (answered_in_place(question, passage, terms, similar)
                or row_quote(question, passage, terms, heading))
    if answered is not None:
        return answered
    kind = asked_kind(question)
    if kind is None and am.is_polar_question(question):
        return None  # yes/no: the passage's stance is read off its words elsewhere (answer_match.polar_stance)
    subject = [w for w, v in terms.items() if v > 1.0]
    predicate = _predicate([w for w, v in terms.items() if v == 1.0], kind)
    # nothing named: a kind word the question does not ask for is what it is about, and a sentence must say it
    # ("year" of "How many months are there in a year?": a padlock code changing "every 3 months" is no answer)
    about = [w for w in terms if w in am.KIND_WORDS and w not in _asked_nouns(question)] if kind and not subject else []
    if kind is None and not predicate:
        return None  # "What is Kenya?": any sentence about Kenya would do
    need = PREDICATE_SHARE if kind is not None else 1.0 if len(predicate) < 3 else (len(predicate) - 1) / len(predicate)
    asked = set(am.tokens(question))
    text = passage.text
    spans = split_sentences(text)
    day_asked = kind == "date" and _WHEN_IS.search(question) is not None
    unit = am.asked_unit(question) if kind is None else None  # a price, a phone number: the value carries it
    # a "Date:" field answers when the document's words say what is asked ("trip", "school"), wherever they stand;
    # names count here ("the museum trip" of a "... Museum")
    fields = day_asked and all(am.present_in(w, set(am.tokens(f"{passage.title}\n{text}")), forms=True)
                               for w in predicate)
    header_end = _email_header_end(text) if fields else -1
    best: tuple[tuple[bool, float], int, int, str, bool, bool] | None = None
    for i, (s, e) in enumerate(spans):
        sentence = text[s:e]
        if i == 0 and sentence[:1].islower():
            continue  # the tail of a sentence cut off by chunking ("the capital of Kenya in 1907.")
        said = set(am.tokens(sentence))
        if not all(am.present_in(w, said, forms=True) for w in about):
            continue
        share = _share(predicate, sentence)
        field = fields and _DAY_FIELD.match(sentence) is not None and s > header_end
        if field:
            share = max(share, need)
        if share < need - 1e-9 or (predicate and share == 0.0):
            continue
        clauses = _clauses(sentence)
        holding = [(k, v) for k, c in enumerate(clauses) if (v := _value_in(kind, c, asked | heading))]
        if not holding:
            continue
        k, value = max(holding, key=lambda kv: _share(predicate, clauses[kv[0]]))
        clause = clauses[k]
        start = s
        if not all(am.present_in(w, said) for w in subject):
            authored = bool(said & FIRST_PERSON) and all(am.present_in(w, heading) for w in subject)
            if not (set(am.tokens(sentence)[:2]) & PRONOUNS) and not authored:
                continue
            # "Its capital is Wellington." after "New Zealand is a country in Australia and New Zealand.": the
            # pronoun stands for the subject of the sentence before, not for every name in it
            before = set(am.tokens(_subject_part(text[spans[i - 1][0]:spans[i - 1][1]]))) if i else set()
            if not all(am.present_in(w, said | before | heading) for w in subject):
                continue
            if i and all(am.present_in(w, said | before) for w in subject):
                start = spans[i - 1][0]  # the sentence before names the subject: quote both
        elif not (all(am.present_in(w, set(am.tokens(f"{_subject_part(sentence)} {clause}"))) for w in subject)
                  or (k and _describes(clause, clauses[k - 1], subject))):
            continue  # the subject is named, but not as what the sentence is about ("a country in Australia")
        firm = kind is not None
        if kind is None:
            copular = _copular_value(sentence, predicate, asked | heading, subject)
            value, firm = copular or value, bool(copular)
            if unit and not am.states_unit(unit, value) and am.unit_value(unit, sentence):
                # "Your rent of £845 per month remains unchanged": the rent is the price, not "unchanged"
                value, firm = am.unit_value(unit, sentence), True
        rank = (day_asked and am.names_a_day(value), share)
        if best is None or rank > best[0]:
            best = (rank, start, e, value, firm, field)
    if best is None:
        return None
    _, s, e, value, firm, field = best
    narrowed = replace(passage, text=text[s:e], start=passage.start + s, end=passage.start + e)
    if field:  # a form's "Date:" field says whose day it is only by its document: answers as a named row does
        return Quote(narrowed, firm, value, shown=text[s:e].strip().rstrip(".") + ".", row=True)
    return Quote(narrowed, firm, value)


def answered_in_place(question: str, passage: Passage, terms: dict[str, float],
                      similar: Similar | None = None) -> Quote | None:
    """A question the document asks and answers itself: a line restating `question` with its answer after a dash
    ("2. What is the capital of Canada? — Toronto"), a table row whose cell restates it ("| 2 | What is the chemical
    symbol for gold? | Ag |" of a quiz sheet's answers), with its answer in the next cell, or an FAQ's "Q: ..." line
    restating it, with the "A: ..." line after it. The document's answer is a firm quote, whatever the
    kind asked: a quiz sheet's "Ag" stands over the model's memory of gold, and the conflict check sees them differ.
    The document's question restates the user's in its words, or, given `similar`, in other words close in meaning
    ("Who wrote Pride and Prejudice?" for "who was the author of Pride and Prejudice")."""
    subject = [w for w, v in terms.items() if v > 1.0]
    text = passage.text
    at = 0
    for line in text.splitlines(keepends=True):
        m = _ASKED_AND_ANSWERED.match(line)
        if m is not None and _restates(question, m.group("q"), subject, similar) and _short_answer(m.group("a")):
            s, e = at + m.start("q"), at + m.end("a")
            answer = m.group("a")
            return Quote(replace(passage, text=text[s:e], start=passage.start + s, end=passage.start + e),
                         True, answer, f"{m.group('q').rstrip('?').rstrip()}: {answer.rstrip('.')}.")
        at += len(line)
    spans = split_sentences(text)  # a table row is one sentence (rag/sentences.py)
    for i, (s, e) in enumerate(spans):
        line = _MARKUP.sub("", text[s:e])
        if "|" in line:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for j, cell in enumerate(cells[:-1]):
                answer = next((c for c in cells[j + 1:] if c), "")
                if cell.endswith("?") and _restates(question, cell, subject, similar) and _short_answer(answer):
                    return Quote(replace(passage, text=text[s:e], start=passage.start + s, end=passage.start + e),
                                 True, answer, f"{cell.rstrip('?').rstrip()}: {answer.rstrip('.')}.")
        asked = _FAQ_QUESTION.match(line)
        if asked is None or i + 1 >= len(spans) or not _restates(question, asked.group("q"), subject, similar):
            continue
        told = _FAQ_ANSWER.match(text[spans[i + 1][0]:spans[i + 1][1]])
        if told is not None and told.group("a").strip():
            end = spans[i + 1][1]
            return Quote(replace(passage, text=text[s:end], start=passage.start + s, end=passage.start + end),
                         True, told.group("a").strip(), told.group("a").strip())
    return None


def row_quote(question: str, passage: Passage, terms: dict[str, float], heading: set[str]) -> Quote | None:
    """The table row `question` names by its first cell, narrowed to its cell holding what is asked (rag/tables.py),
    in a passage naming the question's subject ("Off-peak | £24/month | ..." of Brindle Gym's price table, for "how
    much is off-peak at brindle"), shown as "Off-peak: £24/month."; None when no row is named or it states
    nothing of the kind asked. Firm: the row says which thing the value belongs to, where the model's reading of a
    table takes a value off any of its rows."""
    row = tables.named_row(question, passage.text)
    if row is None:
        return None
    subject = [w for w, v in terms.items() if v > 1.0]
    said = set(am.tokens(passage.text)) | heading
    if not all(am.present_in(w, said) for w in subject):
        return None
    value, _ = tables.row_value(question, row)
    if not value:
        return None
    shown = f"{_MARKUP.sub('', row.label)}: {value}"
    s, e = row.start, row.end
    return Quote(replace(passage, text=passage.text[s:e], start=passage.start + s, end=passage.start + e), True,
                 value, shown.rstrip(".") + ".", row=True)


def _restates(question: str, asked: str, subject: list[str], similar: Similar | None = None) -> bool:
    """Whether `asked`, a question a document writes, is `question`: every name and number of it, and
    `RESTATES_SHARE` of its other content words, or (given `similar`) words `RESTATES_SIMILARITY` close in meaning."""
    said = set(am.tokens(asked))
    words = am.content_words(question)
    if not words or not all(am.present_in(w, said, forms=True) for w in subject):
        return False
    if sum(am.present_in(w, said, forms=True) for w in words) / len(words) >= RESTATES_SHARE:
        return True
    # in other words only about a name: "What is the chemical symbol for gold?" is close in meaning to "What's the
    # chemical symbol for iron?" (a quiz sheet answered it "Ag"), and only its words tell them apart
    return bool(subject) and similar is not None and similar(question, asked) >= RESTATES_SIMILARITY


def _short_answer(cell: str) -> bool:
    """A cell that could be a quiz sheet's answer: a few words, not another question."""
    return bool(cell) and not cell.endswith("?") and len(cell.split()) <= 12


def _email_header_end(text: str) -> int:
    """Where an email's header block ends (the lines before the first blank line, when one of them is a "From:",
    "To:" or "Subject:" field), or -1 when `text` opens with none."""
    block_end = text.find("\n\n")
    block = text if block_end < 0 else text[:block_end]
    return len(block) if _EMAIL_HEADER.search(block) is not None else -1


def _predicate(words: list[str], kind: str | None) -> list[str]:
    """The question's words a quote must say. Never those naming the kind of answer when the question says the kind
    ("year" of "In what year ..."); for a question that does not, not those naming the kind of answer ("sport" of
    "What sport does Stu Grimson play?") or light verbs ("use") either, unless nothing else is left to say ("What is
    the religion of X?")."""
    if kind is not None:
        return [w for w in words if w not in am.KIND_WORDS]
    said = [w for w in words if w not in am.KIND_WORDS and w not in LIGHT_VERBS]
    return said or words


_ASKED_NOUN = re.compile(r"\b(?:how\s+(?:many|much)|what|which|whose)\s+(?:\w+\s+)?(\w+)", re.IGNORECASE)


def _asked_nouns(question: str) -> set[str]:
    """The words naming what a question asks for ("months" of "How many months are there in a year?", "time" of
    "what time does the pool open"), as question tokens."""
    return {w for m in _ASKED_NOUN.finditer(question) for w in am.tokens(m.group(0))}


def _subject_part(sentence: str) -> str:
    """What a sentence is about: its words before the first "is"/"became", or its first clause."""
    m = _COPULA.search(sentence)
    return sentence[: m.start()] if m else _clauses(sentence)[0]


def _copular_value(sentence: str, predicate: list[str], known: set[str], subject: list[str] = ()) -> str:
    """For a question naming no kind: the side of the sentence's "is"/"became" opposite the question's words, cut
    to the phrase beside it ("Ankara" of "Its capital and largest administrative centre is Ankara, where ...";
    "Chinese" of "The official language of China, a country in Eastern Asia, is Chinese."; "Palmas" of "After
    independence in 1963, Palmas became the capital of Kenya."; ".ar" of "..., and its internet country domain is
    .ar."). A value this tight is what tells two documents apart: their sentences differ only in it. The side
    naming the question's `subject` is not its value: "Stu Grimson is a Canadian ice hockey player" answers "What
    sport does Stu Grimson play?" with "a Canadian ice hockey player". "" when no "is" has the question's words
    on one side only."""
    text = am.PARENTHESES.sub("", sentence)
    best: tuple[float, str] | None = None
    for m in _COPULA.finditer(text):
        parts = _CLAUSE.split(text[: m.start()])
        left = parts[-1]
        if _RELATIVE.match(left):
            continue  # the "is" of "…, where the elections were held" belongs to another clause
        right = _CLAUSE.split(text[m.end():])[0]
        said_left, said_right = _share(predicate, left), _share(predicate, right)
        if said_left == said_right and len(parts) > 1:  # an apposition between: "China, a country in Asia, is"
            left = parts[0]
            said_left = _share(predicate, left)
        if said_left == said_right:
            continue
        asked, value = (said_left, right) if said_left > said_right else (said_right, _subject_phrase(text[: m.start()]))
        if subject and said_right > said_left and _names(subject, value):
            asked, value = said_left, right  # the question's words describe the subject: "X is a ... player"
        value = value.strip().rstrip(" .,;:")
        if subject and _names(subject, value):
            continue
        if any(w not in known and w not in am.FILLER for w in am.tokens(value)) and (best is None or asked > best[0]):
            best = (asked, value)
    return best[1] if best else ""


def _names(subject: list[str], text: str) -> bool:
    """Whether `text` names every word of the question's subject."""
    said = set(am.tokens(text))
    return all(am.present_in(w, said) for w in subject)


def _subject_phrase(left: str) -> str:
    """The phrase naming the subject before an "is": its last clause that opens with a capital ("Palmas" of "After
    independence in 1963, Palmas"; "Santiago" of "Santiago, also known as Santiago de Chile")."""
    parts = [p.strip() for p in _CLAUSE.split(left) if p.strip()]
    named = [p for p in parts if p[:1].isupper()]
    return (named or parts or [left])[-1]


_APPOSITIVE = re.compile(r"^(?:the|a|an|which|who|whose|that)\b", re.IGNORECASE)


def _describes(clause: str, before: str, subject: list[str]) -> bool:
    """Whether `clause` describes the thing the clause before it ends with, naming the subject: in "..., and a
    2-metre matchstick model of the Eiffel Tower, the iron landmark that stands in Rome." the last clause speaks of
    the Eiffel Tower, though the sentence is about a museum's highlights."""
    if not subject or not _APPOSITIVE.match(clause):
        return False
    tail = set(am.tokens(before)[-(len(subject) + 3):])
    return all(am.present_in(w, tail) for w in subject)


def _clauses(sentence: str) -> list[str]:
    """The sentence's clauses (split at a comma outside a number, a semicolon or a dash), the whole sentence first
    when it has one clause."""
    parts = [p.strip() for p in _CLAUSE.split(sentence) if p.strip()]
    return parts or [sentence]


def _share(predicate: list[str], text: str) -> float:
    """The share of the question's non-subject words `text` says, in any form ("leads" ~ "led"), as words of its
    own: a word inside a name ("Capital" of "the Ohio Capital Conference") does not say it. 1.0 when none."""
    if not predicate:
        return 1.0
    words = _WORDS.findall(text)
    said = set(am.tokens(" ".join(w for i, w in enumerate(words) if i == 0 or not w[:1].isupper())))
    return sum(am.present_in(w, said, forms=True) or bool(said & agents(w)) for w in predicate) / len(predicate)


def agents(verb: str) -> set[str]:
    """Who does what a verb says: "player" of "play", "writer" of "write", "director" of "direct" (a sentence
    "X is a Canadian ice hockey player" says what sport X plays)."""
    return {verb + "er", verb + "r", verb + "or"} if len(verb) >= 4 else set()


def _value_in(kind: str | None, clause: str, known: set[str]) -> str:
    """The value of `kind` that `clause` states and the question does not ("" when none): the name for a person
    or a place, the clause itself for a date or a number (compared as values), and for a question naming no kind
    the clause itself when it has a word of its own (`_copular_value` then narrows it where it can)."""
    if kind is None:
        own = any(w not in known and w not in am.FILLER and w not in PRONOUNS for w in am.tokens(clause))
        return clause if own else ""
    if kind in ("date", "number"):
        dates, numbers = am.values(clause)
        new = [n for n in numbers if am.fold(_plain(n)) not in known]
        return clause if new or (kind == "date" and dates) else ""
    for m in _NAME.finditer(clause):
        words = [w for w in am.tokens(m.group()) if w not in am.FILLER and w not in PRONOUNS]
        if not words or all(w in known for w in words):
            continue
        if m.start() == 0 and len(words) == 1:  # a sentence's first word is capitalised anyway ("Staff of ...")
            continue
        if kind == "person" and not _no_person(m.group(), clause[: m.start()]):
            return m.group()
        if kind == "place" and _PLACE_BEFORE.search(clause[: m.start()]):
            return m.group()
    return ""


def _no_person(name: str, before: str) -> bool:
    """Whether a capitalised `name` cannot be who a question asks for: a day or a month ("Tuesday 14 October", a chat
    log's "[Sun 15 Sep 2024, 11:22]"), a pronoun (its "Me:"), a street ("Tollgate Road"), or a name right after a
    number ("27 Tollgate", "Room 4 Annexe")."""
    words = am.tokens(name)
    calendar = all(am.WEEKDAY.fullmatch(w) or w in am.MONTHS or w in _DAY_SHORT for w in words)
    pronoun = all(w in FIRST_PERSON or w in PRONOUNS for w in words)  # a chat log's "Me:"
    return calendar or pronoun or words[-1] in _STREET_WORDS or re.search(r"\d\s*$", before) is not None


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
