"""rag/evidence.py: text features without a model, and one real gather with SmolLM2-135M."""

from __future__ import annotations

import pytest

from rag import answer_match as am
from rag.config import load_config
from rag.evidence import (
    Evidence,
    answers,
    answers_the_question,
    asks_nothing,
    closed_book_request,
    completed,
    focus,
    gather,
    load_calibration,
    logistic,
    make_reading,
    memory_mention,
    memory_usable,
    on_topic,
    outranked,
    passage_features,
    question_terms,
    reachable,
    reading_answer,
    reading_features,
    reading_request,
    subject_in_documents,
    unfamiliar_name,
    unread,
)
from rag.types import Passage

HANDBOOK = ("Astbrook Works staff handbook. Working hours. The Astbrook Works office opens at 8:00 on weekdays. "
            "Staff of Astbrook Works receive 29 days of annual leave each year. Help. The Astbrook Works support desk "
            "can be reached on extension 3728. Projects. Project Selstead is led by Pavel Zarbrook. Its budget is 795 "
            "thousand crowns and its deadline is April 2029. Project Ormstead is led by Nils Bremoor. Its budget is "
            "120 thousand crowns and its deadline is May 2030.")


def passage(pid: str, text: str, title: str = "", start: int = 100) -> Passage:
    return Passage(pid, f"{pid}.txt", title, text, start, start + len(text), 1.0)


def test_names_and_numbers_weigh_more_than_common_words():
    terms = question_terms("How many bakeries were there in Nigeria in 1695?")
    assert terms["nigeria"] == terms["1695"] == 3.0 and terms["bakeries"] == 1.0
    assert "how" not in terms and "in" not in terms


def test_a_greeting_names_no_subject_but_a_question_about_a_company_does():
    from rag.evidence import names_a_subject

    assert not names_a_subject("Hello! How are you today?")
    assert not names_a_subject("What is 7 plus 5?")
    assert names_a_subject("Which bank does Selholt Brewery use?")
    assert names_a_subject("How many bakeries were there in Nigeria in 1695?")
    # a unit or a language standing alone names no subject; followed by a name it is part of one
    assert not names_a_subject("Translate 'good morning' into French.")
    assert not names_a_subject("At sea level, what temperature does water boil at in degrees Celsius?")
    assert names_a_subject("What is the capital of French Guiana?")
    assert names_a_subject("Who directed St. Elmo's Fire?")  # an abbreviation does not end a sentence


def test_focus_keeps_the_sentences_near_the_question_with_exact_offsets():
    p = passage("h", HANDBOOK)
    f = focus(p, question_terms("When is Project Selstead due?"), max_chars=160)
    assert "Selstead is led by Pavel Zarbrook" in f.text and "April 2029" in f.text  # the next sentence comes along
    assert len(f.text) <= 160
    assert HANDBOOK[f.start - p.start:f.end - p.start] == f.text  # offsets still point into the document


REPORT = ("Brackwater keeper Sam Achterberg then made two fine saves to keep the Herons level.\n\n"
          "The winning goal was scored by Tomas Revell in the 88th minute. The winger cut in from the left and curled "
          "a shot into the top corner, sending the Brackwater fans behind the goal into raptures.\n\n"
          "Pellow's Owen Clarke was sent off in stoppage time for a second yellow card.\n\n"
          "Brackwater manager Kieran Holt said afterwards: \"I'm so proud of this group. We kept going right to the "
          "end.\"\n\nBrackwater Town: Achterberg; Asante, Doyle, Marsh, Quinn; Penhallow, Moreno, Akers; Revell, "
          "Varga, Lund.\nPellow Rovers: Hale; Brook, Clarke, Ndiaye, Fox; Morrow, Pryce, Soto; Keane, Gill, Vance.")


def test_focus_takes_the_run_covering_most_of_the_question():
    """The line-up names both teams and is the sentence richest in the question's names; the run holding the
    winning-goal sentence covers more of the question, and is what the model reads."""
    p = passage("report", REPORT)
    q = "Which Brackwater player got the 88th-minute winner against Pellow Rovers?"
    f = focus(p, question_terms(q))
    assert "scored by Tomas Revell in the 88th minute" in f.text and len(f.text) <= 480
    assert REPORT[f.start - p.start:f.end - p.start] == f.text
    short = passage("s", REPORT[:200])
    assert focus(short, question_terms(q)) is short  # a passage within the limit is read whole


def test_a_chunk_s_subject_may_be_named_by_its_document_s_other_chunk_found_with_it():
    """The match report's later chunk names neither the opponents nor the year; its first chunk, found with it, does:
    the later chunk may answer (it is read), where a chunk of another document saying the same is not helped."""
    from dataclasses import replace

    from rag.evidence import beside_their_document

    q = "Which Brackwater player got the 88th-minute winner against Pellow Rovers?"
    terms = question_terms(q)
    head = passage("report", "MATCH REPORT\nBrackwater Town 2-1 Pellow Rovers\nSaturday 3 May 2025, Fenwick Park.")
    later = replace(passage("report", "The winning goal was scored by Tomas Revell in the 88th minute."), id="later")
    other = replace(later, id="other", source="other.txt")
    alone, beside, elsewhere = (passage_features(terms, p) for p in beside_their_document([later])
                                + beside_their_document([head, later])[1:] + beside_their_document([head, other])[1:])
    assert alone["subject_all"] == 0.0 and elsewhere["subject_all"] == 0.0
    assert beside["subject_all"] == 1.0 and beside["coverage"] == alone["coverage"]
    calib = load_calibration()
    assert reachable(calib["answers"], beside) >= calib["answers_threshold"] > reachable(calib["answers"], alone)
    assert beside_their_document([head, later])[1].to_json() == later.to_json()  # shown as before
    # not found with it, the report's first chunk still stands beside it as its document's head (`Passage.head`)
    headed = beside_their_document([replace(later, head=head.text)])[0]
    assert passage_features(terms, headed)["subject_all"] == 1.0
    first = replace(head, start=0)  # found with it as well: said once
    assert beside_their_document([first, replace(later, head=head.text)])[1].beside == head.text


def test_a_passage_about_another_subject_misses_the_subject_words():
    terms = question_terms("What is the capital of Japan?")
    on = reading_features("What is the capital of Japan?", terms, passage("jp", "Japan's capital is Tokyo."),
                          "The capital of Japan is Tokyo.")
    off = reading_features("What is the capital of Japan?", terms,
                           passage("no", "Norway's capital is Oslo. It uses the krone."), "The capital of Japan is Oslo.")
    assert on["subject"] == 1.0 and on["grounded"] == 1.0
    assert off["subject"] == 0.0


def test_an_answer_that_only_repeats_the_question_is_not_grounded():
    q = "What is the internet country domain of Kenya?"
    f = reading_features(q, question_terms(q), passage("ke", "Kenya's internet country domain is .ke."),
                         "The internet country domain of Kenya is [1]")
    assert f["grounded"] == 0.0


def test_an_entity_the_passage_never_mentions_is_not_grounded():
    q = "What is the capital of Kenya?"
    f = reading_features(q, question_terms(q), passage("ke", "Kenya is a country in East Africa."),
                         "The capital of Kenya is Nairobi.")
    assert f["grounded"] == 0.0 and f["coverage"] < 1.0


