"""`adaptrag eval workload`: the product on a user-like workload, through the full answer path.

    adaptrag eval workload --corpus evals/workloads/fictional/corpus --cases evals/workloads/fictional/test.jsonl \
        --mode adaptive,always,never --records runs/fictional.records.jsonl --out runs/fictional.md --format md

The corpus is indexed into a fresh temporary index (or `--index DIR`), then every case is asked through
`Pipeline.answer` exactly as the app asks: the resolved config, the conflict check on, the default top-k.
Modes are interleaved per case (case 1 in every mode, then case 2, ...), so a change of machine load
during the run shifts every mode alike and the latency ratios between modes stay comparable.

A case that raises is recorded with its `error` and counts as a failure; the run goes on. With
`--records FILE --resume` the (case, mode) pairs already in FILE are not asked again: a run cut off by
the end of a session continues where it stopped. The report is computed from the records.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.metrics import alias_match, percentile, rounded
from evals.workload.cases import ANSWER_KINDS, CONFLICT_KINDS, KINDS, NO_FLAG_KINDS, Case, WorkloadError, succeeded

MODES = ("adaptive", "always", "never")
# Kinds whose aliases name the fact the retrieved passages should hold (passage recall@k).
RECALL_KINDS = ("document", "no_conflict")
WARMUP_QUESTION = "Hello!"  # asked once per mode before timing: model, router and index load lazily


@dataclass(frozen=True)
class WorkloadRecord:
    """One case asked in one mode (a line of `--records`)."""

    id: str
    kind: str
    mode: str
    question: str
    answer: str = ""
    retrieved: bool = False
    ret_probability: float | None = None
    abstained: bool = False
    conflict_flagged: bool = False
    conflict_kind: str | None = None
    citations: int = 0  # citations that point at a passage of this answer
    supported_citations: int = 0  # of those, citations whose span states the sentence's own words (attribution)
    passage_hit: bool | None = None  # an answer alias is in a retrieved passage (None: nothing retrieved or no alias)
    latency_ms: float = 0.0  # wall time of Pipeline.answer
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    success: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["timings_ms"] = dict(self.timings_ms)
        return out

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> WorkloadRecord:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in row.items() if k in names})


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise WorkloadError(f"invalid --mode {text!r}; allowed (comma-separated): {', '.join(MODES)}")
    return list(dict.fromkeys(modes))


def record_answer(case: Case, mode: str, answer: Any, latency_ms: float) -> WorkloadRecord:
    """Score one `rag.types.Answer` by its case's rule."""
    ids = {p.id for p in answer.passages}
    valid = sum(1 for c in answer.citations if c.passage_id is not None and c.passage_id in ids)
    conflict = answer.conflict
    flagged = bool(conflict.flagged)
    kind = conflict.kind if flagged else None
    abstained = bool(getattr(answer, "abstained", False))
    supported = sum(1 for c in answer.citations if c.passage_id in ids and span_supports(c, answer.passages))
    hit = (any(alias_match(p.text, case.answers) for p in answer.passages)
           if answer.passages and case.answers and case.kind in RECALL_KINDS else None)
    return WorkloadRecord(
        id=case.id, kind=case.kind, mode=mode, question=case.question, answer=answer.answer,
        retrieved=answer.retrieved, ret_probability=answer.ret_probability, abstained=abstained,
        conflict_flagged=flagged, conflict_kind=kind, citations=valid, supported_citations=supported, passage_hit=hit, latency_ms=round(latency_ms, 2),
        timings_ms=dict(answer.timings_ms),
        success=succeeded(case.kind, case.answers, answer.answer, flagged=flagged, conflict_kind=kind,
                          abstained=abstained),
    )


def span_supports(citation: Any, passages: Sequence[Any]) -> bool:
    """A cited span supports its sentence when it states most of the sentence's own content words (those not
    repeated from the question would be better, but the question is not on the citation; filler is dropped)."""
    from rag import answer_match as am

    p = next((p for p in passages if p.id == citation.passage_id), None)
    if p is None:
        return False
    span = p.text[max(0, citation.start - p.start):max(0, citation.end - p.start)]
    words = [w for w in am.tokens(citation.sentence) if w not in am.FILLER]
    if not words or not span:
        return False
    present = set(am.tokens(span))
    return sum(w in present for w in words) / len(words) >= 0.6


def ask(pipeline: Any, case: Case, mode: str) -> WorkloadRecord:
    """Ask one case; any exception becomes the record's `error` (a failure), never the run's end."""
    t0 = time.perf_counter()
    try:
        answer = pipeline.answer(case.question, mode=mode)
    except Exception as e:  # noqa: BLE001 - one failing case must not stop the benchmark
        return WorkloadRecord(id=case.id, kind=case.kind, mode=mode, question=case.question,
                              latency_ms=round((time.perf_counter() - t0) * 1000, 2),
                              error=f"{type(e).__name__}: {e}"[:500])
    return record_answer(case, mode, answer, (time.perf_counter() - t0) * 1000)


