"""rag/locate.py: the line that states what a question asks, found by meaning (real MiniLM embeddings)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.evidence import heading_words, question_terms
from rag.locate import asking, candidates, closest_line, locate, remembered, row_value, shown_line, value_kind
from rag.types import Passage

SPEC = ("Blue Harbor Logistics — TideTrack T4 Container Tracker\n\nThe TideTrack T4 is a battery-powered tracker that "
        "clips inside a shipping container.\n\nTechnical data\n\nProperty | Value\nDimensions | 98 × 54 × 21 mm\n"
        "Weight | 62 g\nBattery life | 18 months at one report per hour\nIngress protection | IP67")
FAQ = ("How do I reset my password?\n\nGo to the self-service page and follow the prompts. You will need your staff "
       "badge number. Passwords expire every 120 days, and a new password must be at least 14 characters long.")


def passage(pid: str, text: str, title: str) -> Passage:
    return Passage(pid, f"{pid}.md", title, text, 0, len(text), 1.0)


def found(question: str, *passages: Passage, threshold: float = 0.5):
    from indexing.embed import Embedder

    return locate(question, passages, Embedder.shared("minilm-l6").embed, question_terms(question),
                  [heading_words(p) for p in passages], threshold)


def test_value_kind_reads_how_and_when_anywhere_in_the_question():
    assert value_kind("How much does the TideTrack T4 weigh?") == "number"
    assert value_kind("For how long at most can I book the microscope?") == "number"
    assert value_kind("How often do I have to change my password?") == "number"
    assert value_kind("If I order today, when will it arrive?") == "date"
    assert value_kind("Who leads Project Selstead?") == "person"
    assert value_kind("What ingress protection rating does the tracker have?") is None


def test_rows_give_their_last_cell_and_read_as_key_value():
    assert row_value("Weight | 62 g") == "62 g"
    assert row_value("| B216 | −80 °C freezers |") == "−80 °C freezers"  # no question: the last cell
    assert row_value("| B216 | −80 °C freezers |", {"room", "freezers"}) == "B216"  # the cell the question lacks
    assert row_value("Weight | 62 g", {"weigh"}) == "62 g"
    assert row_value("• **Adults:** €8") == "€8"
    assert row_value("The TideTrack T4 is a tracker.") == ""
    assert row_value("The coach leaves school at 1:30pm and returns by 3:00pm.") == ""  # a time's colon is no key's
    assert row_value("Return: approximately 3:15pm") == "approximately 3:15pm"
    assert shown_line("| Weight | 62 g |") == "Weight: 62 g"
    assert shown_line("• **Lumora CX-900:** maximum booking of 4 hours") == "Lumora CX-900: maximum booking of 4 hours"


def test_the_subject_may_come_from_the_heading_but_must_be_somewhere():
    q = "How much does the TideTrack T4 weigh?"
    spec = passage("spec", SPEC, "Blue Harbor Logistics — TideTrack T4 Container Tracker")
    lines = [spec.text[s:e] for (s, e), _ in candidates(q, spec, question_terms(q), heading_words(spec))]
    assert "Weight | 62 g" in lines and "Dimensions | 98 × 54 × 21 mm" in lines  # numbers about the T4
    other = passage("other", SPEC.replace("TideTrack T4", "WaveLog W2"), "WaveLog W2 sheet")
    assert candidates(q, other, question_terms(q), heading_words(other)) == []  # another product's sheet


def test_the_line_closest_in_meaning_answers():
    spec = passage("spec", SPEC, "Blue Harbor Logistics — TideTrack T4 Container Tracker")
    faq = passage("faq", FAQ, "Quorvane Systems IT — Frequently Asked Questions")
    weight = found("How much does the TideTrack T4 weigh?", spec, faq)
    assert weight is not None and weight.passage.text == "Weight | 62 g" and weight.value == "62 g"
    assert SPEC[weight.passage.start:weight.passage.end] == "Weight | 62 g"  # exact offsets
    often = found("How often do I have to change my Quorvane password?", spec, faq)
    assert often is not None and "120 days" in often.passage.text


def test_nothing_close_enough_is_no_answer():
    spec = passage("spec", SPEC, "Blue Harbor Logistics — TideTrack T4 Container Tracker")
    # lines with numbers about the T4 exist, but none says when it was founded or how many staff it has
    assert found("In what year was the TideTrack T4 first sold?", spec) is None
    assert found("How many employees built the TideTrack T4?", spec) is None


def test_what_is_compared_leaves_the_subject_out():
    q = "What is the best-known product of Bredale Labs?"
    assert asking(q, question_terms(q)) == "What is the best-known product of ?"


def test_a_line_without_the_unit_asked_for_is_no_candidate():
    spec = passage("spec", SPEC, "Blue Harbor Logistics — TideTrack T4 Container Tracker")
    q = "How much does the TideTrack T4 cost?"  # numbers about the T4 abound, but none is a price
    assert candidates(q, spec, question_terms(q), heading_words(spec)) == []
    priced = passage("priced", SPEC + "\nPrice | £49", "TideTrack T4 sheet")
    lines = [priced.text[s:e] for (s, e), _ in candidates(q, priced, question_terms(q), heading_words(priced))]
    assert lines == ["Price | £49"]


def test_the_closest_line_says_whether_a_passage_speaks_of_what_is_asked():
    from indexing.embed import Embedder

    permit = passage("permit", "Guest parking.\nA guest permit expires after 72 hours and only one permit per flat "
                     "can be active at a time.", "Harbour View residents' guide")
    quiz = passage("quiz", "Round 1.\nThe largest planet in our solar system is Saturn.\nRound 2.", "Quiz sheet")
    embed = Embedder.shared("minilm-l6").embed
    assert all(sim < 0.4 for sim in closest_line("How many hours are there in one day?", [permit, quiz], embed))
    permit_sim, quiz_sim = closest_line("Which planet is the largest in our solar system?", [permit, quiz], embed)
    assert permit_sim < 0.4 and quiz_sim > 0.8


def test_a_line_is_also_read_under_its_documents_title_which_lifts_it_a_little():
    """A letter's lines leave its trip to the title: read under it they come closer to the question, by
    `TITLE_LIFT` at most, so a fee guide's payment terms do not come to speak of a root canal's price."""
    from indexing.embed import Embedder
    from rag.locate import TITLE_LIFT

    embed = Embedder.shared("minilm-l6").embed
    q = "when's the school science museum trip happening"
    text = "Dear Parents and Carers,\nYear 4 will visit the museum.\nDate: Friday 14 March 2025"
    titled, untitled = passage("letter", text, "School trip to the Pemberly Science Museum"), passage("letter", text, "")
    titled_sim, untitled_sim = closest_line(q, [titled, untitled], embed)
    assert untitled_sim < titled_sim <= untitled_sim + TITLE_LIFT + 1e-6
    payment = "We accept card and cash.\nPayment is due on the day of treatment.\nPlease give 24 hours' notice."
    guide = passage("guide", payment, "Brightsmile Dental Studio — Private Fee Guide 2024 › Payment and appointments")
    bare = passage("guide", payment, "")
    q = "how much is a root canal at brightsmile"
    with_title, without = closest_line(q, [guide, bare], embed)
    assert with_title <= without + TITLE_LIFT + 1e-6 and with_title < 0.5


def test_a_value_set_apart_is_read_with_the_line_leading_into_it():
    q = "when's the school trip happening"
    email = passage("email", "We are sorry about the coaches.\n\nThe Year 4 trip to the museum will now take place "
                    "on:\n\n    FRIDAY 21 MARCH 2025\n\nAll other arrangements are unchanged.", "Change of date")
    lines = [email.text[s:e] for (s, e), _ in candidates(q, email, question_terms(q), heading_words(email))]
    assert any(line.startswith("The Year 4 trip") and line.endswith("FRIDAY 21 MARCH 2025") for line in lines)
    located = found(q, email, threshold=0.45)
    assert located is not None and "21 MARCH" in located.value


def test_an_answer_in_a_question_and_answer_list_is_read_with_its_question():
    q = "how long does the kettlewave stay warm for?"
    faq = passage("faq", "Kettlewave K2 — questions and answers\n\nQ: How long does the kettle take to boil?\nA: About "
                  "4 minutes for a full litre.\n\nQ: How long does it keep water warm?\nA: Press 'Keep Warm' and the "
                  "water stays hot for up to 30 minutes.\n\nQ: How long is the warranty?\nA: Two years from purchase.",
                  "Kettlewave K2 — questions and answers")
    located = found(q, faq, threshold=0.45)
    assert located is not None and "30 minutes" in located.value
    assert located.passage.text.startswith("Q: How long does it keep water warm?")  # cited with its question
    assert shown_line(located.passage.text) == "Press 'Keep Warm' and the water stays hot for up to 30 minutes."


def test_remembered_embeds_each_distinct_text_once(embedder):
    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        return embedder.embed(texts)

    once = remembered(embed)
    first = once(["Water boils at 100 °C.", "The pool opens at 7.", "Water boils at 100 °C."])
    again = once(["The pool opens at 7.", "Parking is free."])
    assert calls == [["Water boils at 100 °C.", "The pool opens at 7."], ["Parking is free."]]
    assert first.shape[0] == 3 and np.allclose(first[0], first[2]) and np.allclose(again[0], first[1])
    assert np.allclose(again[1], embedder.embed(["Parking is free."])[0], atol=1e-5)


LETTER = ("St Aldric's Primary School\n\nDear Parents and Carers,\n\nYEAR 4 TRIP TO THE PEMBERLY SCIENCE CENTRE\n\n"
          "Year 4 will be visiting the Pemberly Science Centre.\n\nTrip details\n------------\n"
          "Date:     Friday 14 March 2025\nReturn to school:  approximately 3:30pm\n")
REST = "Return to school:  approximately 3:30pm\nCost:     £18.50 per child (covers coach and entry)\n"


def test_a_line_leaves_its_subject_to_the_headings_above_it_even_in_the_chunk_before():
    """"Cost: £18.50 per child" names neither Year 4 nor the trip: its section's heading does, and here that heading
    ended the chunk found just before this one (the indexer cut the letter there)."""
    q = "How much do we have to pay for the Year 4 science centre trip for each child?"
    first = Passage("a", "letter.txt", "St Aldric's Primary School", LETTER, 0, len(LETTER), 1.0)
    start = len(LETTER) - len("Return to school:  approximately 3:30pm\n")
    rest = Passage("b", "letter.txt", "St Aldric's Primary School", REST, start, start + len(REST), 1.0)
    alone = found(q, rest, threshold=0.3)
    assert alone is None  # nothing in the chunk says whose cost it is
    both = found(q, rest, first, threshold=0.3)
    assert both is not None and "£18.50" in both.value and both.passage.id == "b"
    other = Passage("c", "other.txt", "St Aldric's Primary School", REST, start, start + len(REST), 1.0)
    assert found(q, other, first, threshold=0.3) is None  # a chunk of another document is no heading of this one
    # a number inside a description ("my 11-year-old") is no subject to look for
    fees = passage("fees", "Hollowbrook FC fees\n\nJunior (U8–U16) | £95\nAdult | £180", "Hollowbrook FC")
    asked = "What will it cost to sign my 11-year-old up as a junior at Hollowbrook FC next season?"
    assert found(asked, fees, threshold=0.3) is not None


def test_a_row_keyed_by_the_code_asked_about_answers_below_the_threshold():
    """"E4 | Wi-Fi pairing failed | ..." is the manual's entry for E4: it answers "showing E4, what does that mean?"
    though its words compare less closely in meaning than other rows that merely mention E4."""
    from rag.locate import keyed_by

    table = ("7.1 Error codes\nError codes appear on the small display on the handle.\nCode | Meaning | What to do\n"
             "E1 | Kettle boiled dry | Let it cool for 15 minutes, then refill.\n"
             "E4 | Wi-Fi pairing failed | Hold the Keep Warm button for 5 seconds, then add the kettle again.\n"
             "App says \"Kettle offline\" | Router changed or too far away | Re-pair (see E4).")
    manual = passage("k", table, "Kettlewave K2 User Manual — Troubleshooting")
    q = "My Kettlewave kettle is showing E4 on the handle. What does that mean?"
    assert keyed_by("E4 | Wi-Fi pairing failed | Hold the button", {"e4", "kettlewave"})
    assert not keyed_by('App says "Kettle offline" | Router changed | see E4', {"e4", "kettlewave"})
    assert not keyed_by("The E4 light means pairing failed.", {"e4"})
    got = found(q, manual, threshold=0.45)
    assert got is not None and got.passage.text.startswith("E4 |") and got.value.startswith("Wi-Fi pairing failed")
    assert found("My Kettlewave kettle is showing E7 on the handle. What does that mean?", manual,
                 threshold=0.45) is None
    # a list of codes, compared with the question that says the code (without it, nothing is close in meaning)
    codes = passage("t", "Display error codes\n\n- E03: speed sensor error. Check the spoke magnet.\n"
                    "- E07: battery overheat. Stop riding and let the battery cool for at least 30 minutes.",
                    "Kalvani Cycles Tarn 7 — Owner's Manual")
    got = found("My Kalvani Tarn 7 display shows E07 - what does that mean?", codes, threshold=0.45)
    assert got is not None and got.value.startswith("battery overheat")
    # a row keyed by a name is not: the name alone makes it close to any question about it
    entry = passage("d", "Ravgate Textiles: a textile mill. Member of the valley business association.",
                    "Ravgate Textiles")
    assert found("What is the staff wifi password at Ravgate Textiles?", entry, threshold=0.45) is None


def test_a_line_saying_every_word_of_the_question_answers_below_the_threshold():
    """"Last month (February) we gave out 312 food parcels" says what "how many food parcels did Greenfold give out
    in February" asks in its own words (gave ~ give); the same line does not answer for April."""
    from rag.locate import says_every_word

    line = "- Last month (February) we gave out 312 food parcels, up from 274 in January."
    assert says_every_word(line, ["food", "parcels", "give", "out", "february"])
    assert not says_every_word(line, ["food", "parcels", "give", "out", "april"])
    assert not says_every_word(line, ["parcels"])  # one word says too little
    rota = passage("r", "Greenfold Food Bank\n\nNotes\n" + line + "\n- Thursday is now so busy that we need 4 people.",
                   "Greenfold Food Bank — volunteer rota")
    got = found("How many food parcels did Greenfold give out in February?", rota, threshold=0.45)
    assert got is not None and "312" in got.value
    assert found("How many food parcels did Greenfold give out in April?", rota, threshold=0.45) is None


