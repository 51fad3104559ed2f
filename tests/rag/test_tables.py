"""Table rows (rag/tables.py): the row a question names by its first cell, and the value that row states."""

from __future__ import annotations

import pytest

from indexing.markup import html_text, markdown_text
from rag.evidence import heading_words, load_calibration, question_terms, quoted_readings
from rag.quote import quote
from rag.tables import from_another_row, named_row, row_value, rows, says_named_row
from rag.types import Passage

PRICES_MD = """# Fernhill Swim Club — fees 2025

Membership fees for the season.

| Membership | Monthly fee | Joining fee |
|---|---|---|
| Adult | £38 | £20 |
| Family (2 adults, 2 children) | £85 | £30 |
| Senior (65+) | £22 | free |
| Group booking | Ask at reception | Ask at reception |

Joining fee: waived in January.
"""

COVER_HTML = """<html><head><title>Keelhaven Home Policy</title></head><body>
<h2>What you are covered for</h2>
<table><tr><th>Cover</th><th>Limit</th></tr>
<tr><td>Any single item</td><td>£1,500</td></tr>
<tr><td>Garden plants</td><td>£750</td></tr>
<tr><td>Flood damage</td><td>Not included</td></tr>
</table>
<h2>Tours</h2>
<table><tr><th>Room</th><th>Open</th><th>Notes</th></tr>
<tr><td>Bell tower</td><td>10:30–15:00</td><td>Max 6 people, 96 steps</td></tr>
<tr><td>Crypt</td><td>11:00–16:00</td><td>Height 2 m</td></tr>
</table></body></html>"""


def _md() -> str:
    return markdown_text(PRICES_MD)[0]


def _html() -> str:
    return html_text(COVER_HTML)[0]


def _passage(text: str, title: str) -> Passage:
    return Passage("p", f"{title}.md", title, text, 0, len(text), 1.0)


def test_indexed_tables_read_as_rows_with_their_header():
    """Indexing writes a table as " | "-joined lines (indexing/markup.py); their first row is the header when it
    holds no value, and a line without cells ends the table."""
    found = rows(_md())
    assert [r.label for r in found] == ["Adult", "Family (2 adults, 2 children)", "Senior (65+)", "Group booking"]
    assert found[0].header == ("Membership", "Monthly fee", "Joining fee")
    assert found[0].cells == ("Adult", "£38", "£20")
    text = _html()
    html_rows = rows(text)
    assert [r.header[0] for r in html_rows] == ["Cover"] * 3 + ["Room"] * 2
    assert all(text[r.start:r.end].startswith(r.label) for r in html_rows)


@pytest.mark.parametrize(("question", "label"), [
    ("how much is the family membership at fernhill", "Family (2 adults, 2 children)"),  # parentheses aside
    ("what does a senior pay per month at Fernhill Swim Club?", "Senior (65+)"),
    ("is flood damage covered by my Keelhaven policy", "Flood damage"),
    ("how much does swimming cost at Fernhill?", None),  # names no row
])
def test_a_row_is_named_by_every_word_of_its_first_cell(question, label):
    row = named_row(question, _md() + "\n" + _html())
    assert (row.label if row else None) == label


def test_two_rows_named_as_well_as_each_other_name_none():
    text = "Ticket | Price\nAdult day | £9\nAdult week | £30\n"
    assert named_row("how much is an adult ticket", text) is None
    assert named_row("how much is an adult week ticket", text).label == "Adult week"


@pytest.mark.parametrize(("question", "value"), [
    ("how much is the monthly fee for a family at Fernhill", "£85"),
    ("what's the joining fee for an adult at Fernhill", "£20"),  # the column the question names
    ("how much is the adult membership at Fernhill", "£38"),  # none named: the first value of the kind asked
    ("how much is a group booking at Fernhill", ""),  # "Ask at reception" states no price
])
def test_the_named_row_states_the_value_of_the_kind_asked(question, value):
    assert row_value(question, named_row(question, _md()))[0] == value


