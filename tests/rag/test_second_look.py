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
    first = gather(hf_generator, cfg, q, [doc], second_look=False).readings[0]
    both = gather(hf_generator, cfg, q, [doc])
    second = both.readings[0]
    assert second.answers and "Calmere" in second.text
    assert not first.answers  # the whole handbook: SmolLM2-135M names the handbook
    # the second look read the sentence about the project, with exact offsets kept
    assert len(second.passage.text) <= SECOND_LOOK_CHARS
    assert HANDBOOK[second.passage.start:second.passage.end] == second.passage.text
    assert "Fenvern" in second.passage.text
