"""What of a reading the answer shows: the sentence that answers, without the padding a small model adds.

A reading (rag/evidence.py) is judged on its first clause, the value. Around that value SmolLM2-135M writes
things its passage never said, which then sit in the answer with a citation:
- praise and background after a comma: "Project Quenbrook is led by Quinn Velwick, a renowned entrepreneur in
  the field of sustainable energy." (the passage says only who leads it);
- a second sentence copied from the passage's boilerplate: "The capital of India is Mumbai. Further reading is
  listed at the end of the volume.";
- a sentence of the document quoted as it stands, leaning on the one before it: "Its best-known product is the
  sealant." for "What is the best-known product of Obermouth Brewery?" (rag/quote.py);
- the document's title as the sentence's subject: "The Obergate Textiles staff handbook is due on April 2027."
  for "When is Project Velstead due?", where the handbook's line says Project Velstead is due then.

`stated(question, text, passage)` keeps the sentences up to the first one that says what was asked (the first
sentence, usually), drops each later clause whose own words the
passage does not state (and everything after it), and names the question's subject where the sentence named
the document instead, or only "Its"/"Their". It never touches the first clause's value, so what was judged is what is shown.

    stated("Who leads Project Quenbrook?", "Project Quenbrook is led by Quinn Velwick, a renowned ...", p)
    # -> "Project Quenbrook is led by Quinn Velwick."
"""

from __future__ import annotations

import re

from rag import answer_match as am
from rag.evidence import answering_sentence, heading_words
from rag.sentences import split_sentences
from rag.types import Passage

# A clause boundary after the first clause: a comma not inside a number or date ("April 20, 2029"), a
# semicolon, or an opening bracket.
_CLAUSE = re.compile(r",\s(?!\d)|;\s|\s\(")
_MARKERS = re.compile(r"\s*\[\d+\]")
_POSSESSIVE = re.compile(r"^(?:Its|Their)\s+(?=\w)")
_COPULA = re.compile(r"^(?P<np>.+?)\s(?P<verb>is|was|are|were|has|had|will be)\s", re.IGNORECASE)
KEEP_SHARE = 0.6  # a later clause stays when the passage states this share of its own words (judged on 2+)
_LIGHT = frozenset({"one", "s", "not", "no", "can", "will", "would", "may", "about", "than", "then", "so", "but",
                    "or", "if", "all", "some", "any", "such", "very", "just", "only", "more", "most", "now"})


def stated(question: str, text: str, passage: Passage) -> str:
    """The reading `text` as the answer shows it (see the module docstring); its [n] markers are dropped."""
    plain = _MARKERS.sub("", text).strip()
    spans = split_sentences(plain)
    if not spans:
        return plain
    last = answering_sentence(question, [plain[s:e] for s, e in spans])
    source = f"{passage.title}\n{passage.text}"
    sentence = _supported_clauses(plain[spans[last][0]:spans[last][1]], question, source)
    if last:
        return f"{plain[spans[0][0]:spans[last][0]]}{sentence}"
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


def _name_the_subject(sentence: str, question: str, passage: Passage) -> str:
    subject = am.subject_phrase(question)
    if not subject:
        return sentence
    said = set(am.tokens(am.first_clause(sentence)))
    if all(am.present_in(w, said, forms=True) for w in am.tokens(subject)):
        return sentence
    m = _COPULA.match(sentence)
    if m is None:
        return sentence
    np_words = am.tokens(m.group("np"))
    possessive = _POSSESSIVE.match(sentence)
    if possessive:  # a quoted sentence that leans on the one before: "Its best-known product is ..."
        return f"{subject}'s {sentence[possessive.end():]}"
    heading = heading_words(passage)
    if not np_words or sum(am.present_in(w, heading, forms=True) for w in np_words) / len(np_words) < 0.75:
        return sentence
    return f"{subject} {sentence[m.start('verb'):]}"
