"""Exact arithmetic for a request that is only a sum: "What is 58 - 11?", "Add 21 and 4.", "What is 6 times 5?".

SmolLM2-135M gets most of these wrong and sounds sure of it: "58 - 11 = 45", "What is 51 - 44?" -> "The answer is
51.", "28 + 25 = 52." (7 of the 10 sums of the workload test split). Neither the documents nor the model's memory
are the right source for them; a calculator is. The request must be the arithmetic and nothing else (two numbers,
one operation, a few framing words), so "How many days of annual leave do staff get?" or "What is 6 times the
population of Kenya?" are never taken for sums.

    calculate("What is 58 - 11?")      # -> Calculation("58 - 11", 47.0, "58 - 11 = 47.")
    calculate("Who wrote Dracula?")    # -> None
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_NUMBER = r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?"
_OPS: dict[str, tuple[str, Callable[[float, float], float]]] = {
    "+": ("+", operator.add), "plus": ("+", operator.add),
    "-": ("-", operator.sub), "−": ("-", operator.sub), "minus": ("-", operator.sub),
    "*": ("×", operator.mul), "x": ("×", operator.mul), "×": ("×", operator.mul), "times": ("×", operator.mul),
    "multiplied by": ("×", operator.mul),
    "/": ("÷", operator.truediv), "÷": ("÷", operator.truediv), "divided by": ("÷", operator.truediv),
    "over": ("÷", operator.truediv),
}
_INFIX = "|".join(sorted((re.escape(k) for k in _OPS), key=len, reverse=True))
_ASK = r"(?:(?:what|how much)\s+(?:is|are|'s|does|do)|what's|calculate|compute|work out|solve|tell me)?"
_END = r"\s*(?:equal|equals|make|come to|give)?\s*(?:please)?\s*[?.!=]*\s*"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# (pattern, how its two numbers map to (left, operator word, right))
_FORMS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, str, str]]]] = [
    (_rx(rf"^\s*{_ASK}\s*(?P<a>{_NUMBER})\s*(?P<op>{_INFIX})\s*(?P<b>{_NUMBER}){_END}$"),
     lambda m: (m["a"], m["op"], m["b"])),
    (_rx(rf"^\s*(?:please\s+)?add\s+(?P<a>{_NUMBER})\s+(?:and|to|plus)\s+(?P<b>{_NUMBER}){_END}$"),
     lambda m: (m["a"], "+", m["b"])),
    (_rx(rf"^\s*(?:please\s+)?subtract\s+(?P<b>{_NUMBER})\s+from\s+(?P<a>{_NUMBER}){_END}$"),
     lambda m: (m["a"], "-", m["b"])),
    (_rx(rf"^\s*(?:please\s+)?multiply\s+(?P<a>{_NUMBER})\s+(?:by|and|with)\s+(?P<b>{_NUMBER}){_END}$"),
     lambda m: (m["a"], "*", m["b"])),
    (_rx(rf"^\s*(?:please\s+)?divide\s+(?P<a>{_NUMBER})\s+by\s+(?P<b>{_NUMBER}){_END}$"),
     lambda m: (m["a"], "/", m["b"])),
    (_rx(rf"^\s*{_ASK}\s*the\s+(?P<op>sum|difference|product|quotient)\s+(?:of|between)\s+(?P<a>{_NUMBER})"
                rf"\s+and\s+(?P<b>{_NUMBER}){_END}$"),
     lambda m: (m["a"], {"sum": "+", "difference": "-", "product": "*", "quotient": "/"}[m["op"].lower()], m["b"])),
]


@dataclass(frozen=True)
class Calculation:
    expression: str  # "58 - 11"
    value: float | None  # None: undefined (division by zero)
    text: str  # the answer a user reads: "58 - 11 = 47."


def calculate(request: str) -> Calculation | None:
    """The exact result when `request` is two numbers and one operation, else None."""
    for pattern, parts in _FORMS:
        m = pattern.match(request)
        if m is None:
            continue
        left, word, right = parts(m)
        sign, op = _OPS[word.lower()]
        a, b = _number(left), _number(right)
        expression = f"{show_number(a)} {sign} {show_number(b)}"
        if op is operator.truediv and b == 0:
            return Calculation(expression, None, f"{expression} is undefined: a number cannot be divided by zero.")
        value = op(a, b)
        return Calculation(expression, value, f"{expression} = {show_number(value)}.")
    return None


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def show_number(x: float) -> str:
    """12.0 -> "12", 0.3333333333 -> "0.333333", 1234567.0 -> "1234567"."""
    if math.isfinite(x) and float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6f}".rstrip("0").rstrip(".")
