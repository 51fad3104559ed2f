"""Workload 1: fictional organisations, places and people, several documents each.

Names come from random syllables (seeded), so no model can know any fact asked about them. Each
organisation has a profile (md), a staff handbook (txt) that also describes one project, mentions in
newsletters (html) and a directory (jsonl); some have a press kit (pdf) that disagrees with the profile.

Kinds: `document` (a project, described in one document only), `no_conflict` (organisation facts: the
profile states them, the newsletters and directory are silent or agree), `document_conflict` (profile vs
press kit), `unanswerable` (attributes no document states, organisations no document names),
`memory_conflict` (staff quiz sheets that state common knowledge wrongly), `known`, `self_contained`.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from evals.workload.facts import Fact, self_contained
from evals.workload.pdf import pdf_bytes
from evals.workload.shared import Workload, case, counter_memory_docs

FIRST = ["Alma", "Bram", "Cora", "Dario", "Edda", "Falk", "Greta", "Hollis", "Ines", "Joren", "Kasia", "Lio",
         "Mira", "Nils", "Orla", "Pavel", "Quinn", "Rhea", "Sten", "Tove", "Ulla", "Vero", "Wim", "Ysolde"]
HEAD = ["Hal", "Dun", "Bre", "Kor", "Vel", "Ast", "Mar", "Tor", "Quen", "Ish", "Lom", "Rav", "Sel", "Pry", "Gal",
        "Ober", "Wyn", "Cal", "Fen", "Zar", "Orm", "Tarn", "Eld", "Gris"]
TAIL = ["vern", "mere", "wick", "dale", "holt", "ford", "stead", "brook", "moor", "thorne", "gate", "ley", "ton",
        "worth", "by", "mouth", "ridge", "field", "hallow", "combe"]
ORG_KIND = {"Works": "metal works", "Labs": "research laboratory", "Textiles": "textile mill",
            "Foundry": "foundry", "Analytics": "data analytics firm", "Brewery": "brewery",
            "Cooperative": "farming cooperative", "Instruments": "instrument maker"}
PRODUCTS = ["lantern", "loom", "valve", "compass", "kettle", "sensor", "barometer", "plough", "cider", "sealant",
            "telescope", "bicycle frame", "water filter", "tide clock"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
UNSTATED = [  # attributes no document states
    ("What is the staff wifi password at {org}?", "wifi password"),
    ("What is the name of the office cat at {org}?", "office cat"),
    ("How many parking spaces does {org} have?", "parking spaces"),
    ("What is the birthday of the chief executive of {org}?", "chief executive's birthday"),
    ("Which bank does {org} use?", "bank"),
]


@dataclass
class Org:
    name: str
    slug: str
    kind: str
    town: str
    founded: int
    founder: str
    ceo: str
    product: str
    employees: int
    leave: int
    opens: str
    extension: str
    project: str
    lead: str
    deadline: str
    budget: int


class Names:
    """Unique random names (seeded)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self) -> str:
        while True:
            w = self.rng.choice(HEAD) + self.rng.choice(TAIL)
            if w not in self.used:
                self.used.add(w)
                return w

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.word()}"


def profile(o: Org) -> str:
    """An organisation's profile page (Markdown); evals/distractors.py writes look-alikes of it."""
    return (f"# {o.name}\n\n## About\n\n{o.name} is a {o.kind} based in the town of {o.town}. It was founded in "
            f"{o.founded} by {o.founder}.\n\n## Products\n\nIts best-known product is the {o.product}, sold to "
            f"customers across the region.\n\n## People\n\nThe chief executive of {o.name} is {o.ceo}. The company "
            f"employs about {o.employees} people.\n")


def handbook(o: Org) -> str:
    """An organisation's staff handbook (plain text), which also describes its one project."""
    return (f"{o.name} staff handbook\n\nWorking hours. The {o.name} office opens at {o.opens} on weekdays. "
            f"Staff of {o.name} receive {o.leave} days of annual leave each year.\n\nHelp. The {o.name} support "
            f"desk can be reached on extension {o.extension}.\n\nProjects. Project {o.project} is led by {o.lead}. "
            f"Its budget is {o.budget} thousand crowns and its deadline is {o.deadline}.\n")


def make_org(rng: random.Random, names: Names) -> Org:
    suffix = rng.choice(sorted(ORG_KIND))
    name = f"{names.word()} {suffix}"
    return Org(
        name=name, slug=name.lower().replace(" ", "-"), kind=ORG_KIND[suffix], town=names.word(),
        founded=rng.randint(1890, 2015), founder=names.person(), ceo=names.person(), product=rng.choice(PRODUCTS),
        employees=rng.randint(12, 900), leave=rng.randint(20, 35), opens=f"{rng.randint(6, 9)}:{rng.choice(['00', '30'])}",
        extension=str(rng.randint(2000, 8999)), project=names.word(), lead=names.person(),
        deadline=f"{rng.choice(MONTHS)} {rng.randint(2027, 2031)}", budget=rng.randint(40, 900),
    )


