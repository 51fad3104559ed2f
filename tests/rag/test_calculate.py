"""Exact arithmetic (rag/calculate.py) for requests that are only a sum, and its place on the answer path."""

from __future__ import annotations

import pytest

from rag.calculate import calculate


@pytest.mark.parametrize(("request_text", "answer"), [
    ("What is 58 - 11?", "58 - 11 = 47."),  # SmolLM2-135M: "58 - 11 = 45"
    ("What is 51 - 44?", "51 - 44 = 7."),  # SmolLM2-135M: "The answer is 51."
    ("What is 28 plus 25?", "28 + 25 = 53."),
    ("Add 21 and 4.", "21 + 4 = 25."),
    ("What is 14 minus 9?", "14 - 9 = 5."),
    ("What is 6 times 5?", "6 × 5 = 30."),
    ("Subtract 3 from 10.", "10 - 3 = 7."),
    ("Divide 10 by 4", "10 ÷ 4 = 2.5."),
    ("what does 9 / 3 equal?", "9 ÷ 3 = 3."),
    ("What is the product of 12 and 12?", "12 × 12 = 144."),
    ("What is 1,000 x 3?", "1000 × 3 = 3000."),
    ("What is 1 divided by 3?", "1 ÷ 3 = 0.333333."),
])
def test_a_request_that_is_only_a_sum_is_computed_exactly(request_text, answer):
    got = calculate(request_text)
    assert got is not None and got.text == answer


def test_division_by_zero_is_said_to_be_undefined():
    got = calculate("What is 10 divided by 0?")
    assert got is not None and got.value is None and "undefined" in got.text


@pytest.mark.parametrize("request_text", [
    "How many days of annual leave do staff at Halworth Textiles get?",
    "What is 6 times the population of Kenya?",  # a number of the documents' is asked for
    "What is 7?",
    "In what year was Ormton Foundry founded, 1952 or 1960?",
    "What is 5 and 6?",
    "Hello! How are you today?",
    "Write the number 12 in words.",
])
def test_anything_more_than_a_sum_is_not_taken_for_one(request_text):
    assert calculate(request_text) is None


def test_the_answer_path_computes_a_sum_without_searching_or_generating(pipeline_no_calls):
    answer = pipeline_no_calls.answer("What is 58 - 11?", mode="always")
    assert answer.answer == "58 - 11 = 47." and answer.answered_from == "calculation"
    assert not answer.retrieved and not answer.abstained and not answer.conflict.flagged
    assert answer.to_json()["answered_from"] == "calculation"
    streamed: list[str] = []
    pipeline_no_calls.answer("Add 21 and 4.", mode="adaptive", on_token=streamed.append)
    assert "".join(streamed).strip() == "21 + 4 = 25."
    # a small task a rule does exactly (rag/word_tasks.py) takes the same way
    answer = pipeline_no_calls.answer("spell necessary backwards", mode="adaptive")
    assert answer.answer == "necessary backwards: yrassecen." and answer.answered_from == "calculation"
    assert pipeline_no_calls.answer("how many metres is 3.5 km", mode="always").answer == "3.5 km = 3500 metres."


def test_the_calculator_can_be_turned_off(hf_generator):
    from rag.config import load_config
    from rag.pipeline import Pipeline

    cfg = load_config(env={}, overrides={"decide.calculator": False})
    answer = Pipeline(cfg, hf_generator, conflict=None).answer("What is 7 + 4?", mode="never")
    assert answer.answered_from == "memory" and answer.prompt_tokens > 0  # the model answered


@pytest.fixture()
def pipeline_no_calls():
    """The answer path with a generator and retriever that fail on any call: a sum must need neither."""
    from rag.config import load_config
    from rag.pipeline import Pipeline

    class Fails:
        def __getattr__(self, name):
            raise AssertionError(f"the calculator path called {name}")

    class NoCallsGenerator(Fails):
        info = type("Info", (), {"name": "smollm2-135m"})()

    return Pipeline(load_config(env={}), NoCallsGenerator(), retriever=Fails(), decider=Fails(),  # type: ignore[arg-type]
                    conflict=None)