def test_readings_of_an_answering_and_a_silent_passage_are_told_apart():
    q = "Who leads Project Selstead?"
    yes = make_reading(q, passage("h", HANDBOOK), "Project Selstead is led by Pavel Zarbrook [1].")
    no = make_reading(q, passage("n", "The Valley newsletter: staff repainted the front gate."),
                      "Project Selstead is led by the editor.")
    assert yes.answers and not no.answers
    assert yes.probability > no.probability


def test_words_naming_the_kind_asked_are_no_part_of_the_value():
    """"On which continent is China?": "China is a country located in East Asia" answers it (no "continent"
    needed), and its value is "East Asia": a passage saying "a country on the continent of Americas" does not
    state it for sharing the word "country"."""

    q = "On which continent is China?"
    memory = "China is a country located in East Asia."
    assert answers_the_question(q, memory)
    assert memory_mention(q, memory, "China is a country on the continent of Americas.") == 0.0
    assert memory_mention(q, memory, "China is a country in East Asia.") == 1.0
    from rag.evidence import _answer_words

    assert _answer_words("The capital of Mexico is Mexico City.", "What is the capital of Mexico?") == "city"


def test_memory_mention_reads_the_memory_value_in_a_passage():
    q = "What is the capital of Japan?"
    assert memory_mention(q, "The capital of Japan is Tokyo.", "Japan's capital is Tokyo.") == 1.0
    assert memory_mention(q, "The capital of Japan is Tokyo.", "Japan's capital is Osaka.") == 0.0


def test_answer_types_keep_years_apart_from_codes():
    assert am.answer_type("It was founded in 2023.") == "date"
    assert am.answer_type("The code is +254.") == "number"
    assert am.answer_type("Tokyo") == "entity"
    assert am.answer_type("I don't know") == "none"
    # the question's own numbers are not the answer's: a name answers "Who is the author of Nineteen Eighty-Four?"
    novel = "Who is the author of Nineteen Eighty-Four?"
    assert am.answer_type("The novel by George Orwell is Nineteen Eighty-Four", novel) == "entity"
    assert am.answer_type("The novel by George Orwell is Nineteen Eighty-Four") == "number"


def test_missing_explicit_calibration_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="evidence_calibration"):
        load_calibration(tmp_path / "none.json")


def test_gather_reads_memory_and_each_passage_in_one_step(hf_generator):
    cfg = load_config(env={})
    q = "What is the capital of Kenya?"
    kenya = passage("ke", "Kenya is a country in East Africa. Its capital is Nairobi. Kenya borders Tanzania.")
    bananas = passage("ba", "Bananas are rich in potassium and grow in tropical climates.")
    ev = gather(hf_generator, cfg, q, [kenya, bananas])
    assert isinstance(ev, Evidence) and len(ev.readings) == 2
    assert ev.memory.text.strip() and 0.0 <= ev.memory_confidence <= 1.0
    by_id = {r.passage.id: r for r in ev.readings}
    assert by_id["ke"].answers and "nairobi" in by_id["ke"].text.lower()
    assert not by_id["ba"].answers
    assert [r.passage.id for r in ev.answering] == ["ke"]
    # the banana passage never names Kenya: no reading of it could answer, so the model did not read it
    assert by_id["ke"].read and not by_id["ba"].read and ev.read == 1
    everything = gather(hf_generator, cfg, q, [kenya, bananas], prune=False)
    assert everything.read == 2 and everything.prompt_tokens > ev.prompt_tokens
    assert [r.passage.id for r in everything.answering] == ["ke"]


def test_memory_read_beside_passages_is_its_first_clause_and_is_completed_on_demand(hf_generator_f32):
    from rag.answer_match import first_clause

    g, cfg, q = hf_generator_f32, load_config(env={}), "Who leads Project Velstead?"
    full = g.generate(closed_book_request(g, q, 48))
    assert len(first_clause(full.text)) < len(full.text) - 20, full.text  # the model runs on: the test can tell
    # the passage names the project but never says "lead": it is read, not quoted
    velstead = passage("pv", "Project Velstead. Wim Calmere runs Project Velstead from the Halworth office.")
    beside = gather(g, cfg, q, [velstead])
    assert beside.read == 1 and beside.memory.finish_reason == "clause"
    assert full.text.startswith(beside.memory.text) and len(beside.memory.text) < len(full.text)
    assert beside.memory_answer == first_clause(full.text)  # what the evidence reads of memory is unchanged
    whole = completed(g, closed_book_request(g, q, 48), beside.memory)
    assert whole.text == full.text and whole.finish_reason == full.finish_reason
    assert len(whole.tokens) == len(whole.token_logprobs) == len(full.tokens)
    alone = gather(g, cfg, q, [passage("ba", "Bananas are rich in potassium and grow in tropical climates.")])
    assert alone.read == 0 and alone.memory.text == full.text  # nothing read beside it: memory is written whole
    assert completed(g, closed_book_request(g, q, 48), alone.memory) is alone.memory


def test_a_passage_missing_the_subject_cannot_reach_the_threshold():
    calib = load_calibration()
    terms = question_terms("What is the capital of Kenya?")
    off_subject = passage_features(terms, passage("no", "The capital of Norway is Oslo."))
    on_subject = passage_features(terms, passage("ke", "Kenya borders Tanzania. Its capital is Nairobi."))
    assert reachable(calib["answers"], off_subject) < calib["answers_threshold"]
    assert reachable(calib["answers"], on_subject) >= calib["answers_threshold"]
    # reachable is an upper bound: no reading of the passage scores higher
    for answer in ("Oslo", "The capital of Kenya is Oslo.", "I don't know", "Nairobi"):
        feats = reading_features("What is the capital of Kenya?", terms, passage("no", "The capital of Norway is Oslo."), answer)
        assert logistic(calib["answers"], feats) <= reachable(calib["answers"], off_subject) + 1e-9


def test_memory_giving_a_value_of_the_users_world_must_be_as_sure_as_about_a_name_it_never_saw():
    """"Harbour View" is two familiar words, but the phone number of its concierge desk is no common knowledge: a
    memory answer at 68% is not enough (90% would be), where the same confidence answers a familiar subject's
    question asking no such value."""
    from rag.evidence import looks_something_up

    kw = {"unfamiliar_threshold": 0.9, "familiar": True, "familiar_threshold": 0.33}
    phone = "What is the phone number of the Harbour View concierge desk?"
    assert not memory_usable(phone, "123-456-7890", 0.68, 0.55, **kw)
    assert memory_usable(phone, "123-456-7890", 0.92, 0.55, **kw)
    price = "How much does a ticket for the Harbour View open day cost?"
    assert not memory_usable(price, "$10", 0.68, 0.55, **kw)
    assert memory_usable("What is the capital of Peru?", "Lima", 0.4, 0.55, **kw)
    # naming nothing, a price is still of the user's world: not the model's own business like a greeting
    locker = "How much does a gym locker cost?"
    assert looks_something_up(locker) and not looks_something_up("hi there")
    assert not memory_usable(locker, "A typical gym locker can range from $10 to $100", 0.65, 0.55, **kw)
    assert memory_usable("hi there", "Hi there.", 0.3, 0.55, **kw)
    # the day of something unnamed is the user's too: "July 15th" (27% confident) was a new user's invented answer
    back = "When do the children get back from the museum?"
    assert not memory_usable(back, "The children get back from the museum on July 15th.", 0.6, 0.55, **kw)
    assert memory_usable(back, "The children get back from the museum on July 15th.", 0.95, 0.55, **kw)
    assert memory_usable("when do leaves fall", "Leaves fall in autumn.", 0.3, 0.55, **kw)  # no day: common
    assert memory_usable("When is Christmas?", "Christmas is on 25 December.", 0.6, 0.55, **kw)  # a name places it


