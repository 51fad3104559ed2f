"""Attribution: sentences -> passage spans with offsets into the source document."""

import pytest

from rag.attribute import Attributor, split_sentences
from rag.types import Passage

DOC = (
    "Bram Stoker was an Irish author. He is best known for writing the 1897 Gothic novel Dracula. "
    "During his lifetime he was better known as the personal assistant of actor Henry Irving."
)
OTHER = "Paris is the capital and most populous city of France. It hosts the Louvre museum."


def passage(pid: str, doc: str, start: int, end: int, source: str) -> Passage:
    return Passage(pid, source, "", doc[start:end], start, end, 1.0)


@pytest.fixture
def passages():
    # the first passage starts mid-document, so document offsets differ from passage offsets
    p1 = passage("d1#1", DOC, 32, len(DOC), "stoker.txt")
    p2 = passage("d2#0", OTHER, 0, len(OTHER), "paris.md")
    return [p1, p2]


def test_split_sentences_keeps_markers_with_their_sentence():
    text = "Dracula was written by Bram Stoker [1]. It appeared in 1897. [1][2] Yes."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Dracula was written by Bram Stoker [1].", "It appeared in 1897. [1][2]", "Yes.",
    ]


def test_cited_sentence_points_at_the_supporting_span_in_the_document(passages, embedder):
    answer = "Bram Stoker wrote the Gothic novel Dracula [1]."
    result = Attributor(embedder).run(answer, passages)
    assert result.dropped_citations == 0
    (c,) = result.citations
    assert c.passage_id == "d1#1" and c.cited and c.source == "stoker.txt"
    assert DOC[c.start:c.end] == "He is best known for writing the 1897 Gothic novel Dracula."


def test_uncited_sentence_is_matched_by_overlap(passages, embedder):
    result = Attributor(embedder).run("Paris is the capital of France.", passages)
    (c,) = result.citations
    assert c.passage_id == "d2#0" and not c.cited
    assert OTHER[c.start:c.end] == "Paris is the capital and most populous city of France."


def test_unsupported_sentence_is_from_memory(passages, embedder):
    result = Attributor(embedder).run("Quantum chromodynamics describes gluons. Paris is in France [2].", passages)
    memory, supported = result.citations
    assert memory.from_memory and memory.passage_id is None and memory.start == -1
    assert supported.passage_id == "d2#0"


def test_invalid_markers_are_dropped_and_counted(passages, embedder):
    result = Attributor(embedder).run("Stoker wrote Dracula [7]. Irving was an actor [0][2].", passages)
    assert result.dropped_citations == 2
    first, second = result.citations
    assert first.passage_id == "d1#1"  # found by overlap despite the bad marker
    assert second.passage_id == "d1#1"  # [2] does not support it, so overlap picks passage 1


def test_lexical_only_mode_without_embedder(passages):
    result = Attributor(None).run("Dracula [1]", passages)
    (c,) = result.citations
    assert c.passage_id == "d1#1" and "Dracula" in DOC[c.start:c.end]


@pytest.mark.parametrize("text, sentences", [
    ("The domain of Kenya is .ke and its code is +254. It is in Africa.",
     ["The domain of Kenya is .ke and its code is +254.", "It is in Africa."]),
    ("The density is 336.3 people per km2. Next.", ["The density is 336.3 people per km2.", "Next."]),
    ("Dr. Smith and J. R. R. Tolkien met in the U.S. in 1950. They talked.",
     ["Dr. Smith and J. R. R. Tolkien met in the U.S. in 1950.", "They talked."]),
    ("See www.example.com for approx. five pages. Done!", ["See www.example.com for approx. five pages.", "Done!"]),
    ("Its code is 15. Really? Yes.\nA new line", ["Its code is 15.", "Really?", "Yes.", "A new line"]),
    # a table row is one sentence, whatever its cells say
    ("| 1 | What is the largest planet? | Saturn |\nDone. Next.",
     ["| 1 | What is the largest planet? | Saturn |", "Done.", "Next."]),
    ("1 | What is the largest planet? | Saturn\n2 | Gold? | Au", ["1 | What is the largest planet? | Saturn", "2 | Gold? | Au"]),
])
def test_split_sentences_survives_abbreviations_decimals_and_domains(text, sentences):
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


