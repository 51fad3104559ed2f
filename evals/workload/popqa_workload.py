"""Workload 3: PopQA passages with their questions (the eval half only: the router trained on the other).

The corpus is the Contriever top-1 passages of the chosen `document` questions (each passage contains an
answer alias), plus, for `document_conflict`, a second copy of a passage whose answer was replaced by the
answer of another question of the same relation. `known`, `unanswerable` and `memory_conflict` questions are
picked by the default model's own closed-book answers (build.py's known check): known = answered right
closed-book, passage not in the corpus; unanswerable = answered wrong closed-book, passage not in the
corpus; memory_conflict = answered right closed-book, and the corpus holds only a counterfactual copy of the
passage. This folder is derived from ../shared/data and is written outside the repository.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence

from evals.data import QAExample, load_qa, popqa_split
from evals.workload.facts import Fact, self_contained
from evals.workload.shared import Workload, case, counter_memory_docs

RELATION_WORDS = 3  # questions sharing their first words share a relation ("What is X's occupation?" ...)


def relation(question: str) -> str:
    """A crude relation key: the question with its subject removed (first words + last word)."""
    words = question.split()
    return " ".join(words[:RELATION_WORDS] + words[-1:])


def answerable(ex: QAExample) -> bool:
    text = ex.passages[0].lower() if ex.passages else ""
    return any(a.lower() in text for a in ex.answers if len(a) > 2)


def substitute(passage: str, answers: Sequence[str], replacement: str) -> str | None:
    """The passage with every answer alias replaced by `replacement`; None when no alias occurs."""
    out, hit = passage, False
    for a in sorted(answers, key=len, reverse=True):
        if len(a) > 2 and re.search(re.escape(a), out, flags=re.IGNORECASE):
            out = re.sub(re.escape(a), replacement, out, flags=re.IGNORECASE)
            hit = True
    return out if hit else None


def candidates(data_file: str, rng: random.Random, n: int = 260) -> list[QAExample]:
    """Eval-half questions with a passage, in a seeded random order."""
    pool = [ex for ex in load_qa(data_file) if popqa_split(ex.id) == "eval" and ex.passages]
    rng.shuffle(pool)
    return pool[:n]


def build(rng: random.Random, pool: Sequence[QAExample], knows: Callable[[str, Sequence[str]], bool],
          general: Sequence[Fact]) -> Workload:
    """`knows(question, answers)`: the model's recorded closed-book check for one question."""
    w = Workload("popqa")
    right = [ex for ex in pool if knows(ex.question, ex.answers)]
    wrong = [ex for ex in pool if not knows(ex.question, ex.answers)]
    docs = [ex for ex in wrong if answerable(ex)]
    by_relation: dict[str, list[QAExample]] = {}
    for ex in pool:
        by_relation.setdefault(relation(ex.question), []).append(ex)

    def passage_line(doc_id: str, title: str, text: str) -> str:
        return json.dumps({"id": doc_id, "title": title, "text": text}, ensure_ascii=False) + "\n"

    lines: list[str] = []
    used: set[str] = set()
    for ex in docs[:40]:
        used.add(ex.id)
        lines.append(passage_line(ex.id, ex.passages[0].split(" ")[0], ex.passages[0]))
        w.add(case("document", ex.question, ex.answers, popqa_id=ex.id, s_pop=ex.s_pop))
    conflicts = 0
    for ex in docs[40:]:
        if conflicts >= 14:
            break
        others = [o for o in by_relation.get(relation(ex.question), []) if o.id != ex.id
                  and not any(a.lower() in " ".join(ex.answers).lower() for a in o.answers)]
        if not others:
            continue
        alt = rng.choice(others).answers[0]
        changed = substitute(ex.passages[0], ex.answers, alt)
        if changed is None:
            continue
        used.add(ex.id)
        lines.append(passage_line(ex.id, "", ex.passages[0]))
        lines.append(passage_line(f"{ex.id}-b", "", changed))
        w.add(case("document_conflict", ex.question, ex.answers, popqa_id=ex.id, other_answer=alt))
        conflicts += 1
    memory = known_n = 0
    for ex in right:
        others = [o for o in by_relation.get(relation(ex.question), []) if o.id != ex.id
                  and not {a.lower() for a in o.answers} & {a.lower() for a in ex.answers}]
        changed = substitute(ex.passages[0], ex.answers, others[0].answers[0]) if others else None
        if changed is not None and memory < 10:
            used.add(ex.id)
            lines.append(passage_line(ex.id, "", changed))
            w.add(case("memory_conflict", ex.question, [others[0].answers[0]], popqa_id=ex.id,
                       true_answers=list(ex.answers)))
            memory += 1
        elif known_n < 8:  # its passage stays out of the corpus
            w.add(case("known", ex.question, ex.answers, popqa_id=ex.id))
            known_n += 1
    for ex in [e for e in wrong if e.id not in used][:16]:
        w.add(case("unanswerable", ex.question, [], popqa_id=ex.id, note="closed-book wrong, passage not indexed"))
    w.files["passages/popqa_passages.jsonl"] = "".join(lines)
    for q, a, task in self_contained(rng, 16):
        w.add(case("self_contained", q, list(a), task=task))
    counter_memory_docs(w, rng, general, n_conflict=max(0, 10 - memory), n_known=max(0, 12 - known_n),
                        style="wiki", folder="notes")
    return w

