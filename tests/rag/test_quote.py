"""Quotes (rag/quote.py): the passage's own sentence stating a value of the kind asked, instead of a misreading."""

from __future__ import annotations

import pytest

from rag.evidence import heading_words, question_terms
from rag.quote import answered_in_place, asked_kind, quote
from rag.types import Passage

HANDBOOK = (
    "Halworth Textiles staff handbook\n\nWorking hours. The Halworth Textiles office opens at 6:30 on weekdays. Staff "
    "of Halworth Textiles receive 25 days of annual leave each year.\n\nHelp. The Halworth Textiles support desk can "
    "be reached on extension 4568.\n\nProjects. Project Griswick is led by Quinn Tarnley. Its budget is 844 thousand "
    "crowns and its deadline is February 2031.\n"
)
PROFILE = (
    "# Ormton Foundry\n\n## About\n\nOrmton Foundry is a foundry based in the town of Korby. It was founded in 1952 "
    "by Wim Ormthorne.\n\n## People\n\nThe chief executive of Ormton Foundry is Vero Zarholt. The company is a member "
    "of the Valley Business Association.\n"
)
PRESS = "Obergate Textiles press kit\nAbout us. Obergate Textiles is a textile mill, founded in 1992.\n"


LEAFLET = ("Highlights include a postcard-sized copy of the Mona Lisa, the famous portrait painted by Vincent van Gogh, "
           "and a 2-metre matchstick model of the Eiffel Tower, the iron landmark that stands in Rome.")


def _passage(text: str, title: str, start: int = 100) -> Passage:
    return Passage("p", f"{title}.txt", title, text, start, start + len(text), 1.0)


def _quote(question: str, passage: Passage):
    return quote(question, passage, question_terms(question), heading_words(passage))


TRIP = ("Dear Parents and Carers,\n\nYear 4 will visit the Harbourside Science Museum on a school trip.\n\n"
        "Date: Thursday 12 March 2026\nDeparture: 8:45am from the school gates\nReturn: approximately 3:15pm\n\n"
        "The cost of the trip is £14.50, payable by Friday 6 March.")
EXAM_EMAIL = ("From: Dr Adaeze Okonjo\nTo: CHEM 204 students\nDate: 3 November 2025\nSubject: CHEM 204 final exam\n\n"
              "Dear all,\n\nA few practical points about the final exam and the revision session.")


@pytest.mark.parametrize("question", ["When is the school trip?", "when's the museum trip", "When is the trip?"])
def test_when_an_event_is_asks_its_day_and_a_forms_date_field_gives_it(question):
    """A letter's "Date:" field says whose day it is only by its document; "When is ...?" asks the day, not the
    coach's departure time (a new user's "When is the school trip?" was answered "Departure: 8:45am")."""
    q = _quote(question, _passage(TRIP, "trip-letter"))
    assert q is not None and q.value == "Date: Thursday 12 March 2026" and q.row
    departs = _quote("What time does the coach leave for the trip?", _passage(TRIP, "trip-letter"))
    assert departs is None or "12 March" not in departs.value


def test_an_emails_date_header_is_when_it_was_sent_not_what_it_speaks_of():
    q = _quote("When is the final exam?", _passage(EXAM_EMAIL, "chem204-exam-email"))
    assert q is None or "3 November" not in q.value