def test_memory_must_be_surer_about_a_subject_the_documents_name_but_do_not_answer():
    """"The birthday of Brestead Labs' chief executive": the documents hold Brestead Labs and say nothing of it,
    so it is the user's own business; a memory answer at 0.6 confidence is not enough there, but is for a
    subject the documents never name."""
    q, memory = "What is the birthday of the chief executive of Brestead Labs?", "It is 2023"
    assert memory_usable(q, memory, 0.6, 0.55, subject_in_documents=False, documents_threshold=0.65)
    assert not memory_usable(q, memory, 0.6, 0.55, subject_in_documents=True, documents_threshold=0.65)
    assert memory_usable(q, memory, 0.7, 0.55, subject_in_documents=True, documents_threshold=0.65)
    handbook = passage("bl", "Brestead Labs staff handbook. Staff receive 21 days of annual leave.")
    other = passage("zz", "Zarby Analytics was founded in 1990.")
    terms = question_terms(q)
    unread_ = [unread(p, passage_features(terms, p), load_calibration()) for p in (handbook, other)]
    assert subject_in_documents(q, unread_) and not subject_in_documents(q, unread_[1:])
    assert not subject_in_documents("Hello! How are you?", unread_)


def test_a_reading_that_asks_a_question_answers_nothing():
    q = "at sea level, what temperature does water boil at in celsius?"
    calib = load_calibration()
    assert not answers(q, "Q: What is the temperature of water boil at in Celsius?", 0.9, calib)
    assert not answers(q, "What temperature does water boil at?", 0.9, calib)
    assert answers(q, "Water boils at 100 °C at sea level.", 0.9, calib)


def test_a_value_in_the_unit_asked_answers_with_few_of_the_questions_words():
    q = "at sea level, what temperature does water boil at in celsius?"
    assert answers_the_question(q, "water boils at a temperature of approximately 100°C.")
    assert not answers_the_question(q, "The kettle has five presets and a keep-warm mode for your tea.")


def test_the_documents_name_a_subject_whatever_numbers_the_question_adds():
    """The newsletter names Hollowbrook and never "14s": the under-14s' score is still the club's own business."""
    newsletter = passage("hb", "Hollowbrook FC — Club Newsletter. The first team won 3-1 at home on Saturday.")
    q = "What was the score in Hollowbrook's under-14s game?"
    read = [unread(newsletter, passage_features(question_terms(q), newsletter), load_calibration())]
    assert read[0].features["subject_all"] == 0.0
    assert subject_in_documents(q, read)
    assert not subject_in_documents("What was the score in Fenwick's under-14s game?", read)


def test_a_reading_that_only_names_the_document_does_not_answer():
    handbook = Passage("z", "orgs/zarby-analytics-handbook.txt", "zarby-analytics-handbook",
                       "Zarby Analytics staff handbook\n\nProjects. Project Griscombe is led by Falk Astwick.", 0, 80, 1.0)
    q = "Who leads Project Griscombe?"
    title_only = make_reading(q, handbook, "The Zarby Analytics staff handbook is a reference to the handbook.")
    assert title_only.features["names_document"] == 1.0 and not title_only.answers
    right = make_reading(q, handbook, "Project Griscombe is led by Falk Astwick.")
    assert right.features["names_document"] == 0.0
    # a passage that opens with a sentence has no heading line: a reading that repeats it answers
    one_line = Passage("i", "india.txt", "", "The currency of India is the Indian Rupee, issued by its central bank.",
                       0, 70, 1.0)
    rupee = make_reading("What is the currency of India?", one_line, "The currency of India is the Indian Rupee.")
    assert rupee.features["names_document"] == 0.0 and rupee.answers
    # one word derived from the name is a value, not the document's name
    colombia = Passage("c", "colombia.md", "Colombia", "Colombia\n\nPeople from Colombia are called Colombian.", 0, 50, 1.0)
    assert make_reading("What are people from Colombia called?", colombia, "Colombian").features["names_document"] == 0.0


def test_a_number_in_a_passage_does_not_make_it_the_answer_to_a_sum():
    """"What is 14 minus 9?": a passage mentioning 14 shares the request's words but could not answer it, so the
    model's own answer stands (no named subject), however unsure it is."""
    q = "What is 14 minus 9?"
    leave = passage("l", "Staff receive 14 days of annual leave each year.")
    calib = load_calibration()
    feats = passage_features(question_terms(q), leave)
    assert feats["coverage"] >= 0.34 and reachable(calib["answers"], feats) < calib["answers_threshold"]
    assert memory_usable(q, "14 minus 9 is 5", 0.2, 0.55)


def test_a_request_naming_nothing_is_answered_from_memory_whatever_the_passages_share():
    """"Thank you so much" shares its words with "Thanks to everyone who played": no reason to decline it. A
    question about a named subject still needs a confident memory; a familiar one from the lower threshold."""
    assert memory_usable("Thank you so much", "You're welcome!", 0.1, 0.55)
    assert memory_usable("What is the opposite of 'hot'?", "The opposite of hot is cold.", 0.2, 0.55)
    # unless it counts in another unit than asked: "24 hours" is no count of days
    assert not memory_usable("how many days will the soup keep in the fridge", "It will keep for 24 hours.", 0.9, 0.55)
    assert memory_usable("how many days will the soup keep in the fridge", "It will keep for 3 days.", 0.9, 0.55)
    assert not memory_usable("Who wrote Hamlet?", "Hamlet was written by William Shakespeare.", 0.4, 0.55)
    assert memory_usable("Who wrote Hamlet?", "Hamlet was written by William Shakespeare.", 0.4, 0.55,
                         subject_in_documents=True, documents_threshold=0.65, familiar=True, familiar_threshold=0.33)
    assert not memory_usable("Who leads Selholt?", "Selholt is led by Ann Brook.", 0.4, 0.55, familiar=True,
                             familiar_threshold=0.33, unfamiliar=True, unfamiliar_threshold=0.9)


def test_a_reading_about_something_else_does_not_answer():
    """A question asked with two or more words besides its subject is not answered by a statement that uses none
    of them, however grounded: the support desk's extension is not the days of annual leave. A bare value, and
    an answer to a question asked with one such word (a synonym may say it), are not judged this way."""
    p = passage("a", HANDBOOK, "astbrook-works-handbook")
    q = "How many days of annual leave do staff at Astbrook Works get?"
    off = make_reading(q, p, "The Astbrook Works support desk can be reached on extension 3728.")
    assert off.features["grounded"] == 1.0 and off.features["off_question"] == 1.0 and not off.answers
    bare = make_reading(q, p, "29")
    assert bare.features["off_question"] == 0.0
    on = make_reading(q, p, "Staff of Astbrook Works receive 29 days of annual leave each year.")
    assert on.features["off_question"] == 0.0 and on.answers
    # a value with its context is not a statement of its own: "born in what city" answered by a biography line
    bio = passage("e", "Eric Defoort (27 June 1943 in Ypres - 16 December 2016) was a Belgian politician.")
    value = make_reading("In what city was Eric Defoort born?", bio, "Eric Defoort (27 June 1943 in Ypres - 2016)")
    assert value.features["off_question"] == 0.0
    synonym = make_reading("Who leads Project Selstead?", p, "The head of Project Selstead is Pavel Zarbrook.")
    assert synonym.features["off_question"] == 0.0
    # "leads" is asked, "led" is said: the same word
    led = make_reading("Who leads Project Selstead?", p, "Project Selstead is led by Pavel Zarbrook.")
    assert led.features["on_question"] == 1.0


