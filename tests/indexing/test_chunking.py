"""Chunking with the real MiniLM tokenizer: exact offsets, token budgets, overlap, sections, titles, stable ids."""

from __future__ import annotations

import itertools

import pytest

from indexing.chunking import Chunker, heading_paths, retrieval_text, sentence_spans
from indexing.loaders import Document, Heading, markdown_text


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


def markdown_doc(markdown: str, doc_id: str = "d1") -> Document:
    text, title, headings = markdown_text(markdown)
    return Document(doc_id, f"/x/{doc_id}.md", title, text, "h", f"/x/{doc_id}.md", headings)


def test_headings_and_stable_ids(tokenizer):
    d = markdown_doc("# Guide\n\nIntro text here.\n\n## Install\n\n" + " ".join(SENTENCES[:20]))
    chunker = Chunker(tokenizer, chunk_tokens=40, overlap=0)
    chunks = chunker.chunk(d)
    assert chunks[0].title == "Guide" and chunks[0].text == "Guide\n\nIntro text here."
    assert chunks[1].text.startswith("Install\n") and all(c.title == "Guide › Install" for c in chunks[1:])
    assert [c.id for c in chunker.chunk(d)] == [c.id for c in chunks]  # deterministic
    assert len({c.id for c in chunks}) == len(chunks)
    other = chunker.chunk(Document("d2", "/x/d2.md", "T", d.text, "h", "/x/d2.md", d.headings))
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


SECTIONS = ["Overview", "Economy", "Culture", "Transport"]


def sectioned(sentences_per_section: list[int]) -> Document:
    parts = ["# Kenya"]
    for name, n in zip(SECTIONS, sentences_per_section, strict=False):
        parts.append(f"## {name}\n\n" + " ".join(SENTENCES[:n]))
    return markdown_doc("\n\n".join(parts))


def heading_lines(d: Document) -> set[str]:
    return {h.text for h in d.headings}


@pytest.mark.parametrize("sizes,tokens,overlap", [([2, 9, 1, 6], 60, 15), ([1, 1, 1, 1], 25, 5), ([12, 3], 40, 10),
                                                  ([2, 0, 9, 1], 45, 10)])  # an empty section: two headings in a row
def test_a_chunk_never_ends_with_a_heading(tokenizer, sizes, tokens, overlap):
    d = sectioned(sizes)
    chunks = Chunker(tokenizer, chunk_tokens=tokens, overlap=overlap).chunk(d)
    assert len(chunks) > 1
    for c in chunks:
        assert d.text[c.start:c.end] == c.text
        assert c.text.rsplit("\n", 1)[-1] not in heading_lines(d)  # the last line is section text
        assert count(tokenizer, c.text) <= tokens


def test_a_section_that_fits_starts_a_new_chunk(tokenizer):
    d = sectioned([3, 3, 3, 3])  # each section ~40 tokens: two fit in 100, three do not
    chunks = Chunker(tokenizer, chunk_tokens=100, overlap=20).chunk(d)
    firsts = [c.text.split("\n", 1)[0] for c in chunks]
    assert firsts == ["Kenya", "Culture"]  # short sections share a chunk ...
    assert chunks[0].end < d.headings[3].start  # ... and a section that fits is not cut in two
    assert chunks[1].start == d.headings[3].start  # no overlap into the previous section
    assert [c.title for c in chunks] == ["Kenya", "Kenya › Culture"]


def test_overlap_stays_inside_a_long_section(tokenizer):
    d = sectioned([1, 30])  # the Economy section needs several chunks
    chunks = Chunker(tokenizer, chunk_tokens=60, overlap=15).chunk(d)
    economy = d.headings[2].start
    assert any(c.start == economy for c in chunks)
    later = [c for c in chunks if c.start > economy]
    assert len(later) >= 2 and all(c.title == "Kenya › Economy" for c in later)
    for a, b in itertools.pairwise(later):
        assert b.start < a.end  # consecutive chunks of one section overlap


def test_heading_paths_and_retrieval_text():
    hs = [Heading(0, "Kenya", 1), Heading(10, "Economy", 2), Heading(20, "Tea", 3), Heading(30, "People", 2)]
    assert heading_paths("Kenya", hs) == ["Kenya", "Kenya › Economy", "Kenya › Economy › Tea", "Kenya › People"]
    assert heading_paths("", [Heading(0, "Intro", 2)]) == ["Intro"]
    # a title carrying its file's name ("Baking (bread)") is not repeated by the "# Baking" it came from
    assert heading_paths("Baking (bread)", [Heading(0, "Baking", 1), Heading(9, "Rye", 2)]) == [
        "Baking (bread)", "Baking (bread) › Rye"]
    assert retrieval_text("Kenya › Economy", "Tea is grown.") == "Kenya › Economy\nTea is grown."
    assert retrieval_text("Kenya", "Kenya\nThe capital is Nairobi.") == "Kenya\nThe capital is Nairobi."
    assert retrieval_text("", "x") == "x"
