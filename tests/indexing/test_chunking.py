"""Chunking with the real MiniLM tokenizer: exact offsets, token budgets, overlap, headings, stable ids."""

from __future__ import annotations

import itertools

import pytest

from indexing.chunking import Chunker, sentence_spans
from indexing.loaders import Document, Heading, markdown_headings


def doc(text: str, headings=(), title="T") -> Document:
    return Document("d1", "/x/d1.md", title, text, "h", "/x/d1.md", tuple(headings))


SENTENCES = [f"Sentence number {i} talks about the {w} of the old harbour town." for i, w in
             enumerate(["ships", "fish", "bells", "gulls", "storms", "lights", "nets", "ropes"] * 6)]


@pytest.fixture(scope="module")
def tokenizer(embedder):
    return embedder.tokenizer


def count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_offsets_are_exact_and_budgets_hold(tokenizer):
    text = "  \n".join(" ".join(SENTENCES[i:i + 4]) for i in range(0, len(SENTENCES), 4)) + "\n"
    chunks = Chunker(tokenizer, chunk_tokens=60, overlap=15).chunk(doc(text))
    assert len(chunks) > 5
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert count(tokenizer, c.text) <= 60
        assert c.text[0].isalnum() and c.text.endswith(".")  # sentence boundaries, whitespace trimmed
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start and b.start < a.end  # consecutive chunks overlap ...
        assert count(tokenizer, text[b.start:a.end]) <= 15 + 2  # ... by at most ~overlap tokens
    assert chunks[-1].end == len(text.rstrip())


def test_long_sentence_is_cut_by_tokens(tokenizer):
    text = "word " * 500 + "end."
    chunks = Chunker(tokenizer, chunk_tokens=50, overlap=10).chunk(doc(text))
    assert all(text[c.start:c.end] == c.text and count(tokenizer, c.text) <= 50 for c in chunks)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())  # nothing lost


def test_headings_and_stable_ids(tokenizer):
    text = "# Guide\n\nIntro text here.\n\n## Install\n\n" + " ".join(SENTENCES[:20])
    d = doc(text, markdown_headings(text))
    chunker = Chunker(tokenizer, chunk_tokens=40, overlap=0)
    chunks = chunker.chunk(d)
    assert chunks[0].title == "Guide"
    assert chunks[-1].title == "Install"
    assert [c.id for c in chunker.chunk(d)] == [c.id for c in chunks]  # deterministic
    assert len({c.id for c in chunks}) == len(chunks)
    other = chunker.chunk(Document("d2", "/x/d2.md", "T", text, "h", "/x/d2.md", d.headings))
    assert not {c.id for c in other} & {c.id for c in chunks}  # ids include the document


def test_no_heading_uses_title(tokenizer):
    chunks = Chunker(tokenizer, 200, 40).chunk(doc("Just one sentence.", [Heading(100, "later")], title="Doc"))
    assert [(c.text, c.title, c.start, c.end) for c in chunks] == [("Just one sentence.", "Doc", 0, 18)]


def test_sentence_spans():
    text = 'He said "Stop." Then left!  Why? e.g.\nnext line'
    assert [text[s:e] for s, e in sentence_spans(text)] == ['He said "Stop."', "Then left!", "Why?", "e.g.",
                                                           "next line"]
    assert sentence_spans("   \n ") == []


@pytest.mark.parametrize("tokens,overlap", [(0, 0), (10, 10), (10, -1)])
def test_invalid_settings(tokenizer, tokens, overlap):
    with pytest.raises(ValueError, match="index.chunk"):
        Chunker(tokenizer, tokens, overlap)


def test_a_line_without_spaces_is_cut_by_characters(tokenizer):
    text = "x" * 50_000 + " tail."  # one [UNK] token to WordPiece: tokens alone would make one 50 KB chunk
    chunker = Chunker(tokenizer, chunk_tokens=20, overlap=5)
    chunks = chunker.chunk(doc(text))
    assert all(text[c.start:c.end] == c.text and len(c.text) <= 20 * Chunker.MAX_CHARS_PER_TOKEN for c in chunks)
    assert sum(len(c.text) for c in chunks) >= 50_000 and chunks[-1].text.endswith("tail.")


def test_iter_chunks_is_lazy_and_equals_chunk(tokenizer):
    text = " ".join(SENTENCES) * 20
    chunker = Chunker(tokenizer, chunk_tokens=40, overlap=10)
    lazy = chunker.iter_chunks(doc(text))
    first = next(lazy)
    assert first == chunker.chunk(doc(text))[0]
    assert [first, *lazy] == chunker.chunk(doc(text))