def test_a_name_the_model_never_saw_is_unfamiliar(hf_generator):
    """SmolLM2's vocabulary holds "Peru" or "United Kingdom" whole, and splits an invented company name into 3+
    pieces; what the model "remembers" about such a name is an invention, so memory needs more confidence."""
    count = hf_generator.count_tokens
    assert unfamiliar_name(count, "Which bank does Selholt Brewery use?") == "Selholt"
    assert unfamiliar_name(count, "What is the internet country domain of Prymouthovia?") == "Prymouthovia"
    for familiar in ("What is the capital of Peru?", "What is the capital of the United Kingdom?",
                     "Who wrote Romeo and Juliet?", "What is 14 minus 9?", "Hello! How are you?",
                     "Who is the author of Nineteen Eighty-Four?"):  # a hyphen parts a word anyway
        assert unfamiliar_name(count, familiar) == "", familiar
    assert unfamiliar_name(count, "Who founded Selholt-Marrow Works?") == "Selholt-Marrow"
    q, memory = "Which bank does Selholt Brewery use?", "Selholt Brewery banks with Velby Savings."
    assert memory_usable(q, memory, 0.8, 0.55)
    assert not memory_usable(q, memory, 0.8, 0.55, unfamiliar=True, unfamiliar_threshold=0.9)
    assert memory_usable(q, memory, 0.95, 0.55, unfamiliar=True, unfamiliar_threshold=0.9)


def test_a_reading_that_describes_the_answer_with_the_question_does_not_answer():
    """"The author of Eldest is the author of Eragon" names no one: its value is the question's own description."""
    p = passage("el", "Eldest is the second novel of the Inheritance Cycle by Christopher Paolini, the author of Eragon.")
    q = "Who is the author of Eldest?"
    again = make_reading(q, p, "The author of Eldest is the author of Eragon.")
    assert again.features["restates"] == 1.0 and not again.answers
    named = make_reading(q, p, "The author of Eldest is Christopher Paolini.")
    assert named.features["restates"] == 0.0 and named.answers
    lille = passage("li", "Lille is the capital of the Nord department of France.")
    capital = make_reading("What is Lille the capital of?", lille, "Lille is the capital of the Nord department.")
    assert capital.features["restates"] == 0.0


def test_memory_that_copies_the_question_s_numbers_is_not_an_answer():
    """SmolLM2 answers "How many bakeries were there in Sweden in 1710?" with "There were 171 bakeries in Sweden
    in 1710" at 87% confidence: the digits come from the question, and the honest answer is that none was found."""
    q = "How many bakeries were there in Sweden in 1710?"
    assert not memory_usable(q, "There were 171 bakeries in Sweden in 1710", 0.95, 0.55)
    assert memory_usable(q, "There were 42 bakeries in Sweden in 1710", 0.95, 0.55)


@pytest.mark.parametrize("reading, value", [
    ("Kenya is a country in East Africa. Its capital is Nairobi.", "Its capital is Nairobi"),
    ("The capital of Kenya is Nairobi. It is a big city.", "The capital of Kenya is Nairobi"),
])
def test_a_reading_is_judged_on_the_sentence_that_answers(reading, value):
    """SmolLM2 often says what the passage is about first and answers in the next sentence: the value is the
    sentence that uses the question's own words ("capital"), not the opening one."""
    q = "What is the capital of Kenya?"
    r = make_reading(q, passage("k", "Kenya is a country in East Africa. Its capital is Nairobi.", "Kenya"), reading)
    assert r.answer == value
    assert r.answers


def test_readings_that_repeat_memory_against_their_passage_raise_its_confidence():
    """Self-consistency: SmolLM2 reads "Canberra" off two passages that never say it; its closed-book
    "Canberra" (59%) is then knowledge, not a guess. One echo, a passage that states it, or a number do not count."""
    from rag.evidence import consistent_confidence, echoes

    q, memory = "What is the capital of Australia?", "The capital of Australia is Canberra"
    harbour = passage("h", "Sydney Harbour is a natural harbour on the east coast of Australia.")
    stating = passage("s", "The capital of Australia is Canberra, planned in 1913.")
    sydney = passage("d", "The capital of Australia is Sydney.")
    echo = make_reading(q, harbour, "The capital of Australia is Canberra.")
    assert echoes(q, memory, [echo, echo, make_reading(q, stating, "The capital of Australia is Canberra."),
                              make_reading(q, sydney, "The capital of Australia is Sydney.")]) == 2
    assert consistent_confidence(0.59, 2) == pytest.approx(0.8975)
    assert consistent_confidence(0.59, 1) == 0.59
    year = make_reading("When was Brestead Labs founded?", harbour, "Brestead Labs was founded in 2023.")
    assert echoes("When was Brestead Labs founded?", "Brestead Labs was founded in 2023", [year, year]) == 0


MALAYSIA = ("Neighbours\nMalaysia shares land borders with Brunei Darussalam, Indonesia and Thailand.\n"
            "Languages and currency\nThe official language of Malaysia is none. The currency used in Malaysia is the "
            "Malaysian Ringgit (MYR).\nCodes and time\nThe international calling code of Malaysia is +60, and its "
            "internet country domain is .my. Malaysia uses the time zone UTC+08:00.")


def test_a_reading_that_wrote_a_marker_for_its_value_is_read_again_without_one(hf_generator):
    """SmolLM2 reads this passage as "The international calling code of Malaysia is [1]."; read again with "["
    suppressed it writes "+60". A reading that answers with a marker ("[1] Nils Bremoor") is kept as it is."""
    q = "What is the international calling code of Malaysia?"
    p = passage("my", MALAYSIA, "Malaysia")
    first = hf_generator.generate(reading_request(hf_generator, q, p, 48)).text
    assert "[1]" in first and "+60" not in first  # the habit this guards against
    reading = gather(hf_generator, load_config(), q, [p]).readings[0]
    assert reading.answers and "+60" in reading.text


def test_a_request_naming_nothing_is_answered_only_by_a_passage_that_speaks_of_it(embedder):
    from dataclasses import replace

    from rag.types import Generation

    def answering(q: str, p: Passage, text: str):
        return replace(make_reading(q, p, text), answers=True, probability=0.9)

    q = "How many hours are there in one day?"
    permit = passage("permit", "Guest parking. A guest permit expires after 72 hours and only one permit per flat "
                     "can be active at a time.")
    clock = passage("clock", "Time. There are 24 hours in one day, and 60 minutes in an hour.")
    evidence = Evidence(Generation("24"), "24", 0.4, True,
                        (answering(q, permit, "72 hours [1]."), answering(q, clock, "24 hours [1].")), {})
    kept = on_topic(q, evidence, embedder.embed)
    assert [r.passage.id for r in kept.answering] == ["clock"]
    assert "off_topic" in kept.readings[0].features
    named = "How many hours is a Harbour View guest permit valid?"  # names its subject: left as it is
    assert on_topic(named, evidence, embedder.embed) is evidence


