"""Hand-built `Answer` values and a stand-in pipeline: neighbours of the UI under test.

The UI is the unit under test here; the pipeline is its neighbour. Tests that need the real
answer path use the real small model (see test_app_real.py and test_browser.py).
"""

from __future__ import annotations

import time
from typing import ClassVar

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


ATLAS = "The capital of Japan is Osaka. Kyoto was the capital before."
PROFILE = "Halworth Works is based in Tillby. The managing director of Halworth is Cora Grisby."
HANDBOOK = "Welcome to Halworth. Halworth's managing director, Pavel Galthorne, signs every contract."


def memory_conflict_answer() -> Answer:
    """The documents say Osaka, the model's memory (92% confident) says Tokyo: as rag/conflict.py flags it."""
    atlas = passage("p1", ATLAS, 0, "/corpus/asia_atlas.md")
    text = "The capital of Japan is Osaka [1]."
    conflict = Conflict(flagged=True, kind="memory_vs_documents", parametric_answer="Tokyo",
                        document_answer="The capital of Japan is Osaka.", score=0.83, passage_ids=("p1",),
                        parametric_confidence=0.92,
                        detail="Your documents say 'Osaka' (asia_atlas.md); the model's memory says 'Tokyo' "
                               "(92% confident)")
    return Answer(question="What is the capital of Japan?", answer=text, retrieved=True, mode="adaptive",
                  ret_probability=0.81, passages=(atlas,), conflict=conflict, memory_confidence=0.92,
                  citations=(Citation(text, "p1", 0, len("The capital of Japan is Osaka."), source=atlas.source,
                                      score=0.9, sentence_start=0, sentence_end=len(text), cited=True),),
                  timings_ms={"decide": 10.0, "retrieve": 20.0, "evidence": 300.0, "total": 340.0})


def between_conflict_answer() -> Answer:
    """Two documents name different managing directors (mode always)."""
    profile = passage("p1", PROFILE, 0, "/corpus/halworth-profile.md")
    handbook = passage("p2", HANDBOOK, 0, "/corpus/halworth-handbook.md")
    conflict = Conflict(flagged=True, kind="between_documents", parametric_answer="John Smith",
                        document_answer="The managing director of Halworth is Cora Grisby", score=0.77,
                        passage_ids=("p1",), other_passage_ids=("p2",), parametric_confidence=0.2,
                        detail="Your documents disagree: 'The managing director of Halworth is Cora Grisby' "
                               "(halworth-profile.md) vs \"Halworth's managing director is Pavel Galthorne\" "
                               "(halworth-handbook.md)")
    text = "The managing director is Cora Grisby [1], or Pavel Galthorne [2]."
    return Answer(question="Who is the managing director of Halworth?", answer=text, retrieved=True,
                  mode="always", passages=(profile, handbook), conflict=conflict, memory_confidence=0.2,
                  citations=(Citation(text, "p1", PROFILE.index("The managing"), len(PROFILE), source=profile.source,
                                      sentence_start=0, sentence_end=len(text), cited=True),),
                  timings_ms={"retrieve": 20.0, "evidence": 300.0, "total": 330.0})


def abstained_answer() -> Answer:
    """No passage answers and memory is not confident: the pipeline's abstention."""
    found = (passage("p1", PROFILE, 0, "/corpus/halworth-profile.md"),
             passage("p2", HANDBOOK, 0, "/corpus/halworth-handbook.md"))
    return Answer(question="What is the phone number of Halworth's canteen?",
                  answer="I couldn't find this in your documents (searched 2 passages), and I'm not confident "
                         "enough to answer from memory.", retrieved=True, mode="adaptive", ret_probability=0.93,
                  passages=found, conflict=Conflict(available=False,
                                                    detail="abstained: no retrieved passage answers the question"),
                  abstained=True, answered_from="none", memory_confidence=0.31,
                  timings_ms={"decide": 10.0, "retrieve": 20.0, "evidence": 300.0, "total": 330.0})


