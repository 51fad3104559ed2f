"""Labelled cases for the knowledge-conflict benchmark (`adaptrag eval conflicts`, evals/conflict_runner.py).

Built the way Xie et al. (2023, "Adaptive Chameleon or Stubborn Sloth") build counter-memory, from facts
the model answers correctly closed-book:

- (a) memory_vs_documents: the real passage with every answer alias replaced by another answer of the
  same relation (another question of the same template: "In what city was X born?" -> another city);
- (b) none: the real passage, which contains the answer;
- (c) between_documents: the real and the counter passage together.

Sources: PopQA-style JSONL (only questions whose passage contains an answer alias), `countryinfo` facts
(capitals, continents, and yes/no questions "Is Paris the capital of France?"), or a case file
(`load_cases`). A fact's cases share a group, and the group's hash puts them in the "dev" or "test" half.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.metrics import alias_match
from rag import answer_match
from rag.types import Passage

LABELS = ("none", "memory_vs_documents", "between_documents")


class CaseError(ValueError):
    """A case file line is malformed; the message names the file, line and what to fix."""


@dataclass(frozen=True)
class Fact:
    """A question with its true answer, a passage stating it and a counter-memory passage."""

    question: str
    aliases: tuple[str, ...]  # true answer(s); ("yes",) / ("no",) for yes/no questions
    passage: str
    counter_passage: str
    counter_answer: str
    source: str  # "popqa" | "countryinfo" | "countryinfo-yesno"


@dataclass(frozen=True)
class Case:
    question: str
    passages: tuple[str, ...]
    label: str
    aliases: tuple[str, ...] = ()  # true answer, for accuracy; () for external cases
    source: str = "file"
    group: str = ""  # cases of one fact share a group (and a split)


def split_of(group: str) -> str:
    return "dev" if int(hashlib.sha256(f"conflicts:{group}".encode()).hexdigest()[:8], 16) % 2 == 0 else "test"


# ---- case sources ------------------------------------------------------------------------------

# PopQA relation templates: the question minus its subject. Another answer of the same template is a
# plausible counter-answer of the same type (a city for a city, an occupation for an occupation).
POPQA_TEMPLATES = [
    r"^What is (.+)'s occupation\?$", r"^In what city was (.+) born\?$", r"^What genre is (.+)\?$",
    r"^Who was the director of (.+)\?$", r"^Who was the producer of (.+)\?$", r"^In what country is (.+)\?$",
    r"^Who was the composer of (.+)\?$", r"^What is the capital of (.+)\?$", r"^What sport does (.+) play\?$",
    r"^Who is the author of (.+)\?$", r"^What is the religion of (.+)\?$", r"^Who is the mother of (.+)\?$",
    r"^Who is the father of (.+)\?$", r"^Who was the screenwriter for (.+)\?$", r"^What color is (.+)\?$",
]


def template_of(question: str) -> str | None:
    return next((t for t in POPQA_TEMPLATES if re.match(t, question)), None)


def replace_aliases(text: str, aliases: Sequence[str], new: str) -> str:
    """Replace every alias (case-insensitive, whole words, longest first) by `new`."""
    for alias in sorted({a for a in aliases if a.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(alias)}(?!\w)", new, text, flags=re.IGNORECASE)
    return text


def popqa_facts(path: Path) -> list[Fact]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise CaseError(f"{path}:{n}: not JSON ({e}); expected PopQA lines with question, answers, passage")
    by_template: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if {"question", "answers", "passage"} - set(row):
            raise CaseError(f"{path}: rows need question, answers and passage fields (PopQA JSONL)")
        row.setdefault("s_pop", 0.0)
        tpl = template_of(row["question"])
        if tpl:
            by_template[tpl].append(row)
    facts = []
    for group in by_template.values():
        for i, row in enumerate(group):
            aliases = tuple(row["answers"])
            if not alias_match(row["passage"], aliases):
                continue
            counter = _counter_answer(row["question"], aliases, [r["answers"][0] for r in group])
            if counter is None:
                continue
            facts.append(Fact(row["question"], aliases, row["passage"],
                              replace_aliases(row["passage"], aliases, counter), counter, "popqa"))
    # Most popular subjects first: a small model knows the head of the distribution, not the tail.
    pop = {row["question"]: float(row["s_pop"] or 0.0) for row in rows}
    return sorted(facts, key=lambda f: -pop[f.question])


def _counter_answer(key: str, aliases: Sequence[str], pool: Sequence[str]) -> str | None:
    """A deterministic answer from `pool` that is none of `aliases` (and not contained in them)."""
    norm = {answer_match.normalize(a) for a in aliases}
    start = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    for k in range(len(pool)):
        cand = pool[(start + k) % len(pool)]
        c = answer_match.normalize(cand)
        if c and c not in norm and not any(c in a or a in c for a in norm):
            return cand
    return None


def countryinfo_facts() -> list[Fact]:
    """Capital, continent, official language and currency facts, most populous countries first (small
    models know those), plus yes/no capital questions ("Is Paris the capital of France?")."""
    try:
        import pycountry
        from countryinfo import all_countries
    except ImportError:
        raise CaseError("countryinfo/pycountry are not installed: pip install 'adaptrag[eval]' "
                        "(or --no-countryinfo)") from None
    rows = []
    for c in all_countries():
        try:
            name, capital, region, sub = c.name(), c.capital(), c.region(), c.subregion()
            pop = c.population() or 0
            capital = capital[0] if isinstance(capital, list) and capital else capital
            langs = [getattr(pycountry.languages.get(alpha_2=code), "name", None) for code in c.languages() or []]
            money = [getattr(pycountry.currencies.get(alpha_3=code), "name", None) for code in c.currencies() or []]
        except Exception:  # noqa: BLE001, S112 - countryinfo raises on incomplete entries
            continue
        if name and capital and region and sub:
            rows.append((pop, name, capital, region, sub, [x for x in langs if x], [x for x in money if x]))
    rows.sort(key=lambda r: -r[0])
    pools = {"capital": [r[2] for r in rows], "region": sorted({r[3] for r in rows}),
             "language": sorted({x for r in rows for x in r[5]}), "currency": sorted({x for r in rows for x in r[6]})}
    facts = []

    def add(question: str, aliases: Sequence[str], text: str, relation: str, source: str = "countryinfo") -> None:
        other = _counter_answer(question, aliases, pools[relation])
        if other:
            facts.append(Fact(question, tuple(aliases), text, replace_aliases(text, aliases, other), other, source))

    for _, name, capital, region, sub, langs, money in rows:
        add(f"What is the capital of {name}?", [capital],
            f"{name} is a country in {sub}. Its capital and largest administrative centre is {capital}, "
            f"where the national government sits.", "capital")
        # "Americas" must be among the aliases replaced: "America" alone left "continent of Americas" in the
        # counter passage, so its memory and between-documents cases held no conflict at all
        add(f"On which continent is {name}?", [region, "America"] if region == "Americas" else [region],
            f"{name} is a country on the continent of {region}. Its capital is {capital}.", "region")
        if langs:
            add(f"What is the official language of {name}?", langs,
                f"The official language of {name}, a country in {sub}, is {langs[0]}.", "language")
        if money:
            add(f"What is the currency of {name}?", money,
                f"The currency of {name} is the {money[0]}, issued by its central bank.", "currency")
        text = f"{name} is a country in {sub}. Its capital and largest administrative centre is {capital}."
        other = _counter_answer(name, [capital], pools["capital"])
        if other:
            facts.append(Fact(f"Is {capital} the capital of {name}?", ("yes",), text,
                              replace_aliases(text, [capital], other), "no", "countryinfo-yesno"))
    return facts


def interleave(*sources: Sequence[Fact]) -> list[Fact]:
    """Round-robin over sources so a --limit run mixes them."""
    out: list[Fact] = []
    for i in range(max((len(s) for s in sources), default=0)):
        out.extend(s[i] for s in sources if i < len(s))
    return out


def cases_of(fact: Fact) -> list[Case]:
    group = fact.question
    return [
        Case(fact.question, (fact.counter_passage,), "memory_vs_documents", fact.aliases, fact.source, group),
        Case(fact.question, (fact.passage,), "none", fact.aliases, fact.source, group),
        Case(fact.question, (fact.passage, fact.counter_passage), "between_documents", fact.aliases, fact.source,
             group),
    ]


def load_cases(path: Path) -> list[Case]:
    """Parse a --cases JSONL file, failing with file:line and what to fix."""
    if not path.exists():
        raise CaseError(f"cases file {path} does not exist")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise CaseError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row["question"].strip():
            raise CaseError(f"{path}:{n}: needs a non-empty \"question\" string")
        ps = row.get("passages")
        if not isinstance(ps, list) or not ps or not all(isinstance(p, str) for p in ps):
            raise CaseError(f"{path}:{n}: \"passages\" must be a non-empty list of strings")
        if row.get("label") not in LABELS:
            raise CaseError(f"{path}:{n}: \"label\" must be one of {', '.join(LABELS)}; got {row.get('label')!r}")
        aliases = row.get("answers") or row.get("aliases") or []  # optional: true answers, for answer accuracy
        cases.append(Case(row["question"], tuple(ps), row["label"], tuple(map(str, aliases)),
                          str(row.get("source", "file")), str(row.get("group", f"{path}:{n}"))))
    if not cases:
        raise CaseError(f"cases file {path} has no cases")
    return cases


def as_passages(texts: Sequence[str], prefix: str) -> list[Passage]:
    """A case's passages, each its own document (two chunks of one document never conflict between documents)."""
    return [Passage(id=f"{prefix}-p{i}", source=f"{prefix}-p{i}", title="", text=t, start=0, end=len(t), score=1.0)
            for i, t in enumerate(texts, 1)]
