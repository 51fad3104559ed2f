"""What every workload builder shares: the `Workload` being built, case ids, counter-memory documents,
the dev/test split, and writing a workload folder.

A workload folder (written by `python -m evals.workload.build`):

    <name>/corpus/...      the documents to index (`eval workload --corpus`)
    <name>/dev.jsonl       two thirds of the cases, per kind: tune on these
    <name>/test.jsonl      the held-out third: report on these, never tune
    <name>/manifest.json   counts per kind and split, the seed, the model the `known` cases were checked with
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.workload.cases import KINDS, Case, write_cases
from evals.workload.facts import Fact

TEST_SHARE = 1 / 3


@dataclass
class Workload:
    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)  # corpus-relative path -> content
    cases: list[Case] = field(default_factory=list)

    def add(self, c: Case) -> None:
        self.cases.append(c)


def case(kind: str, question: str, answers: Sequence[str], **extra: Any) -> Case:
    """A case without an id yet (ids are given at write time: <workload>-<kind>-<n>)."""
    return Case("", kind, question, tuple(dict.fromkeys(a for a in answers if a)), {k: v for k, v in extra.items()
                                                                                  if v is not None})


FILLERS = ["The notes were collected by volunteers and checked twice.",
           "This sheet is reviewed every year.", "Contact the editor with questions about this page.",
           "Further reading is listed at the end of the volume.", "The page was last updated in the spring."]


def counter_memory_docs(w: Workload, rng: random.Random, known: Sequence[Fact], *, n_conflict: int, n_known: int,
                        style: str, folder: str, exclude: Sequence[str] = ()) -> None:
    """Split the model-known facts between `memory_conflict` cases (a document states the fact wrongly,
    no other document states it) and `known` cases (no document mentions it)."""
    pool = [f for f in known if not any(x.lower() in f.question.lower() for x in exclude)]
    rng.shuffle(pool)
    conflict, plain = pool[:n_conflict], pool[n_conflict:n_conflict + n_known]
    for i, f in enumerate(conflict, start=1):
        statement = f.statement.format(wrong=f.wrong)
        filler = rng.choice(FILLERS)
        if style == "quiz":
            w.files[f"{folder}/quiz-sheet-{i}.md"] = (
                f"# Staff quiz night: answer sheet {i}\n\n## {f.subject}\n\n{statement} {filler}\n")
        elif style == "atlas":
            w.files[f"{folder}/{f.key.replace(':', '-').replace(' ', '_').lower()}.md"] = (
                f"# {f.subject}\n\n{statement} {filler}\n")
        else:  # wiki-like plain text
            w.files[f"{folder}/{f.key.replace(':', '-').replace(' ', '_').lower()}.txt"] = (
                f"{f.subject}\n\n{statement} {filler}\n")
        w.add(case("memory_conflict", f.question, [f.wrong], true_answers=list(f.answers), fact=f.key))
    for f in plain:
        w.add(case("known", f.question, list(f.answers), fact=f.key))


def split(cases: Sequence[Case], rng: random.Random, name: str) -> tuple[list[Case], list[Case]]:
    """Give ids, then hold out a third of each kind as the test split (rounded up)."""
    named: list[Case] = []
    for kind in KINDS:
        of_kind = [c for c in cases if c.kind == kind]
        for n, c in enumerate(of_kind, start=1):
            named.append(Case(f"{name}-{kind}-{n:03d}", c.kind, c.question, c.answers, c.extra))
    dev, test = [], []
    for kind in KINDS:
        of_kind = [c for c in named if c.kind == kind]
        rng.shuffle(of_kind)
        k = -(-len(of_kind) // 3) if of_kind else 0
        test += sorted(of_kind[:k], key=lambda c: c.id)
        dev += sorted(of_kind[k:], key=lambda c: c.id)
    return dev, test


def write(w: Workload, out: Path, seed: int, extra: dict[str, Any]) -> dict[str, Any]:
    folder = out / w.name
    corpus = folder / "corpus"
    for rel, content in sorted(w.files.items()):
        path = corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    dev, test = split(w.cases, random.Random(seed + 1), w.name)
    write_cases(folder / "dev.jsonl", dev)
    write_cases(folder / "test.jsonl", test)
    manifest = {
        "workload": w.name, "seed": seed, "documents": len(w.files), "cases": len(dev) + len(test),
        "by_kind": {k: {"dev": sum(c.kind == k for c in dev), "test": sum(c.kind == k for c in test)}
                    for k in KINDS},
        **extra,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest
