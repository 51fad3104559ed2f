"""Answer cleaning: prompt scaffolding copied by a small model never reaches the user."""

from __future__ import annotations

import pytest

from rag.answer_text import STOPS, clean_answer


@pytest.mark.parametrize("raw, clean", [
    ("Question: When is Project Selstead due?\nAnswer: April 2029", "April 2029"),
    ("question: Who leads it?\n  answer:  Nils Bremoor [1].", "Nils Bremoor [1]."),
    ("Answer: Paris [1]", "Paris [1]"),
    ("[4] (title: Quenvern Brewery)\n[5] (title: Valley business newsletter)\n", ""),
    ("The capital is Nairobi [1].\n[2] (title: Kenya)\n<<<\nKenya is ...", "The capital is Nairobi [1]."),
    ("Nairobi [1] <<< fenced", "Nairobi [1]"),
    ("The year is 2020.", "The year is 2020."),
    # a passage header written mid-sentence ends the answer there
    ("The Brestead Labs staff handbook is a reference to the [1] (title: Brestead-Labs-Handbook) and the",
     "The Brestead Labs staff handbook is a reference to the"),
    ("What is the question? It asks about Q: nothing.", "What is the question? It asks about Q: nothing."),
    # a quotation opened and never closed loses its mark; a closed one stays
    ('"A subscription costs £45 per bin per year.', "A subscription costs £45 per bin per year."),
    ("“Keep left” is the rule.", "“Keep left” is the rule."),
    ('"A white loaf costs £3.80.".', "A white loaf costs £3.80."),  # the whole answer quoted
])
def test_clean_answer(raw, clean):
    assert clean_answer(raw) == clean


def test_stop_strings_fit_the_openai_api_limit_of_four():
    assert len(STOPS) <= 4
