"""Short-answer normalisation and comparison: are two answers the same answer?

Used by the conflict check (rag/conflict.py); the evals' scores against gold aliases (`alias_match`,
`exact_match`, `token_f1`) build on `normalize` and `f1_tokens` in evals/metrics.py.

- `normalize`: lower case, accents folded (NFKD), punctuation, articles and [n] citations removed.
- `core`: the normalised answer minus the words it repeats from the question
  ("The capital of France is Paris." -> "paris" for "What is the capital of France?").
- `values`: numbers and dates parsed as values ("two" == "2", "March 3, 1990" == "3 March 1990"),
  so 1945 and 1944 differ even though their embeddings are close.
- `polarity` / `is_unknown`: yes/no answers and refusals ("unknown", "the passage does not say").
- `same_answer(a, b, embedder, question)`: a probability-like agreement score in [0, 1], combining
  the above with token F1 and, for paraphrases, embedding cosine similarity.

    >>> same_answer("March 3, 1990", "3 March 1990", embedder)   # 0.97
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np


class TextEmbedder(Protocol):
    """What `same_answer` needs from indexing.embed.Embedder: unit vectors for texts."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


ARTICLES = {"a", "an", "the"}
# Words that carry no answer content when an answer repeats the question ("X is Y", "it was born in Y").
FILLER = ARTICLES | {
    "is", "was", "are", "were", "be", "been", "of", "in", "on", "at", "by", "for", "to", "and", "its", "it",
    "his", "her", "their", "he", "she", "they", "this", "that", "which", "who", "what", "where", "when", "answer",
    "from", "as", "with", "has", "had", "have", "also", "located", "called", "named", "known", "there",
    "s",  # the possessive ("Sr.'s occupation")
}
# Words that only name the kind of value asked for ("What sport does X play?", "On which continent is Y?"): an
# answer need not say them ("X is a retired ice hockey player", "Y is a country located in East Asia").
KIND_WORDS = frozenset({"year", "date", "day", "time", "place", "town", "city", "village", "country", "region",
                        "state", "continent", "person", "occupation", "profession", "job", "genre", "sport",
                        "religion", "nationality", "color", "colour", "kind", "type", "number", "amount",
                        "temperature"})
_CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’«»–—…‐‑‒−]")

UNKNOWN_PATTERNS = re.compile(
    r"^\s*(unknown|n/?a|none|no answer|not (mentioned|stated|given|specified|provided|known)|"
    r"i (do not|don't|cannot|can't) (know|answer|say)|i'm not sure|not sure|cannot be determined)\b"
    r"|(passage|text|context|document)s? (does|do) not (say|mention|answer|provide|contain|specify|state)"
    r"|(no|not enough) information|cannot (answer|determine)|is not (mentioned|stated|specified)|unknown\W*$",
    re.IGNORECASE,
)
_YES = {"yes", "yeah", "yep", "correct", "true", "indeed", "right"}
_NO = {"no", "nope", "false", "incorrect", "not", "wrong"}
_POLAR_QUESTION = re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|has|have|had|will|would|should)\b", re.IGNORECASE)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_MONTHS = {
    m: i for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")], start=1) for m in names
}
MONTHS = frozenset(_MONTHS)  # month names and their abbreviations, lower case
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{3,4}})\b", re.IGNORECASE)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{3,4}})\b", re.IGNORECASE)
_DATE_MY = re.compile(rf"\b({_MONTH_RE})\.?,?\s+(\d{{3,4}})\b", re.IGNORECASE)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])[-+]?\d+(?:\.\d+)?")

Date = tuple[int, int | None, int | None]  # (year, month, day); None = not stated


def fold(text: str) -> str:
    """Unicode-fold: NFKD, accents dropped, lower case ("Uleåborg" -> "uleaborg")."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def normalize(text: str) -> str:
    """Lower case, fold accents, drop [n] citations, punctuation and articles, collapse spaces."""
    text = fold(_CITATION.sub(" ", text))
    text = _PUNCT.sub(" ", text)
    return " ".join(w for w in text.split() if w not in ARTICLES)


def tokens(text: str) -> list[str]:
    return normalize(text).split()


# Irregular forms a question and its answer often differ by ("Who leads ...?" / "... is led by ...").
_IRREGULAR = {"led": "lead", "wrote": "write", "written": "write", "began": "begin", "begun": "begin",
              "built": "build", "made": "make", "won": "win", "held": "hold", "sold": "sell", "grew": "grow",
              "grown": "grow", "ran": "run", "spoke": "speak", "spoken": "speak", "chose": "choose",
              "chosen": "choose", "paid": "pay", "bought": "buy", "taught": "teach", "gave": "give", "given": "give",
              "took": "take", "taken": "take", "became": "become", "kept": "keep", "left": "leave", "met": "meet",
              "went": "go", "gone": "go", "sang": "sing", "sung": "sing", "drew": "draw",
              "drawn": "draw", "flew": "fly", "flown": "fly", "rode": "ride", "ridden": "ride", "lies": "lie"}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A word's plain form for matching inflections: "leads", "led", "leading" -> "lead"; "countries" ->
    "country"; "based", "base" -> "bas". Crude (no dictionary) but symmetric: two forms of one word meet."""
    if word in _IRREGULAR:
        return _drop_final_e(_IRREGULAR[word])  # "gave" -> "giv", as "give" and "gives"
    if not word.isalpha() or len(word) <= 3:
        return word
    for suffix, repl, min_len in (("ies", "y", 5), ("sses", "ss", 5), ("ing", "", 6), ("ed", "", 5),
                                  ("es", "", 5), ("s", "", 4)):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            base = word[: len(word) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) >= 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # "planned" -> "plan"
            if suffix == "es" and not re.search(r"(?:s|x|z|ch|sh)$", base):
                base = word[:-1]  # "scores" -> "score", but "taxes" -> "tax"
            return _drop_final_e(base)
    return _drop_final_e(word)


def _drop_final_e(word: str) -> str:
    return word[:-1] if len(word) >= 4 and word.endswith("e") else word  # "based", "base" -> "bas"


def present_in(word: str, present: set[str], forms: bool = False) -> bool:
    """Whether `word` is in `present`: as written, for words of 5+ letters as a prefix either way ("french" ~
    "frenchman"), and with `forms` as another form of the same word ("leads" ~ "led")."""
    if word in present:
        return True
    if forms:
        plain = stem(word)
        if any(stem(t) == plain for t in present):
            return True
    return len(word) >= 5 and any(len(t) >= 5 and (t.startswith(word) or word.startswith(t)) for t in present)