@pytest.mark.parametrize("text, sentences", [
    # a PDF's wrapped prose: the break goes on into a lower-case word, a bracket, or after "and" or a comma
    (("Hungary has a population of about 9,678,000 people and covers an area of 93,030 square\n"
     "kilometres, a density of about 104.0 people per square kilometre. It is in Europe."),
     [("Hungary has a population of about 9,678,000 people and covers an area of 93,030 square\n"
      "kilometres, a density of about 104.0 people per square kilometre."), "It is in Europe."]),
    ("Hungary shares land borders with Austria, Croatia, Romania, Serbia, Slovakia and\nUkraine.",
     ["Hungary shares land borders with Austria, Croatia, Romania, Serbia, Slovakia and\nUkraine."]),
    ("The currency used in Hungary, a country in Europe, is the Forint\n(HUF).",
     ["The currency used in Hungary, a country in Europe, is the Forint\n(HUF)."]),
    # short lines, finished sentences, bullets, chat lines and rows keep their breaks
    ("Ingredients\nflour\nwater", ["Ingredients", "flour", "water"]),
    ("The kettle boils a full litre of water in four minutes.\nthen it clicks off",
     ["The kettle boils a full litre of water in four minutes.", "then it clicks off"]),
    ("- Keep the receipt for the whole of the two year warranty and\n- register online",
     ["- Keep the receipt for the whole of the two year warranty and", "- register online"]),
    ("[Mon 9 Sep 2024, 18:02] Jo: the dress fitting is done and it finally fits\n[Mon 9 Sep 2024, 18:03] Me: yay",
     ["[Mon 9 Sep 2024, 18:02] Jo: the dress fitting is done and it finally fits", "[Mon 9 Sep 2024, 18:03] Me: yay"]),
    ("Weight of the TideTrack T4 tracker in grams | 62 g\nbattery | 5 days",
     ["Weight of the TideTrack T4 tracker in grams | 62 g", "battery | 5 days"]),
])
def test_split_sentences_joins_wrapped_lines_only(text, sentences):
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


BREWERY = ("Quenvern Brewery\n\nProducts\n\nIts best-known product is the barometer, sold across the region.\n\n"
           "Projects. Project Marholt is led by Edda Selthorne. Its budget is 508 thousand crowns and its deadline "
           "is September 2027.")


def test_a_sentence_opening_with_a_pronoun_is_read_with_the_one_before(embedder):
    """"Its deadline is September 2027." states the date of what the previous sentence names: the cited span is
    both, not the previous sentence alone (which names the project but not the date)."""
    p = Passage("b#0", "brewery.md", "Quenvern Brewery", BREWERY, 0, len(BREWERY), 1.0)
    (c,) = Attributor(embedder).run("Project Marholt is due on September 2027 [1].", [p]).citations
    assert BREWERY[c.start:c.end] == ("Project Marholt is led by Edda Selthorne. Its budget is 508 thousand crowns "
                                      "and its deadline is September 2027.")
    # a sentence the previous one adds nothing to is cited alone
    (c,) = Attributor(embedder).run("Project Marholt is led by Edda Selthorne [1].", [p]).citations
    assert BREWERY[c.start:c.end] == "Project Marholt is led by Edda Selthorne."


def test_a_heading_supports_only_what_it_states(embedder):
    """The title line "Quenvern Brewery" is close in meaning to any sentence about the brewery; the sentence that
    states the product is the support."""
    p = Passage("b#0", "brewery.md", "Quenvern Brewery", BREWERY, 0, len(BREWERY), 1.0)
    (c,) = Attributor(embedder).run("The best-known product of Quenvern Brewery is the barometer [1].", [p]).citations
    assert BREWERY[c.start:c.end] == "Its best-known product is the barometer, sold across the region."
