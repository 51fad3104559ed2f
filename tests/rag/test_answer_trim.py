"""What of a reading the answer shows: the answering sentence, without padding the passage never said."""

from __future__ import annotations

import pytest

from rag.answer_match import subject_phrase
from rag.answer_trim import stated
from rag.types import Passage

HANDBOOK = Passage(
    "h", "orgs/obergate-textiles-handbook.txt", "obergate-textiles-handbook",
    "Obergate Textiles staff handbook\n\nProjects. Project Velstead is led by Wim Oberfield. Its budget is 508 "
    "thousand crowns and its deadline is April 20, 2027.", 0, 150, 1.0)
PROFILE = Passage(
    "p", "orgs/brestead.md", "Brestead Labs",
    "Brestead Labs is a research laboratory based in the town of Velby. It was founded in 1991 by Quinn Selgate.",
    0, 110, 1.0)

KENYA = Passage("k", "kenya.md", "Kenya", "Kenya is a country in East Africa. Its capital is Nairobi.", 0, 58, 1.0)


@pytest.mark.parametrize("question, reading, shown", [
    # praise the passage never states goes, with everything after it
    ("Who leads Project Velstead?", ("Project Velstead is led by Wim Oberfield, a renowned and respected figure in "
     "the industry [1]."), "Project Velstead is led by Wim Oberfield."),
    # a later sentence (boilerplate, or more than was asked) goes
    ("When was Brestead Labs founded?", "Brestead Labs was founded in 1991. The company employs about 465 people.",
     "Brestead Labs was founded in 1991."),
    # a clause the passage states stays
    ("When was Brestead Labs founded?", ("Brestead Labs was founded in 1991 by Quinn Selgate, a research laboratory "
     "based in Velby."), "Brestead Labs was founded in 1991 by Quinn Selgate, a research laboratory based in Velby."),
    # the answer in a second sentence is kept, with what leads to it
    ("What is the capital of Kenya?", "Kenya is a country in East Africa. Its capital is Nairobi. It is big.",
     "Kenya is a country in East Africa. Its capital is Nairobi."),
    # the comma of a date is not a clause boundary; the value is never cut
    ("When is Project Velstead due?", "Project Velstead is due on April 20, 2027 [1].",
     "Project Velstead is due on April 20, 2027."),
    # a bare value stays as it is
    ("Who leads Project Velstead?", "[1] Wim Oberfield", "Wim Oberfield"),
])
def test_stated_keeps_what_the_passage_says(question, reading, shown):
    passage = HANDBOOK if "Velstead" in question else KENYA if "Kenya" in question else PROFILE
    assert stated(question, reading, passage) == shown


def test_the_document_named_as_subject_becomes_the_subject_asked_about():
    q = "When is Project Velstead due?"
    assert stated(q, "The Obergate Textiles staff handbook is due on April 2027.", HANDBOOK) == \
        "Project Velstead is due on April 2027."
    # a sentence that names the subject, or whose subject is not the document's name, is left alone
    assert stated(q, "Project Velstead is due on April 2027.", HANDBOOK) == "Project Velstead is due on April 2027."
    assert stated(q, "The budget review is due on April 2027.", HANDBOOK) == "The budget review is due on April 2027."


def test_a_sentence_opening_with_its_names_the_subject_asked_about():
    """A quoted sentence that leans on the one before it ("Its best-known product is ...") reads alone."""
    q = "What is the best-known product of Obermouth Brewery?"
    said = "Its best-known product is the sealant, sold to customers across the region."
    products = Passage("o", "orgs/obermouth.md", "Obermouth Brewery", f"Products\n\n{said}", 0, 88, 1.0)
    assert stated(q, said, products) == \
        "Obermouth Brewery's best-known product is the sealant, sold to customers across the region."
    # a later sentence after the one naming the subject stays as written
    kenya = "Kenya is a country in East Africa. Its capital is Nairobi."
    assert stated("What is the capital of Kenya?", kenya, KENYA) == kenya


@pytest.mark.parametrize("question, subject", [
    ("When is Project Velstead due?", "Project Velstead"),
    ("What is the birthday of the chief executive of Brestead Labs' parent?", "Brestead Labs"),
    ("What is the capital of the United Kingdom?", "United Kingdom"),
    ("Hello! How are you?", ""),  # a sentence's first word names nothing
    ("Paris is in which country?", ""),
    ("New Zealand uses which currency?", "Zealand"),  # its first word is read as a sentence start
    ("what is 14 minus 9?", ""),
])
def test_subject_phrase(question, subject):
    assert subject_phrase(question) == subject
