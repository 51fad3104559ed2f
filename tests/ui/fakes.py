"""Hand-built `Answer` values and a stand-in pipeline: neighbours of the UI under test.

The UI is the unit under test here; the pipeline is its neighbour. Tests that need the real
answer path use the real small model (see test_app_real.py and test_browser.py).
"""

from __future__ import annotations

from rag.types import Answer, Citation, Conflict, Passage

DOC = "Paris is the capital of France. It lies on the Seine. <script>window.__pwned=1</script> end."
HOSTILE = '<img src=x onerror="window.__pwned=1"> [click](javascript:alert(1)) <b>bold</b>'


def passage(pid: str = "p1", text: str = DOC, start: int = 100, source: str = "docs/france.txt") -> Passage:
    return Passage(id=pid, source=source, title="France", text=text, start=start, end=start + len(text),
                   score=0.5, scores={"dense": 0.8, "bm25": 3.2})


def retrieved_answer(conflict: Conflict | None = None, text: str = "The capital of France is Paris [1]. "
                     "It is also famous for cheese.") -> Answer:
    p = passage()
    s1 = text.index(".") + 1
    cits = (
        Citation(text[:s1], p.id, 100, 100 + len("Paris is the capital of France."), source=p.source, score=0.9,
                 sentence_start=0, sentence_end=s1, cited=True),
        Citation(text[s1 + 1:], None, -1, -1, sentence_start=s1 + 1, sentence_end=len(text)),
    )
    return Answer(question="What is the capital of France?", answer=text, retrieved=True, mode="adaptive",
                  ret_probability=0.87, passages=(p, passage("p2", "Lyon is a city.", 0, "docs/lyon.txt")),
                  citations=cits, conflict=conflict or Conflict(available=True, score=0.1),
                  timings_ms={"decide": 12.0, "retrieve": 30.0, "generate": 200.0, "conflict": 50.0, "total": 300.0})


def memory_answer(ret_probability: float | None = 0.05, mode: str = "adaptive", warnings: tuple = ()) -> Answer:
    text = "Paris."
    return Answer(question="q", answer=text, retrieved=False, mode=mode, ret_probability=ret_probability,
                  citations=(Citation(text, None, -1, -1, sentence_start=0, sentence_end=len(text)),),
                  conflict=Conflict(available=False, detail="no documents retrieved: nothing to compare"),
                  timings_ms={"decide": 80.0, "total": 81.0}, warnings=warnings)


class FakePipeline:
    """Streams the text of a prepared Answer through on_token, or raises a prepared error."""

    def __init__(self, answer: Answer | None = None, error: BaseException | None = None):
        self.answer_value = answer
        self.error = error
        self.calls: list[dict] = []

    def answer(self, question, *, mode=None, dyprag=None, passages=None, on_token=None):
        self.calls.append({"question": question, "mode": mode, "dyprag": dyprag})
        if self.error is not None:
            raise self.error
        a = self.answer_value or retrieved_answer()
        if on_token:
            for word in a.answer.split(" "):
                on_token(word + " ")
        return a


def make_fake_pipeline(cfg) -> FakePipeline:
    """For `RAGAPP_PIPELINE=tests.ui.fakes:make_fake_pipeline streamlit run app.py` (UI development)."""
    return FakePipeline()