# Capitalised words that name no subject a document could hold when they stand alone: units ("in degrees
# Celsius") and languages, the target of a task ("Translate 'good morning' into French", "Say hello in Spanish").
# Followed by another capitalised word they are part of a name ("French Guiana", "English Channel").
PROPER_ADJECTIVES = frozenset({
    "celsius", "fahrenheit", "kelvin", "english", "french", "spanish", "german", "italian", "portuguese", "dutch",
    "latin", "greek", "russian", "chinese", "mandarin", "cantonese", "japanese", "korean", "arabic", "hindi",
    "urdu", "bengali", "turkish", "polish", "swedish", "norwegian", "danish", "finnish", "welsh", "irish",
    "gaelic", "hebrew", "swahili", "esperanto",
})
PARENTHESES = re.compile(r"\s*\([^)]*\)")  # " (chosen by you)": an aside
NAME_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


def ends_sentence(before: str) -> bool:
    """Whether text `before` ends a sentence: "!" or "?", or "." after a lower-case word ("today. How"), not after
    an abbreviation of a name ("St. Elmo", "Seitz Sr.")."""
    if before[-1] in "!?":
        return True
    if before[-1] != ".":
        return False
    words = re.findall(r"\w+", before[-20:])
    return bool(words) and words[-1].islower()


def subject_phrase(question: str) -> str:
    """The longest run of capitalised words that does not open a sentence ("Project Velstead" of "When is
    Project Velstead due?"), without a possessive; "" when the question names nothing ("Hello! How are you?")."""
    runs = []
    for m in NAME_RUN.finditer(question):
        run = m.group()
        before = question[: m.start()].rstrip()
        if not before or ends_sentence(before):
            run = run.split(maxsplit=1)[1] if " " in run else ""  # a sentence's first word is capitalised anyway
        if run.lower() in PROPER_ADJECTIVES:
            continue
        if run and run != "I":
            runs.append(run)
    if not runs:
        return ""
    return re.sub(r"(?:'s|’s|'|’)$", "", max(runs, key=len))


def core(answer: str, question: str = "") -> str:
    """The answer's content words: normalised, minus words repeated from the question and filler.

    Falls back to the normalised answer when nothing would be left (the answer *is* question words).
    """
    words = tokens(first_clause(answer))
    drop = set(tokens(question)) | FILLER
    kept = [w for w in words if w not in drop]
    return " ".join(kept) if kept else " ".join(words)


QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "how", "why", "where", "when", "does", "do", "did",
                  "can", "could", "name", "many", "much",
                  # the asker and the assistant: "How are you?" asks nothing of a document
                  "i", "me", "my", "you", "your", "we", "our", "us", "please", "would", "will", "should"}


def content_words(question: str) -> list[str]:
    """The question's subject words: no filler, no question words ("capital", "france")."""
    return [w for w in tokens(question) if w not in FILLER and w not in QUESTION_WORDS]


_DESCRIBED_NUMBER = re.compile(r"\b(\d+)-[a-z]", re.IGNORECASE)


def described_numbers(question: str) -> set[str]:
    """Numbers written into a description ("my 11-year-old", "a 3-bedroom flat"): no name to look for."""
    return {m.group(1) for m in _DESCRIBED_NUMBER.finditer(question)}


_ITEM_NUMBER = re.compile(r"^\s*(?:\|\s*)?(?:#|no\.?\s*|q)?\d{1,3}\s*(?:[|):]|\.(?=\s)|\s-\s)\s*", re.IGNORECASE)


def repeats_question(question: str, answer: str) -> bool:
    """Whether the answer's first clause only repeats the question: every word is the question's or filler,
    and every number is one of the question's or a piece of one ("There were 171 bakeries in Sweden in 1710",
    "In 1716"): a small model that does not know copies digits from the question. A row's or an item's number
    copied with it is no answer either ("1 | What is the largest planet in our solar system?" from a quiz sheet's
    table). A question offering a choice ("Which is larger, Mars or Venus?") is answered by repeating one of its
    words, so never repeats."""
    asked = set(tokens(question))
    if "or" in asked:
        return False
    numbers = [w for w in asked if w.isdigit()]
    words = tokens(_ITEM_NUMBER.sub("", first_clause(answer), count=1))

    def echoed(word: str) -> bool:
        return (word in asked or word in FILLER or bool(_SPOKEN_TO.get(word, set()) & asked)
                or (word.isdigit() and any(word in n for n in numbers)))

    return bool(words) and all(echoed(w) for w in words)


# the user's words about themselves, as an answer speaking to them says them ("which room do I need to head to?":
# "You need to head to ... which room do you need to head to?" only repeats it)
_SPOKEN_TO = {"you": {"i", "me", "we", "us"}, "your": {"my", "our"}, "yours": {"mine", "ours"},
              "yourself": {"myself"}, "yourselves": {"ourselves"}}


# Words whose full stop ends no clause: titles and name parts ("Franz Seitz Sr. was a film director").
TITLE_ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "mt", "ft", "vs", "approx",
                                 "eg", "ie"})
_CLAUSE_END = re.compile(r"(?<!\b[A-Z])(?<!\d)[.!?;](\s|$)|,\s(?!\d)")


def first_clause(answer: str) -> str:
    """The answer up to its first clause end (". ", "; ", ", ") or line break (small models ramble after it);
    an initial ("J. Smith") or a title's full stop ("Sr.", `TITLE_ABBREVIATIONS`) ends nothing."""
    return split_first_clause(answer)[0]


def split_first_clause(answer: str) -> tuple[str, str]:
    """(`first_clause(answer)`, what the answer says after it), citation markers blanked."""
    text = _CITATION.sub(" ", answer).strip()
    line = text.split("\n", 1)[0]
    for match in _CLAUSE_END.finditer(line):
        word = re.search(r"(\w+)$", line[: match.start()])
        if match.group().startswith(".") and word and word.group(1).lower() in TITLE_ABBREVIATIONS:
            continue
        return line[: match.start()], text[match.start():]
    return line, text[len(line):]


def is_unknown(answer: str) -> bool:
    """An empty answer or a refusal ("unknown", "the passage does not say", "I don't know")."""
    text = first_clause(answer).strip()
    return not normalize(text) or bool(UNKNOWN_PATTERNS.search(text))


# a habit, not a fact: "The Year 4 trip is typically held in 2023" is no memory of this trip's day
_HEDGED = re.compile(r"\b(?:typically|usually|generally|normally|often|tends?\s+to|can\s+vary|varies|vary|"
                     r"depends?\s+on|depending\s+on|may\s+be|might\s+be|could\s+be)\b", re.IGNORECASE)


