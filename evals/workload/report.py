"""Markdown rendering of an `eval workload` report, with three plots written beside the Markdown file:
success by kind per mode, retrieval rate by kind per mode, and the latency distribution per mode.

    text = render(report, Path("evals/reports/workload-smollm2-135m.md"))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.workload.cases import KINDS


def _fmt(x: Any, pct: bool = True) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.0f}%" if pct else f"{x:,.0f}"


def render(report: dict[str, Any], out: Path | None, title: str | None = None,
           latencies: dict[str, list[float]] | None = None) -> str:
    """The Markdown text; with `out`, plots are written beside it (`latencies`: mode -> ms per answer)."""
    modes = list(report["modes"])
    lines = [f"# {title or 'Workload benchmark'}: {report.get('model', '')}", ""]
    index = report.get("index") or {}
    size = f" ({index.get('documents')} documents, {index.get('chunks')} chunks)" if index else ""
    lines.append(f"Corpus `{report.get('corpus')}`{size}, cases `{report.get('cases')}` "
                 f"({report.get('n_cases')} cases), backend {report.get('backend')}, top-k {report.get('top_k')}, "
                 "conflict check on.")
    lines += ["", "## Summary", "", "| metric | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    rows = [("success (mean over kinds)", "success", True), ("false flag rate", "false_flag_rate", True),
            ("conflict recall", "conflict_recall", True), ("abstain recall", "abstain_recall", True),
            ("false abstain rate", "false_abstain_rate", True), ("retrieval rate", "retrieval_rate", True),
            ("passage recall@k (document, no_conflict)", "passage_recall", True),
            ("attribution precision (cited span states the sentence)", "attribution_precision", True)]
    for label, key, pct in rows:
        lines.append(f"| {label} | " + " | ".join(_fmt(report["modes"][m].get(key), pct) for m in modes) + " |")
    for q in ("mean", "p50", "p95"):
        lines.append(f"| latency {q} (ms) | "
                     + " | ".join(_fmt(report["modes"][m]["latency_ms"].get(q), False) for m in modes) + " |")
    lines.append("| errors | " + " | ".join(str(report["modes"][m].get("errors", 0)) for m in modes) + " |")
    if report.get("ratios"):
        lines += ["", "Latency ratios (same run, same questions): "
                  + ", ".join(f"{k} {v}×" for k, v in report["ratios"].items()) + "."]
    lines += ["", "## By kind", "", "| kind | n | " + " | ".join(f"{m} success / retrieval / flag / abstain"
                                                              for m in modes) + " |",
              "|---|---|" + "---|" * len(modes)]
    for kind in KINDS:
        cells, n = [], None
        for m in modes:
            k = report["modes"][m]["by_kind"].get(kind)
            if k is None:
                cells.append("–")
                continue
            n = k["n"]
            cells.append(" / ".join(_fmt(k[x]) for x in ("success", "retrieval_rate", "flag_rate", "abstain_rate")))
        if n is not None:
            lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    stages = sorted({s for m in modes for s in report["modes"][m].get("stage_ms_mean", {}) if "_" not in s})
    if stages:
        lines += ["", "## Mean time per stage (ms)", "", "| stage | " + " | ".join(modes) + " |",
                  "|---|" + "---|" * len(modes)]
        for s in stages:
            lines.append(f"| {s} | " + " | ".join(_fmt(report["modes"][m]["stage_ms_mean"].get(s), False)
                                                 for m in modes) + " |")
    if out is not None:
        plots = _plots(report, modes, out, latencies or {})
        if plots:
            lines += ["", "## Plots", ""] + [f"![{name}]({file})" for name, file in plots]
    return "\n".join(lines) + "\n"


def _plots(report: dict[str, Any], modes: Sequence[str], out: Path,
           latencies: dict[str, list[float]]) -> list[tuple[str, str]]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out.parent.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in KINDS if any(k in report["modes"][m]["by_kind"] for m in modes)]
    written = []
    for key, label in (("success", "success"), ("retrieval_rate", "retrieval rate")):
        fig, ax = plt.subplots(figsize=(9, 3.6))
        width = 0.8 / max(len(modes), 1)
        for i, m in enumerate(modes):
            ys = [(report["modes"][m]["by_kind"].get(k) or {}).get(key) or 0.0 for k in kinds]
            ax.bar([x + i * width for x in range(len(kinds))], ys, width, label=m)
        ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(kinds))], kinds, rotation=20, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(label)
        ax.set_title(f"{label} by kind")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"{out.stem}_{key}_by_kind.png"
        fig.savefig(out.parent / name, dpi=90)
        plt.close(fig)
        written.append((f"{label} by kind", name))
    if any(latencies.get(m) for m in modes):
        fig, ax = plt.subplots(figsize=(7, 3.4))
        ax.boxplot([[x / 1000 for x in latencies.get(m, [])] for m in modes], tick_labels=modes)
        ax.set_ylabel("seconds per answer")
        ax.set_title("latency distribution")
        fig.tight_layout()
        name = f"{out.stem}_latency.png"
        fig.savefig(out.parent / name, dpi=90)
        plt.close(fig)
        written.append(("latency distribution", name))
    return written
