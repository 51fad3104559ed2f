"""rag/word_tasks.py: small tasks worked out by rule, and requests that only mention them left alone."""

from __future__ import annotations

import pytest

from rag.word_tasks import solve


@pytest.mark.parametrize(("request_", "answer"), [
    ("Reverse the word 'stop'", "stop backwards: pots."),
    ("spell necessary backwards", "necessary backwards: yrassecen."),
    ("Spell 'cat' backwards.", "cat backwards: tac."),
    ("what is hello backwards?", "hello backwards: olleh."),
    ("Put these in alphabetical order: pear, apple, mango, fig", "apple, fig, mango, pear."),
    ("sort alphabetically: Zoe, adam and Bob", "adam, Bob, Zoe."),
    ("Please put these words in reverse alphabetical order: a, c, b", "c, b, a."),
    ("Count from one to five.", "One, two, three, four, five."),
    ("count to 10", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10."),
    ("count from 3 to 1", "3, 2, 1."),
    ("How many letters are in the word banana?", "banana has 6 letters."),
    ("Please write the word 'hello' in capital letters.", "HELLO"),
    ("how many metres is 3.5 km", "3.5 km = 3500 metres."),
    ("how many grams are in a kilogram?", "1 kilogram = 1000 grams."),
    ("how many seconds in an hour", "1 hour = 3600 seconds."),
    ("convert 10 miles to km", "10 miles = 16.09344 kilometres."),
    ("what is 100°F in celsius", "100 °F = 37.78 °C."),
    ("What is 37 degrees celsius in fahrenheit?", "37 °C = 98.6 °F."),
    ("how many days in a week", "1 week = 7 days."),
])
def test_small_tasks_are_worked_out_exactly(request_, answer):
    assert solve(request_).text == answer


@pytest.mark.parametrize("request_", [
    "How many days are there in a leap year?",  # a leap year is no unit
    "how many km is it to Paris",
    "Which word did the newsletter spell backwards?",
    "reverse the charges",
    "Count the days until Friday",
    "count to 1000",  # no chat answer
    "how many kilograms is 3 metres",  # two quantities
    "What is 7 plus 5?",  # a sum: rag/calculate.py
    "Who wrote Dracula?",
])
def test_requests_that_only_mention_a_task_are_left_to_the_answer_path(request_):
    assert solve(request_) is None