def is_hedged(answer: str) -> bool:
    """Whether an answer's first clause speaks of what usually holds or may hold ("typically held in 2023", "can
    vary"), not of the thing asked: a generic guess, no memory to set against a document's value."""
    return _HEDGED.search(first_clause(answer)) is not None


_ASKING = re.compile(r"^\s*(?:what|what's|whats|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|"
                     r"did|can|could|should|will|would|has|have|had|(?:please\s+)?(?:tell|remind)\s+me)\b",
                     re.IGNORECASE)


# a question word and its verb inside a request typed without commas: "if I press keep warm how long will it stay hot"
_ASKING_INSIDE = re.compile(r"\b(?:what|which|who|when|where|why|how(?:\s+(?:long|much|many|often|old|far|soon))?)\s+"
                            r"(?:is|are|was|were|do|does|did|can|could|should|will|would|has|have)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s[-–—]\s|(?<=[.!])\s+")


def question_part(text: str, min_words: int = 3) -> str:
    """The clause that asks, when the request opens with context ("I can't make my food bank shift - what number do
    I text to let the coordinator know?" -> "what number do I text to let the coordinator know?") and that clause
    says enough on its own (`min_words` content words besides names and `SAYS_LITTLE`) and does not point back at
    it ("it", "they"); otherwise the whole text ("If I order a repeat prescription, how long until it's ready?" keeps its context)."""
    parts = _CLAUSE_BREAK.split(text.strip())
    for i in range(len(parts) - 1, 0, -1):
        if _ASKING.match(parts[i]):
            rest = " ".join(parts[i:])
            if _BACK_REFERENCE.search(rest):  # "how long until it's ready?": the context says what "it" is
                return text
            names = {fold(w) for w in re.findall(r"\b[A-Z][\w'’-]*", rest)}
            said = [w for w in content_words(rest) if w not in names and w not in SAYS_LITTLE]
            return rest if len(said) >= min_words else text
    return text


# verbs of wanting and going, which say nothing of what is asked about ("which room do I need to head to?" keeps the
# request's opening "I want to go to the SQL window functions workshop at the summit")
SAYS_LITTLE = frozenset({"need", "needs", "want", "wants", "go", "going", "head", "get", "like", "have", "make",
                          "take", "do"})
_BACK_REFERENCE = re.compile(r"\b(?:it|its|it's|it’s|they|them|their|this|that|these|those|he|she|him|her|his|"
                             r"there)\b", re.IGNORECASE)


def is_question(text: str) -> bool:
    """Whether `text` asks something (a question mark, or a question word opening it or one of its clauses: "how long
    is the free trial", "forgot the code for the front door, what is it", or followed by its verb anywhere: "if I
    press keep warm how long will it stay hot"), rather than thanking, greeting or asking for a task ("Thank you so
    much", "Translate 'hello' into French")."""
    return ("?" in text or any(_ASKING.match(part) for part in _CLAUSE_BREAK.split(text))
            or _ASKING_INSIDE.search(text) is not None)


# The user speaking of their own affairs: "my flat", "our road", "what number do I text", "will we be paying".
_FIRST_PERSON = re.compile(r"\b(?:my|our|ours|mine|i|we|i'm|i've|i'd|i'll|we're|we've|we'd|we'll)\b", re.IGNORECASE)
# ... but not "our" shared by everyone ("our solar system", "our planet"), nor asking for general advice
# ("How do I boil an egg?", "What should we pack for a hike?"): common knowledge phrased in the first person.
_EVERYONE_S = re.compile(r"\bour\s+(?:own\s+)?(?:solar\s+system|planet|world|galaxy|universe|sun|moon|species|"
                         r"bodies|body|brains?|ancestors|history|language|sky|oceans?)\b", re.IGNORECASE)
_ADVICE = re.compile(r"^\s*(?:(?:how|what|when|where|why)\s+(?:do|can|should|could|would|shall|must)|should|shall)\s+"
                     r"(?:i|we)\b", re.IGNORECASE)


# the words of greetings, thanks and farewells: a closed class, like the function words (`is_social`)
_SOCIAL = frozenset({
    "hi", "hiya", "hello", "hey", "howdy", "greetings", "morning", "afternoon", "evening", "night", "day", "good",
    "today", "doing", "going", "nice", "meet", "meeting", "pleased", "glad", "thanks", "thank", "thx", "ta", "cheers",
    "appreciate", "appreciated", "great", "lot", "lots", "much", "helped", "helpful", "sorted", "perfect", "brilliant",
    "awesome", "lovely", "cool", "ok", "okay", "bye", "goodbye", "later", "soon", "care", "welcome", "again", "everyone",
    "all", "folks", "there", "really", "very", "well", "so"})


def is_social(text: str) -> bool:
    """Whether `text` only greets, thanks or says goodbye ("hi!", "thanks, that sorted it", "Hello! How are you
    today?"): every content word is one of a greeting's, a thank-you's or a farewell's."""
    words = content_words(text)
    return bool(words) and all(w in _SOCIAL for w in words)


_TEXT_TASK = re.compile(r"^\s*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+)?(?:re-?write|rephrase|reword|"
                        r"paraphrase|summari[sz]e|translate|proofread|shorten|simplify|polish|make\s+(?:this|it))\b",
                        re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<!\w)'[^']+'(?!\w)")
_MATERIAL_AFTER = re.compile(r"[:?]\s+\S")
_POINTS_AT_TEXT = re.compile(r"\b(?:this|these|the following|it)\b|:\s*$", re.IGNORECASE)


def request_words(question: str) -> str:
    """A request's own words: a task on text it gives ("Rewrite this politely: Hi Tom, can't make Friday", 'Can you
    make this sound more polite? "Send me the report now."') without that text, whose names and "me" are the
    material's, not a subject of the user's. Any other question is its own words."""
    if not _TEXT_TASK.match(question):
        return question
    own = _QUOTED.sub(" ", question)
    material = _MATERIAL_AFTER.search(own)
    if material is not None and not _POINTS_AT_TEXT.search(own[:material.start() + 1]):
        material = None  # "Translate my Kettlewave manual? ...": what follows is no text it points at
    return (own[:material.start() + 1] if material else own).strip()


