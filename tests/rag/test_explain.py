"""rag.explain: the decision and the disagreement in words (shared by the CLI and the app)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.explain import decision_words, disagreement, short_value
from tests.ui.fakes import between_conflict_answer, memory_answer, memory_conflict_answer, retrieved_answer


@pytest.mark.parametrize(("answer", "question", "value"), [
    ("The capital of Japan is Osaka.", "What is the capital of Japan?", "Osaka"),
    ("Halworth's managing director is Pavel Galthorne", "Who is the managing director of Halworth?",
     "Pavel Galthorne"),
    ("The calling code of Kenya is +254.", "What is the calling code of Kenya?", "+254"),
    ("Paris", "Is Paris the capital?", "Paris"),  # only question words: kept as it is
    ("The capital of Mexico is Mexico City.", "What is the capital of Mexico?", "Mexico City"),  # not "City"
    ("", "What?", ""),
])
def test_short_values(answer, question, value):
    assert short_value(answer, question) == value


def test_disagreement_sides():
    d = disagreement(memory_conflict_answer())
    assert (d.first.value, d.first.passage_ids, d.second.value, d.second.confidence) == ("Osaka", ("p1",), "Tokyo", 0.92)
    d = disagreement(between_conflict_answer())
    assert (d.first.value, d.first.passage_ids) == ("Cora Grisby", ("p1",))
    assert (d.second.value, d.second.passage_ids) == ("Pavel Galthorne", ("p2",))
    assert disagreement(retrieved_answer()) is None


def test_threshold_is_never_shown_equal_to_p():
    a = replace(retrieved_answer(), ret_probability=0.6071)
    assert "P(<RET>) 0.607 ≥ threshold 0.607" in decision_words(a, 0.607)
    assert "(P(<RET>) 0.05)" in decision_words(memory_answer(0.05))