FALLBACK_WARNING = ("none of the 1 passages searched answers this; answered from the model's memory "
                    "(88% confident)")


def memory_fallback_answer() -> Answer:
    """Searched, no passage answers, memory is confident: answered from memory and labelled so."""
    found = (passage("p1", ATLAS, 0, "/corpus/asia_atlas.md"),)
    text = "Bram Stoker wrote Dracula."
    return Answer(question="Who wrote Dracula?", answer=text, retrieved=True, mode="adaptive", ret_probability=0.7,
                  passages=found, citations=(Citation(text, None, -1, -1, sentence_start=0, sentence_end=len(text)),),
                  conflict=Conflict(available=False, detail="no passage answers: nothing to compare"),
                  warnings=(FALLBACK_WARNING,), answered_from="memory", memory_confidence=0.88,
                  timings_ms={"decide": 10.0, "retrieve": 20.0, "evidence": 300.0, "generate": 90.0, "total": 420.0})


class FakePipeline:
    """Streams the text of a prepared Answer through on_token, or raises a prepared error.

    `token_delay_s` and `checks_s` make it take time like the real one: per streamed word, and
    after the last word (the conflict check and attribution of the real pipeline).
    """

    def __init__(self, answer: Answer | None = None, error: BaseException | None = None,
                 token_delay_s: float = 0.0, checks_s: float = 0.0):
        self.answer_value = answer
        self.error = error
        self.token_delay_s = token_delay_s
        self.checks_s = checks_s
        self.calls: list[dict] = []

    def answer(self, question, *, mode=None, dyprag=None, passages=None, on_token=None):
        self.calls.append({"question": question, "mode": mode, "dyprag": dyprag})
        if self.error is not None:
            raise self.error
        a = self.answer_value or retrieved_answer()
        if on_token:
            for word in a.answer.split(" "):
                on_token(word + " ")
                time.sleep(self.token_delay_s)
        time.sleep(self.checks_s)
        return a


def make_fake_pipeline(cfg) -> FakePipeline:
    """For `RAGAPP_PIPELINE=tests.ui.fakes:make_fake_pipeline streamlit run app.py` (UI development)."""
    return FakePipeline()


SHOWCASE_TEXT = (
    "## Capital of France\n\n"
    "The documents say the capital is **Lyon** [1], while *Paris* is the usual answer [2].\n\n"
    "- Seat of government: `Lyon`\n"
    "- More: [the prefecture](https://example.org/lyon)\n\n"
    "Untrusted bits: <script>window.__pwned=1</script> <img src=x onerror=\"window.__pwned=2\"> "
    "[click me](javascript:window.__pwned=3) <b>not bold</b>\n\n"
    "Lyon is also famous for silk weaving."
)


def showcase_answer() -> Answer:
    """Every part of an answer at once: Markdown, citations, a memory-only sentence, a conflict, two passages."""
    lyon = Passage(id="p1", source="/srv/adaptrag/corpus/lyon_capital.md", title="Lyon",
                   text="# Lyon\n\n## Government\n\nThe capital of France is **Lyon**. The president lives in Lyon. "
                   "<script>window.__pwned=4</script> Lyon lies where the Rhone meets the Saone.",
                   start=0, end=150, score=0.61, scores={"dense": 0.72, "bm25": 4.1})
    paris = Passage(id="p2", source="/srv/adaptrag/corpus/paris.txt", title="Paris",
                    text="Paris is the largest city of France and sits on the Seine.", start=40, end=98,
                    score=0.44, scores={"dense": 0.55, "bm25": 2.0})
    text = SHOWCASE_TEXT
    s1 = text.index("The documents")
    e1 = text.index("[2].") + len("[2].")
    s_mem = text.index("Lyon is also")
    cits = (
        Citation(text[s1:e1], "p1", lyon.text.index("The capital"), lyon.text.index("Lyon. ") + 5,
                 source=lyon.source, score=0.9, sentence_start=s1, sentence_end=e1, cited=True),
        Citation(text[s_mem:], None, -1, -1, sentence_start=s_mem, sentence_end=len(text)),
    )
    conflict = Conflict(flagged=True, kind="memory_vs_documents", parametric_answer="Paris",
                        document_answer="The capital of France is Lyon.", score=0.86, passage_ids=("p1",),
                        parametric_confidence=0.71)
    return Answer(question="What is the capital of France?", answer=text, retrieved=True, mode="adaptive",
                  ret_probability=0.81, passages=(lyon, paris), citations=cits, conflict=conflict,
                  timings_ms={"decide": 40.0, "retrieve": 25.0, "generate": 900.0, "conflict": 1500.0, "total": 2500.0},
                  model="smollm2-135m")