def asks_own_record(question: str) -> bool:
    """Whether a question asks for a number of the user's records (a serial, account, booking or policy number: "what
    is the kettle's serial number?") or the name of someone it names only by role ("what's the caretaker's name?"):
    what only their documents hold, whatever memory offers ("The serial number of a kettle is a number that is used to
    identify ...", "Dr. Elena Kass")."""
    return is_question(question) and (_ASKS_OWN_NUMBER.search(question) is not None
                                      or _ASKS_ROLE_NAME.search(question) is not None)


def asks_a_secret(question: str) -> bool:
    """Whether a question asks for a password, a PIN or a door code ("what is the wifi password for the flat?"):
    the user's own, which only their documents can hold."""
    return (_ASKS_SECRET.search(question) is not None and is_question(question)
            and _ASKS_ITS_VALUE.match(question) is not None and _ASKS_MEANING.search(question) is None)


def about_the_user(question: str) -> bool:
    """Whether a question asks about the user's own affairs, in the first person ("which day do they empty the
    brown bins on our road", "what number do I text to let the coordinator know?", "how much council tax will I
    be paying for the marsh lane flat"): facts the model's memory cannot hold, whatever the question names. Not
    a task ("give me another word for tired", "write me a birthday message for my sister": not questions; "Could you
    rephrase this for my boss? I can't come in on Monday": text to work on), not
    "our solar system", and not general advice asked in the first person ("How do I boil an egg?", "What
    should we pack for a day hike?") unless it speaks of something the user has ("How do I reset my router?")."""
    if not is_question(question) or request_words(question) != question.strip():  # a task on text it gives
        return False
    words = _EVERYONE_S.sub(" ", question)
    if _ADVICE.match(words) and not re.search(r"\b(?:my|our|ours|mine)\b", words, re.IGNORECASE):
        return False
    return _FIRST_PERSON.search(words) is not None


def is_polar_question(question: str) -> bool:
    """A yes/no question ("Is Paris the capital of France?")."""
    return bool(_POLAR_QUESTION.match(question))


def polarity(answer: str) -> bool | None:
    """True for a yes-answer, False for a no-answer, None when the answer is neither."""
    words = tokens(first_clause(answer))
    if not words:
        return None
    if words[0] in _YES:
        return True
    if words[0] in _NO:
        return False
    if "not" in words[:6] or "isn" in words[:6] or "no" in words[:3]:
        return False if len(words) <= 12 else None
    return None


_CLAIM = re.compile(r"^\s*(?:is|was|are|were)\s+(?P<claim>.+?)\s+(?:the|a|an)\s+(?P<asked>.+?)\s*\?*\s*$",
                    re.IGNORECASE)


def polar_claim(question: str) -> tuple[str, str] | None:
    """("New Delhi", "capital of India") for "Is New Delhi the capital of India?": a yes/no question that names
    a value (a capitalised name or a number) for something it asks about; None for other questions ("Is it safe
    to swim after eating?")."""
    m = _CLAIM.match(question)
    if m is None or not re.search(r"\b[A-Z0-9]", m.group("claim")):
        return None
    return m.group("claim"), m.group("asked")


def polar_stance(question: str, passage: str) -> str | None:
    """What a passage says to a yes/no question naming a value (`polar_claim`), read off its words: "yes" when
    it states the value and what is asked, "no" when it states what is asked but not the value ("Its capital
    is Ankara" to "Is Beijing the capital of China?"), None when it says neither or the question names no
    value. SmolLM2-135M reads such passages the wrong way round about as often as not."""
    parsed = polar_claim(question)
    if parsed is None:
        return None
    present = set(tokens(passage))
    claim = [w for w in tokens(parsed[0]) if w not in FILLER]
    asked = [w for w in tokens(parsed[1]) if w not in FILLER]
    if not claim or not asked or not all(present_in(w, present, forms=True) for w in asked):
        return None
    return "yes" if all(w in present for w in claim) else "no"


def polar_answer(question: str, answer: str) -> str:
    """For a yes/no question, read an answer as "yes"/"no" when it is not one already.

    "Beijing is the capital of China." to "Is Beijing the capital of China?" restates it: "yes".
    An entity the question does not name ("Lyon" to "Is Paris the capital...?") means "no".
    Other questions, refusals and explicit yes/no answers are returned unchanged.
    """
    if not is_polar_question(question) or is_unknown(answer) or polarity(answer) is not None:
        return answer
    said = set(tokens(first_clause(answer)))
    asked = content_words(question)
    if asked and sum(w in said for w in asked) / len(asked) >= 0.75:
        return "yes"
    words = core(answer, "").split()
    return "yes" if words and all(w in set(tokens(question)) for w in words) else "no"


def parse_number_words(words: Sequence[str]) -> list[float]:
    """Numbers written with words in a token list: "two", "forty five", "3 million" (digits alone are skipped)."""
    found: list[float] = []
    current: float | None = None
    worded = False
    for w in list(words) + [""]:
        digit = _to_float(w)
        if w in _UNITS:
            current, worded = (current or 0) + _UNITS[w], True
        elif w in _SCALES and current is not None:
            current, worded = current * _SCALES[w], True
        else:
            if current is not None and worded:
                found.append(float(current))
            current, worded = digit, False
    return found


def _to_float(word: str) -> float | None:
    try:
        return float(word.replace(",", ""))
    except ValueError:
        return None


def values(text: str) -> tuple[set[Date], set[float]]:
    """Dates and plain numbers stated in `text`, as values.

    Dates: "March 3, 1990", "3 March 1990", "1990-03-03", "March 1990"; a bare 4-digit year is a
    date with month/day unknown. Numbers: digits (with thousands separators) or words ("two"),
    with scale words ("3 million" == 3000000). Numbers that belong to a date are not repeated.
    """
    raw = fold(_CITATION.sub(" ", text))
    dates: set[Date] = set()
    spans: list[tuple[int, int]] = []
    for m in _DATE_MDY.finditer(raw):
        dates.add((int(m[3]), _MONTHS[m[1]], int(m[2])))
        spans.append(m.span())
    for m in _DATE_DMY.finditer(raw):
        dates.add((int(m[3]), _MONTHS[m[2]], int(m[1])))
        spans.append(m.span())
    for m in _DATE_ISO.finditer(raw):
        dates.add((int(m[1]), int(m[2]), int(m[3])))
        spans.append(m.span())
    for m in _DATE_MY.finditer(raw):
        if not any(s <= m.start() < e for s, e in spans):
            dates.add((int(m[2]), _MONTHS[m[1]], None))
            spans.append(m.span())
    rest = "".join(" " if any(s <= i < e for s, e in spans) else ch for i, ch in enumerate(raw))
    numbers: set[float] = set()
    for m in _NUMBER.finditer(rest):
        token = m.group().replace(",", "")
        if rest[m.end():].split()[:1] and rest[m.end():].split()[0] in _SCALES:
            continue  # "67 million": counted once, scaled, by the word parser below
        if re.fullmatch(r"1\d{3}|20\d{2}", token):  # a bare year
            dates.add((int(token), None, None))
            continue
        numbers.add(float(token))
    words = re.findall(r"\d[\d,]*(?:\.\d+)?|[a-z]+", rest)
    scaled = parse_number_words([w.replace(",", "") for w in words])
    numbers |= {n for n in scaled if not re.fullmatch(r"1\d{3}|20\d{2}", f"{n:g}")}
    return dates, numbers


