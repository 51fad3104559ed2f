"""Workload cases and the success rule of each kind (the `eval workload` benchmark's contract).

A cases file is JSON lines, one case per line:

    {"id": "fic-0007", "kind": "document", "question": "In which town is Halvern Works based?", "answers": ["Dunmere"]}

Kinds and success (an alias matches when it is a case-insensitive substring of the answer):

| kind              | what it is                                              | success                                       |
|-------------------|---------------------------------------------------------|-----------------------------------------------|
| document          | the fact is only in the corpus (private or fictional)   | alias in answer, not flagged, not abstained   |
| no_conflict       | several documents on the subject; one states the fact   | same as document                              |
| known             | common knowledge the model answers closed-book          | same as document                              |
| self_contained    | arithmetic, word tasks, greetings, thanks               | alias in answer (any non-empty answer when    |
|                   |                                                         | `answers` is empty), not flagged/abstained    |
| unanswerable      | neither the corpus nor the model can answer             | abstained                                     |
| memory_conflict   | a document contradicts common knowledge                 | flagged, kind memory_vs_documents             |
| document_conflict | two documents disagree                                  | flagged, kind between_documents               |

Extra keys on a line (e.g. `source`, `note`) are kept and ignored by the rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.metrics import alias_match

KINDS = ("document", "no_conflict", "known", "self_contained", "unanswerable", "memory_conflict",
         "document_conflict")
# Kinds whose answers should carry no conflict banner (the false-flag rate's denominator).
NO_FLAG_KINDS = ("document", "no_conflict", "known", "self_contained")
# Kinds that should be answered, not declined (the false-abstention rate's denominator).
ANSWER_KINDS = ("document", "no_conflict", "known")
CONFLICT_KINDS = {"memory_conflict": "memory_vs_documents", "document_conflict": "between_documents"}
REQUIRED = ("id", "kind", "question", "answers")


class WorkloadError(ValueError):
    """A user-fixable problem with a workload file or folder; the message names it and what to do."""

    user_error = True  # rag.cli prints it as one line


@dataclass(frozen=True)
class Case:
    """One question of a workload."""

    id: str
    kind: str  # one of KINDS
    question: str
    answers: tuple[str, ...]  # accepted aliases; empty for free-form self_contained requests
    extra: Mapping[str, Any] = field(default_factory=dict)  # any other keys of the line

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "question": self.question, "answers": list(self.answers),
                **dict(self.extra)}


def parse_case(line: str, where: str) -> Case:
    """One JSONL line -> Case; `where` ("cases.jsonl:12") prefixes every error."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise WorkloadError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(row, dict):
        raise WorkloadError(f"{where}: expected a JSON object with {', '.join(REQUIRED)}, got {type(row).__name__}")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise WorkloadError(f"{where}: missing field(s) {', '.join(missing)} (a case needs {', '.join(REQUIRED)})")
    if row["kind"] not in KINDS:
        raise WorkloadError(f"{where}: unknown kind {row['kind']!r}; allowed: {', '.join(KINDS)}")
    if not isinstance(row["id"], str) or not row["id"].strip():
        raise WorkloadError(f"{where}: id must be a non-empty string, got {row['id']!r}")
    if not isinstance(row["question"], str) or not row["question"].strip():
        raise WorkloadError(f"{where}: question must be a non-empty string")
    answers = row["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise WorkloadError(f"{where}: answers must be a list of strings, got {answers!r}")
    if not answers and row["kind"] in (*ANSWER_KINDS,):
        raise WorkloadError(f"{where}: a {row['kind']} case needs at least one answer alias")
    extra = {k: v for k, v in row.items() if k not in REQUIRED}
    return Case(row["id"], row["kind"], row["question"].strip(), tuple(answers), extra)


def load_cases(path: str | Path) -> list[Case]:
    """Read a cases file; a bad line stops with its line number and what is wrong; ids must be unique."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkloadError(f"cases file {file} does not exist; build the workloads with "
                            "`python -m evals.workload.build --out DIR`") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as e:
        raise WorkloadError(f"cases file {file} cannot be read as UTF-8 JSON lines ({e})") from None
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        case = parse_case(line, f"{file}:{n}")
        if case.id in seen:
            raise WorkloadError(f"{file}:{n}: id {case.id!r} repeats line {seen[case.id]}")
        seen[case.id] = n
        cases.append(case)
    if not cases:
        raise WorkloadError(f"cases file {file} holds no cases")
    return cases


def write_cases(path: str | Path, cases: Iterable[Case]) -> None:
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(json.dumps(c.to_json(), ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")


def succeeded(kind: str, answers: Sequence[str], answer: str, *, flagged: bool, conflict_kind: str | None,
              abstained: bool) -> bool:
    """The success rule of `kind` for one answer (see the module docstring)."""
    if kind in ANSWER_KINDS:
        return alias_match(answer, answers) and not flagged and not abstained
    if kind == "self_contained":
        hit = alias_match(answer, answers) if answers else bool(answer.strip())
        return hit and not flagged and not abstained
    if kind == "unanswerable":
        return abstained
    if kind in CONFLICT_KINDS:
        return flagged and conflict_kind == CONFLICT_KINDS[kind]
    raise WorkloadError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
