"""rag/recase.py: a question typed in lower case names what its documents name."""

from __future__ import annotations

import pytest

from rag.evidence import names_a_subject
from rag.recase import recased

DOCS = [
    "# Marrowgate Hotel\nThe hotel has 40 rooms. Breakfast is served daily from 07:00.",
    "Maple Street Chess Club\n\nAdult membership costs £35 a year. Brackwater Town won the County Cup final 2-1.",
    "The TideTrack T4 weighs 62 g. Ellis played for Corrabeg in 2021. The CHEM 204 final is on Tuesday.",
    "Days off. You may work from home three days per week. Week one starts on Monday. Who sang at Lantern Week?",
    "Barn Hall, Green Valley Farm. The farm sells eggs. The market opens on Saturday.",
    "Presets: 40 °C, 70 °C, 95 °C and Boil. At sea level, water boils at 100 degrees Celsius.",
]


@pytest.mark.parametrize("question, expected", [
    ("who is the head chef at the marrowgate hotel", "who is the head chef at the Marrowgate Hotel"),
    ("how much is a year's adult membership at the maple street chess club",
     "how much is a year's adult membership at the Maple Street Chess Club"),
    ("what ingress protection rating does the tidetrack t4 have",
     "what ingress protection rating does the TideTrack T4 have"),
    ("how many goals did corrabeg score", "how many goals did Corrabeg score"),
    ("who refereed brackwater town's county cup final", "who refereed Brackwater Town's County Cup final"),
    ("when is the chem 204 final", "when is the CHEM 204 final"),
])
def test_names_are_spelt_as_the_documents_spell_them(question, expected):
    asked = recased(question, DOCS)
    assert asked == expected
    assert names_a_subject(asked) and not names_a_subject(question)


@pytest.mark.parametrize("question", [
    "How many days are there in a week?",  # "Days" and "Week" open a heading and a sentence: not names
    "which farm animal says moo",  # "Farm" is a word of "Green Valley Farm", no name of its own
    "thanks!",
    "write a birthday message for my sister, she turns 30 on saturday",  # a day is no subject
    "What is the capital of France?",  # capitals of its own: left as written
    "who is the head chef at the marrowgate inn",  # the documents name no "Marrowgate Inn"
    "at sea level, what temperature does water boil at",  # a preset's "Boil", and "water boils" in lower case
])
def test_words_the_documents_do_not_write_as_names_stay_as_typed(question):
    assert recased(question, DOCS) == question


def test_a_word_opening_two_names_is_a_name_of_its_own():
    docs = ["GREENFOLD FOOD BANK — VOLUNTEER ROTA\nSt Bede's Church Hall, Greenfold Road, Dunmore\nWe gave out 312 parcels."]
    assert recased("how many parcels did greenfold give out", docs) == "how many parcels did Greenfold give out"
    # once is not enough: "Green" opens only "Green Valley Farm"
    assert recased("is the green open", ["Barn Hall, Green Valley Farm. The farm sells eggs."]) == \
        "is the green open"


def test_a_question_that_capitalises_a_name_keeps_its_own_spelling():
    assert recased("who runs the Marrowgate hotel", DOCS) == "who runs the Marrowgate hotel"