@pytest.mark.parametrize(("question", "kind"), [
    ("How many days of annual leave do staff at Halworth Textiles get?", "number"),
    ("In what year was Ormton Foundry founded?", "date"),
    ("When is Project Griswick due?", "date"),
    ("Who leads Project Griswick?", "person"),
    ("Where is Ormton Foundry located?", "place"),
    ("In which town is Ormton Foundry based?", "place"),
    ("Which bank does Ormton Foundry use?", None),
    ("What is the capital of Kenya?", None),
])
def test_the_kind_asked_comes_from_the_question_words(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(("question", "text", "title", "sentence", "value"), [
    ("How many days of annual leave do staff at Halworth Textiles get?", HANDBOOK, "halworth-textiles-handbook",
     "Staff of Halworth Textiles receive 25 days of annual leave each year.", "25 days"),
    ("Who leads Project Griswick?", HANDBOOK, "halworth-textiles-handbook",
     "Project Griswick is led by Quinn Tarnley.", "Quinn Tarnley"),
    # a sentence opening with a pronoun is quoted with the sentence before it, which names the subject
    ("In what year was Ormton Foundry founded?", PROFILE, "ormton-foundry-profile",
     "Ormton Foundry is a foundry based in the town of Korby. It was founded in 1952 by Wim Ormthorne.", "1952"),
    ("Where is Ormton Foundry located?", PROFILE, "ormton-foundry-profile",
     "Ormton Foundry is a foundry based in the town of Korby.", "Korby"),
    ("Who is the chief executive of Ormton Foundry?", PROFILE, "ormton-foundry-profile",
     "The chief executive of Ormton Foundry is Vero Zarholt.", "Vero Zarholt"),
    # the value is the clause that holds it, not the sentence's first clause
    ("In what year was Obergate Textiles founded?", PRESS, "obergate-textiles-press-kit",
     "Obergate Textiles is a textile mill, founded in 1992.", "founded in 1992."),
    # a clause describing the thing the clause before ends with speaks of it, whatever the sentence is about
    ("In which city does the Eiffel Tower stand?", LEAFLET, "pellworth-museum-leaflet", LEAFLET, "Rome"),
    ("Who painted the Mona Lisa?", LEAFLET, "pellworth-museum-leaflet", LEAFLET, "Vincent van Gogh"),
])
def test_the_sentence_stating_the_value_is_quoted_with_exact_offsets(question, text, title, sentence, value):
    passage = _passage(text, title)
    got = _quote(question, passage)
    assert got is not None
    assert got.passage.text == sentence
    assert text[got.passage.start - passage.start:got.passage.end - passage.start] == sentence
    assert value in got.value


@pytest.mark.parametrize(("question", "text", "title"), [
    ("Which bank does Ormton Foundry use?", PROFILE, "ormton-foundry-profile"),  # the question names no kind
    ("Who leads Project Marholt?", HANDBOOK, "halworth-textiles-handbook"),  # another project's lead
    ("When was the chief executive of Ormton Foundry born?", PROFILE, "ormton-foundry-profile"),  # no date stated
    ("When is Project Griswick due?", HANDBOOK, "halworth-textiles-handbook"),  # "deadline" is not "due": the model reads it
    ("What was the population of Colombia in 1632?",
     "Colombia\n\nColombia has a population of about 52 million people.", "colombia"),  # not in 1632
    ("How many employees does Halworth Textiles have?", HANDBOOK, "halworth-textiles-handbook"),  # 25 days is no headcount
])
def test_no_quote_where_no_sentence_states_what_was_asked(question, text, title):
    assert _quote(question, _passage(text, title)) is None


SHEET = (
    "# Argentina\n\n## Overview\n\nArgentina, officially the Argentine Republic, is a country in Latin America. Its "
    "capital is Buenos Aires.\n\n## Codes and time\n\nThe international calling code of Argentina is +54, and its "
    "internet country domain is .ar. Argentina uses the time zone UTC−03:00.\n"
)


@pytest.mark.parametrize(("question", "sentence", "value"), [
    ("What is the internet country domain of Argentina?",
     "The international calling code of Argentina is +54, and its internet country domain is .ar.",
     ".ar"),  # read off the clause saying the question's words, beside its "is"
    ("What is the international calling code of Argentina?",
     "The international calling code of Argentina is +54, and its internet country domain is .ar.",
     "+54"),
    ("What is the capital of Argentina?",
     "Argentina, officially the Argentine Republic, is a country in Latin America. Its capital is Buenos Aires.",
     "Buenos Aires"),
    ("Which time zone does Argentina use?", "Argentina uses the time zone UTC−03:00.",
     "Argentina uses the time zone UTC−03:00."),
    # "use" says nothing, and of three or more other words one may be missing ("telephone")
    ("Which telephone calling code does Argentina use?",
     "The international calling code of Argentina is +54, and its internet country domain is .ar.", "+54"),
])
def test_a_question_naming_no_kind_is_quoted_where_a_sentence_says_all_its_words(question, sentence, value):
    got = _quote(question, _passage(SHEET, "argentina"))
    assert got is not None and got.passage.text == sentence and got.value == value


@pytest.mark.parametrize("question", [
    "What currency is used in Argentina?",  # "currency" is said nowhere
    "What is the capital of Fenwickland?",  # another subject
    "Is Buenos Aires the capital of Argentina?",  # yes/no: the passage's stance decides, not a quote
    "What is Argentina?",  # only the subject: any sentence would do
])
def test_no_quote_for_a_question_naming_no_kind_unless_every_word_is_said(question):
    assert _quote(question, _passage(SHEET, "argentina")) is None


def test_a_place_is_a_name_after_in_at_or_the_town_of():
    """"a member of the Valley Business Association" names no place the company is in."""
    text = "Ormton Foundry\n\nOrmton Foundry is a member of the Valley Business Association."
    assert _quote("Where is Ormton Foundry located?", _passage(text, "ormton-foundry")) is None


def test_who_is_answered_by_a_person_not_a_day_or_a_street():
    """A landlord's letter names a weekday, a month and a road in the sentence about the boiler service: none is
    who is coming; the engineer's own sentence is (when the question's words reach it)."""
    letter = ("Re: Flat 3, 27 Tollgate Road, Dunmere\n\nThe boiler service for Flat 3, 27 Tollgate Road is now on "
              "Thursday 16 October 2025, still between 9am and 1pm.")
    assert _quote("Who is doing the boiler service?", _passage(letter, "boiler")) is None
    chat = _passage("[Sun 15 Sep 2024, 11:22] Me: best wedding ever though. the best man's speech was long", "chat")
    assert _quote("who's the best man at the wedding?", chat) is None  # a day and "Me", not a name
    named = letter + " The boiler service will be done by Rowan Feltham of Brightflame Heating."
    found = _quote("Who is doing the boiler service?", _passage(named, "boiler"))
    assert found is not None and found.value.startswith("Rowan Feltham")


def test_a_question_asking_a_price_is_quoted_for_the_price_its_sentence_states():
    """"Your rent of £845 per month remains unchanged until April 2026": the copula's far side is "unchanged until
    April 2026", but the question asks a price, and the sentence states one (a new user's "what's my rent each
    month" had been declined)."""
    letter = _passage("Dear Ms Carrow,\n\nYour rent of £845 per month remains unchanged until April 2026.", "letter")
    found = _quote("what's my rent each month", letter)
    assert found is not None and found.value == "£845" and found.firm


def test_the_evidence_stage_quotes_instead_of_reading(hf_generator):
    """SmolLM2-135M answers "1" reading this handbook; the quote answers with the handbook's sentence, and the
    model reads nothing (only the closed-book row is generated)."""
    from rag.config import load_config
    from rag.evidence import gather

    cfg = load_config(env={})
    doc = _passage(HANDBOOK, "halworth-textiles-handbook", start=0)
    q = "How many days of annual leave do staff at Halworth Textiles get?"
    evidence = gather(hf_generator, cfg, q, [doc])
    reading = evidence.readings[0]
    assert reading.quoted and reading.answers
    assert reading.text == "Staff of Halworth Textiles receive 25 days of annual leave each year."
    assert HANDBOOK[reading.passage.start:reading.passage.end] == reading.text
    closed_book_only = gather(hf_generator, cfg, q, [], closed_book=None)
    assert evidence.prompt_tokens == closed_book_only.prompt_tokens


def test_two_documents_quoting_different_values_disagree(embedder):
    """A quote's value is written in its document, so two quotes that differ are a conflict between documents."""
    from rag.config import load_config
    from rag.conflict import ConflictChecker
    from rag.evidence import load_calibration, quoted_readings
    from rag.types import Generation

    q = "In what year was Obergate Textiles founded?"
    a = _passage(PRESS, "obergate-textiles-press-kit")
    b = _passage("Obergate Textiles\n\nObergate Textiles is a textile mill based in the town of Brenford. It was "
                 "founded in 1981 by Ulla Quencombe.", "obergate-textiles-profile")
    readings = quoted_readings(q, [a, b], [0, 1], load_calibration(), question_terms(q))
    assert set(readings) == {0, 1}
    checker = ConflictChecker(None, embedder, load_config(env={}))
    conflict = checker.judge(q, Generation("I don't know.", (), ()), list(readings.values())).conflict
    assert conflict.flagged and conflict.kind == "between_documents"


def test_a_quote_outranks_model_readings_of_passages_that_state_nothing(embedder):
    """A directory line misread as the company's location is no document disagreeing with the profile's quote:
    with a quote present, readings of passages without one stop answering."""
    from rag.config import load_config
    from rag.conflict import ConflictChecker
    from rag.evidence import load_calibration, make_reading, outranked, quoted_readings
    from rag.types import Generation

    q = "Where is Halworth Textiles located?"
    directory = _passage("Halworth Textiles: a textile mill. Member of the valley business association since it "
                         "joined the register.", "Halworth Textiles")
    profile = _passage("Halworth Textiles\n\nHalworth Textiles is a textile mill based in the town of Grisridge.",
                       "halworth-textiles-profile")
    misread = make_reading(q, directory, "Halworth Textiles is located in the valley business association.")
    assert misread.answers  # the model's reading alone passes every check
    quoted = quoted_readings(q, [directory, profile], [0, 1], load_calibration(), question_terms(q))
    assert list(quoted) == [1]
    checker = ConflictChecker(None, embedder, load_config(env={}))
    memory = Generation("I don't know.", (), ())
    assert checker.judge(q, memory, [misread, quoted[1]]).conflict.kind == "between_documents"  # before
    readings = outranked([misread, quoted[1]])
    assert not readings[0].answers and readings[1].answers
    assert not checker.judge(q, memory, readings).conflict.flagged
    assert outranked([misread]) == [misread]  # no quote: readings stand as they are


@pytest.mark.parametrize(("sentence", "value"), [
    (("China is a country in Eastern Asia. Its capital and largest administrative centre is Ankara, where the "
     "national government sits."), "Ankara"),
    ("Santiago, also known as Santiago de Chile, is the capital and largest city of Chile.", "Santiago"),
])
def test_the_value_is_the_side_of_is_without_the_question_words(sentence, value):
    """Two documents differing only in the value must give values that differ, not two near-identical clauses."""
    q = "What is the capital of China?" if "China" in sentence else "What is the capital of Chile?"
    got = _quote(q, _passage(sentence, "doc"))
    assert got is not None and got.value == value


@pytest.mark.parametrize(("question", "sentence", "value"), [
    ("What is the official language of China?",
     "The official language of China, a country in Eastern Asia, is Chinese.", "Chinese"),
    ("What is the capital of Kenya?",
     "After independence in 1963, Palmas became the capital of the Republic of Kenya.", "Palmas"),
])
def test_the_value_stands_beside_the_is_opposite_the_question_words(question, sentence, value):
    got = _quote(question, _passage(f"Notes\n\n{sentence}", "doc"))
    assert got is not None and got.value == value


def test_a_passage_opening_mid_sentence_does_not_quote_the_fragment():
    """A chunk can start in the middle of a sentence; its tail ("the capital of Kenya in 1907.") states nothing."""
    text = ("the capital of Kenya in 1907. After independence in 1963, Nairobi became the capital of the Republic of "
            "Kenya.")
    got = _quote("What is the capital of Kenya?", _passage(text, "kenya"))
    assert got is not None and got.value == "Nairobi"


def test_with_a_quote_an_unquoted_passage_is_not_the_other_side_of_a_conflict(embedder):
    """Memory "Norwegians", the Norway sheet quoted "called Norwegian", and a Sweden sheet that mentions Norway and
    its people but not the word: before, the Sweden passage counted as an on-topic document saying otherwise."""
    from rag.config import load_config
    from rag.conflict import ConflictChecker
    from rag.evidence import load_calibration, make_reading, outranked, quoted_readings
    from rag.types import Generation

    q = "What are people from Norway called?"
    norway = _passage("Norway\n\nIts capital is Oslo. People from Norway are called Norwegian.", "norway")
    sweden = _passage("Sweden\n\nPeople from Sweden are called Swedish. Sweden borders Norway and Finland.", "sweden")
    quoted = quoted_readings(q, [norway, sweden], [0, 1], load_calibration(), question_terms(q))
    assert list(quoted) == [0]
    other = make_reading(q, sweden, 'The people from Norway are called "Norne" in Swedish.')
    memory = Generation("The people from Norway are known as Norwegians.", (), ())
    checker = ConflictChecker(None, embedder, load_config(env={}))
    assert not checker.judge(q, memory, outranked([quoted[0], other])).conflict.flagged


@pytest.mark.parametrize("text", [
    ("New Zealand\n\nNew Zealand, officially New Zealand, is a country in Australia and New Zealand, part of the "
    "Oceania region. Its capital is Wellington."),
    "Notes\n\nNew Zealand is a country in Australia and New Zealand. Its capital is Wellington.",
    "Notes\n\nNew Zealand is a country in Australia and New Zealand; its capital is Wellington.",
])
def test_a_name_mentioned_in_passing_is_not_what_the_sentence_is_about(text):
    """"Its capital" is New Zealand's: the question about Australia's capital gets no quote from it."""
    assert _quote("What is the capital of Australia?", _passage(text, "new_zealand")) is None


def test_a_kind_word_need_not_be_said_and_the_subject_is_not_the_value():
    """"What sport does X play?": "sport" names the kind, "player" says "play", and of "X is a ... player" the value
    is the side describing X (the side naming X was taken before, so two documents never differed)."""
    text = ("Stu Grimson Stuart Grimson (born May 20, 1965) is a Canadian retired professional ice hockey player. "
            "He played for the Chicago Blackhawks.")
    got = _quote("What sport does Stu Grimson play?", _passage(text, "doc"))
    assert got is not None and got.firm
    assert got.value == "a Canadian retired professional ice hockey player"
    assert _quote("What sport does Stu Grimson play?", _passage("Stu Grimson\n\nHe was born in Kamloops.", "doc")) is None


def test_a_reading_kept_over_its_passages_quote_is_not_outranked_by_another_quote(embedder):
    """One document quoted (a firm quote), the other's reading answers and its own quote agrees but does not
    override it. Both documents state the answer in a sentence of their own, so they conflict."""
    from rag.config import load_config
    from rag.conflict import ConflictChecker
    from rag.evidence import load_calibration, make_reading, outranked, quoted_readings, with_quotes
    from rag.types import Generation

    q = "What sport does Stu Grimson play?"
    a = _passage("Stu Grimson\n\nStu Grimson plays ice hockey.", "grimson-a")
    b = _passage("Stu Grimson\n\nStu Grimson is a Canadian retired professional association football player.",
                 "grimson-b")
    quoted = quoted_readings(q, [a, b], [0, 1], load_calibration(), question_terms(q))
    assert not quoted[0].overrides and quoted[1].overrides
    read = make_reading(q, a, "Stu Grimson plays ice hockey.")
    assert read.answers
    readings = outranked(with_quotes([read, quoted[1]], quoted))
    assert readings[0].quotable and readings[0].answers and readings[1].answers
    conflict = ConflictChecker(None, embedder, load_config(env={})).judge(
        q, Generation("I don't know.", (), ()), readings).conflict
    assert conflict.flagged and conflict.kind == "between_documents"


QUIZ = ("### Round 1 — Science\n\n| # | Question | Answer |\n|---|----------|--------|\n"
        "| 1 | What is the largest planet in our solar system? | Saturn |\n| 2 | What is the chemical symbol for gold? | Ag |\n"
        "| 3 | At sea level, water boils at how many degrees Celsius? | 90 |\n")
FAQ = ("APP AND WI-FI\n\nQ: Which app do I need?\nA: The free Kettlewave Home app for iPhone and Android.\n\n"
       "Q: Can I boil water from the app?\nA: Yes, once the kettle is paired.\n")


@pytest.mark.parametrize(("question", "row", "value"), [
    ("what is the chemical symbol for gold", "| 2 | What is the chemical symbol for gold? | Ag |", "Ag"),
    ("What's the largest planet in our solar system?", "| 1 | What is the largest planet in our solar system? | Saturn |",
     "Saturn"),
    ("at sea level, what temperature does water boil at in celsius?",
     "| 3 | At sea level, water boils at how many degrees Celsius? | 90 |", "90"),
])
def test_a_question_the_document_asks_itself_is_answered_by_its_own_answer(question, row, value):
    """A quiz sheet's row restating the question is quoted firmly, its answer cell the value: whatever the model
    remembers of gold, the document says "Ag", and the conflict check compares the two."""
    got = _quote(question, _passage(QUIZ, "quiz"))
    assert got is not None and got.firm and got.value == value
    assert got.passage.text == row and QUIZ[got.passage.start - 100:got.passage.end - 100] == row
    assert got.shown.endswith(f": {value}.")


ANSWER_SHEET = ("ROUND 2 — SCIENCE AND NATURE\n1. The largest planet in our solar system is Saturn.\n"
                "2. What is the chemical symbol for gold? — Au\n5. How many bones are in the adult human body? — 206\n")


@pytest.mark.parametrize("question, value", [
    ("what is the chemical symbol for gold", "Au"),
    ("How many bones are in the adult human body?", "206"),
    ("What is the chemical symbol for silver?", None),  # a question the sheet does not ask
])
def test_a_line_asking_and_answering_the_question_is_its_quote(question, value):
    got = _quote(question, _passage(ANSWER_SHEET, "Quiz night answers"))
    if value is None:
        assert got is None or got.value != "Au"
        return
    assert got is not None and got.firm and got.value == value
    assert ANSWER_SHEET[got.passage.start - 100:got.passage.end - 100] == got.passage.text
    assert got.passage.text.endswith(f"— {value}")


def test_a_quiz_rows_bare_value_answers_in_the_unit_its_own_question_names():
    """"90" says no degrees, but its row asks "how many degrees Celsius": the quote answers, and its value is "90"."""
    from rag.evidence import load_calibration, quoted_readings

    q = "at sea level, what temperature does water boil at in celsius?"
    got = quoted_readings(q, [_passage(QUIZ, "quiz")], [0], load_calibration(), question_terms(q))
    assert got[0].answers and got[0].answer == "90" and got[0].overrides


BOOKS = ("### Round 2 — Books\n\n| # | Question | Answer |\n|---|----------|--------|\n"
         "| 1 | Who wrote *Pride and Prejudice*? | Charlotte Brontë |\n| 2 | Who wrote *Nineteen Eighty-Four*? | "
         "George Orwell |\n| 3 | About how tall is Mount Everest in metres? | 8,849 |\n")


def test_a_question_the_document_asks_in_other_words_is_answered_given_closeness_in_meaning(embedder):
    """"Who wrote Pride and Prejudice?" is the user's "who was the author of Pride and Prejudice" in other words:
    with closeness in meaning the quiz row answers it; word for word it does not. A question on the same subject
    that asks something else ("which country is Mount Everest in") is not restated, however close."""
    from rag.locate import similarity

    similar = similarity(embedder.embed)
    terms = question_terms("who was the author of Pride and Prejudice")
    books = _passage(BOOKS, "quiz")
    assert quote("who was the author of Pride and Prejudice", books, terms, heading_words(books)) is None
    got = quote("who was the author of Pride and Prejudice", books, terms, heading_words(books), similar)
    assert got is not None and got.firm and got.value == "Charlotte Brontë"
    assert got.passage.text.startswith("| 1 | Who wrote")
    everest = "which country is Mount Everest in"
    assert quote(everest, books, question_terms(everest), heading_words(books), similar) is None
    orwell = "Who was the author of Animal Farm?"  # a name the row does not hold is never restated
    assert quote(orwell, books, question_terms(orwell), heading_words(books), similar) is None
    quiz = _passage(QUIZ, "quiz")  # naming nothing, only word for word: gold's "Ag" is no answer for iron
    iron = "What's the chemical symbol for iron?"
    assert answered_in_place(iron, quiz, question_terms(iron), similar) is None


def test_an_faq_answers_the_question_it_restates_and_no_other():
    got = _quote("which app do i need?", _passage(FAQ, "faq"))
    assert got is not None and got.value == "The free Kettlewave Home app for iPhone and Android."
    assert got.passage.text.startswith("Q: Which app") and got.passage.text.endswith("Android.")
    assert _quote("What is the largest moon of Saturn?", _passage(QUIZ, "quiz")) is None  # Saturn is an answer here
    assert _quote("Which planet has the most moons?", _passage(QUIZ, "quiz")) is None


def test_a_question_naming_nothing_is_quoted_only_by_a_sentence_saying_what_it_is_about():
    """"How many months are there in a year?" names nothing: "year", a kind word it does not ask for, is what it is
    about. A padlock code changing "every 3 months" says months and a number, and was quoted (and flagged against
    memory's 12); a sentence about the year is still quoted."""
    q = "How many months are there in a year?"
    rules = _passage("Site rules. The padlock code on the main gate changes every 3 months.", "allotment rules")
    assert _quote(q, rules) is None
    calendar = _passage("The calendar. A year has 12 months and 365 days.", "calendar notes")
    got = _quote(q, calendar)
    assert got is not None and "12 months" in got.passage.text
    pool = _passage("Opening hours. The pool opens at 07:00 on Sundays.", "leisure centre")
    assert _quote("what time does the pool open on sundays", pool) is not None  # "time" is what it asks for


ROTA = ("GREENFOLD FOOD BANK — VOLUNTEER ROTA, MARCH 2025\n\nNotes\n- Key safe by the side door, code 2580.\n"
        "- Last month (February) we gave out 312 food parcels, up from 274 in January.\n")


def test_a_document_speaking_of_itself_states_what_its_heading_names():
    """The rota is Greenfold Food Bank's: its "we gave out 312 food parcels" is Greenfold's statement, quoted for a
    question naming Greenfold; another organisation's question is not answered by it."""
    got = _quote("how many food parcels did Greenfold give out in february",
                 _passage(ROTA, "GREENFOLD FOOD BANK — VOLUNTEER ROTA, MARCH 2025"))
    assert got is not None and got.firm and "312" in got.value
    assert _quote("how many food parcels did Ashby give out in february",
                  _passage(ROTA, "GREENFOLD FOOD BANK — VOLUNTEER ROTA, MARCH 2025")) is None
    # in the first person singular too: a lecturer's email headed by the course speaks of the course
    email = "Revision session\nI will run a revision session on Monday 8 December, 15:00–17:00, in Lecture Theatre C.\n"
    heading = "CHEM 204 final exam arrangements and revision session"
    got = _quote("When is the CHEM 204 revision session?", _passage(email, heading))
    assert got is not None and "8 December" in got.value
    assert _quote("When is the CHEM 305 revision session?", _passage(email, heading)) is None
