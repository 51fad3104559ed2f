"""The evidence simulation that tunes the answer path's thresholds: it must follow the answer path's rules."""

from __future__ import annotations

from evals.evidence_fit import refeature, simulate
from rag.evidence import load_calibration

KENYA = "Kenya is a country in East Africa. Its capital is Nairobi. Kenya borders Tanzania."


def row(id_: str, kind: str, question: str, answers: list[str], memory: str, reading: str, passage: str) -> dict:
    return {
        "id": id_, "kind": kind, "question": question, "answers": answers, "memory": memory,
        "memory_answer": memory, "memory_tokens": [memory], "memory_logprobs": [-2.0], "memory_confidence": 0.14,
        "readings": [{"passage_id": f"{id_}-p", "source": "kenya.txt", "title": "Kenya", "passage_text": passage,
                      "text": reading, "answer": reading, "features": {}}],
    }


def test_simulation_answers_from_a_reading_and_abstains_without_one(embedder):
    rows = [refeature(r) for r in (
        row("d", "document", "What is the capital of Kenya?", ["Nairobi"], "I think it is Mombasa.",
            "The capital of Kenya is Nairobi.", KENYA),
        # the reading finds nothing and memory is unsure: the honest outcome is an abstention
        row("u", "unanswerable", "What is the wifi password of the Kenya office?", [], "It is 1234.",
            "The passage does not say.", KENYA),
        # a handbook reading that only names the document does not answer either
        row("h", "document", "Who leads Project Fenvern?", ["Wim Calmere"], "Someone.",
            "The Bredale Labs staff handbook is a reference to the Bredale Labs staff handbook.",
            "Bredale Labs staff handbook\n\nProjects. Project Fenvern is led by Wim Calmere."),
    )]
    rows[2]["readings"][0]["title"] = "bredale-labs-handbook"
    rows[2] = refeature(rows[2])
    sim = simulate(rows, load_calibration(), embedder)
    how = {o["id"]: o["how"] for o in sim["outcomes"]}
    assert how == {"d": "documents", "u": "abstain", "h": "abstain"}
    assert sim["success_by_kind"] == {"document": 0.5, "unanswerable": 1.0}
    assert sim["false_flag_rate"] == 0.0