@pytest.mark.parametrize("request_, nothing", [
    ("hi!", True), ("thanks, that sorted it", True), ("Hello! How are you today?", True), ("cheers, that's great", True),
    ("Thank you so much", True),
    ("what is the deposit for the flat", False),  # a question
    ("deposit for the flat", False), ("price of the 800 g sourdough at crumb and kettle", False),  # asking, tersely
    ("Hi, what's the rent at Larkspur Road?", False),  # a greeting, then a question
    ("Tell me about Brestead Labs", False),  # names its subject
])
def test_a_request_that_asks_nothing_and_names_nothing(request_, nothing):
    assert asks_nothing(request_) is nothing


def test_a_quoted_row_is_judged_on_topic_by_its_whole_passage(embedder):
    """The quote "Family | £85 | ..." is narrowed to its row; the passage it came from has the table's header and
    heading ("Membership fees"), which speak of "how much is the family membership fee"."""
    from dataclasses import replace

    from rag.types import Generation

    text = ("Membership fees\n\nMembership type | Annual fee | Includes\nAdult | £42 | insurance, newsletter\n"
            "Family | £85 | insurance, newsletter, two spare lines")
    whole = passage("club", text)
    start = text.index("Family")
    row = replace(whole, text=text[start:], start=start)
    q = "how much is the family membership fee"
    quoted = replace(make_reading(q, row, row.text, value="£85"), answers=True, probability=0.8, quoted=True)
    evidence = Evidence(Generation("£50"), "£50", 0.2, True, (quoted,), {})
    assert on_topic(q, evidence, embedder.embed, passages=[whole]).answering


def test_a_quote_naming_who_holds_the_post_asked_is_on_topic(embedder):
    """"who is the club secretary?" names nothing; the newsletter's "Contact our secretary, Hamish Ostrander, to
    book." is far from it in MiniLM's meaning (0.41), but says the post, and its passage says the club: a new user's
    question had been declined. The same quote for "who is the treasurer?" is no answer."""
    from dataclasses import replace

    from rag.types import Generation

    text = ("Club rides\n\nSunday Steady Ride: meets at the Old Mill car park.\n\nAnnual dinner\n\nTickets cost £28 each. "
            "Contact our secretary, Hamish Ostrander, to book.")
    whole = passage("club", text)
    start = text.index("Contact")
    line = replace(whole, text=text[start:], start=start)

    def evidence(q: str) -> Evidence:
        quoted = replace(make_reading(q, line, line.text, value="Hamish Ostrander"), answers=True, probability=0.9,
                         quoted=True)
        return Evidence(Generation(""), "", 0.2, False, (quoted,), {})

    assert on_topic("who is the club secretary?", evidence("who is the club secretary?"), embedder.embed,
                    passages=[whole]).answering
    assert not on_topic("who is the treasurer?", evidence("who is the treasurer?"), embedder.embed,
                        passages=[whole]).answering


def test_a_greeting_is_answered_by_no_passage_however_close_a_line_comes(embedder):
    """"Hi all," opens a user's email; "hi!" is no question about it."""
    from dataclasses import replace

    from rag.types import Generation

    email = passage("email", "Hi all,\nHere is the weekend rota. Saturday opening shift is covered by Tomasz Reilly.")
    read = replace(make_reading("hi!", email, "Hi all, [1]."), answers=True, probability=0.9)
    evidence = Evidence(Generation("Hi!"), "Hi!", 0.2, True, (read,), {})
    kept = on_topic("hi!", evidence, embedder.embed)
    assert not kept.answering and kept.memory_confident
    assert kept.readings[0].features["asks_nothing"] == 1.0


def test_a_request_naming_nothing_that_the_documents_speak_of_needs_a_surer_memory(embedder):
    """"for how long can I book the confocal microscope?" names nothing, but a passage speaks of it: it is about the
    user's documents, and an unsure memory ("typically 1 hour and 15 minutes", 0.36) no longer answers it."""
    from rag.types import Generation

    q = "For how long at most can I book the confocal microscope in one session?"
    from rag.evidence import Reading

    def evidence(text: str) -> Evidence:
        read = Reading(passage("p", text), "", "", {}, 0.1, False, read=True)  # read, and it did not answer
        return Evidence(Generation(memory), memory, 0.36, True, (read,), {})

    memory = "The maximum time is typically 1 hour and 15 minutes"
    assert not on_topic(q, evidence("Equipment booking.\nConfocal microscope: maximum booking of 4 hours per session."),
                        embedder.embed).memory_confident
    assert on_topic(q, evidence("Parking.\nA guest permit expires after 72 hours."), embedder.embed).memory_confident


def test_memory_s_value_is_its_first_clause_that_says_more_than_the_question():
    from rag.evidence import memory_value

    q = "At sea level, what temperature does water boil at in degrees Celsius?"
    assert memory_value(q, "At sea level, water boils at 100 degrees Celsius.") == "water boils at 100 degrees Celsius"
    assert memory_value("What is the capital of France?", "The capital of France is Paris, a city.") == \
        "The capital of France is Paris"


def test_memory_about_the_user_s_own_affairs_must_be_confident():
    """A question naming nothing is the model's to answer ("How many days are there in a week?"), but not one about
    the user's own affairs: the model cannot remember which day the bins on the user's road are emptied."""
    general, personal = "How many days are there in a week?", "which day do they empty the brown bins on our road"
    assert memory_usable(general, "Seven days", 0.2, 0.55)
    assert not memory_usable(personal, "Monday", 0.2, 0.55)
    assert memory_usable(personal, "Monday", 0.8, 0.55)
    # naming nothing, a "who" question is still answered by a name, not by a role
    chef = "who is the head chef at the marrowgate hotel"
    assert not memory_usable(chef, "not the head chef of the restaurant", 0.57, 0.55)
    assert memory_usable("who painted the mona lisa", "Leonardo da Vinci", 0.57, 0.55)


def test_a_reading_of_a_value_in_the_unit_asked_and_in_its_passage_is_not_outranked():
    """Another document's quote outranks the model's readings, unless a reading's value carries the unit asked and
    its passage states it as written: then two documents state two prices, and both stand."""
    from dataclasses import replace

    q = "How much is the garden waste subscription for 2025/26?"
    council = passage("c", "Garden waste subscription 2025/26\n\nAnnual charge per bin: £45")
    minutes = passage("m", "Cllr Sheikh confirmed the garden waste subscription for 2025/26 will be £52 per bin.")
    quote = replace(make_reading(q, minutes, minutes.text), quoted=True, answers=True)
    priced = replace(make_reading(q, council, "The garden waste subscription in 2025/26 is £45."), answers=True)
    invented = replace(make_reading(q, council, "The garden waste subscription in 2025/26 is £40."), answers=True)
    kept = outranked([priced, quote], q)
    assert kept[0].answers and kept[1].answers
    assert not outranked([invented, quote], q)[0].answers  # "£40" is not in its passage
    assert not outranked([priced, quote])[0].answers  # without the question, no unit to check