def _dates_agree(a: Date, b: Date) -> bool:
    return a[0] == b[0] and all(x is None or y is None or x == y for x, y in zip(a[1:], b[1:]))


_WRITTEN_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])\d+(?:\.\d+)?")


def written_numbers(text: str) -> list[float]:
    """The numbers written in `text` in figures, in order, each whole ("£1,500" -> 1500.0, "£3.80" -> 3.8,
    "£27/month" -> 27.0): not read as dates (`values` takes "1,500" for a year)."""
    return [float(m.group().replace(",", "")) for m in _WRITTEN_NUMBER.finditer(text)]


_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![:.]\d)", re.IGNORECASE)


WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)


def names_a_day(text: str) -> bool:
    """Whether `text` names a day: a calendar date ("12 March 2026", "March 12") or a weekday ("every Tuesday")."""
    return bool(calendar_days(text) or WEEKDAY.search(text))


def calendar_days(text: str) -> set[tuple[int, int]]:
    """The days of the year written in `text` as (month, day), with or without their year ("Tuesday 16 December
    2025", "16th of December", "December 16"): a date compared whole, as `written_numbers` compares a price. The
    "16" of a tutorial's "16:00" is no 16 December."""
    folded = fold(text)
    days = {(_MONTHS[m[2].lower()], int(m[1])) for m in _DAY_MONTH.finditer(folded)}
    days |= {(_MONTHS[m[1].lower()], int(m[2])) for m in _MONTH_DAY.finditer(folded)}
    return {(month, day) for month, day in days if 1 <= day <= 31}


_PRICE = re.compile(r"[£$€¥₹]\s*(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s*(?:pounds?|dollars?|euros?)\b",
                    re.IGNORECASE)


_FREE = re.compile(r"\bfree\b(?!-)|\bno (?:charge|cost|fee)\b", re.IGNORECASE)  # "free of charge" too


def prices(text: str) -> set[float]:
    """The amounts of money `text` states ("£45", "52 pounds", "€1,200"; "free" is 0), as numbers."""
    found = {float((m.group(1) or m.group(2)).replace(",", "")) for m in _PRICE.finditer(text)}
    return found | {0.0} if _FREE.search(text) else found


def values_agree(a: str, b: str, question: str = "") -> bool | None:
    """True/False when both answers state dates or numbers and they do (not) match; None otherwise. The
    question's own dates and numbers are no answer's values ("2025/26" in "The subscription for 2025/26 is £45"
    and "... for 2025/26 will be £52"), and for a question asking a price, the prices are compared when both state
    one ("... £45 per bin per year and runs from 1 April 2025" and "... for 2025/26 will be £52" disagree)."""
    if question and asked_unit(question) == "money":  # the prices, not the years around them
        pa, pb = prices(a) - prices(question), prices(b) - prices(question)
        if pa and pb:
            return bool(pa & pb)
    asked_dates, asked_numbers = values(question) if question else (set(), set())
    da, na = values(a)
    db, nb = values(b)
    da, db, na, nb = da - asked_dates, db - asked_dates, na - asked_numbers, nb - asked_numbers
    if da and db:
        return any(_dates_agree(x, y) for x in da for y in db)
    if na and nb:
        return any(math.isclose(x, y, rel_tol=1e-3) for x in na for y in nb)
    return None


def answer_type(answer: str, question: str = "") -> str:
    """The kind of value an answer states: "polar" (yes/no), "date" (a year or a date), "number", "entity"
    (anything else), or "none" (a refusal). A memory conflict compares answers of one type only: a year
    is no counter-answer to a calling code. The question's own dates and numbers are not the answer's ("Nineteen
    Eighty-Four" in "The novel by George Orwell is Nineteen Eighty-Four"), and a "who" is answered by a name."""
    if is_unknown(answer):
        return "none"
    if polarity(answer) is not None:
        return "polar"
    if question and ASKS_WHO.search(question):
        return "entity"  # a name, whatever else the answer says ("... by Dario Penhallow in the 88th minute")
    dates, numbers = values(first_clause(answer))
    if question:
        asked_dates, asked_numbers = values(question)
        dates, numbers = dates - asked_dates, numbers - asked_numbers
    if dates:
        return "date"
    return "number" if numbers else "entity"


# also rag/quote.py's; after a leading phrase too ("At the Maple Street chess club, who do I pay my subscription to?")
ASKS_WHO = re.compile(r"(?:^|[,;:]\s|\s[–—-]\s)\s*(?:who|whom|whose)\b", re.IGNORECASE)
_EXPECT_DATE = re.compile(r"^\s*when\b|\b(?:what|which) year\b|\bbirthday\b|\bdate of\b|\bwhat date\b", re.IGNORECASE)
_EXPECT_NUMBER = re.compile(r"^\s*how (?:many|much|large|big|long|old|tall|far|high|heavy|hot|cold|warm)\b|"
                            r"\bpopulation\b|\bwhat (?:percentage|percent|proportion|share|fraction)\b|\btemperature\b|"
                            # "what's the elevation of ...", "what is the maximum weight ...": a measure
                            r"\bwhat(?:'s|’s|\s+is|\s+was|\s+are)?\s+(?:the\s+)?(?:\w+\s+)?(?:elevation|altitude|height|"
                            r"length|distance|depth|width|weight|capacity|speed)\b",
                            re.IGNORECASE)


def expected_type(question: str) -> str | None:
    """The kind of value a question asks for, when its words say so: "date" (when, what year, birthday),
    "number" (how many, how large, what share, what's the elevation of ...), else None (anything may answer it)."""
    if _EXPECT_DATE.search(question):
        return "date"
    if _EXPECT_NUMBER.search(question):
        return "number"
    return None