def read_records(path: str | Path) -> list[WorkloadRecord]:
    file = Path(path)
    if not file.exists():
        return []
    out = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(WorkloadRecord.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as e:
            raise WorkloadError(f"{file}:{n}: not a record written by `eval workload --records` ({e})") from None
    return out


def run(pipeline: Any, cases: Sequence[Case], modes: Sequence[str], *, done: Iterable[tuple[str, str]] = (),
        on_record: Callable[[WorkloadRecord], None] | None = None, progress: bool = True,
        warmup: bool = True) -> list[WorkloadRecord]:
    """Ask every case in every mode (interleaved per case), skipping the (id, mode) pairs in `done`. The mode
    asked first rotates from case to case: the first asking of a question meets colder caches (its words' stems,
    the allocator) and ran ~18 ms slower at the median, which a fixed order charged to one mode."""
    from tqdm import tqdm

    skip = set(done)
    todo = [(c, m) for i, c in enumerate(cases) for m in rotated(modes, i) if (c.id, m) not in skip]
    if warmup and todo:
        for m in dict.fromkeys(m for _, m in todo):
            with contextlib.suppress(Exception):  # the real cases record any failure
                pipeline.answer(WARMUP_QUESTION, mode=m)
    records = []
    bar = tqdm(total=len(todo), desc="workload", disable=not progress, file=sys.stderr, unit="answer")
    failures = 0
    for case, mode in todo:
        rec = ask(pipeline, case, mode)
        failures += rec.error is not None
        records.append(rec)
        if on_record is not None:
            on_record(rec)
        bar.set_postfix_str(f"{case.kind} {mode}" + (f" errors={failures}" if failures else ""), refresh=False)
        bar.update(1)
    bar.close()
    return records


# ---- the report -----------------------------------------------------------------------------------------

def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def summarize_mode(records: Sequence[WorkloadRecord]) -> dict[str, Any]:
    """The per-mode report keys of ARCHITECTURE.md (`eval workload`)."""
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        rs = [r for r in records if r.kind == kind]
        if not rs:
            continue
        by_kind[kind] = {
            "n": len(rs), "success": _rate(sum(r.success for r in rs), len(rs)),
            "retrieval_rate": _rate(sum(r.retrieved for r in rs), len(rs)),
            "flag_rate": _rate(sum(r.conflict_flagged for r in rs), len(rs)),
            "abstain_rate": _rate(sum(r.abstained for r in rs), len(rs)),
            "latency_ms_p50": rounded(percentile([r.latency_ms for r in rs], 50), 2),
        }
        hits = [r.passage_hit for r in rs if r.passage_hit is not None]
        if hits:
            by_kind[kind]["passage_recall"] = _rate(sum(hits), len(hits))
    no_flag = [r for r in records if r.kind in NO_FLAG_KINDS]
    conflicts = [r for r in records if r.kind in CONFLICT_KINDS]
    unanswerable = [r for r in records if r.kind == "unanswerable"]
    answerable = [r for r in records if r.kind in ANSWER_KINDS]
    recall = [r.passage_hit for r in records if r.passage_hit is not None]
    latencies = [r.latency_ms for r in records if r.error is None]
    successes = [v["success"] for v in by_kind.values()]
    return {
        "n": len(records),
        "success": round(sum(successes) / len(successes), 4) if successes else None,  # mean over kinds
        "by_kind": by_kind,
        "false_flag_rate": _rate(sum(r.conflict_flagged for r in no_flag), len(no_flag)),
        "conflict_recall": _rate(sum(r.conflict_flagged and r.conflict_kind == CONFLICT_KINDS[r.kind]
                                     for r in conflicts), len(conflicts)),
        "abstain_recall": _rate(sum(r.abstained for r in unanswerable), len(unanswerable)),
        "false_abstain_rate": _rate(sum(r.abstained for r in answerable), len(answerable)),
        "retrieval_rate": _rate(sum(r.retrieved for r in records), len(records)),
        # share of retrieved document/no_conflict answers whose passages hold an alias (recall@top_k)
        "passage_recall": _rate(sum(bool(h) for h in recall), len(recall)),
        # share of citations to a passage whose span states the cited sentence's words
        "attribution_precision": _rate(sum(r.supported_citations for r in records), sum(r.citations for r in records)),
        "latency_ms": {"mean": _mean(latencies), "p50": rounded(percentile(latencies, 50), 2),
                       "p95": rounded(percentile(latencies, 95), 2)},
        "stage_ms_mean": _stage_means(records),
        "errors": sum(r.error is not None for r in records),
    }


def _stage_means(records: Sequence[WorkloadRecord]) -> dict[str, float]:
    """Mean of each top-level stage of the answer path's own timings_ms (a stage missing in a record counts 0)."""
    ok = [r for r in records if r.error is None]
    stages = sorted({k for r in ok for k in r.timings_ms})
    return {s: round(sum(r.timings_ms.get(s, 0.0) for r in ok) / len(ok), 1) for s in stages} if ok else {}


def summarize(records: Sequence[WorkloadRecord], modes: Sequence[str]) -> dict[str, Any]:
    """{"modes": {mode: summary}, "ratios": latency and success comparisons between modes}."""
    out: dict[str, Any] = {"modes": {m: summarize_mode([r for r in records if r.mode == m]) for m in modes}}
    means = {m: out["modes"][m]["latency_ms"]["mean"] for m in modes}
    ratios = {}
    if means.get("never"):
        for m in ("always", "adaptive"):
            if means.get(m):
                ratios[f"{m}_over_never_latency"] = round(means[m] / means["never"], 2)
    if means.get("always") and means.get("adaptive"):
        ratios["adaptive_over_always_latency"] = round(means["adaptive"] / means["always"], 2)
    out["ratios"] = ratios
    return out


def rotated(modes: Sequence[str], i: int) -> list[str]:
    """`modes` starting from its (i mod n)-th: case i is asked in this order."""
    k = i % len(modes) if modes else 0
    return [*modes[k:], *modes[:k]]
