"""CI quality gate: a small PopQA + ragas run that fails when a metric drops below its recorded floor.

    adaptrag eval gate --data ../shared/data                 # check against evals/floors.json (exit 1 on a drop)
    adaptrag eval gate --data ../shared/data --measure 5     # re-measure: 5 slices + a repeat, rewrite the floors
    adaptrag eval gate --data ../shared/data --measure 5 --from-records popqa.records.jsonl   # slices from a saved run

The run: `limit` questions of the PopQA eval half (fixed hash order, evals/data.py), the test model in
never and always mode with each question's own passage (conflict check off: it does not change answers),
then ragas' deterministic string metrics on the always answers. Floors (evals/floors.json) are measured value minus a noise margin. The margin is the
larger of (a) the run-to-run spread of repeating the same slice (greedy decoding: usually 0) and (b) one
standard deviation of the metric across `measure` disjoint slices of the same size, i.e. how much the
metric moves when nothing but the sample changes. Missing data folder (a user's clone): skip, exit 0.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.data import EvalDataError, load_qa, select
from evals.metrics import QARecord, core_metrics
from evals.popqa import PopQARunner

FLOORS_FILE = Path(__file__).with_name("floors.json")
GATE_MODEL = "smollm2-135m"
# metric key -> how to read it from a gate run; keys are dotted paths into the run's report.
CHECKED = (
    "popqa.never.accuracy", "popqa.never.f1", "popqa.always.accuracy", "popqa.always.exact_match",
    "popqa.always.f1", "popqa.always.retrieval_rate", "ragas.always.string_present", "ragas.always.rouge_score",
)


@dataclass(frozen=True)
class GateSettings:
    limit: int = 40  # PopQA questions per mode: 80 short generations, ~2 minutes on 2 idle cores
    offset: int = 0  # which slice of the eval half's hash order
    model: str = GATE_MODEL


# The gate's answers do not depend on the conflict check (it only adds a flag), so it is off: half the calls.
GATE_OVERRIDES: dict[str, Any] = {"conflict.enabled": False, "model.backend": "hf"}


def data_file(data_dir: str | Path) -> Path:
    return Path(data_dir) / "popqa" / "dev.jsonl"


def values_from_records(never: Sequence[QARecord], always: Sequence[QARecord],
                        standard_errors: dict[str, float] | None = None) -> dict[str, float]:
    """The gate's metric values from one slice's records (ragas string metrics need only the answers).

    standard_errors: filled with each metric's standard error over the slice's questions (stdev / sqrt(n)),
    an estimate of how much the metric moves from one slice of this size to another.
    """
    from evals.ragas_eval import RagasSample, ragas_scores

    values: dict[str, float] = {}
    per_question: dict[str, list[float]] = {}
    for mode, recs in (("never", never), ("always", always)):
        for k, v in core_metrics(recs).items():
            if k != "n" and v is not None:
                values[f"popqa.{mode}.{k}"] = v
        per_question[f"popqa.{mode}.accuracy"] = [float(r.correct) for r in recs]
        per_question[f"popqa.{mode}.exact_match"] = [float(r.em) for r in recs]
        per_question[f"popqa.{mode}.f1"] = [r.f1 for r in recs]
        per_question[f"popqa.{mode}.retrieval_rate"] = [float(r.retrieved) for r in recs]
    samples = [RagasSample(r.id, r.question, r.answer, r.answers) for r in always]
    rag = ragas_scores(samples, per_sample=True)
    for k, v in rag["metrics"].items():
        if v is not None and k in ("exact_match", "string_present", "rouge_score"):
            values[f"ragas.always.{k}"] = v
            per_question[f"ragas.always.{k}"] = rag["per_sample"][k]
    if standard_errors is not None:
        for k, xs in per_question.items():
            standard_errors[k] = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else 0.0
    return values


def gate_run(make_pipeline: Callable[[], Any], data_dir: str | Path, settings: GateSettings,
             progress: bool = True) -> dict[str, float]:
    """One gate evaluation: metric key -> value."""
    examples = select(load_qa(data_file(data_dir)), limit=settings.limit, split="eval", offset=settings.offset)
    runner = PopQARunner(make_pipeline(), passages="given", progress=progress)
    never, always = runner.run(examples, "never"), runner.run(examples, "always")
    return values_from_records(never, always)


def check(values: Mapping[str, float], floors: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One check per floored metric; a metric missing from the run fails."""
    out = []
    for key, spec in floors["metrics"].items():
        value = values.get(key)
        ok = value is not None and value >= spec["floor"] - 1e-9
        out.append({"metric": key, "value": value, "floor": spec["floor"], "ok": ok,
                    "message": "" if ok else (
                        f"{key} = {value if value is None else round(value, 4)} is below its floor {spec['floor']} "
                        f"(measured {spec['measured']}, margin {spec['margin']}; see evals/floors.json)")})
    return out