def fits_question(question: str, answer: str) -> bool:
    """Whether an answer is of the kind the question asks for: a date or number question is not answered by a
    name ("The birthday of the chief executive is Ulla Quencombe"), nor a question asking for a price, a length of
    time, a time of day, a phone number or a colour by a value without its unit (`asked_unit`: "2025" does not say
    for how long a permit is valid, "1" is no price, "The Herons" is no colour). Questions that name no kind fit anything."""
    if not counts_the_unit_asked(question, answer):
        return False
    unit = asked_unit(question)
    if unit is not None:
        return states_unit(unit, answer)  # "Admission is free" answers "How much is a ticket?"
    want = expected_type(question)
    if want is None:
        return True
    got = answer_type(answer)
    return got == want or (want == "number" and got == "date") or (want == "date" and got == "number")


_COUNT = (r"(?:\d+(?:[.,]\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
          r"thirty|forty|fifty|sixty|ninety|half|several|few|couple)")
# each unit of time or length by name, and the forms it is written in
_TIME_UNITS = {"second": "second|seconds|sec|secs", "minute": "minute|minutes|min|mins", "hour": "hour|hours|hr|hrs|h",
               "day": "day|days", "night": "night|nights", "week": "week|weeks|wk|wks", "fortnight": "fortnight|fortnights",
               "month": "month|months", "year": "year|years|yr|yrs"}
_LENGTH_UNITS = {"millimetre": "millimetre|millimetres|millimeter|millimeters|mm",
                 "centimetre": "centimetre|centimetres|centimeter|centimeters|cm",
                 "metre": "metre|metres|meter|meters|m", "kilometre": "kilometre|kilometres|kilometer|kilometers|km",
                 "mile": "mile|miles|mi", "foot": "foot|feet|ft", "inch": "inch|inches", "yard": "yard|yards|yd"}


def _any_form(units: dict[str, str]) -> str:
    return "(?:" + "|".join(sorted((f for forms in units.values() for f in forms.split("|")), key=len, reverse=True)) + ")"


_TIME_UNIT = _any_form(_TIME_UNITS)
_LENGTH_UNIT = _any_form(_LENGTH_UNITS)
_MONEY_WORDS = r"(?:cost|costs|costing|charge|charges|charged|pay|paid|price|prices|priced|fee|fees|fare|fares|" \
               r"ticket|tickets|admission|entry|membership|rent|deposit|subscription|spend)"
_ASKS_MONEY = re.compile(rf"\bhow much\b.*\b{_MONEY_WORDS}\b|\bwhat (?:will|would|does|did|do)\b.{{0,40}}\bcost\b|"
                         # an insurance excess or premium, a club's subscription, postage: amounts of money by name
                         r"\b(?:price|prices|fee|fees|fare|fares|rent|deposit|tuition|excess|excesses|premium|premiums|"
                         r"deductible|subscription|subscriptions|postage)\b|"
                         # "how much is a root canal at brightsmile", not "how much is a cup of flour in grams"
                         r"\bhow much (?:is|are|'s) (?:a|an)\b(?!.*\b(?:in|into|weigh\w*|left|off|of)\b)|"
                         r"\bwhat(?:'s| is| was| are)? the cost\b|\bset (?:me|us|you) back\b", re.IGNORECASE)
# a question naming a price, a fee or a subscription may ask something else of it: "when does the garden waste
# subscription start?", "who do I pay the deposit to?", "how many tickets ..."
_ASKS_NO_MONEY = re.compile(r"\bhow (?:many|often)\b|(?:^|[,;:.?!–—-])\W*(?:when|where|who|whom|whose)\b|"
                            r"\bwhat (?:date|day)\b|"
                            r"\bwhich (?:date|day)\b|\bwhen (?:is|are|was|does|do|did|will)\b", re.IGNORECASE)
_ASKS_EXTENT = re.compile(r"\bhow long\b(?!\s+ago\b)", re.IGNORECASE)
_ASKS_CLOCK = re.compile(r"\b(?:what|which) time\b(?!\s+(?:of|zone)\b)", re.IGNORECASE)
_ASKS_TEMPERATURE = re.compile(r"\btemperature\b|\bhow (?:hot|cold|warm)\b", re.IGNORECASE)
_ASKS_CODE = re.compile(r"(?<!\bdress )(?<!\bcolour )(?<!\bcolor )(?<!\bhighway )(?<!\bsource )(?<!\bmorse )"
                        r"\b(?:code|reference|ref|pin|serial(?:\s+number)?|(?:model|account|policy|order|membership|"
                        r"booking|tracking|customer|invoice)\s+(?:number|no\.?))\b"
                        r"(?!\s+of\s+(?:conduct|practice|ethics)\b)", re.IGNORECASE)
# a secret of the user's own: no memory holds it, and a "typical password is ..." is no answer
_ASKS_SECRET = re.compile(r"\b(?:password|passwords|passcode|passphrase|pin|wi-?fi key|network key|(?:door|gate|alarm|"
                          r"lock|key ?safe|entry|access|wi-?fi) code)\b", re.IGNORECASE)
_ASKS_OWN_NUMBER = re.compile(r"\b(?:serial|(?:model|account|policy|order|membership|booking|tracking|customer|invoice|"
                              r"reference|contract|registration)\s+(?:number|no\.?))\b", re.IGNORECASE)
_ASKS_ROLE_NAME = re.compile(r"\bwhat(?:'s|’s|s|\s+is|\s+was)\s+(?:the|my|our|your)\s+[\w -]{2,40}?['’]s\s+names?\b|"
                             r"\bwhat(?:'s|’s|s|\s+is|\s+was)\s+the\s+names?\s+of\s+(?:the|my|our|your)\s+(?!(?:\w+\s+)?"
                             r"(?:river|mountain|capital|city|country|planet|song|book|film|movie|album|sea|ocean)\b)",
                             re.IGNORECASE)
# asks for a value ("what's the door code", "tell me the wifi password"), not what a word means or how to choose one
_ASKS_ITS_VALUE = re.compile(r"^\W*(?:what|whats|which|tell me|give me|remind me|do you know)\b", re.IGNORECASE)
_ASKS_MEANING = re.compile(r"\b(?:stand|stands|mean|means|meaning|definition|acronym|abbreviation|short for)\b|"
                           r"^\W*what(?:'s|’s|s|\s+is|\s+are)\s+(?:a|an)\b", re.IGNORECASE)
