"""Exact answers to small tasks a rule does better than a 135M model: a word backwards, words in alphabetical order,
a word in capitals, counting, the letters of a word, and a quantity in another unit.

SmolLM2-135M fails these while sounding sure: "Reverse the word 'stop'" -> "To reverse the word "stop" is to remove
the "stop" part", "Count from one to five." -> "The answer to this question is 1.", "how many metres is 3.5 km" ->
"3.5 is 3.5 + 5 = 8.5 metres.". As for sums (rag/calculate.py), neither the documents nor the model's memory are the
right source. Each rule matches the whole request (the task and a few framing words), so a question that only
mentions such a task ("Which word did the newsletter spell backwards?") is never taken for one.

    solve("spell necessary backwards")      # -> Calculation("necessary backwards", None, "necessary backwards: yrassecen.")
    solve("how many metres is 3.5 km")      # -> Calculation("3.5 km in metres", 3500.0, "3.5 km = 3500 metres.")
    solve("Who wrote Dracula?")             # -> None
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.calculate import Calculation, show_number

_Q = r"['\"‘’“”]?"  # a word may come quoted
_WORD = rf"{_Q}(?P<w>[A-Za-zÀ-ÿ]+(?:['’-][A-Za-zÀ-ÿ]+)*){_Q}"
_PLEASE = r"(?:(?:please|can you|could you|would you|will you)\s+)*"
_TAIL = r"\s*(?:please|for me)?\s*[?.!]*\s*$"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# ---- words ----------------------------------------------------------------------------------------------------

_BACKWARDS = [
    _rx(rf"^\s*{_PLEASE}(?:reverse|flip)\s+(?:the\s+(?:word|letters\s+(?:of|in))\s+)?{_WORD}{_TAIL}"),
    _rx(rf"^\s*{_PLEASE}(?:spell|write|say)\s+(?:the\s+word\s+)?{_WORD}\s+(?:backwards?|in\s+reverse){_TAIL}"),
    _rx(rf"^\s*(?:what\s+is|what's|whats)\s+(?:the\s+word\s+)?{_WORD}\s+(?:spelt\s+|spelled\s+|written\s+)?"
        rf"(?:backwards?|in\s+reverse){_TAIL}"),
]
_CAPITALS = _rx(rf"^\s*{_PLEASE}(?:write|put|spell|type)\s+(?:the\s+word\s+)?{_WORD}\s+in\s+(?:all\s+)?"
                rf"(?P<case>capital letters|capitals|upper\s*case|block capitals|caps|lower\s*case|small letters){_TAIL}")
_LETTERS = _rx(rf"^\s*how\s+many\s+letters\s+(?:are\s+)?(?:there\s+)?(?:in|does)\s+(?:the\s+word\s+)?{_WORD}"
               rf"(?:\s+have)?{_TAIL}")
_ALPHABETICAL = [
    _rx(rf"^\s*{_PLEASE}(?:put|sort|arrange|order|list|rearrange)\s+(?:these|the following|this list|them)?\s*"
        rf"(?:\w+\s+)?(?:in(?:to)?\s+)?(?P<rev>reverse\s+)?(?:alphabetical(?:ly)?|a-z|abc)(?:\s+order)?\s*[:\-–]\s*"
        r"(?P<items>.+?)\s*[.!?]*\s*$"),
    _rx(rf"^\s*{_PLEASE}(?:alphabeti[sz]e|sort)\s*(?:these|the following)?\s*(?:\w+\s*)?[:\-–]\s*(?P<items>.+?)\s*"
        r"(?P<rev>)[.!?]*\s*$"),
]
_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
_COUNT_TO = r"(?P<b>\d{1,3}|" + "|".join(_NUMBER_WORDS) + ")"
_COUNT = _rx(rf"^\s*{_PLEASE}count\s+(?:from\s+(?P<a>\d{{1,3}}|{'|'.join(_NUMBER_WORDS)})\s+)?(?:up\s+)?to\s+"
             rf"{_COUNT_TO}{_TAIL}")
MAX_COUNT = 100  # a longer count is no chat answer


def _backwards(request: str) -> Calculation | None:
    for pattern in _BACKWARDS:
        m = pattern.match(request)
        if m is not None:
            word = m["w"]
            return Calculation(f"{word} backwards", None, f"{word} backwards: {word[::-1]}.")
    return None


def _capitals(request: str) -> Calculation | None:
    m = _CAPITALS.match(request)
    if m is None:
        return None
    word, lower = m["w"], m["case"].lower().startswith(("lower", "small"))
    shown = word.lower() if lower else word.upper()
    return Calculation(f"{word} in {'lower case' if lower else 'capitals'}", None, f"{shown}")


def _letters(request: str) -> Calculation | None:
    m = _LETTERS.match(request)
    if m is None:
        return None
    word = m["w"]
    n = sum(c.isalpha() for c in word)
    return Calculation(f"letters of {word}", float(n), f"{word} has {n} letter{'s' if n != 1 else ''}.")


def _alphabetical(request: str) -> Calculation | None:
    for pattern in _ALPHABETICAL:
        m = pattern.match(request)
        if m is None:
            continue
        items = [i.strip(" '\"‘’“”") for i in re.split(r"\s*(?:,|;|\band\b|\n)\s*", m["items"]) if i.strip(" '\"‘’“”")]
        if len(items) < 2:
            return None
        ordered = sorted(items, key=lambda s: (s.casefold(), s), reverse=bool(m["rev"]))
        return Calculation("alphabetical order", None, ", ".join(ordered) + ".")
    return None


def _count_number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS.index(text.lower())


def _count(request: str) -> Calculation | None:
    m = _COUNT.match(request)
    if m is None:
        return None
    a = _count_number(m["a"]) if m["a"] else 1
    b = _count_number(m["b"])
    step = 1 if b >= a else -1
    numbers = list(range(a, b + step, step))
    if len(numbers) > MAX_COUNT:
        return None
    in_words = not m["b"].isdigit() and all(n < len(_NUMBER_WORDS) for n in numbers)
    shown = [_NUMBER_WORDS[n] if in_words else str(n) for n in numbers]
    text = ", ".join(shown)
    return Calculation(f"count from {a} to {b}", None, text[:1].upper() + text[1:] + ".")


# ---- units ------------------------------------------------------------------------------------------------------

# unit -> (quantity, factor to the quantity's base unit, name to show); temperature is converted apart
_UNITS: dict[str, tuple[str, float, str]] = {}


def _unit(quantity: str, factor: float, shown: str, *names: str) -> None:
    for name in names:
        _UNITS[name] = (quantity, factor, shown)


_unit("length", 0.001, "millimetres", "mm", "millimetre", "millimetres", "millimeter", "millimeters")
_unit("length", 0.01, "centimetres", "cm", "centimetre", "centimetres", "centimeter", "centimeters")
_unit("length", 1.0, "metres", "m", "metre", "metres", "meter", "meters")
_unit("length", 1000.0, "kilometres", "km", "kilometre", "kilometres", "kilometer", "kilometers", "kms")
_unit("length", 0.0254, "inches", "in", "inch", "inches")
_unit("length", 0.3048, "feet", "ft", "foot", "feet")
_unit("length", 0.9144, "yards", "yd", "yard", "yards")
_unit("length", 1609.344, "miles", "mi", "mile", "miles")
_unit("mass", 0.001, "grams", "g", "gram", "grams", "gramme", "grammes")
_unit("mass", 1.0, "kilograms", "kg", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes")
_unit("mass", 0.45359237, "pounds", "lb", "lbs", "pound", "pounds")
_unit("mass", 0.028349523125, "ounces", "oz", "ounce", "ounces")
_unit("mass", 6.35029318, "stone", "st", "stone", "stones")
_unit("volume", 0.001, "millilitres", "ml", "millilitre", "millilitres", "milliliter", "milliliters")
_unit("volume", 0.01, "centilitres", "cl", "centilitre", "centilitres")
_unit("volume", 1.0, "litres", "l", "litre", "litres", "liter", "liters")
_unit("time", 1.0, "seconds", "s", "sec", "secs", "second", "seconds")
_unit("time", 60.0, "minutes", "min", "mins", "minute", "minutes")
_unit("time", 3600.0, "hours", "h", "hr", "hrs", "hour", "hours")
_unit("time", 86400.0, "days", "day", "days")
_unit("time", 604800.0, "weeks", "week", "weeks")
_TEMPERATURE = {"c": "c", "°c": "c", "celsius": "c", "centigrade": "c", "degrees celsius": "c", "f": "f", "°f": "f",
                "fahrenheit": "f", "degrees fahrenheit": "f", "k": "k", "kelvin": "k", "kelvins": "k"}
_TEMPERATURE_SHOWN = {"c": "°C", "f": "°F", "k": "K"}

_UNIT = r"(?:°\s*[cf]|degrees\s+(?:celsius|fahrenheit)|[a-z]+)"
_AMOUNT = r"(?P<n>-?\d+(?:[.,]\d+)?|an?|one)"
_CONVERSIONS = [
    # "how many metres is 3.5 km", "how many grams are in a kilogram", "how many seconds in an hour"
    _rx(rf"^\s*how\s+many\s+(?P<to>{_UNIT})\s+(?:is|are|in|make|makes|are\s+there\s+in|are\s+in|is\s+there\s+in)\s+"
        rf"(?:there\s+in\s+)?{_AMOUNT}\s*(?P<from>{_UNIT}){_TAIL}"),
    # "convert 3.5 km to metres", "what is 100 °F in celsius", "3.5 km in metres"
    _rx(rf"^\s*{_PLEASE}(?:convert\s+|change\s+|turn\s+|what\s+is\s+|what's\s+|whats\s+)?{_AMOUNT}\s*"
        rf"(?P<from>{_UNIT})\s+(?:in|to|into|in\s+to|as)\s+(?P<to>{_UNIT}){_TAIL}"),
]


def _convert(request: str) -> Calculation | None:
    for pattern in _CONVERSIONS:
        m = pattern.match(request)
        if m is None:
            continue
        amount = 1.0 if m["n"].lower() in ("a", "an", "one") else float(m["n"].replace(",", "."))
        source, target = _unit_name(m["from"]), _unit_name(m["to"])
        if source in _TEMPERATURE and target in _TEMPERATURE:
            a, b = _TEMPERATURE[source], _TEMPERATURE[target]
            if a == b:
                return None
            value = _from_celsius(_to_celsius(amount, a), b)
            shown_from, shown_to = _TEMPERATURE_SHOWN[a], _TEMPERATURE_SHOWN[b]
            return Calculation(f"{show_number(amount)} {shown_from} in {shown_to}", value,
                               f"{show_number(amount)} {shown_from} = {show_number(round(value, 2))} {shown_to}.")
        if source not in _UNITS or target not in _UNITS:
            return None
        (q1, f1, name1), (q2, f2, name2) = _UNITS[source], _UNITS[target]
        if q1 != q2 or f1 == f2:
            return None
        value = amount * f1 / f2
        written = m["from"].strip() if m["n"][:1].isdigit() or m["n"][:1] == "-" else name1.rstrip("s")
        return Calculation(f"{show_number(amount)} {written} in {name2}", value,
                           f"{show_number(amount)} {written} = {show_number(round(value, 6))} {name2}.")
    return None


def _unit_name(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).replace("° ", "°")


def _to_celsius(x: float, unit: str) -> float:
    return {"c": x, "f": (x - 32) * 5 / 9, "k": x - 273.15}[unit]


def _from_celsius(x: float, unit: str) -> float:
    return {"c": x, "f": x * 9 / 5 + 32, "k": x + 273.15}[unit]


_RULES: tuple[Callable[[str], Calculation | None], ...] = (_backwards, _capitals, _letters, _alphabetical, _count,
                                                           _convert)


def solve(request: str) -> Calculation | None:
    """The exact answer when `request` is one of the small tasks above and nothing else, else None."""
    for rule in _RULES:
        found = rule(request)
        if found is not None:
            return found
    return None
