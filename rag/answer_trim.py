"""What of a reading the answer shows: the sentence that answers, without the padding a small model adds.

A reading (rag/evidence.py) is judged on its first clause, the value. Around that value SmolLM2-135M writes
things its passage never said, which then sit in the answer with a citation:
- praise and background after a comma: "Project Quenbrook is led by Quinn Velwick, a renowned entrepreneur in
  the field of sustainable energy." (the passage says only who leads it);
- a second sentence copied from the passage's boilerplate: "The capital of India is Mumbai. Further reading is
  listed at the end of the volume.";
- the document's title as the sentence's subject: "The Obergate Textiles staff handbook is due on April 2027."
  for "When is Project Velstead due?", where the handbook's line says Project Velstead is due then.

`stated(question, text, passage)` keeps the first sentence, drops each later clause whose own words the
passage does not state (and everything after it), and names the question's subject where the sentence named
the document instead. It never touches the first clause's value, so what was judged is what is shown.

    stated("Who leads Project Quenbrook?", "Project Quenbrook is led by Quinn Velwick, a renowned ...", p)
    # -> "Project Quenbrook is led by Quinn Velwick."
"""

from __future__ import annotations

import re

from rag import answer_match as am
from rag.attribute import split_sentences
from rag.types import Passage

# A clause boundary after the first clause: a comma not inside a number or date ("April 20, 2029"), a
# semicolon, or an opening bracket.
_CLAUSE = re.compile(r",\s(?!\d)|;\s|\s\(")
_MARKERS = re.compile(r"\s*\[\d+\]")
_COPULA = re.compile(r"^(?P<np>.+?)\s(?P<verb>is|was|are|were|has|had|will be)\s", re.IGNORECASE)
_NAME_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
KEEP_SHARE = 0.6  # a later clause stays when the passage states this share of its own words (judged on 2+)
_LIGHT = frozenset({"one", "s", "not", "no", "can", "will", "would", "may", "about", "than", "then", "so", "but",
                    "or", "if", "all", "some", "any", "such", "very", "just", "only", "more", "most", "now"})


def stated(question: str, text: str, passage: Passage) -> str:
    """The reading `text` as the answer shows it (see the module docstring); its [n] markers are dropped."""
    plain = _MARKERS.sub("", text).strip()
    spans = split_sentences(plain)
    if not spans:
        return plain
    sentence = plain[spans[0][0]:spans[0][1]]
    source = f"{passage.title}\n{passage.text}"
    sentence = _supported_clauses(sentence, question, source)
    return _name_the_subject(sentence, question, passage)


def _supported_clauses(sentence: str, question: str, source: str) -> str:
    cuts = [m.start() for m in _CLAUSE.finditer(sentence)]
    if not cuts:
        return sentence
    present = set(am.tokens(source))
    asked = set(am.tokens(question))
    bounds = [*cuts, len(sentence)]
    for i, start in enumerate(cuts):
        words = [w for w in am.tokens(sentence[start:bounds[i + 1]])
                 if w not in am.FILLER and w not in asked and w not in _LIGHT]
        if len(words) >= 2 and sum(am.present_in(w, present, forms=True) for w in words) / len(words) < KEEP_SHARE:
            return sentence[:start].rstrip(" ,;:-") + "."
    return sentence


def subject_phrase(question: str) -> str:
    """The longest run of capitalised words that does not open a sentence ("Project Velstead" of "When is
    Project Velstead due?"), without a possessive; "" when the question names nothing ("Hello! How are you?")."""
    runs = []
    for m in _NAME_RUN.finditer(question):
        run = m.group()
        if not question[: m.start()].strip() or question[: m.start()].rstrip()[-1] in ".!?":
            run = run.split(maxsplit=1)[1] if " " in run else ""  # a sentence's first word is capitalised anyway
        if run and run != "I":
            runs.append(run)
    if not runs:
        return ""
    return re.sub(r"(?:'s|’s|'|’)$", "", max(runs, key=len))


def _name_the_subject(sentence: str, question: str, passage: Passage) -> str:
    subject = subject_phrase(question)
    if not subject:
        return sentence
    said = set(am.tokens(am.first_clause(sentence)))
    if all(am.present_in(w, said, forms=True) for w in am.tokens(subject)):
        return sentence
    m = _COPULA.match(sentence)
    if m is None:
        return sentence
    np_words = am.tokens(m.group("np"))
    first_line = passage.text.lstrip().split("\n", 1)[0]
    heading = set(am.tokens(f"{passage.title} {first_line if len(first_line) <= 80 else ''}"))
    heading |= {w for t in am.tokens(passage.title) for w in t.split("-")}
    if not np_words or sum(am.present_in(w, heading, forms=True) for w in np_words) / len(np_words) < 0.75:
        return sentence
    return f"{subject} {sentence[m.start('verb'):]}"