def test_a_programme_row_names_who_gives_the_talk_it_lists():
    """"Who is giving the opening keynote?": the row says "Opening keynote" without the light verb, and names its
    speaker after a title of address; the row's silent cell, a room, is no person."""
    from rag.locate import says_every_word

    programme = passage("p", "Day 1\n\nTime | Session | Room\n09:30 | Opening keynote: \"Cities as Datasets\" — Prof. "
                        "Miriam Soltaire | Auditorium A\n12:30 | Lunch | Atrium\n\nDay 2\n\nTime | Session | Room\n"
                        "09:30 | Keynote: \"Sensors\" — Dr Ravi Anand | Auditorium A", "OrbisConf 2026 programme")
    row = "09:30 | Opening keynote: \"Cities as Datasets\" — Prof. Miriam Soltaire | Auditorium A"
    assert says_every_word(row, ["giving", "opening", "keynote"])
    assert not says_every_word(row, ["giving", "keynote"])  # one word beside the light verb says too little
    got = found("Who is giving the opening keynote at OrbisConf 2026?", programme, threshold=0.45)
    assert got is not None and got.value == "Prof. Miriam Soltaire", got


REPORT = ("MATCH REPORT — COUNTY CUP FINAL\nBrackwater Town 2-1 Pellow Rovers\nSaturday 3 May 2025, Fenwick Park. "
          "Attendance: 2,614. Referee: Alan Thwaite.\n\nBrackwater Town lifted the County Cup on a bright afternoon.\n\n"
          "Pellow's captain Jed Morrow hit the post after 12 minutes.\n\n"
          "The winning goal was scored by Tomas Revell in the 88th minute.")