def build(rng: random.Random, known: Sequence[Fact], n_orgs: int = 14) -> Workload:
    names = Names(rng)
    orgs = [make_org(rng, names) for _ in range(n_orgs)]
    w = Workload("fictional")
    conflicted = {o.slug: rng.choice(["founded", "ceo", "town"]) for o in orgs[: n_orgs // 2 + 1]}
    for o in orgs:
        w.files[f"orgs/{o.slug}-profile.md"] = profile(o)
        w.files[f"orgs/{o.slug}-handbook.txt"] = handbook(o)
        other = conflicted.get(o.slug)
        if other:
            alt = {"founded": f"founded in {o.founded + rng.randint(3, 30)}", "ceo": f"led by chief executive "
                   f"{names.person()}", "town": f"based in the town of {names.word()}"}[other]
            w.files[f"press/{o.slug}-press-kit.pdf"] = pdf_bytes(
                f"{o.name} press kit", [f"About us. {o.name} is a {o.kind}, {alt}.",
                                        f"Media enquiries about {o.name} go to the communications team."])
    # newsletters: each mentions a few organisations without stating the facts asked about them
    events = ["ran the charity race in {town}", "hosted the spring open day", "won the regional safety award",
              "sponsored the river clean-up", "welcomed twelve apprentices", "repainted its front gate"]
    for k in range(4):
        items = "".join(f"<li>Staff from {html.escape(o.name)} {html.escape(rng.choice(events).format(town=names.word()))}."
                        "</li>\n" for o in orgs[k::4])
        w.files[f"news/newsletter-{k + 1}.html"] = (
            f"<!DOCTYPE html><html><head><title>Valley business newsletter {k + 1}</title></head><body>"
            f"<h1>Valley business newsletter, issue {k + 1}</h1>\n<h2>Member news</h2>\n<ul>\n{items}</ul>\n"
            "<p>Send your news to the editor before the end of the month.</p></body></html>\n")
    w.files["directory.jsonl"] = "".join(
        json.dumps({"id": o.slug, "title": o.name, "text": f"{o.name}: a {o.kind}. Member of the valley business "
                    "association since it joined the register."}) + "\n" for o in orgs)

    for o in orgs:
        w.add(case("document", f"Who leads Project {o.project}?", [o.lead, o.lead.split()[-1]], subject=o.project))
        w.add(case("document", rng.choice([f"What is the deadline of Project {o.project}?",
                                           f"When is Project {o.project} due?"]), [o.deadline], subject=o.project))
        other = conflicted.get(o.slug)
        asks = {
            "town": (rng.choice([f"In which town is {o.name} based?", f"Where is {o.name} located?"]), [o.town]),
            "ceo": (f"Who is the chief executive of {o.name}?", [o.ceo, o.ceo.split()[-1]]),
            "founded": (f"In what year was {o.name} founded?", [str(o.founded)]),
        }
        for attr, (q, a) in asks.items():
            if attr == other:
                w.add(case("document_conflict", q, a, subject=o.name))
        free = [attr for attr in asks if attr != other]
        for attr in rng.sample(free, 1):
            w.add(case("no_conflict", asks[attr][0], asks[attr][1], subject=o.name))
        extra = rng.choice([(f"How many days of annual leave do staff at {o.name} get?", [str(o.leave)]),
                            (f"What extension reaches the {o.name} support desk?", [o.extension]),
                            (f"What is the best-known product of {o.name}?", [o.product])])
        w.add(case("no_conflict", extra[0], extra[1], subject=o.name))
    for o in rng.sample(orgs, 10):
        q, what = rng.choice(UNSTATED)
        w.add(case("unanswerable", q.format(org=o.name), [], subject=o.name, note=f"no document states its {what}"))
    for _ in range(10):
        ghost = f"{names.word()} {rng.choice(sorted(ORG_KIND))}"
        q = rng.choice(["In which town is {org} based?", "Who founded {org}?", "Who is the chief executive of {org}?"])
        w.add(case("unanswerable", q.format(org=ghost), [], subject=ghost, note="no document names it"))
    for q, a, task in self_contained(rng, 20):
        w.add(case("self_contained", q, list(a), task=task))
    counter_memory_docs(w, rng, known, n_conflict=8, n_known=10, style="quiz", folder="social")
    return w