def test_a_clock_time_or_a_count_is_no_height():
    text = _html()
    assert row_value("how high is the bell tower", named_row("how high is the bell tower", text)) == ("", "")
    assert row_value("how high is the crypt", named_row("how high is the crypt", text))[0] == "Height 2 m"
    assert row_value("when is the bell tower open", named_row("when is the bell tower open", text))[0] == ""
    assert row_value("what time does the bell tower open", named_row("what time does the bell tower open",
                                                                     text))[0] == "10:30–15:00"


def test_a_question_naming_no_kind_takes_the_other_cell_or_the_column_it_names():
    text = "Code | Meaning | What to do\nE7 | Filter blocked | Rinse the filter\n"
    assert row_value("what does E7 mean on my kettle", named_row("what does E7 mean on my kettle", text)) == (
        "Filter blocked", "Meaning")
    assert row_value("is E7 serious", named_row("is E7 serious", text)) == ("", "")  # yes/no: the row decides nothing
    two = "Property | Value\nIngress protection | IP68\n"
    assert row_value("what ingress protection does it have", named_row("what ingress protection does it have",
                                                                       two))[0] == "IP68"


def test_a_value_off_another_row_does_not_answer_the_row_named():
    text = _html()
    q = "how much extra would flood damage cover cost on my Keelhaven policy"
    assert from_another_row(q, text, "The extra would be £1,500.")  # "Any single item"'s limit
    assert from_another_row(q, text, "£750")
    assert not from_another_row(q, text, "The extra would be £2,000.")  # stated on no row: not this check's to judge
    assert not from_another_row("what is the limit for garden plants", text, "The limit is £750.")
    assert not from_another_row("how much does cover cost", text, "£1,500")  # no row named
    gym = ("Membership | Monthly fee | Notes\nStandard | £38/month | Gym floor\nCorporate | Contact us | Minimum 5 "
           "employees\n\n- Freezing: up to 2 months per year for £5/month\n")
    corporate = "how much is the corporate membership per person"
    assert from_another_row(corporate, gym, "The corporate membership is £5.")  # the named row states no price
    assert from_another_row(corporate, gym, "£38")
    assert not from_another_row(corporate, gym, "£12")  # stated nowhere: not this check's to judge


def test_a_line_found_by_meaning_must_speak_of_the_named_row():
    text = _md()
    q = "how much is a group booking at Fernhill"
    assert not says_named_row(q, text, "Joining fee: waived in January.")
    assert says_named_row(q, text, "Group booking | Ask at reception | Ask at reception")
    assert says_named_row("how much does it cost at Fernhill", text, "Joining fee: waived in January.")


def test_the_named_row_is_a_firm_quote_in_a_passage_naming_the_subject():
    text = _md()
    q = "how much is the monthly fee for a family at Fernhill"
    passage = _passage(text, "Fernhill Swim Club — fees 2025")
    got = quote(q, passage, question_terms(q), heading_words(passage))
    assert got is not None and got.row and got.firm
    assert got.value == "£85" and got.shown == "Family (2 adults, 2 children): £85."
    assert got.passage.text.startswith("Family (2 adults, 2 children) | £85")
    other = "how much is the monthly fee for a family at Brackenridge Leisure"
    assert quote(other, passage, question_terms(other), heading_words(passage)) is None  # another club's family
    readings = quoted_readings(q, [passage], [0], load_calibration(), question_terms(q))
    assert readings[0].answers and readings[0].overrides


def test_a_row_is_named_by_a_cell_of_text_other_than_its_first():
    """A ride list keyed by date: "Harvest Loop" names its row from the second cell; a one-word cell ("gravel") or a
    value ("40 miles") names none."""
    text = "Date | Ride | Distance | Surface\nSat 5 Oct | Harvest Loop | 40 miles | gravel\nSun 6 Oct | Coast Run | 25 miles | road\n"
    q = "How far is the Harvest Loop ride?"
    row = named_row(q, text)
    assert row is not None and row.label == "Harvest Loop" and row_value(q, row) == ("40 miles", "Distance")
    assert named_row("which ride is on gravel", text) is None
    assert from_another_row(q, text, "The Harvest Loop is 25 miles.")  # the Coast Run's distance
