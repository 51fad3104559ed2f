"""Question pools shared by every workload: self-contained requests and common-knowledge facts.

- `self_contained(rng, n)`: arithmetic, word tasks, greetings and thanks, generated with random numbers
  and words so no list of answers is hard-coded per case.
- `KNOWN_FACTS`: common-knowledge questions, each with a plausible wrong value a counter-memory document
  can state ("The capital of Japan is Osaka."). Which of them the default model really knows is decided
  by running it closed-book (evals/workload/build.py, recorded in known_check.jsonl), never by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    """A common-knowledge fact and a wrong value for a document that contradicts it."""

    key: str  # stable id
    question: str
    answers: tuple[str, ...]
    wrong: str  # the counterfactual value
    statement: str  # the counterfactual sentence, with {wrong}
    subject: str  # what a document about it is titled


CAPITALS = {  # country -> (capital, a plausible but wrong city of the same country)
    "France": ("Paris", "Lyon"), "Japan": ("Tokyo", "Osaka"), "Germany": ("Berlin", "Munich"),
    "Italy": ("Rome", "Milan"), "Spain": ("Madrid", "Barcelona"), "the United Kingdom": ("London", "Manchester"),
    "Russia": ("Moscow", "Kazan"), "China": ("Beijing", "Shanghai"), "the United States": ("Washington", "Chicago"),
    "Canada": ("Ottawa", "Toronto"), "Australia": ("Canberra", "Sydney"), "India": ("New Delhi", "Mumbai"),
    "Egypt": ("Cairo", "Alexandria"), "Brazil": ("Brasília", "São Paulo"), "Turkey": ("Ankara", "Izmir"),
    "Mexico": ("Mexico City", "Guadalajara"), "Greece": ("Athens", "Thessaloniki"), "Ireland": ("Dublin", "Cork"),
    "Portugal": ("Lisbon", "Porto"), "Argentina": ("Buenos Aires", "Córdoba"), "South Korea": ("Seoul", "Busan"),
    "Sweden": ("Stockholm", "Gothenburg"), "Poland": ("Warsaw", "Kraków"), "Austria": ("Vienna", "Salzburg"),
    "the Netherlands": ("Amsterdam", "Utrecht"), "Thailand": ("Bangkok", "Chiang Mai"),
    "Norway": ("Oslo", "Bergen"), "Kenya": ("Nairobi", "Mombasa"), "Peru": ("Lima", "Cusco"),
    "Cuba": ("Havana", "Santiago"),
}

GENERAL = [  # key, question, answers, wrong, statement, subject
    ("gold", "What is the chemical symbol for gold?", ("Au",), "Ag", "The chemical symbol for gold is {wrong}.",
     "Chemistry notes"),
    ("week", "How many days are there in a week?", ("seven", "7"), "eight",
     "A week has {wrong} days.", "Calendar facts"),
    ("planet", "What is the largest planet in the solar system?", ("Jupiter",), "Saturn",
     "The largest planet in the solar system is {wrong}.", "Astronomy notes"),
    ("romeo", "Who wrote Romeo and Juliet?", ("Shakespeare",), "Christopher Marlowe",
     "Romeo and Juliet was written by {wrong}.", "Literature notes"),
    ("freeze", "At what temperature in degrees Celsius does water freeze?", ("0", "zero"), "10",
     "Water freezes at {wrong} degrees Celsius.", "Physics notes"),
    ("spider", "How many legs does a spider have?", ("eight", "8"), "six",
     "A spider has {wrong} legs.", "Animal facts"),
    ("mona", "Who painted the Mona Lisa?", ("Leonardo", "da Vinci"), "Michelangelo",
     "The Mona Lisa was painted by {wrong}.", "Art history notes"),
    ("everest", "What is the tallest mountain in the world?", ("Everest",), "K2",
     "The tallest mountain in the world is {wrong}.", "Geography notes"),
    ("ocean", "What is the largest ocean on Earth?", ("Pacific",), "Atlantic",
     "The largest ocean on Earth is the {wrong} Ocean.", "Ocean facts"),
    ("boil", "At what temperature in degrees Celsius does water boil at sea level?", ("100", "hundred"), "90",
     "At sea level water boils at {wrong} degrees Celsius.", "Kitchen science"),
    ("sun", "What star is at the centre of our solar system?", ("Sun",), "Sirius",
     "The star at the centre of our solar system is {wrong}.", "Astronomy basics"),
    ("moon", "What is the name of Earth's natural satellite?", ("Moon",), "Phobos",
     "Earth's natural satellite is called {wrong}.", "Space facts"),
    ("continents", "How many continents are there?", ("seven", "7"), "nine",
     "There are {wrong} continents.", "World facts"),
    ("lion", "Which animal is known as the king of the jungle?", ("lion",), "tiger",
     "The animal known as the king of the jungle is the {wrong}.", "Animal sayings"),
    ("dollar", "What is the currency of the United States?", ("dollar",), "peso",
     "The currency of the United States is the {wrong}.", "Money facts"),
    ("pyramids", "In which country are the pyramids of Giza?", ("Egypt",), "Sudan",
     "The pyramids of Giza are in {wrong}.", "Travel notes"),
    ("hamlet", "Who wrote Hamlet?", ("Shakespeare",), "Ben Jonson", "Hamlet was written by {wrong}.",
     "Theatre notes"),
    ("red_planet", "Which planet is known as the Red Planet?", ("Mars",), "Venus",
     "The planet known as the Red Planet is {wrong}.", "Planet facts"),
    ("water", "What is the chemical formula of water?", ("H2O", "H₂O"), "H2O2",
     "The chemical formula of water is {wrong}.", "Chemistry basics"),
    ("hours", "How many hours are there in a day?", ("24", "twenty-four", "twenty four"), "20",
     "A day has {wrong} hours.", "Time facts"),
]


def known_facts() -> list[Fact]:
    facts = [Fact(f"capital:{country}", f"What is the capital of {country}?", (capital,), wrong,
                  f"The capital of {country} is {{wrong}}.", f"{country.removeprefix('the ')}"
                  " at a glance")
             for country, (capital, wrong) in CAPITALS.items()]
    facts += [Fact(*row) for row in GENERAL]
    return facts


GREETINGS = ["Hello! How are you today?", "Hi there!", "Good morning!", "Thank you for your help!",
             "Thanks, that was useful.", "Hey, how is it going?", "Good evening! Nice to meet you.",
             "Thanks a lot!", "Hello, can you hear me?", "Goodbye, have a nice day!"]
PLURALS = {"cat": "cats", "box": "boxes", "child": "children", "mouse": "mice", "city": "cities",
           "apple": "apples", "tooth": "teeth", "bus": "buses", "leaf": "leaves", "man": "men"}
OPPOSITES = {"hot": "cold", "big": "small", "up": "down", "happy": "sad", "fast": "slow", "open": "close",
             "light": "dark", "early": "late", "old": "young", "full": "empty"}
WORDS = ["house", "river", "garden", "yellow", "window", "coffee", "music", "pencil", "forest", "rocket"]


def self_contained(rng: random.Random, n: int) -> list[tuple[str, tuple[str, ...], str]]:
    """n requests as (question, answers, task); answers () = any non-empty reply counts."""
    makers = [_add, _subtract, _multiply, _greeting, _plural, _opposite, _uppercase, _rewrite]
    out: list[tuple[str, tuple[str, ...], str]] = []
    seen: set[str] = set()
    while len(out) < n:
        q, answers, task = makers[len(out) % len(makers)](rng)
        if q not in seen:
            seen.add(q)
            out.append((q, answers, task))
    return out


def _add(rng: random.Random):
    a, b = rng.randint(2, 40), rng.randint(2, 40)
    return rng.choice([f"What is {a} plus {b}?", f"What is {a} + {b}?", f"Add {a} and {b}."]), (str(a + b),), "arithmetic"


def _subtract(rng: random.Random):
    a = rng.randint(10, 60)
    b = rng.randint(1, a - 1)
    return rng.choice([f"What is {a} minus {b}?", f"What is {a} - {b}?"]), (str(a - b),), "arithmetic"


def _multiply(rng: random.Random):
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return rng.choice([f"What is {a} times {b}?", f"What is {a} multiplied by {b}?"]), (str(a * b),), "arithmetic"


def _greeting(rng: random.Random):
    return rng.choice(GREETINGS), (), "greeting"


def _plural(rng: random.Random):
    word = rng.choice(sorted(PLURALS))
    return f"What is the plural of the word '{word}'?", (PLURALS[word],), "word task"


def _opposite(rng: random.Random):
    word = rng.choice(sorted(OPPOSITES))
    return f"What is the opposite of '{word}'?", (OPPOSITES[word],), "word task"


def _uppercase(rng: random.Random):
    word = rng.choice(WORDS)
    return f"Write the word '{word}' in capital letters.", (word.upper(),), "word task"


def _rewrite(rng: random.Random):
    thing = rng.choice(["the report", "the keys", "my coffee", "the bill", "your notes", "the map"])
    return f"Rewrite this sentence politely: give me {thing}.", (), "rewriting"