def test_a_who_question_is_answered_by_a_full_name_in_other_words():
    q = "Who wrote Romeo and Juliet?"
    assert answers_the_question(q, 'The play "Romeo and Juliet" by William Shakespeare is attributed to him')
    assert not answers_the_question(q, "Romeo and Juliet is a famous play about two lovers in Verona")
    assert answers_the_question("Where is the Eiffel Tower?", "The Eiffel Tower is a famous landmark located in Paris")


def test_a_who_question_is_not_answered_by_a_role():
    """Memory's "not the head chef of the restaurant" uses the question's words but names no one; "Shakespeare"
    opening its sentence does."""
    q = "who is the head chef at the marrowgate hotel"
    assert not answers_the_question(q, "not the head chef of the restaurant")
    assert not answers_the_question(q, "The head chef at the marrowgate hotel is the head chef of the hotel")
    assert answers_the_question(q, "The head chef at the marrowgate hotel is Chef Annika Vole")
    assert answers_the_question("Who wrote Hamlet?", "Shakespeare wrote Hamlet.")
    assert answers_the_question("Who makes the iPhone?", "Apple")


def test_a_which_kind_question_is_answered_by_a_name_of_that_kind():
    """A chatty question's words are few in any answer; "which ocean" is answered by a name holding "Ocean", "what
    language" by a language, and neither by another name ("South America")."""
    ocean = "My daughter asked me which ocean is the biggest in the world and I wasn't sure - which one is it?"
    assert answers_the_question(ocean, "The largest ocean in the world is the Pacific Ocean")
    brazil = "My colleague is moving to Brazil for work - what language will she mostly hear spoken there?"
    assert answers_the_question(brazil, "My colleague is likely to hear spoken in Portuguese")
    assert not answers_the_question("What language is spoken in Peru?", "It is a country in South America")
    assert not answers_the_question("What time does the museum open?", "The museum is in Paris")


def test_a_reading_s_value_is_the_clause_in_the_unit_asked():
    """SmolLM2 opens with what the passage is about and gives the price in a later clause."""
    q = "From April, what will a dozen free-range eggs cost at the Green Valley farm shop?"
    text = ("The Green Valley Farm Shop will be open on Sundays from 10:00 to 14:00, with a price increase to EUR 4.20 "
            "per dozen from 1 April.")
    assert "EUR 4.20" in reading_answer(q, text)
    assert reading_answer("How much is a ticket?", "A ticket is 5 pounds, or 3 for members.") == "A ticket is 5 pounds"


LETTER = ("St Aldric's Primary School\n\nDear Parents and Carers,\n\nYEAR 4 TRIP TO THE PEMBERLY SCIENCE & DISCOVERY "
          "CENTRE\n\nAs part of our science topic, Year 4 will visit the Pemberly Science & Discovery Centre.\n\n"
          "Date:              Friday 14 March 2025\nLeave school:      8:45am\nCost:              £18.50 per child")


def test_another_document_s_different_value_is_located_beside_one_document_s_answer(embedder):
    """One document answers (the email's new date); another, read without an answer, states a different date on a
    line close to the question (the letter's "Date:" row): both values reach the conflict check. The same date, or a
    second passage of the answering document, adds nothing."""
    from dataclasses import replace

    from rag.evidence import Reading
    from rag.located import with_second_value
    from rag.types import Generation

    q = "When is the Year 4 trip to the Pemberly Science & Discovery Centre?"
    email = Passage("e", "email.txt", "CHANGE OF DATE", "The Year 4 Pemberly trip is now on Friday 21 March 2025.",
                    0, 56, 1.0)
    letter = Passage("l", "letter.txt", "St Aldric's Primary School", LETTER, 0, len(LETTER), 1.0)

    def evidence(answer: str, other: Passage) -> Evidence:
        said = replace(make_reading(q, email, answer), answers=True, probability=0.9)
        silent = Reading(other, "", "", {}, 0.3, False, read=True)
        return Evidence(Generation(""), "", 0.0, False, (said, silent), {})

    passages = [email, letter]
    added = with_second_value(q, passages, evidence("The trip is now on March 21, 2025 [1].", letter), embedder.embed)
    assert [r.passage.source for r in added.answering] == ["email.txt", "letter.txt"]
    assert added.readings[1].located and added.readings[1].text == "Date: Friday 14 March 2025"
    same = with_second_value(q, passages, evidence("The trip is on 14 March 2025 [1].", letter), embedder.embed)
    assert len(same.answering) == 1
    sibling = replace(letter, source="email.txt")
    alone = evidence("The trip is now on March 21, 2025 [1].", sibling)
    assert with_second_value(q, [email, sibling], alone, embedder.embed) is alone
    who = "Who wrote the letter about the Year 4 Pemberly trip?"  # no value asked: nothing to compare
    assert with_second_value(who, passages, alone, embedder.embed) is alone


def test_another_document_s_holder_of_a_post_is_located_beside_a_quoted_name(embedder):
    """The spring newsletter's "Our treasurer is Dorothy Quill" is quoted; the summer newsletter's committee list
    says "Treasurer: Felix Abernathy": two documents name different treasurers, and both reach the conflict check.
    The same person adds nothing."""
    from dataclasses import replace

    from rag.evidence import Reading
    from rag.located import with_second_value
    from rag.types import Generation

    q = "Who is the treasurer of the Maple Street Chess Club?"
    spring = Passage("s", "spring.txt", "MAPLE STREET CHESS CLUB - NEWSLETTER, SPRING 2024",
                     "Our treasurer is Dorothy Quill - please pay her by bank transfer.", 0, 64, 1.0)
    summer_text = "Committee\nChair: Jonas Petrakis\nSecretary: Meera Osei\nTreasurer: Felix Abernathy\n"
    summer = Passage("m", "summer.txt", "MAPLE STREET CHESS CLUB - SUMMER NEWSLETTER 2024", summer_text, 0,
                     len(summer_text), 1.0)

    def evidence(name: str) -> Evidence:
        said = replace(make_reading(q, spring, f"Our treasurer is {name}."), answers=True, probability=0.9,
                       quoted=True)
        silent = Reading(summer, "", "", {}, 0.3, False, read=True)
        return Evidence(Generation(""), "", 0.0, False, (said, silent), {})

    added = with_second_value(q, [spring, summer], evidence("Dorothy Quill"), embedder.embed)
    assert [r.passage.source for r in added.answering] == ["spring.txt", "summer.txt"]
    assert added.readings[1].answer == "Felix Abernathy"
    assert len(with_second_value(q, [spring, summer], evidence("Felix Abernathy"), embedder.embed).answering) == 1


def test_a_value_mentioned_about_something_else_is_no_mention_of_an_answer():
    """Cross-mentions are read in the sentences on the question's subject, and only the answers' values: the minutes'
    "£45 on printing" does not mention the council's £45 subscription, and "per bin per year" is no value."""
    from rag.evidence import distinct_mention

    q = "How much is the garden waste subscription for 2025/26?"
    minutes = ("Cllr Sheikh confirmed the garden waste subscription for 2025/26 will be £52 per bin per year. "
               "Spent: £96 on hall hire, £45 on printing.")
    council = "A garden waste subscription costs £45 per bin per year and runs from 1 April 2025."
    assert distinct_mention(q, "The subscription is £45.", "It will be £52 per bin per year", minutes) == 0.0
    assert distinct_mention(q, "It will be £52 per bin per year", "The subscription is £45.", council) == 0.0
    assert distinct_mention(q, "The subscription is £45.", "It will be £52", council + " It was £52 last year.") == 1.0


