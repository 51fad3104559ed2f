"""Markdown reports with PNG plots for `eval popqa` / `eval ragas` JSON reports.

    adaptrag eval report popqa.json ragas.json --out report.md     # plots land beside report.md
    adaptrag eval popqa ... --format md --out report.md

Plots (matplotlib, Agg backend, written as PNG next to the Markdown file):
- accuracy vs retrieval rate: one point per mode (never/always/adaptive/oracle/routed baselines) and the
  threshold sweep of the confidence and popularity routers;
- accuracy by popularity bucket, one bar group per mode;
- latency per stage (p50), one stacked bar per mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.data import BUCKETS

_ORDER = ("never", "always", "adaptive", "confidence", "popularity", "oracle")
_STAGES = ("decide", "retrieve", "evidence", "inject", "generate", "conflict", "attribute")


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{100 * x:.1f}" if pct else f"{x:.4g}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def modes_of(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """mode -> summary, for a multi-mode report ("modes") or a flat single-mode one."""
    if "modes" in report and isinstance(report["modes"], Mapping):
        return dict(report["modes"])
    if "mode" in report and "accuracy" in report:
        return {str(report["mode"]): report}
    return {}


def _sorted_modes(modes: Mapping[str, Any]) -> list[str]:
    return sorted(modes, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))


def popqa_section(report: Mapping[str, Any], plots: Mapping[str, str]) -> str:
    modes = modes_of(report)
    if not modes:
        return ""
    names = _sorted_modes(modes)
    out = [f"## {report.get('title') or 'PopQA'}", ""]  # title: set by hand in the JSON to name a section
    meta = ", ".join(f"{k} {report[k]}" for k in ("model", "passages", "split", "sample", "data") if k in report)
    if meta:
        out += [meta, ""]
    rows = []
    for m in names:
        s = modes[m]
        rows.append([m, s.get("n"), _fmt(s.get("accuracy"), True), _fmt(s.get("exact_match"), True),
                     _fmt(s.get("f1"), True), _fmt(s.get("retrieval_rate"), True),
                     _fmt(s.get("latency_ms", {}).get("p50")), _fmt(s.get("latency_ms", {}).get("p95")),
                     _fmt(s.get("tokens_per_question"))])
    out += ["Accuracy = any accepted alias is a substring of the answer (lower-cased); all values in %.", "",
            table(["mode", "n", "accuracy", "EM", "F1", "retrieval rate", "latency p50 ms", "latency p95 ms",
                   "tokens/question"], rows), ""]
    th = report.get("thresholds") or {}
    if th:
        out += ["Router thresholds (tuned on the PopQA train half; retrieve when the score is below):", ""]
        out += [table(["router", "threshold", "train accuracy", "train retrieval rate", "train n"],
                      [[k, "retrieve always" if v.get("retrieve_always") else _fmt(v.get("threshold")),
                        _fmt(v.get("tune_accuracy"), True), _fmt(v.get("tune_retrieval_rate"), True),
                        v.get("tune_n")] for k, v in th.items()]), ""]
    if "oracle_gap_over_always" in report:
        out += [f"Oracle gain over always-retrieve: {_fmt(report['oracle_gap_over_always'], True)} points.", ""]
    if "accuracy_vs_retrieval" in plots:
        out += [f"![accuracy vs retrieval rate]({plots['accuracy_vs_retrieval']})", ""]
    out += ["### By popularity (s_pop bucket): accuracy % (n)", ""]
    out += [table(["mode", *BUCKETS], [
        [m, *(_bucket_cell(modes[m].get("by_popularity", {}).get(b)) for b in BUCKETS)] for m in names]), ""]
    if "by_popularity" in plots:
        out += [f"![accuracy by popularity]({plots['by_popularity']})", ""]
    out += ["### Retrieved vs not retrieved: accuracy % (n)", ""]
    out += [table(["mode", "retrieved", "not retrieved"], [
        [m, _bucket_cell(modes[m].get("by_retrieval", {}).get("retrieved")),
         _bucket_cell(modes[m].get("by_retrieval", {}).get("not_retrieved"))] for m in names]), ""]
    out += ["### Attribution, conflicts", ""]
    out += [table(["mode", "attribution precision %", "cited sentences", "conflict flag rate %", "checked"], [
        [m, _fmt(modes[m].get("attribution_precision"), True), modes[m].get("attribution_cited_sentences", 0),
         _fmt(modes[m].get("conflict_flag_rate"), True), modes[m].get("conflict_checked", 0)] for m in names]), ""]
    stages = sorted({st for m in names for st in modes[m].get("latency_by_stage_ms", {})},
                    key=lambda s: (_STAGES.index(s) if s in _STAGES else len(_STAGES), s))
    if stages:
        out += ["### Latency per stage, ms (p50 / p95)", ""]
        out += [table(["mode", *stages], [
            [m, *(_p(modes[m].get("latency_by_stage_ms", {}).get(st)) for st in stages)] for m in names]), ""]
        if "latency" in plots:
            out += [f"![latency per stage]({plots['latency']})", ""]
    return "\n".join(out)


def _bucket_cell(s: Mapping[str, Any] | None) -> str:
    if not s or not s.get("n"):
        return "–"
    return f"{_fmt(s.get('accuracy'), True)} ({s['n']})"


def _p(s: Mapping[str, Any] | None) -> str:
    return "–" if not s else f"{_fmt(s.get('p50'))} / {_fmt(s.get('p95'))}"


def ragas_section(report: Mapping[str, Any]) -> str:
    metrics = report.get("metrics")
    if not isinstance(metrics, Mapping):
        return ""
    counts = report.get("metric_counts", {})
    fails = report.get("judge_failures", {})
    out = ["## ragas", "", f"n = {report.get('n')}" + (f", mode {report['mode']}" if "mode" in report else ""), ""]
    out += [table(["metric", "mean", "samples scored", "judge failures"],
                  [[k, _fmt(v), counts.get(k, "–"), fails.get(k, "–")] for k, v in metrics.items()]), ""]
    return "\n".join(out)


def gate_section(report: Mapping[str, Any]) -> str:
    checks = report.get("checks")
    if not isinstance(checks, Sequence):
        return ""
    status = "PASSED" if report.get("passed") else "FAILED"
    out = [f"## Quality gate: {status}", "", f"run time {report.get('seconds')} s", ""]
    out += [table(["metric", "value", "floor", "ok"],
                  [[c["metric"], _fmt(c["value"]), _fmt(c["floor"]), "yes" if c["ok"] else "**no**"] for c in checks]),
            ""]
    return "\n".join(out)


def plot_all(popqa: Mapping[str, Any], out_dir: Path, stem: str) -> dict[str, str]:
    """Write the PNG plots of one PopQA report; returns name -> file name (relative to out_dir)."""
    if not modes_of(popqa):
        return {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = modes_of(popqa)
    names = _sorted_modes(modes)
    files: dict[str, str] = {}

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for kind, curve in (popqa.get("sweeps") or {}).items():
        if curve:
            xs, ys = zip(*sorted(curve))
            ax.plot([100 * x for x in xs], [100 * y for y in ys], "-", alpha=0.6, label=f"{kind} threshold sweep")
    for m in names:
        s = modes[m]
        if s.get("retrieval_rate") is not None and s.get("accuracy") is not None:
            ax.plot(100 * s["retrieval_rate"], 100 * s["accuracy"], "o", markersize=8, label=m)
            ax.annotate(m, (100 * s["retrieval_rate"], 100 * s["accuracy"]), textcoords="offset points",
                        xytext=(5, 5), fontsize=8)
    ax.set_xlabel("retrieval rate (%)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("PopQA: accuracy vs retrieval rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    files["accuracy_vs_retrieval"] = _save(fig, out_dir, f"{stem}_accuracy_vs_retrieval.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(names), 1)
    for i, m in enumerate(names):
        bp = modes[m].get("by_popularity", {})
        ys = [100 * (bp.get(b, {}).get("accuracy") or 0.0) for b in BUCKETS]
        ax.bar([j + i * width for j in range(len(BUCKETS))], ys, width, label=m)
    ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(BUCKETS))], BUCKETS)
    ax.set_xlabel("subject popularity (monthly page views)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("PopQA: accuracy by popularity")
    ax.legend(fontsize=7)
    files["by_popularity"] = _save(fig, out_dir, f"{stem}_by_popularity.png")

    stages = [s for s in _STAGES if any(s in modes[m].get("latency_by_stage_ms", {}) for m in names)]
    if stages:
        fig, ax = plt.subplots(figsize=(7, 4))
        bottoms = [0.0] * len(names)
        for st in stages:
            ys = [(modes[m].get("latency_by_stage_ms", {}).get(st) or {}).get("p50") or 0.0 for m in names]
            ax.bar(names, ys, bottom=bottoms, label=st)
            bottoms = [b + y for b, y in zip(bottoms, ys)]
        ax.set_ylabel("p50 latency (ms)")
        ax.set_title("Latency per stage (p50)")
        ax.legend(fontsize=7)
        files["latency"] = _save(fig, out_dir, f"{stem}_latency.png")
    return files


def _save(fig: Any, out_dir: Path, name: str) -> str:
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=110)
    plt.close(fig)
    return name


def render_markdown(reports: Sequence[Mapping[str, Any]], out: Path | None, title: str = "adaptrag evaluation") -> str:
    """The Markdown text; with `out`, plots are written next to it (without, no plots)."""
    parts = [f"# {title}", ""]
    for i, r in enumerate(reports):  # each PopQA report plots its own figures: <stem>_..., <stem>_2_..., ...
        plots = plot_all(r, out.parent, out.stem if i == 0 else f"{out.stem}_{i + 1}") if out is not None else {}
        sections = [gate_section(r), popqa_section(r, plots)]
        nested = r.get("ragas")
        if isinstance(nested, Mapping) and "metrics" not in nested:  # eval popqa --ragas: mode -> ragas report
            sections += [ragas_section({**v, "mode": m}) for m, v in nested.items()]
        else:
            sections.append(ragas_section(nested if isinstance(nested, Mapping) else r))
        parts += [x for s in sections if s for x in (s, "")]
    return "\n".join(parts).rstrip() + "\n"