def run_gate(make_pipeline: Callable[[Mapping[str, Any]], Any], data_dir: str | Path, floors_file: Path = FLOORS_FILE,
             progress: bool = True) -> dict[str, Any]:
    """Check the floors. `make_pipeline(overrides)` builds a Pipeline with these config overrides."""
    t0 = time.perf_counter()
    if not data_file(data_dir).is_file():
        return {"skipped": True, "passed": True,
                "message": f"quality gate skipped: {data_file(data_dir)} not found (the shared data folder is "
                           "absent, e.g. in a user's clone)"}
    floors = json.loads(Path(floors_file).read_text(encoding="utf-8"))
    settings = GateSettings(limit=floors["limit"], offset=floors.get("offset", 0), model=floors["model"])
    values = gate_run(lambda: make_pipeline({**GATE_OVERRIDES, "model.name": settings.model}), data_dir, settings,
                      progress)
    checks = check(values, floors)
    return {"skipped": False, "passed": all(c["ok"] for c in checks), "seconds": round(time.perf_counter() - t0, 1),
            "model": settings.model, "limit": settings.limit, "values": values, "checks": checks}


def slice_values(records_file: str | Path | Sequence[str | Path], slices: int, limit: int,
                 standard_errors: dict[str, float] | None = None) -> list[dict[str, float]]:
    """Gate values of consecutive slices of `eval popqa --mode never,always --records FILE` runs on the eval
    half (their first `slices * limit` questions in hash order, files in offset order, are slices 0, 1, ...)."""
    from evals.popqa import read_records

    files = [records_file] if isinstance(records_file, (str, Path)) else list(records_file)
    runs = read_records([str(f) for f in files])
    never, always = runs.get("never", []), runs.get("always", [])
    if len(never) < slices * limit or len(always) < slices * limit:
        raise EvalDataError(f"{', '.join(map(str, files))}: {len(never)}/{len(always)} never/always records; "
                            f"{slices} slices of {limit} need {slices * limit} of each")
    return [values_from_records(never[i * limit:(i + 1) * limit], always[i * limit:(i + 1) * limit],
                                standard_errors if i == 0 else None) for i in range(slices)]


def floors_from(runs: Sequence[Mapping[str, float]], repeat: Mapping[str, float] | None,
                standard_errors: Mapping[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """Floor = slice 0's value - margin, margin rounded up to 0.01: max(|repeat - slice 0|, stdev over slices);
    with fewer than 3 slices the slice-to-slice spread is estimated by the standard error over slice 0's
    questions instead. No repeat (None): its spread is not counted (reported as null)."""
    first = runs[0]
    metrics = {}
    for key in CHECKED:
        if key not in first:
            continue
        values = [r[key] for r in runs if key in r]
        spread = None if repeat is None else abs(first[key] - repeat.get(key, first[key]))
        std = statistics.stdev(values) if len(values) >= 3 else (standard_errors or {}).get(key, 0.0)
        margin = math.ceil(round(max(spread or 0.0, std), 6) * 100) / 100
        metrics[key] = {"measured": round(first[key], 4), "margin": margin,
                        "floor": round(max(0.0, first[key] - margin), 4),
                        "repeat_spread": None if spread is None else round(spread, 4),
                        "slice_std": round(std, 4), "slice_std_from": "slices" if len(values) >= 3 else
                        "standard error over slice 0's questions", "slice_values": [round(v, 4) for v in values]}
    return metrics


def measure_floors(make_pipeline: Callable[[Mapping[str, Any]], Any], data_dir: str | Path, slices: int,
                   limit: int = 40, model: str = GATE_MODEL, records_file: Sequence[str | Path] | None = None,
                   repeat_file: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Floors from `slices` disjoint slices plus a repeat of slice 0 (see the module docstring).

    records_file: take the slice values from a saved `eval popqa --records` run of the same model (given
    passages, eval half, natural sample) instead of answering them again. repeat_file: the same for the
    repeat (a separate `eval popqa --limit LIMIT` run); without it the repeat is a fresh gate run.
    """
    repeat_seconds = None
    repeat: dict[str, float] | None
    if repeat_file == "none":  # not measured (yet)
        repeat = None
    elif repeat_file is not None:
        repeat = slice_values(repeat_file, 1, limit)[0]
    else:
        t0 = time.perf_counter()
        repeat = gate_run(lambda: make_pipeline({**GATE_OVERRIDES, "model.name": model}), data_dir,
                          GateSettings(limit, 0, model), progress)
        repeat_seconds = round(time.perf_counter() - t0, 1)
    errors: dict[str, float] = {}
    if records_file is not None:
        runs = slice_values(records_file, slices, limit, errors)
    else:
        pipeline = make_pipeline({**GATE_OVERRIDES, "model.name": model})
        runs = [gate_run(lambda: pipeline, data_dir, GateSettings(limit, i * limit, model), progress)
                for i in range(slices)]
    metrics = floors_from(runs, repeat, errors)
    # A floor of 0 cannot fail: such metrics are reported but not checked.
    unchecked = {k: v for k, v in metrics.items() if v["floor"] <= 0}
    metrics = {k: v for k, v in metrics.items() if v["floor"] > 0}
    return {"model": model, "limit": limit, "offset": 0, "split": "eval", "passages": "given",
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "gate_run_seconds": repeat_seconds,
            "slices_from": [Path(f).name for f in records_file] if records_file else "fresh runs",
            "repeat_from": "not measured" if repeat_file == "none" else Path(repeat_file).name if repeat_file
            else "fresh run",
            "command": f"adaptrag eval gate --data DATA --measure {slices} --limit {limit}"
                       + (" --from-records RECORDS" if records_file else "")
                       + (f" --repeat-records {'none' if repeat_file == 'none' else 'REPEAT'}" if repeat_file else ""),
            "metrics": metrics, "unchecked": unchecked}