def test_dates_are_mentioned_whole():
    """The syllabus's "Tutorials: Tuesdays, 16:00" does not mention the email's "Tuesday 16 December 2025": the two
    documents disagree about the exam date, and the check must see that neither mentions the other's date."""
    from rag.evidence import distinct_mention

    q = "When is the CHEM 204 final exam?"
    email = "The CHEM 204 final exam will take place on Tuesday 16 December 2025 at 09:30 in Sports Hall B."
    syllabus = ("CHEM 204 schedule. Tutorials: Tuesdays, 16:00-17:00. "
                "Final exam: Thursday 11 December 2025, 09:30, Sports Hall B.")
    assert distinct_mention(q, email, "Final exam: Thursday 11 December 2025", syllabus) == 0.0
    assert distinct_mention(q, "Final exam: Thursday 11 December 2025", email, email) == 0.0
    assert distinct_mention(q, email, "11 Dec", syllabus + " The CHEM 204 exam was moved to December 16.") == 1.0
    assert am.calendar_days("on the 3rd of May and March 21, 2025; Tuesdays 16:00") == {(5, 3), (3, 21)}


def test_a_reading_s_value_must_stand_in_its_passage_on_the_question_s_subject():
    """"Sports Hall B" is where the CHEM 204 exam is held: a reading giving it for Dr Okonjo's office hours took it
    from a sentence about something else, and is no document's answer to set against another's. A line under a
    heading that names the subject, and a quote, stand."""
    from dataclasses import replace

    from rag.evidence import stated_on_subject

    q = "Where does Dr Okonjo hold her office hours for CHEM 204?"
    email = passage("e", "Office hours: see the syllabus.\n\nPast papers are on the module page. The CHEM 204 final "
                    "exam will take place on Tuesday 16 December 2025 at 09:30 in Sports Hall B.")
    misread = replace(make_reading(q, email, "Dr Okonjo holds her office hours at the Sports Hall B."), answers=True)
    assert not stated_on_subject(q, misread)
    assert stated_on_subject(q, replace(misread, quoted=True))
    syllabus = passage("s", "CHEM 204 syllabus\n\nOffice hours\n\nRoom B214, Wednesdays 14:00-16:00")
    assert stated_on_subject(q, make_reading(q, syllabus, "Dr Okonjo holds her office hours in Room B214."))
    assert not stated_on_subject(q, make_reading(q, syllabus, "Dr Okonjo holds her office hours in the library."))


def test_a_price_read_off_a_line_about_something_else_does_not_answer():
    """A fee guide's care plan costs £16.50 a month: read as the price of a root canal, which the guide never
    mentions, the value is from a line about something else. The line with the treatment asked, a line under a
    heading naming it, a question naming nothing beside the document, and a question asking no price, stand."""
    from rag.evidence import item_words, speaks_of_item

    guide = Passage(id="g", source="/d/brightsmile.md", title="Brightsmile Dental Studio — Fee Guide › Fees",
                    text="Fees\n\nRoutine check-up | £38\nPorcelain crown | £585\n\nBrightsmile Care Plan\n\n"
                         "Monthly fee: £16.50\nIncludes: two check-ups a year", start=0, end=120, score=1.0)
    q = "how much is a root canal at brightsmile"
    assert item_words(q, guide.title) == ["root", "canal"]
    assert not speaks_of_item(q, guide, value="A root canal at Brightsmile is £16.50")
    assert speaks_of_item("how much is a porcelain crown at brightsmile", guide, value="£585")
    assert speaks_of_item("what is the monthly fee of the care plan", guide, value="£16.50")
    assert speaks_of_item("how much is a care plan at brightsmile", guide, value="£16.50")  # under its heading
    assert not speaks_of_item("how much is a check-up at brightsmile", guide, value="£16.50, for 12 months")
    assert speaks_of_item("how much is it at brightsmile", guide, value="£16.50")  # nothing named beside it
    assert speaks_of_item("how many check-ups a year does the plan include", guide, value="£16.50")  # no price
    at = guide.text.index("Monthly fee")
    assert not speaks_of_item(q, guide, (at, at + 19))
    assert speaks_of_item("what does the care plan cost", guide, (at, at + 19))


def test_a_password_is_never_answered_from_memory():
    """A new user asked their flat's wifi password: the router answered from memory, "The password for a WiFi
    password is often a combination of letters, numbers, and special characters". A secret of the user's is looked
    up, and memory does not answer it, however confident."""
    from rag.evidence import looks_something_up, memory_usable

    q = "what is the wifi password for the flat?"
    assert looks_something_up(q)
    assert looks_something_up("what's the caretaker's name?")  # someone named by role: the user's world
    assert not memory_usable(q, "The password is often a combination of letters and numbers.", 0.99, 0.3)


def test_a_value_belongs_to_the_thing_the_question_ends_naming():
    """A new user's trial: the kettle's serial number was given for "my toaster", and a cycling club's dinner
    tickets priced "the school disco". A serial number is a code of the user's world; a ticket's price is its
    event's, so "ticket" asks a cost and names nothing."""
    from rag import answer_match as am
    from rag.evidence import owner_words, speaks_of_item

    warranty = passage("w", "Nordvik Appliances - Warranty Certificate\n\nProduct: Nordvik Glide Electric Kettle\n"
                            "Serial number: NK217-0058841")
    q = "What is the serial number of my toaster?"
    assert am.asked_unit(q) == "code" and owner_words(q) == ["toaster"]
    assert not speaks_of_item(q, warranty, value="NK217-0058841")
    assert owner_words("what is the toaster's serial number?") == ["toaster"]  # the owner named before it
    assert not speaks_of_item("what is the toaster's serial number?", warranty, value="NK217-0058841")
    assert speaks_of_item("what is the kettle's serial number?", warranty, value="NK217-0058841")
    assert speaks_of_item("What is the serial number of my kettle?", warranty, value="NK217-0058841")
    notes = passage("z", "Zephyr project notes. The secret code word of the Zephyr project is BLUEBIRD.")
    assert speaks_of_item("What is the secret code word of the Zephyr project?", notes, value="BLUEBIRD")
    assert not speaks_of_item("What is the secret code word of the Zephyr project?", notes, value="SPARROW")
    dinner = passage("n", "Annual dinner\n\nThe annual dinner will be held on Saturday 29 November.\n"
                          "Tickets cost £28 each.")
    assert not speaks_of_item("how much is a ticket for the school disco?", dinner, value="£28")
    assert speaks_of_item("How much is a ticket for the annual dinner?", dinner, value="£28")


