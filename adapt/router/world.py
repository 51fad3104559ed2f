"""Common-knowledge questions for the router's training data: real countries and everyday facts.

Capitals and currencies of well-known countries are what a user asks a small assistant and what
SmolLM2-135M often knows closed-book ("What is the capital of Japan?" -> Tokyo). Calling codes and
internet domains are the same kind of question that it mostly does not know. Every question is
labelled by Adapt-LLM's rule (the base model's closed-book correctness), so the router learns where
its memory ends inside one topic rather than "countries -> answer".

Everyday facts (GENERAL: science, books, animals, time) are the other half of what users ask and
what the workloads call `known`; none of them is a workload question (their subjects differ from
evals/workload/facts.py), and they are labelled the same way.

Country facts come from countryinfo (+ pycountry for currency names), most populous countries first.
Countries that any workload case names (evals/workloads/*.jsonl, */{dev,test}.jsonl) are skipped
entirely, so the router is measured on countries it never saw in training.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class WorldQuestion:
    question: str
    answers: tuple[str, ...]
    relation: str  # capital | currency | calling_code | tld
    country: str


CAPITAL = ["What is the capital of {c}?", "What's the capital city of {c}?", "Which city is the capital of {c}?"]
CURRENCY = ["What is the currency of {c}?", "Which currency does {c} use?", "What money is used in {c}?"]
CALLING = ["What is the phone country code of {c}?", "Which dialling code does {c} have?"]
TLD = ["What is the top-level domain of {c}?", "Which web domain ending does {c} use?"]


GENERAL: list[tuple[str, tuple[str, ...]]] = [  # (question, aliases); subjects not in evals/workload/facts.py
    ("What is the chemical symbol for oxygen?", ("O",)), ("What is the chemical symbol for iron?", ("Fe",)),
    ("What gas do plants absorb from the air?", ("carbon dioxide", "CO2")),
    ("Which planet is closest to the Sun?", ("Mercury",)), ("Which planet has the famous rings?", ("Saturn",)),
    ("How many planets are in the solar system?", ("eight", "8")),
    ("What is the freezing point of water in Fahrenheit?", ("32",)),
    ("How many minutes are in an hour?", ("60", "sixty")), ("How many seconds are in a minute?", ("60", "sixty")),
    ("How many months are in a year?", ("12", "twelve")), ("How many days are in a leap year?", ("366",)),
    ("How many legs does an insect have?", ("six", "6")), ("How many legs does a dog have?", ("four", "4")),
    ("What is the largest mammal?", ("blue whale",)), ("What is the fastest land animal?", ("cheetah",)),
    ("Which bird is a symbol of peace?", ("dove",)), ("What do bees make?", ("honey",)),
    ("What is the largest desert in the world?", ("Sahara", "Antarctic")),
    ("What is the longest river in the world?", ("Nile", "Amazon")),
    ("Who wrote Pride and Prejudice?", ("Jane Austen", "Austen")),
    ("Who wrote Macbeth?", ("Shakespeare",)), ("Who wrote Harry Potter?", ("Rowling",)),
    ("Who wrote The Odyssey?", ("Homer",)), ("Who painted The Starry Night?", ("Van Gogh",)),
    ("Who painted the ceiling of the Sistine Chapel?", ("Michelangelo",)),
    ("Who developed the theory of relativity?", ("Einstein",)),
    ("Who discovered penicillin?", ("Fleming",)), ("Who invented the telephone?", ("Bell",)),
    ("Who was the first person to walk on the Moon?", ("Armstrong",)),
    ("Who was the first president of the United States?", ("Washington",)),
    ("What is the boiling point of water in Fahrenheit?", ("212",)),
    ("What colour do you get by mixing blue and yellow?", ("green",)),
    ("What colour is the sky on a clear day?", ("blue",)), ("What colour are bananas when ripe?", ("yellow",)),
    ("What is frozen water called?", ("ice",)), ("What is the opposite of north?", ("south",)),
    ("How many sides does a triangle have?", ("three", "3")), ("How many sides does a square have?", ("four", "4")),
    ("How many sides does a hexagon have?", ("six", "6")), ("What is the square root of 81?", ("9", "nine")),
    ("What is the largest country by area?", ("Russia",)), ("What is the smallest country in the world?", ("Vatican",)),
    ("On which continent is Egypt?", ("Africa",)), ("On which continent is Brazil?", ("South America", "America")),
    ("What is the hardest natural substance?", ("diamond",)), ("What organ pumps blood through the body?", ("heart",)),
    ("How many bones are in the adult human body?", ("206",)), ("What is the largest organ of the human body?", ("skin",)),
    ("Which language is spoken in Brazil?", ("Portuguese",)), ("Which language is spoken in Mexico?", ("Spanish",)),
    ("What is the main language of Japan?", ("Japanese",)), ("What is the currency of Japan?", ("yen",)),
    ("What is the currency of the United Kingdom?", ("pound",)), ("Which city is known as the Big Apple?", ("New York",)),
    ("In which city is the Eiffel Tower?", ("Paris",)), ("In which city is the Colosseum?", ("Rome",)),
    ("In which country is the Taj Mahal?", ("India",)), ("In which country is Machu Picchu?", ("Peru",)),
    ("What is the tallest animal?", ("giraffe",)), ("What do caterpillars turn into?", ("butterfl", "moth")),
    ("What is the closest star to Earth?", ("Sun",)), ("How many players are on a football team?", ("eleven", "11")),
    ("How many strings does a standard guitar have?", ("six", "6")), ("How many keys does a piano have?", ("88",)),
    ("Which ocean lies between Europe and America?", ("Atlantic",)), ("What is H2O commonly called?", ("water",)),
    ("What instrument has black and white keys?", ("piano",)), ("What is the primary colour of grass?", ("green",)),
]


def general_questions() -> list[WorldQuestion]:
    return [WorldQuestion(q, a, "general", "") for q, a in GENERAL]


def countries() -> list[tuple[int, str, str, list[str], list[str], list[str]]]:
    """(population, name, capital, currency names, calling codes, tlds), most populous first."""
    try:
        import pycountry
        from countryinfo import all_countries
    except ImportError:
        raise ImportError("countryinfo/pycountry are not installed: pip install 'adaptrag[eval]'") from None
    rows = []
    for c in all_countries():
        try:
            name, capital, pop = c.name(), c.capital(), c.population() or 0
            capital = capital[0] if isinstance(capital, list) and capital else capital
            money = [getattr(pycountry.currencies.get(alpha_3=code), "name", None) for code in c.currencies() or []]
            calling, tld = list(c.calling_codes() or []), list(c.tld() or [])
        except Exception:  # noqa: BLE001, S112 - countryinfo raises on incomplete entries
            continue
        if name and capital:
            rows.append((pop, name, capital, [m for m in money if m], calling, tld))
    rows.sort(key=lambda r: -r[0])
    return rows


def _currency_aliases(names: list[str]) -> tuple[str, ...]:
    """"US Dollar" -> ("US Dollar", "Dollar"): the model says "the dollar" as often as the full name."""
    out: list[str] = []
    for n in names:
        out += [n, n.split()[-1]]
    return tuple(dict.fromkeys(out))


def world_questions(avoid: Collection[str], n_capital: int = 110, n_currency: int = 70,
                    n_calling: int = 40, n_tld: int = 40, seed: int = 1717) -> list[WorldQuestion]:
    """Questions about the most populous countries that no text of `avoid` (lower-case questions) names."""
    rng = random.Random(seed)
    rows = [r for r in countries() if not any(r[1].lower() in text for text in avoid)]
    out: list[WorldQuestion] = []
    for _, name, capital, money, calling, tld in rows[:n_capital]:
        out.append(WorldQuestion(rng.choice(CAPITAL).format(c=name), (capital,), "capital", name))
    for _, name, _, money, _, _ in [r for r in rows if r[3]][:n_currency]:
        out.append(WorldQuestion(rng.choice(CURRENCY).format(c=name), _currency_aliases(money), "currency", name))
    for _, name, _, _, calling, _ in [r for r in rows if r[4]][:n_calling]:
        codes = tuple(dict.fromkeys([f"+{calling[0]}", calling[0]]))
        out.append(WorldQuestion(rng.choice(CALLING).format(c=name), codes, "calling_code", name))
    for _, name, _, _, _, tld in [r for r in rows if r[5]][:n_tld]:
        out.append(WorldQuestion(rng.choice(TLD).format(c=name), (tld[0],), "tld", name))
    return out