_ASKS_COLOUR = re.compile(r"\b(?:what|which)\s+colou?rs?\b", re.IGNORECASE)
_COLOURS = (r"red|orange|yellow|green|blue|purple|violet|pink|brown|black|white|gr[ae]y|gold|golden|silver|navy|maroon|"
            r"claret|amber|teal|turquoise|cream|beige|crimson|scarlet|lilac|khaki|bronze|magenta|cyan|indigo|tan")
_ASKS_PHONE = re.compile(r"\b(?:phone|telephone|mobile|contact|fax)\s+number\b|"
                         r"\b(?:what|which) number\b.*\b(?:call|ring|dial|text|phone|message|whatsapp)\b",
                         re.IGNORECASE)
_STATES = {
    "money": re.compile(r"[£$€¥₹]|\b(?:GBP|USD|EUR|CHF|AUD|CAD|NZD|JPY|SEK|NOK|DKK|INR)\b|\d\s*(?:p|pence|pounds?|quid|"
                        r"dollars?|cents?|euros?|yen|francs?|kr|kronor|krona|kroner|rupees?|pesos?)\b|\bfree\b|"
                        r"\bno (?:charge|cost|fee)\b|\bnothing\b", re.IGNORECASE),
    "extent": re.compile(rf"\b{_COUNT}(?:\s*-\s*|\s*to\s*|\s*)(?:{_COUNT}\s*)?(?:-\s*)?(?:[a-z]+\s+)?(?:{_TIME_UNIT}|{_LENGTH_UNIT})\b|"
                         r"\b(?:overnight|indefinitely|permanently|forever|an? (?:hour|day|week|month|year|night|"
                         r"fortnight)|hourly|daily|weekly|monthly|yearly|annually)\b|\d+h\d+", re.IGNORECASE),
    "clock": re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|\b(?:noon|midday|midnight|"
                        r"o'clock|o’clock)\b", re.IGNORECASE),
    "phone": re.compile(r"\+?\(?\d[\d\s().-]{4,}\d"),
    # a code: two or more digits ("+84", "4471"), letters with digits ("QXT4829", "BHL-2024-0311"), or capitals ("PE")
    "code": re.compile(r"(?<![\w-])\+?(?:(?=[\w-]*\d)[A-Za-z\d-]{2,}|[A-Z]{2,})(?![\w-])"),
    "temperature": re.compile(r"°|\bdegrees?\b|\bdeg\b|\bcelsius\b|\bfahrenheit\b|\d\s*[CF]\b|\bgas mark\b",
                              re.IGNORECASE),
    "colour": re.compile(rf"\b(?:{_COLOURS})(?:ish)?\b", re.IGNORECASE),
}


_UNIT_OF = {form: name for name, forms in (_TIME_UNITS | _LENGTH_UNITS).items() for form in forms.split("|")}
_ASKS_COUNT_OF = re.compile(rf"\bhow many\s+({_TIME_UNIT}|{_LENGTH_UNIT})\b", re.IGNORECASE)
_COUNTED = re.compile(rf"(?:\d|\b{_COUNT})\s*-?\s*({_TIME_UNIT}|{_LENGTH_UNIT})\b", re.IGNORECASE)


_HOW_MUCH_OF = re.compile(r"\bhow much\s+([a-z][a-z'’-]+)\b", re.IGNORECASE)
_NOT_A_STUFF = frozenset({"does", "do", "did", "is", "are", "was", "were", "will", "would", "should", "can", "could",
                          "has", "have", "of", "it", "they", "i", "we", "you", "he", "she", "more", "less", "longer",
                          "money", "time", "space", "room", "extra", "per", "to", "for", "in", "on", "a", "an", "the"})


def measured_stuff(question: str) -> str:
    """What a "how much" question measures when it names it ("cream" of "how much cream goes in the parsnip soup?"),
    "" for "how much does it cost", "how much time", and any other question."""
    m = _HOW_MUCH_OF.search(question)
    if m is None:
        return ""
    word = fold(m.group(1))
    return "" if word in _NOT_A_STUFF or word in KIND_WORDS or word in _UNIT_OF or re.fullmatch(_MONEY_WORDS, word) else word


def counts_a_unit(question: str) -> bool:
    """Whether the question counts a unit of time or distance ("how many days will the soup keep")."""
    return _ASKS_COUNT_OF.search(question) is not None


def counts_the_unit_asked(question: str, answer: str) -> bool:
    """False when the question counts a unit of time or distance ("how many days will the soup keep") and the
    answer's values are all in others ("simmer for 25 minutes"); True when it counts none, or the answer states a
    bare number or the unit asked ("3 days", "366")."""
    asked = _ASKS_COUNT_OF.search(question)
    if asked is None:
        return True
    stated = {_UNIT_OF.get(m.group(1).lower()) for m in _COUNTED.finditer(answer)}
    return not stated or _UNIT_OF.get(asked.group(1).lower()) in stated


def count_stated(question: str, answer: str, text: str) -> bool:
    """For a question counting a unit ("how many days will the soup keep"), whether the figures of an answer ("1",
    "2 days") are stated in `text` with the unit asked ("1 day"): a passage's "it wilts in 1 minute" counts no days,
    and a recipe that never says how many days it keeps does not say "2 days". True for any other question, and for
    an answer without figures."""
    asked = _ASKS_COUNT_OF.search(question)
    if asked is None:
        return True
    asked_figures = set(re.findall(r"\d+(?:[.,]\d+)?", question))
    figures = [n for n in re.findall(r"\d+(?:[.,]\d+)?", answer) if n not in asked_figures]
    if not figures:
        return True
    unit = _UNIT_OF.get(asked.group(1).lower())
    stated = re.compile(rf"(?<![\d.,])({'|'.join(map(re.escape, figures))})\s*-?\s*({_TIME_UNIT}|{_LENGTH_UNIT})\b",
                        re.IGNORECASE)
    return any(_UNIT_OF.get(m.group(2).lower()) == unit for m in stated.finditer(text))


_MEASURES = {
    "time": re.compile(rf"\d\s*(?:{_TIME_UNIT})\b|\b(?:{_COUNT})\s+(?:{_TIME_UNIT})\b", re.IGNORECASE),
    "length": re.compile(rf"\d\s*(?:{_LENGTH_UNIT})\b", re.IGNORECASE),
    "money": re.compile(r"[£$€¥₹]\s*\d|\d\s*(?:pence|pounds?|dollars?|cents?|euros?)\b", re.IGNORECASE),
    "temperature": re.compile(r"\d\s*(?:°|degrees?\b)", re.IGNORECASE),
    "percent": re.compile(r"\d\s*(?:%|per ?cent\b)", re.IGNORECASE),
}