def test_a_phone_number_s_line_need_not_say_phone():
    """"call Nordvik Customer Care on 0800 555 0192" is the customer care phone number, though it never says "phone":
    words naming a phone number are no item of their own. The desk asked of still has to be said."""
    from rag.evidence import item_words, speaks_of_item

    warranty = Passage(id="w", source="/d/kettle_warranty.txt", title="Nordvik Appliances (kettle_warranty)",
                       text="To make a claim, call Nordvik Customer Care on 0800 555 0192 (Mon-Fri, 9am-5pm).",
                       start=300, end=380, score=1.0)
    q = "What is the kettle Customer Care phone number?"
    assert item_words(q, warranty.title) == []
    assert speaks_of_item(q, warranty, value="0800 555 0192")
    assert item_words("what is the phone number of the repairs desk", warranty.title) == ["repairs", "desk"]
    assert not speaks_of_item("what is the phone number of the repairs desk", warranty, value="0800 555 0192")


def test_a_form_s_field_speaks_of_what_its_block_is_introduced_as():
    """A school letter's "Cost: £12.50 per child" stands in a block of fields under "Year 4 will be visiting the
    Westcombe Museum": the museum trip's cost (a new user's trial had declined it). A sibling field is no
    introduction: the fee list's "Adult: £42" is not the junior fee for standing above "Junior: £15"."""
    from rag.evidence import speaks_of_item

    letter = passage("l", "Dear Parents and Carers of Year 4,\n\nYear 4 will be visiting the Westcombe Museum of Natural "
                          "History.\n\nDate: Friday 7 November 2025\nTime: Coach leaves school at 8:45am\n"
                          "Cost: £12.50 per child (voluntary contribution)\nLunch: Please provide a packed lunch")
    assert speaks_of_item("How much does the Year 4 museum trip cost?", letter, value="£12.50")
    assert not speaks_of_item("How much does the Year 4 swimming gala cost?", letter, value="£12.50")
    fees = passage("f", "Our fees are below.\n\nJunior: £15\nAdult: £42\nFamily: £90")
    assert not speaks_of_item("how much is the junior membership", fees, value="£90")


FAQ = ('KETTLEWAVE K2 FAQ\n\nQ: How long does it keep water warm?\nA: Press "Keep Warm" and the K2 holds your chosen '
       "temperature for up to 30 minutes, then switches off by itself.\n\nQ: How long does it take to boil?\nA: A full "
       "kettle (1.7 litres) boils in about 4 minutes.")


def test_a_reading_from_a_line_far_from_the_question_gives_way_to_the_closest_line(embedder):
    """The small model read the boiling time for how long keep-warm lasts: the line that answers is much closer in
    meaning to the question, and states another value, so it answers instead. A reading whose value is on that line,
    or a question asking no value, is left alone."""
    from dataclasses import replace

    from rag.located import with_closer_line
    from rag.types import Generation

    q = "if I press keep warm on the kettlewave how long will it stay hot before it turns itself off"
    faq = Passage("f", "kettlewave_faq.txt", "Kettlewave K2 FAQ", FAQ, 0, len(FAQ), 1.0)

    def evidence(question: str, answer: str) -> Evidence:
        read = replace(make_reading(question, faq, answer), answers=True, probability=0.9)
        return Evidence(Generation(""), "", 0.0, False, (read,), {})

    wrong = with_closer_line(q, [faq], evidence(q, "4 minutes [1]."), embedder.embed)
    assert wrong.answering[0].located and "up to 30 minutes" in wrong.answering[0].text
    assert not wrong.answering[0].text.startswith("A:")
    quote = evidence(q, "4 minutes [1].")
    quote = replace(quote, readings=(replace(quote.readings[0], quoted=True),))
    assert with_closer_line(q, [faq], quote, embedder.embed) is quote  # the passage's own sentence on the subject
    right = evidence(q, "Up to 30 minutes [1].")
    assert with_closer_line(q, [faq], right, embedder.embed) is right
    what = "What does the Kettlewave K2 do if you press keep warm?"
    unasked = evidence(what, "It boils in about 4 minutes [1].")
    assert with_closer_line(what, [faq], unasked, embedder.embed) is unasked


RULES_START = ("Tides of Vethmoor — Rulebook\n\nComponents\n\n• 1 double-sided game board\n• 72 tide cards\n"
               "• 120 coins (in values of 1 and 5)\n• 1 lighthouse tile and 1 first-player marker")
RULES_END = ("Renown\n\nCompleting a delivery contract earns 1 to 3 renown, as printed on the contract.\n\nEnd of the "
             "game\n\nThe game ends immediately when a player reaches 15 renown points; that player wins.")


def test_a_reading_gives_way_to_a_closer_line_of_another_passage_of_its_document(embedder):
    """The model read "1" from the rulebook's components for how many renown points win; the rulebook's "End of the
    game" section, retrieved too and read without an answer, states 15 on a line much closer to the question. The
    line answers for the document, and the misreading no longer answers. Another document's line does not."""
    from dataclasses import replace

    from rag.evidence import Reading
    from rag.located import with_closer_line
    from rag.types import Generation

    q = "How many renown points do you need to win Tides of Vethmoor?"
    start = Passage("s", "rulebook.md", "Tides of Vethmoor — Rulebook", RULES_START, 0, len(RULES_START), 1.0)
    end = Passage("e", "rulebook.md", "Tides of Vethmoor — Rulebook", RULES_END, 900, 900 + len(RULES_END), 1.0)
    misread = replace(make_reading(q, start, "1 [1]."), answers=True, probability=0.7)
    silent = Reading(end, "", "", {}, 0.3, False, read=True)
    evidence = Evidence(Generation(""), "", 0.0, False, (misread, silent), {})
    fixed = with_closer_line(q, [start, end], evidence, embedder.embed)
    assert [r.passage.id for r in fixed.answering] == ["e"] and "15 renown points" in fixed.answering[0].text
    other = replace(end, source="another_game.md")
    apart = Evidence(Generation(""), "", 0.0, False, (misread, Reading(other, "", "", {}, 0.3, False, read=True)), {})
    assert with_closer_line(q, [start, other], apart, embedder.embed) is apart


def test_a_line_a_little_short_of_the_threshold_answers_when_the_model_read_its_value(embedder):
    """The minutes' speed-survey line is a little further from the question than `locate_threshold`; the model's
    reading of its passage gave its 38% without reaching the answering threshold. The two agree: the line answers.
    A reading giving another value, or none, leaves the question unanswered."""
    from dataclasses import replace

    from rag.located import with_located
    from rag.types import Generation

    q = "In the residents' speed survey, what share of cars on Marsh Lane were over the 20 limit?"
    text = ("4. Speeding on Marsh Lane\n   Results of the speed survey (carried out by volunteers with the council's "
            "speed gun, 13–19 January): 38% of vehicles were going faster than the 20 mph limit; the highest speed "
            "recorded was 41 mph.")
    minutes = Passage("m", "minutes.txt", "Residents' association minutes", text, 0, len(text), 1.0)

    def evidence(answer: str) -> Evidence:
        read = replace(make_reading(q, minutes, answer), answers=False, probability=0.5)
        return Evidence(Generation(""), "", 0.0, False, (read,), {})

    agreed = with_located(q, [minutes], evidence("38% of cars on Marsh Lane exceeded the 20 mph limit [1]."),
                          embedder.embed)
    assert agreed.answering and "38% of vehicles" in agreed.answering[0].text
    other = evidence("20% of cars exceeded the limit [1].")
    assert not with_located(q, [minutes], other, embedder.embed).answering