def test_a_document_s_header_names_the_subject_of_its_lines():
    """"The winning goal was scored by Tomas Revell" leaves the club, the cup and the year to the report's header;
    a located name is the name, not its line."""
    q = "Who scored Brackwater Town's winning goal in the 2025 County Cup final?"
    report = passage("report", REPORT, "MATCH REPORT — COUNTY CUP FINAL")
    values = {report.text[s:e]: v for (s, e), v in candidates(q, report, question_terms(q), heading_words(report))}
    assert values["The winning goal was scored by Tomas Revell in the 88th minute."] == "Tomas Revell"
    later = replace(report, start=500)  # a chunk from the middle of a document has no header of its own
    lines = [later.text[s:e] for (s, e), _ in candidates(q, later, question_terms(q), heading_words(later))]
    assert "The winning goal was scored by Tomas Revell in the 88th minute." not in lines


def test_a_later_chunk_leaves_its_subject_to_its_document_s_opening_lines():
    """A page converted from HTML has no blank line under its title: its first two short lines name the policy whose
    excess table a later chunk holds. Without them (or with a long first line of prose) the row is no candidate."""
    q = "Policy HLC-2093341 - what voluntary excess did I choose?"
    table = ("Excesses\nThe excess is the amount you pay towards each claim.\nExcess | Amount\nCompulsory excess | £100\n"
             "Voluntary excess (chosen by you) | £250\n")
    head = ("Home Contents Insurance — Policy Summary\nHarbourline Insurance · Policy number: HLC-2093341\n"
            "Your details\n• Policyholder: Amira Castell\n")
    later = replace(passage("policy", table, "Policy Summary"), start=640, head=head)
    values = [v for _, v in candidates(q, later, question_terms(q), heading_words(later))]
    assert "£250" in values  # a candidate row (`locate` ranks the rows by meaning)
    prose = ("This summary explains your cover in plain words, which is what our customers asked us for in 2023, "
             "and lists policy HLC-2093341 below.\nYour details\n")
    for other in ("", prose):
        alone = replace(later, head=other)
        assert candidates(q, alone, question_terms(q), heading_words(alone)) == []