def measure(text: str) -> str | None:
    """What the first value of `text` measures when its unit says: "time" ("1 hour 40 minutes"), "length" ("34
    km"), "money", "temperature", "percent"; None for a bare number, a name, or more than one kind."""
    found = {kind for kind, pattern in _MEASURES.items() if pattern.search(first_clause(text))}
    return found.pop() if len(found) == 1 else None


def same_measure(a: str, b: str) -> bool:
    """Whether two values may be compared: not a length of time against a distance ("1 hour 40 minutes" and "34 km"
    both answer "How long is the ferry crossing?", and do not disagree)."""
    ma, mb = measure(a), measure(b)
    return ma is None or mb is None or ma == mb


# Values asked in these units (`asked_unit`) are the user's world's, not common knowledge: a price, a phone number,
# a time of day. Memory answering one, or conflicting with a document about one, must be as sure as about a name the
# model never saw (rag/evidence.py `memory_usable`, rag/conflict.py).
LOCAL_UNITS = frozenset({"money", "phone", "clock"})


def asked_unit(question: str) -> str | None:
    """The unit a value must carry to answer `question`, when its words ask for one: "money" (a price, a fee,
    "how much does ... cost"), "extent" (how long: a length of time or of distance), "clock" (what time), "phone"
    (a phone number), "colour" (what colour: a colour word), "temperature" (degrees) or "code" (a reference, a
    code, a PIN: a value with digits, "QXT4829", "+84", "4471"); None for any other question."""
    if _ASKS_EXTENT.search(question):
        return "extent"
    if _ASKS_CLOCK.search(question):
        return "clock"
    if _ASKS_PHONE.search(question):
        return "phone"
    if _ASKS_COLOUR.search(question):
        return "colour"
    if _ASKS_CODE.search(question) and is_question(question):
        return "code"
    if _ASKS_TEMPERATURE.search(question):
        return "temperature"
    if _ASKS_MONEY.search(question) and not _ASKS_NO_MONEY.search(question):
        return "money"
    return None


def unit_value(unit: str, text: str) -> str:
    """The first value in `unit` that `text` states, as written there, whole words ("£45" of "The subscription is
    £45.", "72 hours" of "It expires after 72 hours"), "" for none."""
    found = _STATES[unit].search(text)
    if found is None:
        return ""
    start, end = found.start(), found.end()
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    value = text[start:end].strip("\"'“”‘’([").rstrip(".,;:!?)]")
    return value if states_unit(unit, value) else ""


def states_unit(unit: str, text: str) -> bool:
    """Whether `text` states a value in `unit` (`asked_unit`): "£62", "72 hours", "11:00", "01632 960 123"."""
    found = _STATES[unit].search(text)
    if unit != "phone" or found is None:
        return found is not None
    return sum(c.isdigit() for c in found.group()) >= 6


def contains(longer: str, shorter: str) -> bool:
    """Whether the normalised `shorter` occurs as a whole-word run inside the normalised `longer`."""
    s, long_ = normalize(shorter), normalize(longer)
    return bool(s) and f" {s} " in f" {long_} "


def f1_tokens(pred: Sequence[str], gold: Sequence[str]) -> float:
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if not pred or not gold or same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


# Cosine similarity of MiniLM sentence embeddings is mapped to agreement by a logistic curve:
# different entities of one type ("Paris"/"Lyon") sit around 0.3-0.6, paraphrases above 0.75.
SHORT_ANSWER_WORDS = 3  # answers this short need a closer embedding to count as paraphrases
SHORT_EMBED_MIDPOINT = 0.77  # physician/doctor 0.86, football/soccer 0.84 agree; Ottawa/Toronto 0.74, Canberra/Sydney 0.70 do not
EMBED_MIDPOINT = 0.70
EMBED_SCALE = 0.05


def swapped_slot(a: list[str], b: list[str], most: int = 3) -> tuple[str, str] | None:
    """The differing middles of two answers that are one phrase with one slot filled differently ("canadian
    retired professional [association football] player" / "... [ice hockey] player"), or None: the same words
    before and after it (two or more in all), and a filler of at most `most` words on each side. Rewordings that
    move words around ("small town north kenya" / "town northern kenya") are no swapped slot."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    x, y = a[head:len(a) - tail], b[head:len(b) - tail]
    if head + tail < 2 or not x or not y or len(x) > most or len(y) > most:
        return None
    return " ".join(x), " ".join(y)


def same_answer(a: str, b: str, embedder: TextEmbedder | None = None, question: str = "") -> float:
    """How likely `a` and `b` state the same answer to `question`, in [0, 1].

    Order of evidence: refusals (one "unknown" -> 0.5, no evidence either way), yes/no polarity,
    dates and numbers as values, exact or contained match of the content words, then the better of
    token F1 and embedding similarity (paraphrases). `embedder=None` skips the embedding step.
    """
    ua, ub = is_unknown(a), is_unknown(b)
    if ua or ub:
        return 1.0 if ua and ub else 0.5
    pa, pb = polarity(a), polarity(b)
    if pa is not None and pb is not None:
        return 1.0 if pa == pb else 0.0
    ca, cb = core(a, question), core(b, question)
    # raw text: normalising splits "67,000,000"; a "who" is answered by names, not by the minute of a goal
    agree = None if ASKS_WHO.search(question) else values_agree(first_clause(a), first_clause(b), question)
    if agree is not None:
        return 0.97 if agree else 0.02
    if ca == cb:
        return 1.0
    if contains(ca, cb) or contains(cb, ca):
        return 0.9
    slot = swapped_slot(ca.split(), cb.split())
    if slot is not None:  # one sentence, one slot filled differently: the slot's fillers decide
        return same_answer(*slot, embedder, question)
    score = f1_tokens(ca.split(), cb.split())
    short = max(len(ca.split()), len(cb.split())) <= SHORT_ANSWER_WORDS
    if short and score > 0:
        # Two short answers sharing a word but neither inside the other are two names: "Edda Marridge" and
        # "Edda Eldthorne" share a first name, which token F1 alone would count as half an agreement.
        return score * 0.5
    if embedder is not None:
        va, vb = embedder.embed([ca, cb])
        cos = float(np.dot(va, vb))
        # short answers ("Ottawa"/"Toronto": two Canadian cities) must embed much closer to count as one answer
        midpoint = SHORT_EMBED_MIDPOINT if short else EMBED_MIDPOINT
        score = max(score, 1.0 / (1.0 + math.exp(-(cos - midpoint) / EMBED_SCALE)))
    return score
