"""evals/distractors.py and evals/passage_recall.py: invented look-alikes never name a real entity, the chunk budget
is met as the index counts it, a distractor is never a hit, and the CLI runs end to end on a tiny workload."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evals.distractors import Invented, corpus_words, main, write_distractors
from evals.passage_recall import first_hit, measure
from evals.workload.cases import Case
from evals.workload.fiction import Org, handbook, profile

ORG = Org(name="Ormton Foundry", slug="ormton-foundry", kind="foundry", town="Korby", founded=1950,
          founder="Alma Halby", ceo="Bram Dunwick", product="valve", employees=120, leave=25, opens="8:00",
          extension="4321", project="Ormstead", lead="Nils Bremoor", deadline="April 2029", budget=300)


@pytest.fixture
def workload(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "ormton-handbook.txt").write_text(handbook(ORG))
    (folder / "corpus" / "ormton-profile.md").write_text(profile(ORG))
    (folder / "manifest.json").write_text(json.dumps({"workload": "fictional"}))
    (folder / "test.jsonl").write_text(
        json.dumps({"id": "d1", "kind": "document", "question": "Who leads Project Ormstead?",
                    "answers": ["Nils Bremoor", "Bremoor"]}) + "\n"
        + json.dumps({"id": "k1", "kind": "known", "question": "What is the capital of France?",
                      "answers": ["Paris"]}) + "\n")
    return folder


def test_invented_names_never_reuse_a_corpus_word(workload):
    taken = corpus_words(workload / "corpus")
    assert {"ormstead", "bremoor", "ormton", "korby"} <= taken
    names = Invented(random.Random(1), taken)
    words = [names.word() for _ in range(2000)]
    assert not {w.lower() for w in words} & taken and len(set(words)) > 500


@pytest.mark.parametrize("style", ["fictional", "reference"])
def test_distractors_fill_the_chunk_budget(tmp_path, embedder, workload, style):
    n = write_distractors(tmp_path / "d", style, workload / "corpus", 25, embedder.tokenizer, 200, 40)
    files = list((tmp_path / "d").iterdir())
    assert 25 <= n < 25 + 3 and len(files) >= 10  # stops once the budget is met: a document is 1-2 chunks
    text = " ".join(f.read_text() for f in files)
    assert ("staff handbook" in text and "Project" in text) if style == "fictional" else "calling code" in text


class Ranked:
    """A retriever's neighbour: fixed passages for every question."""

    def __init__(self, passages):
        self.passages = passages

    def search(self, question, top_k=None):
        return self.passages[:top_k]


def test_a_distractor_is_never_a_hit():
    from rag.types import Passage

    def p(source, text):
        return Passage(source, source, "", text, 0, len(text), 1.0)

    cases = [Case("d1", "document", "Who leads Project Ormstead?", ("Nils Bremoor",))]
    ranked = Ranked([p("/d/fake.txt", "Nils Bremoor leads it"), p("/c/x.txt", "other"), p("/c/real.txt", "Nils Bremoor")])
    assert measure(ranked, cases, [1, 3])["hits@1"] == 1
    got = measure(ranked, cases, [1, 3], miss_k=1, counts=lambda q: q.source.startswith("/c/"))
    assert (got["hits@1"], got["hits@3"]) == (0, 1) and got["misses"][0]["rank"] == 3
    assert first_hit(["a", "b Paris"], ["paris"]) == 2 and first_hit(["a"], ["x"]) is None


def test_a_passage_found_but_cut_to_other_sentences_is_not_read():
    """`held_in_part_read` counts the found passages whose part the model reads still holds the answer: a long
    passage whose answer lies beyond the part read around the question's words is found, not read."""
    from rag.types import Passage

    filler = " ".join(f"Room {i} is on floor {i}." for i in range(2, 60))
    long = ("Project Ormstead is led by a team of twelve, with its own Project Ormstead budget and Project Ormstead "
            f"wiki. {filler} The lead is Nils Bremoor.")
    short = "Project Ormstead is led by Nils Bremoor."
    cases = [Case("d1", "document", "Who leads Project Ormstead?", ("Nils Bremoor",))]
    got = measure(Ranked([Passage("a", "a", "", long, 0, len(long), 1.0),
                          Passage("b", "b", "", short, 0, len(short), 1.0)]), cases, [1, 3], miss_k=3)
    assert (got["held_in_top_k"], got["held_in_part_read"]) == (2, 1)


def test_cli_end_to_end(workload, tmp_path, capsys):
    assert main(["--workload", str(workload), "--chunks", "30", "--k", "1,3", "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n"] == 1 and report["distractor_chunks"] >= 30  # the `known` case is not a recall case
    assert report["recall@3"] == 1.0 and json.loads(capsys.readouterr().out) == report
