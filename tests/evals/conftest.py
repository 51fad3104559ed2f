"""Fixtures for the evaluation tests: hand-built answers and the tiny QA files in fixtures/."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def popqa_tiny() -> Path:
    return FIXTURES / "handmade_qa_tiny.jsonl"


@pytest.fixture()
def qa_simple() -> Path:
    return FIXTURES / "qa_simple.jsonl"