def test_how_much_of_a_named_thing_is_read_off_a_line_saying_it():
    """"how much cream goes in the parsnip soup?": the recipe's "500 g parsnips" line is closest in meaning (it says
    parsnip) but measures parsnips; the line naming the cream answers (a new user had got "500 g parsnips")."""
    recipe = passage("soup", "Ingredients\n- 500 g parsnips, peeled and chopped\n- 1 litre vegetable stock\n"
                             "- 150 ml single cream\n", "Granny Ivy's Parsnip and Apple Soup")
    q = "how much cream goes in the parsnip soup?"
    lines = [recipe.text[s:e] for (s, e), _ in candidates(q, recipe, question_terms(q), heading_words(recipe))]
    assert lines and all("cream" in line for line in lines)


def test_a_row_keyed_by_what_is_asked_answers_when_no_line_is_close_enough():
    q = "who refereed Brackwater Town's County Cup final"
    located = found(q, passage("report", REPORT, "MATCH REPORT — COUNTY CUP FINAL"), threshold=0.45)
    assert located is not None and located.value.startswith("Alan Thwaite")


def test_what_date_is_answered_by_a_day_not_a_year():
    q = "what date do we sit the Physical Chemistry II final"
    syllabus = passage("s", "University of Hollinsford, School of Chemistry — Autumn term 2025\n\nPhysical "
                       "Chemistry II\n\nFinal exam: Thursday 11 December 2025, 09:30.", "Physical Chemistry II")
    lines = [syllabus.text[s:e] for (s, e), _ in candidates(q, syllabus, question_terms(q), heading_words(syllabus))]
    assert lines == ["Final exam: Thursday 11 December 2025, 09:30."]
