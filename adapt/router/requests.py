"""Self-contained requests for the router's training data: arithmetic, word tasks, greetings, rewriting.

A real assistant gets these all day and no document helps with them: "What is 12 plus 9?",
"What is the plural of 'goose'?", "Thanks!", "Make this sentence more formal: ...". The router
saw none of them before issue 17 and gave them P(<RET>) 0.65 (median) on the workload dev split.

Two labelling rules (adapt/router/data.py applies them):
- `closed_book` (arithmetic, word tasks: one right answer): Adapt-LLM's rule, the base model's own
  closed-book correctness decides `<RET>` versus answer;
- `own_reply` (greetings, thanks, rewriting: no single right answer): always "answer", with the base
  model's own reply as the target. Memory suffices for them by construction; retrieval only derails
  a small model ("Thank you for your help!" answered with a passage about a moth, issue 17).

Word lists and phrasings are deliberately different from evals/workload/facts.py (the workload
test cases), and adapt/router/data.py drops any question that equals a workload case anyway.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    question: str
    answers: tuple[str, ...]  # () for own_reply requests
    task: str  # arithmetic | word | greeting | rewriting
    rule: str  # closed_book | own_reply


GREETINGS = [
    "Hello!", "Hey there!", "Hi, how are you?", "Good afternoon!", "Morning! How are things?",
    "Hello, nice to see you again.", "Hi! Are you there?", "Hey! What's up?", "Greetings!",
    "Good night, talk to you tomorrow.", "See you later!", "Bye for now!", "Hello assistant, how is your day?",
    "Hi, I'm back.", "Yo! How's it going?", "Hey, good to see you.", "Good day to you!",
]
THANKS = [
    "Thank you!", "Thanks!", "Thank you so much.", "Many thanks for the help.", "Cheers, that helped.",
    "Great, thanks for explaining.", "Thanks, that's exactly what I needed.", "I appreciate your help.",
    "Thank you very much, that was clear.", "Perfect, thank you!", "Awesome, thanks a bunch!",
    "Thanks again for your time.",
]
PLURALS = {"goose": "geese", "foot": "feet", "woman": "women", "knife": "knives", "baby": "babies",
           "dog": "dogs", "glass": "glasses", "fox": "foxes", "wolf": "wolves", "person": "people",
           "book": "books", "church": "churches", "story": "stories", "potato": "potatoes", "sheep": "sheep",
           "car": "cars", "dish": "dishes", "party": "parties", "house": "houses", "ox": "oxen"}
OPPOSITES = {"good": "bad", "tall": "short", "rich": "poor", "wet": "dry", "strong": "weak", "hard": "soft",
             "loud": "quiet", "clean": "dirty", "thick": "thin", "high": "low", "inside": "outside",
             "win": "lose", "day": "night", "black": "white", "love": "hate", "cheap": "expensive",
             "heavy": "light", "near": "far", "begin": "end", "right": "wrong", "true": "false",
             "left": "right", "north": "south", "push": "pull"}
WORDS = ["table", "orange", "planet", "bottle", "summer", "ticket", "bridge", "candle", "monkey", "silver",
         "basket", "guitar", "island", "winter", "mirror", "pocket", "tiger", "castle", "cookie", "rabbit"]
SENTENCES = ["send me the file", "close the door", "call me back", "fix this now", "move your car",
             "bring the chairs", "answer my email", "stop talking", "wait here", "tell me the price",
             "check the results", "pay the invoice", "clean the kitchen", "book a table"]
REWRITES = ["Rephrase this more politely: {s}.", "Make this sentence more formal: {s}.",
            "Say this in a friendlier way: {s}.", "Rewrite politely: {s}.",
            "Can you make this sound nicer? \"{s}\"", "Turn this into a polite request: {s}."]


def _add(rng: random.Random) -> Request:
    a, b = rng.randint(1, 50), rng.randint(1, 50)
    q = rng.choice([f"What is {a} plus {b}?", f"What's {a} + {b}?", f"Add {a} and {b}.", f"Compute {a} + {b}.",
                    f"How much is {a} plus {b}?", f"What do you get if you add {a} to {b}?",
                    f"What is the sum of {a} and {b}?", f"{a} + {b} = ?"])
    return Request(q, (str(a + b),), "arithmetic", "closed_book")


def _subtract(rng: random.Random) -> Request:
    a = rng.randint(5, 80)
    b = rng.randint(1, a - 1)
    q = rng.choice([f"What is {a} minus {b}?", f"What's {a} - {b}?", f"Subtract {b} from {a}.",
                    f"How much is {a} minus {b}?", f"Take {b} away from {a}.", f"{a} - {b} = ?"])
    return Request(q, (str(a - b),), "arithmetic", "closed_book")


def _multiply(rng: random.Random) -> Request:
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    q = rng.choice([f"What is {a} times {b}?", f"What's {a} x {b}?", f"Multiply {a} by {b}.",
                    f"What is {a} multiplied by {b}?", f"What is the product of {a} and {b}?", f"{a} * {b} = ?"])
    return Request(q, (str(a * b),), "arithmetic", "closed_book")


def _divide(rng: random.Random) -> Request:
    b, c = rng.randint(2, 10), rng.randint(2, 10)
    q = rng.choice([f"What is {b * c} divided by {b}?", f"Divide {b * c} by {b}.", f"What's {b * c} / {b}?"])
    return Request(q, (str(c),), "arithmetic", "closed_book")


def _plural(rng: random.Random) -> Request:
    w = rng.choice(sorted(PLURALS))
    q = rng.choice([f"What is the plural of '{w}'?", f"Plural of {w}?", f"What's the plural form of \"{w}\"?",
                    f"Give me the plural of the noun '{w}'."])
    return Request(q, (PLURALS[w],), "word", "closed_book")


def _opposite(rng: random.Random) -> Request:
    w = rng.choice(sorted(OPPOSITES))
    q = rng.choice([f"What is the opposite of '{w}'?", f"Opposite of {w}?", f"Give me an antonym of '{w}'.",
                    f"What word means the opposite of \"{w}\"?"])
    return Request(q, (OPPOSITES[w],), "word", "closed_book")


def _spelling(rng: random.Random) -> Request:
    w = rng.choice(WORDS)
    if rng.random() < 0.6:
        return Request(rng.choice([f"Write '{w}' in uppercase.", f"Spell {w} in capital letters.",
                                   f"Convert \"{w}\" to upper case."]), (w.upper(),), "word", "closed_book")
    return Request(rng.choice([f"What is the first letter of the word '{w}'?",
                               f"Which letter does '{w}' start with?"]), (w[0],), "word", "closed_book")


def _greeting(rng: random.Random) -> Request:
    return Request(rng.choice(GREETINGS + THANKS), (), "greeting", "own_reply")


def _rewrite(rng: random.Random) -> Request:
    return Request(rng.choice(REWRITES).format(s=rng.choice(SENTENCES)), (), "rewriting", "own_reply")


MAKERS: dict[str, Callable[[random.Random], Request]] = {
    "add": _add, "subtract": _subtract, "multiply": _multiply, "divide": _divide, "plural": _plural,
    "opposite": _opposite, "spelling": _spelling, "greeting": _greeting, "rewrite": _rewrite,
}


def requests(n: int, seed: int = 1717) -> list[Request]:
    """`n` distinct requests, the makers taken in turn (seeded; a maker whose pool is used up is skipped)."""
    rng = random.Random(seed)
    out: list[Request] = []
    seen: set[str] = set()
    makers = list(MAKERS.values())
    misses = 0
    while len(out) < n and misses < 50 * len(makers):
        r = makers[(len(out) + misses) % len(makers)](rng)
        if r.question in seen:
            misses += 1
            continue
        seen.add(r.question)
        out.append(r)
    return out
