"""The evidence stage's second look: a passage whose first reading did not answer is read again, narrowed."""

from __future__ import annotations

from rag.config import load_config
from rag.evidence import SECOND_LOOK_CHARS, gather
from rag.types import Passage

HANDBOOK = (
    "Bredale Labs staff handbook\n\nWorking hours. The Bredale Labs office opens at 8:00 on weekdays. Staff of "
    "Bredale Labs receive 24 days of annual leave each year.\n\nHelp. The Bredale Labs support desk can be reached "
    "on extension 4410.\n\nProjects. Project Fenvern is led by Wim Calmere. Its budget is 410 thousand crowns and "
    "its deadline is May 2029."
)


def test_a_handbook_read_whole_then_narrowed_gives_the_project_lead(hf_generator):
    cfg = load_config(env={})
    doc = Passage("h", "orgs/bredale-labs-handbook.txt", "bredale-labs-handbook", HANDBOOK, 0, len(HANDBOOK), 1.0)
    q = "Who leads Project Fenvern?"
    # quotes off: this is about the model's own second reading (a quote would answer first: tests/rag/test_quote.py)
    first = gather(hf_generator, cfg, q, [doc], second_look=False, quotes=False).readings[0]
    both = gather(hf_generator, cfg, q, [doc], quotes=False)
    second = both.readings[0]
    assert second.answers and "Calmere" in second.text
    assert not first.answers  # the whole handbook: SmolLM2-135M names the handbook
    # the second look read the sentence about the project, with exact offsets kept
    assert len(second.passage.text) <= SECOND_LOOK_CHARS
    assert HANDBOOK[second.passage.start:second.passage.end] == second.passage.text
    assert "Fenvern" in second.passage.text


def test_second_looks_answer_but_never_raise_a_conflict(embedder):
    """A misreading on one sentence ("extension 2328" for days of leave) against a first reading is no
    disagreement between documents."""
    from dataclasses import replace

    from rag.conflict import ConflictChecker
    from rag.evidence import make_reading
    from rag.types import Generation

    q = "How many days of annual leave do staff at Zarby Analytics get?"
    a = Passage("a", "zarby-handbook.txt", "zarby-analytics-handbook",
                "Staff of Zarby Analytics receive 21 days of annual leave each year.", 0, 66, 1.0)
    b = Passage("b", "zarby-profile.txt", "zarby-analytics-profile",
                "Zarby Analytics staff get 30 days of annual leave, says its profile.", 0, 68, 1.0)
    first, other = make_reading(q, a, "Staff get 21 days of annual leave."), make_reading(q, b, "They get 30 days of annual leave.")
    assert first.answers and other.answers
    checker = ConflictChecker(None, embedder, load_config(env={}))
    memory = Generation("I don't know.", (), ())
    assert checker.judge(q, memory, [first, other]).conflict.kind == "between_documents"  # two first readings
    assert not checker.judge(q, memory, [first, replace(other, second_look=True)]).conflict.flagged


def test_a_second_look_stating_a_price_as_written_takes_part_in_the_conflict_check(embedder):
    """A second look whose value carries the unit asked and stands in its passage as written ("£45 per bin per
    year", a council's page read narrowed) is that document's answer: against the minutes' "£52" it is flagged, and
    its date-laden clause is still a price to compare with a price."""
    from dataclasses import replace

    from rag.conflict import ConflictChecker
    from rag.evidence import make_reading
    from rag.types import Generation

    q = "What does it cost per year to have a green bin collected in Fallowby?"
    council = ("Green bins (Fallowby). A subscription costs £45 per bin per year and runs from 1 April 2025 to 31 "
               "March 2026.")
    minutes = "Fallowby residents' meeting. The green bin subscription will be £52 per bin per year from April."
    a = Passage("a", "council.html", "Fallowby council bins", council, 0, len(council), 1.0)
    b = Passage("b", "minutes.txt", "Fallowby residents' meeting", minutes, 0, len(minutes), 1.0)
    second = replace(make_reading(q, a, "A subscription costs £45 per bin per year and runs from 1 April 2025 to 31 "
                                        "March 2026."), second_look=True)
    first = make_reading(q, b, "The green bin subscription will be £52 per bin per year.")
    assert first.answers and second.answers
    checker = ConflictChecker(None, embedder, load_config(env={}))
    memory = Generation("I don't know.", (), ())
    judged = checker.judge(q, memory, [first, second])
    assert judged.conflict.kind == "between_documents" and judged.features["type_match_pair"] == 1.0
    misread = replace(make_reading(q, a, "It costs £60 per bin per year."), second_look=True)  # not in its passage
    assert not checker.judge(q, memory, [first, misread]).conflict.flagged
