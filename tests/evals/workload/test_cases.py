"""Workload cases: each kind's success rule, and malformed cases files stop with the line and the problem."""

from __future__ import annotations

import json

import pytest

from evals.workload.cases import KINDS, WorkloadError, load_cases, succeeded


def rule(kind, answer="", answers=("Dunmere",), flagged=False, conflict_kind=None, abstained=False):
    return succeeded(kind, answers, answer, flagged=flagged, conflict_kind=conflict_kind, abstained=abstained)


@pytest.mark.parametrize("kind", ["document", "no_conflict", "known"])
def test_answer_kinds_need_an_alias_no_flag_and_no_abstention(kind):
    assert rule(kind, "It is based in DUNMERE.")
    assert not rule(kind, "It is based in Halvern.")  # wrong value
    assert not rule(kind, "It is based in Dunmere.", flagged=True, conflict_kind="between_documents")
    assert not rule(kind, "I couldn't find this; maybe Dunmere.", abstained=True)


def test_self_contained_accepts_any_reply_when_it_has_no_aliases():
    assert rule("self_contained", "Hello! I am fine, thanks.", answers=())
    assert not rule("self_contained", "   ", answers=())
    assert rule("self_contained", "7 plus 5 is 12.", answers=("12",))
    assert not rule("self_contained", "7 plus 5 is 13.", answers=("12",))
    assert not rule("self_contained", "12", answers=("12",), flagged=True, conflict_kind="memory_vs_documents")
    assert not rule("self_contained", "Sorry.", answers=(), abstained=True)


def test_unanswerable_succeeds_only_by_abstaining():
    assert rule("unanswerable", "I couldn't find this in your documents.", answers=(), abstained=True)
    assert not rule("unanswerable", "The password is hunter2.", answers=())


def test_conflict_kinds_need_a_flag_of_their_own_kind():
    assert rule("memory_conflict", "Osaka", flagged=True, conflict_kind="memory_vs_documents")
    assert not rule("memory_conflict", "Osaka", flagged=True, conflict_kind="between_documents")
    assert not rule("memory_conflict", "Osaka")
    assert rule("document_conflict", "x", flagged=True, conflict_kind="between_documents")
    assert not rule("document_conflict", "x", flagged=True, conflict_kind="memory_vs_documents")


def write(tmp_path, lines):
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"id": "a", "kind": "document", "question": "Where?", "answers": ["X"]})


def test_a_valid_file_loads_with_extra_keys_kept(tmp_path):
    extra = json.dumps({"id": "b", "kind": "self_contained", "question": "Hi!", "answers": [], "task": "greeting"})
    cases = load_cases(write(tmp_path, [GOOD, "", extra]))
    assert [c.id for c in cases] == ["a", "b"] and cases[1].extra == {"task": "greeting"}
    assert set(KINDS) >= {c.kind for c in cases}


@pytest.mark.parametrize("bad, message", [
    ('{"id": "x", "kind": "document", "question": "Q?", "answers": ["A"]', "line 2: not valid JSON"),
    (json.dumps({"id": "x", "kind": "trivia", "question": "Q?", "answers": []}), "unknown kind 'trivia'"),
    (json.dumps({"id": "x", "kind": "document", "answers": ["A"]}), "missing field(s) question"),
    (json.dumps({"id": "x", "kind": "document", "question": "Q?", "answers": "A"}), "answers must be a list"),
    (json.dumps({"id": "a", "kind": "known", "question": "Q?", "answers": ["A"]}), "id 'a' repeats line 1"),
    ("[1, 2]", "expected a JSON object"),
])
def test_malformed_lines_name_the_line_and_the_problem(tmp_path, bad, message):
    path = write(tmp_path, [GOOD, bad])
    with pytest.raises(WorkloadError) as e:
        load_cases(path)
    assert f"{path}:2" in str(e.value) and message.replace("line 2: ", "") in str(e.value)


def test_missing_or_empty_cases_file(tmp_path):
    with pytest.raises(WorkloadError, match="does not exist"):
        load_cases(tmp_path / "nope.jsonl")
    with pytest.raises(WorkloadError, match="holds no cases"):
        load_cases(write(tmp_path, [""]))


def test_every_mode_is_asked_first_equally_often():
    """A fixed order gave the first mode the cold caches of every question (~18 ms at the median): it rotates."""
    from evals.workload.cases import Case
    from evals.workload.run import run

    class Recorder:  # the pipeline is the neighbour here; the order of asking is the unit
        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        def answer(self, question: str, mode: str):
            self.calls.append((question, mode))
            raise RuntimeError("not answering")  # recorded as the case's error

    cases = [Case(id=f"c{i}", kind="known", question=f"q{i}", answers=("a",)) for i in range(6)]
    pipeline = Recorder()
    records = run(pipeline, cases, ["adaptive", "always", "never"], progress=False, warmup=False)
    assert len(records) == 18 and all(r.error for r in records)
    firsts = [pipeline.calls[3 * i][1] for i in range(6)]
    assert sorted(firsts) == ["adaptive", "adaptive", "always", "always", "never", "never"]
    assert all({m for q, m in pipeline.calls if q == f"q{i}"} == {"adaptive", "always", "never"} for i in range(6))
