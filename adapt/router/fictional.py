"""Corpus-style and unanswerable questions about generated fictional entities (router training data).

A user's documents are about things no model has seen: their company, projects, colleagues, wifi
password. Before issue 17 the router skipped retrieval for "In which town is Halvern Works based?"
and invented a town. Every question here is labelled `<RET>` without asking the model: memory cannot
know a fact about a name made up by a random generator (adapt/router/data.py, rule `ret`).

Names are random syllables from pools that share no syllable, first name or organisation suffix with
evals/workload/fiction.py, and a different seed, so nothing overlaps the workload test cases
(adapt/router/data.py also drops any exact workload question).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = ["Ada", "Bruno", "Celia", "Dmitri", "Elin", "Felix", "Gina", "Hugo", "Ivy", "Jonas", "Kira", "Leon",
         "Maja", "Noor", "Oskar", "Petra", "Rafe", "Sanne", "Theo", "Uma", "Viggo", "Wren", "Xenia", "Yusuf"]
HEAD = ["Bel", "Cran", "Dor", "Fal", "Hes", "Jul", "Kel", "Lud", "Nor", "Pel", "Ros", "Sam", "Tul", "Ven",
        "Wex", "Yar", "Brin", "Clov", "Drum", "Fiss", "Gorm", "Plim"]
TAIL = ["ham", "ston", "wood", "bury", "well", "croft", "hurst", "marsh", "pool", "shaw", "wold", "bourne",
        "cliff", "dean", "haven", "lock", "peak", "set", "vale", "wyn"]
ORG_SUFFIX = ["Systems", "Logistics", "Bakery", "Holdings", "Studio", "Robotics", "Pharma", "Shipping", "Media",
              "Dairy", "Consulting", "Motors"]
COUNTRY_SUFFIX = ["ia", "ania", "istan", "onia", "aria", "mark"]
TRADES = ["windmills", "libraries", "blacksmiths", "ships", "printing presses", "schools", "horses", "bridges"]
REAL_PLACES = ["Portugal", "Poland", "Denmark", "Belgium", "Scotland", "Bavaria", "Sicily", "Bohemia"]

ORG_QUESTIONS = [
    "Who is the CEO of {org}?", "Where is {org} headquartered?", "When was {org} founded?",
    "How many people work at {org}?", "What does {org} sell?", "Who founded {org}?",
    "What time does the {org} office open?", "What is the phone extension of the {org} help desk?",
    "What's the guest wifi password at {org}?", "How many holiday days do {org} employees get?",
    "What is the annual revenue of {org}?", "Who is the head of marketing at {org}?",
    "What is the postal address of {org}?", "Which cloud provider does {org} use?",
    "What is the dress code at {org}?", "When is the {org} summer party?",
]
PROJECT_QUESTIONS = [
    "Who runs the {p} project?", "When is the {p} project due?", "What is the budget of project {p}?",
    "What is the status of the {p} project?", "Which team owns project {p}?", "What is the goal of the {p} project?",
    "When did project {p} start?", "What tools does the {p} project use?",
]
PERSON_QUESTIONS = [
    "When is {person}'s birthday?", "What is {person}'s phone number?", "Which team is {person} in?",
    "What is {person}'s job title?", "Where does {person} live?", "What is {person}'s email address?",
    "Who is {person}'s manager?", "When did {person} join the company?",
]
COUNTRY_QUESTIONS = [
    "What is the capital of {land}?", "What currency does {land} use?", "What is the population of {land}?",
    "What is the national dish of {land}?", "Who is the president of {land}?", "What language is spoken in {land}?",
    "What is the dialling code of {land}?",
]
PERSONAL = [
    "What is my sister's name?", "Where did I park my car?", "What is our office wifi password?",
    "When is my next dentist appointment?", "What did we agree in yesterday's meeting?",
    "What is the balance of my savings account?", "Which room is the team meeting in?",
    "What is my manager's phone number?", "How many vacation days do I have left?",
    "What is the login for the shared printer?", "When does my lease end?", "What is my flight number?",
    "Who is on call this weekend?", "What was the total of last month's invoice?",
    "What is the door code for the lab?", "What is my employee number?",
]


@dataclass(frozen=True)
class FictionQuestion:
    question: str
    topic: str  # org | project | person | country | history | personal


class _Names:
    """Unique syllable names (seeded)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set()

    def word(self) -> str:
        while True:
            w = self.rng.choice(HEAD) + self.rng.choice(TAIL)
            if w not in self.used:
                self.used.add(w)
                return w

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.word()}"


def _history(rng: random.Random) -> str:
    """A count nobody recorded: no document and no memory holds it (the workload's "unanswerable")."""
    return f"How many {rng.choice(TRADES)} were there in {rng.choice(REAL_PLACES)} in {rng.randint(1400, 1750)}?"


def fiction_questions(n: int = 400, seed: int = 2024_1717) -> list[FictionQuestion]:
    """`n` distinct questions whose answer only a user's documents (or nobody) could know."""
    rng = random.Random(seed)
    names = _Names(rng)
    out: list[FictionQuestion] = []
    seen: set[str] = set()

    def add(q: str, topic: str) -> None:
        if q not in seen:
            seen.add(q)
            out.append(FictionQuestion(q, topic))

    for q in PERSONAL:
        add(q, "personal")
    makers = [
        lambda: (rng.choice(ORG_QUESTIONS).format(org=f"{names.word()} {rng.choice(ORG_SUFFIX)}"), "org"),
        lambda: (rng.choice(ORG_QUESTIONS).format(org=f"{names.word()} {rng.choice(ORG_SUFFIX)}"), "org"),
        lambda: (rng.choice(PROJECT_QUESTIONS).format(p=names.word()), "project"),
        lambda: (rng.choice(PERSON_QUESTIONS).format(person=names.person()), "person"),
        lambda: (rng.choice(COUNTRY_QUESTIONS).format(land=names.word() + rng.choice(COUNTRY_SUFFIX)), "country"),
        lambda: (_history(rng), "history"),
    ]
    i = 0
    while len(out) < n:
        add(*makers[i % len(makers)]())
        i += 1
    return out[:n]
