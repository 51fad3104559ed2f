"""ui.examples: example questions drawn from documents (the real sample corpus texts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ui.examples import example_questions, question_from_text, spread

SAMPLE = Path(__file__).resolve().parents[2] / "indexing" / "sample"


def test_questions_come_from_the_document_text():
    assert question_from_text("France", (SAMPLE / "france.md").read_text()) == "What is the capital of France?"
    assert question_from_text("Notes", "The official language of Canada is English and French.") == \
        "What is the official language of Canada?"
    assert question_from_text("Zephyr", "Nothing to turn into a question here") == \
        "What do the documents say about Zephyr?"


@dataclass(frozen=True)
class Doc:
    doc_id: str
    source: str
    title: str


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    text: str
    start: int = 0


class TitleSearch:
    """Neighbour of example_questions: the two Index methods it reads, over the sample texts."""

    def __init__(self, texts: dict[str, str]):
        self.texts = texts

    def bm25_search(self, query: str, k: int):
        return [(doc_id, 1.0) for doc_id in self.texts if query.lower() in doc_id][:k]

    def chunks_by_id(self, ids):
        return {i: Chunk(i, self.texts[i]) for i in ids}


def test_three_distinct_questions_from_documents_spread_over_the_index():
    files = sorted(p for p in SAMPLE.iterdir() if p.suffix in (".md", ".txt"))
    texts = {p.stem: p.read_text() for p in files}
    docs = [Doc(p.stem, str(p), p.stem.capitalize()) for p in files]
    questions = example_questions(TitleSearch(texts), docs, n=3)
    assert len(questions) == 3 and len(set(questions)) == 3
    assert all(q.startswith("What is the capital of ") for q in questions), questions
    assert spread(list(range(10)), 3) == [0, 3, 6] and spread([1], 3) == [1]
