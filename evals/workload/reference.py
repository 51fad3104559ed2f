"""Workload 2: reference sheets like the sample corpus, in md, html, txt, jsonl and pdf.

Country sheets from the `countryinfo` and `pycountry` packages (real facts; the sample corpus's own
writer, indexing/sample_corpus.py). Regional overviews name several countries without their codes
(`no_conflict`); old editions state another country's calling code (`document_conflict`); one-page
"at a glance" sheets state a capital or a fact wrongly (`memory_conflict`); questions about invented
countries or unrecorded years are `unanswerable`.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Sequence

from evals.workload.facts import Fact, self_contained
from evals.workload.fiction import Names
from evals.workload.pdf import pdf_bytes
from evals.workload.shared import Workload, case, counter_memory_docs
from indexing.sample_corpus import facts as country_facts
from indexing.sample_corpus import paragraphs

COUNTRIES = ["Kenya", "Peru", "Norway", "Chile", "Finland", "Morocco", "Vietnam", "Portugal", "Poland", "Ireland",
             "Argentina", "Nigeria", "Sweden", "Austria", "Hungary", "Colombia", "Malaysia", "New Zealand"]
FORMATS = ["md", "html", "txt", "jsonl", "pdf"]
REGIONS = {"Nordic countries": ["Norway", "Finland", "Sweden"],
           "South America": ["Peru", "Chile", "Argentina", "Colombia"],
           "Central Europe": ["Poland", "Austria", "Hungary"]}


def _questions(f: dict, rng: random.Random) -> dict[str, tuple[str, list[str]]]:
    n = f["name"]
    calling = f["calling"][0] if f["calling"] else ""
    currency = f["currencies"][0] if f["currencies"] else ""
    cur_name, _, code = currency.partition(" (")
    return {
        "calling": (rng.choice([f"What is the international calling code of {n}?",
                                f"Which telephone calling code does {n} use?"]), [f"+{calling}", calling]),
        "tld": (f"What is the internet country domain of {n}?", list(f["tld"])),
        "currency": (rng.choice([f"What currency is used in {n}?", f"What is the currency of {n}?"]),
                     [cur_name, code.rstrip(")")]),
        "demonym": (f"What are people from {n} called?", [f["demonym"]]),
        "area": (f"How large is the area of {n} in square kilometres?", [f"{f['area']:,}", str(f["area"])]),
        "timezone": (f"Which time zone does {n} use?", list(f["timezones"][:1])),
    }


def sheet(name: str, f: dict, fmt: str) -> tuple[str, str | bytes]:
    """A country's reference sheet in one format: (corpus-relative path, content); evals/distractors.py reuses it."""
    paras = paragraphs(f)
    slug = name.lower().replace(" ", "_")
    if fmt == "md":
        return f"sheets/{slug}.md", f"# {name}\n\n" + "\n\n".join(f"## {t}\n\n{p}" for t, p in paras.items()) + "\n"
    if fmt == "html":
        body = "".join(f"<h2>{html.escape(t)}</h2>\n<p>{html.escape(p)}</p>\n" for t, p in paras.items())
        return f"sheets/{slug}.html", (f"<!DOCTYPE html><html><head><title>{name}</title></head><body><h1>{name}</h1>"
                                       f"\n{body}</body></html>\n")
    if fmt == "txt":
        return f"sheets/{slug}.txt", f"{name}\n\n" + "\n\n".join(paras.values()) + "\n"
    if fmt == "pdf":
        return f"sheets/{slug}.pdf", pdf_bytes(f"{name}: country reference sheet", list(paras.values()))
    return f"sheets/{slug}.jsonl", json.dumps({"id": slug, "title": name, "source": f"countryinfo:{name}",
                                               "text": " ".join(paras.values())}, ensure_ascii=False) + "\n"


def build(rng: random.Random, known: Sequence[Fact]) -> Workload:
    w = Workload("reference")
    names = Names(rng)
    data = {c: country_facts(c) for c in COUNTRIES}
    for i, c in enumerate(COUNTRIES):
        path, content = sheet(c, data[c], FORMATS[i % len(FORMATS)])
        w.files[path] = content
    in_region = {c for members in REGIONS.values() for c in members}
    for region, members in REGIONS.items():
        lines = [f"{m} is part of the {region} group; its capital is {data[m]['capital']}." for m in members]
        w.files[f"overviews/{region.lower().replace(' ', '_')}.md"] = (
            f"# {region}: an overview\n\n## Members\n\n" + " ".join(lines) + "\n\n## Trade\n\n"
            f"The {region} countries trade with each other and with the rest of the world.\n")
    conflicted = rng.sample(COUNTRIES, 6)
    for c in conflicted:
        donor = rng.choice([d for d in COUNTRIES if d != c and data[d]["calling"] != data[c]["calling"]])
        old = dict(data[c], calling=data[donor]["calling"])
        p = paragraphs(old)
        w.files[f"archive/{c.lower().replace(' ', '_')}_1998_edition.txt"] = (
            f"{c} (1998 edition)\n\n{p['Overview']}\n\n{p['Codes and time']}\n")
    for c in COUNTRIES:
        qs = _questions(data[c], rng)
        if c in conflicted:
            w.add(case("document_conflict", qs["calling"][0], qs["calling"][1], subject=c))
            attrs = [a for a in qs if a != "calling"]
        else:
            attrs = list(qs)
        kind = "no_conflict" if c in in_region else "document"
        for a in rng.sample(attrs, 2):
            w.add(case(kind, qs[a][0], qs[a][1], subject=c, attribute=a))
    for _ in range(8):
        ghost = names.word() + rng.choice(["ia", "land", "stan", "ovia"])
        q = rng.choice(["What is the international calling code of {c}?", "What currency is used in {c}?",
                        "What is the capital of {c}?", "What is the internet country domain of {c}?"])
        w.add(case("unanswerable", q.format(c=ghost), [], subject=ghost, note="an invented country"))
    for c in rng.sample(COUNTRIES, 8):
        year = rng.randint(1600, 1760)
        q = rng.choice([f"What was the population of {c} in {year}?", f"How many bakeries were there in {c} in {year}?"])
        w.add(case("unanswerable", q, [], subject=c, note="no document or record gives it"))
    for q, a, task in self_contained(rng, 16):
        w.add(case("self_contained", q, list(a), task=task))
    counter_memory_docs(w, rng, known, n_conflict=8, n_known=10, style="atlas", folder="glance",
                        exclude=COUNTRIES)
    return w