class ShowcasePipeline(FakePipeline):
    """The showcase answer, or by the question's words the other trust states: documents that disagree with
    each other ("managing director"), an abstention ("canteen"), an answer from memory after searching
    ("Dracula")."""

    OTHERS: ClassVar[dict] = {"managing director": between_conflict_answer, "canteen": abstained_answer,
              "dracula": memory_fallback_answer}

    def answer(self, question, *, mode=None, dyprag=None, passages=None, on_token=None):
        make = next((f for words, f in self.OTHERS.items() if words in question.lower()), showcase_answer)
        self.answer_value = make()
        return super().answer(question, mode=mode, dyprag=dyprag, passages=passages, on_token=on_token)


def make_showcase_pipeline(cfg) -> FakePipeline:
    """For `RAGAPP_PIPELINE=tests.ui.fakes:make_showcase_pipeline`: the browser tests of rendering and themes."""
    return ShowcasePipeline(showcase_answer(), token_delay_s=0.03, checks_s=2.0)


RIVER_FACT = "The Vella bridge at Tornby was built in 1742."


def river_document() -> str:
    """A document several screens long with `RIVER_FACT` in its middle, and hostile markup as text."""
    paragraphs = [f"Paragraph {i}: the river Vella runs past mill number {i}, and the towpath there is "
                  f"{i * 7 % 40 + 10} metres wide. Boats moor below the weir in summer." for i in range(1, 46)]
    paragraphs[3] += " " + HOSTILE + " <script>window.__pwned=7</script>"
    paragraphs[30] += " " + RIVER_FACT + " Its three arches are of red sandstone."
    return "The river Vella\n\n" + "\n\n".join(paragraphs) + "\n\nThe end of the river notes.\n"


class IndexedPassagePipeline(FakePipeline):
    """Cites the indexed chunk holding `RIVER_FACT`, read from the real index of `cfg` at answer time."""

    def __init__(self, cfg) -> None:
        super().__init__(token_delay_s=0.02)
        self.cfg = cfg

    def answer(self, question, *, mode=None, dyprag=None, passages=None, on_token=None):
        from indexing.index import Index

        index = Index.open(self.cfg, readonly=True)
        try:
            chunk = next(c for d in index.documents() for c in index.chunks_of(d.doc_id) if RIVER_FACT in c.text)
        finally:
            index.close()
        p = Passage(id=chunk.id, source=chunk.source, title=chunk.title, text=chunk.text, start=chunk.start,
                    end=chunk.end, score=0.7, scores={"dense": 0.7})
        text = "It was built in 1742 [1]."
        at = chunk.start + chunk.text.index(RIVER_FACT)
        self.answer_value = Answer(
            question=question, answer=text, retrieved=True, mode="always", passages=(p,),
            citations=(Citation(text, p.id, at, at + len(RIVER_FACT), source=p.source, score=0.9, sentence_start=0,
                                sentence_end=len(text), cited=True),),
            conflict=Conflict(available=True, score=0.05), timings_ms={"retrieve": 20.0, "total": 100.0})
        return super().answer(question, mode=mode, dyprag=dyprag, passages=passages, on_token=on_token)


def make_indexed_passage_pipeline(cfg) -> FakePipeline:
    """For `RAGAPP_PIPELINE=tests.ui.fakes:make_indexed_passage_pipeline`: the browser test of "Open document"."""
    return IndexedPassagePipeline(cfg)
