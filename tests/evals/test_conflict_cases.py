"""evals/conflict_cases.py: counter-memory case building from PopQA rows and countryinfo, and the --cases format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import conflict_cases as cc

POPQA_ROWS = [
    {"id": "1", "question": "In what city was Ann Smith born?", "answers": ["Oulu", "Uleåborg"], "s_pop": 10,
     "passage": "Ann Smith was born in Oulu, Finland. She later moved from Oulu to Helsinki."},
    {"id": "2", "question": "In what city was Bob Jones born?", "answers": ["Turku"], "s_pop": 500,
     "passage": "Bob Jones was born in Turku in 1950."},
    {"id": "3", "question": "Who was the director of Jaws?", "answers": ["Steven Spielberg"], "s_pop": 9000,
     "passage": "Jaws is a 1975 film directed by Steven Spielberg."},
    {"id": "4", "question": "Who was the director of Alien?", "answers": ["Ridley Scott"], "s_pop": 8000,
     "passage": "Alien was directed by somebody else."},  # answer not in passage: skipped
]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_replace_aliases_replaces_every_alias_whole_words_case_insensitively():
    text = "Born in OULU (Uleåborg); Ouluville is elsewhere."
    assert cc.replace_aliases(text, ["Oulu", "Uleåborg"], "Turku") == "Born in Turku (Turku); Ouluville is elsewhere."


def test_popqa_counter_answers_come_from_the_same_template(tmp_path):
    facts = cc.popqa_facts(write_jsonl(tmp_path / "p.jsonl", POPQA_ROWS))
    by_q = {f.question: f for f in facts}
    assert set(by_q) == {"In what city was Ann Smith born?", "In what city was Bob Jones born?",
                         "Who was the director of Jaws?"}
    ann = by_q["In what city was Ann Smith born?"]
    assert ann.counter_answer == "Turku"  # the other city, not a director
    assert "Oulu" not in ann.counter_passage and ann.counter_passage.count("Turku") == 2
    assert by_q["Who was the director of Jaws?"].counter_answer is not None
    assert facts[0].question == "Who was the director of Jaws?"  # most popular first
    cases = cc.cases_of(ann)
    assert [c.label for c in cases] == ["memory_vs_documents", "none", "between_documents"]
    assert cases[2].passages == (ann.passage, ann.counter_passage)


def test_countryinfo_facts_include_yes_no_questions():
    facts = cc.countryinfo_facts()
    assert len(facts) > 500
    assert any(f.source == "countryinfo-yesno" and f.aliases == ("yes",) for f in facts)
    paris = next(f for f in facts if f.question == "What is the capital of France?")
    assert "Paris" in paris.passage and "Paris" not in paris.counter_passage


def test_every_countryinfo_counter_passage_says_something_else():
    """A counter passage equal to the true one labels agreement a conflict: "America" as the only alias left
    "continent of Americas" in the counter passages of every country of the Americas."""
    facts = cc.countryinfo_facts()
    assert all(f.counter_passage != f.passage for f in facts)
    us = next(f for f in facts if f.question == "On which continent is United States?")
    assert "Americas" not in us.counter_passage and "America" in us.aliases


def test_case_file_errors_name_the_line(tmp_path):
    bad = write_jsonl(tmp_path / "c.jsonl", [{"question": "Q?", "passages": ["p"], "label": "none"},
                                             {"question": "Q?", "passages": ["p"], "label": "maybe"}])
    with pytest.raises(cc.CaseError, match=r"c\.jsonl:2: \"label\" must be one of"):
        cc.load_cases(bad)
    (tmp_path / "d.jsonl").write_text('{"question": "Q?", "passages": []}\n')
    with pytest.raises(cc.CaseError, match="d.jsonl:1: \"passages\" must be a non-empty list"):
        cc.load_cases(tmp_path / "d.jsonl")
    (tmp_path / "e.jsonl").write_text("{not json\n")
    with pytest.raises(cc.CaseError, match="e.jsonl:1: not valid JSON"):
        cc.load_cases(tmp_path / "e.jsonl")
    with pytest.raises(cc.CaseError, match="does not exist"):
        cc.load_cases(tmp_path / "missing.jsonl")
