"""Writing an evaluation: raw results, report.json, report.md and success / precision plots.

Layout of a report folder::

    results/<tracker>/<sequence>.txt        boxes, OTB format (x,y,w,h, 1-based, NaN where none)
    results/<tracker>/<sequence>_lost.txt   the lost flag per frame (0/1)
    results/<tracker>/<sequence>_time.txt   seconds per frame (0 for the init frame)
    report.json                             every number below, plus curves and the command
    report.md                               tables: overall, per sequence, lost flag, failures
    success.png, precision.png              mean curves, AUC / P@20 in the legend
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from siamtrack.errors import InputError
from siamtrack.evaluation.harness import SequenceOutcome, summarise
from siamtrack.evaluation.metrics import NORMALIZED_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS
from siamtrack.files import json_text, make_folder, write_text_atomically


def machine_info(threads: int) -> dict:
    """What a measurement ran on: platform, CPU, thread count and library versions.

    A library that is not installed (torch on an ONNX Runtime-only install) is recorded as ``None``.
    """
    import importlib.metadata

    import cv2

    from siamtrack import __version__

    versions: dict[str, Optional[str]] = {}
    for package in ("torch", "onnxruntime"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"platform": platform.platform(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "threads": threads, "opencv": cv2.__version__, **versions, "siamtrack": __version__}


def write_json(path: Path, content: dict) -> None:
    """Write ``content`` as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json_text(content, indent=1) + "\n")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_raw_results(outcomes: Sequence[SequenceOutcome], folder: Path) -> None:
    for outcome in outcomes:
        target = folder / "results" / _safe(outcome.tracker)
        target.mkdir(parents=True, exist_ok=True)
        boxes = outcome.boxes.copy()
        boxes[:, :2] += 1.0  # OTB files are 1-based
        lines = ["NaN,NaN,NaN,NaN" if not np.isfinite(b).all() else ",".join(f"{v:.2f}" for v in b) for b in boxes]
        (target / f"{_safe(outcome.sequence)}.txt").write_text("\n".join(lines) + "\n")
        (target / f"{_safe(outcome.sequence)}_lost.txt").write_text("\n".join(str(int(v)) for v in outcome.lost) + "\n")
        times = np.zeros(len(boxes))
        times[len(boxes) - len(outcome.seconds):] = outcome.seconds
        (target / f"{_safe(outcome.sequence)}_time.txt").write_text("\n".join(f"{t:.6f}" for t in times) + "\n")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _plot(summary: dict, folder: Path, title: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    ordered = sorted(summary.items(), key=lambda item: -(item[1]["auc"] or 0))
    for name, key, xs, xlabel, score_key, label in (
            ("success.png", "success_curve", SUCCESS_THRESHOLDS, "overlap threshold (IoU)", "auc", "AUC"),
            ("precision.png", "precision_curve", PRECISION_THRESHOLDS, "location error threshold (pixels)",
             "precision20", "P@20")):
        figure, axes = plt.subplots(figsize=(6.4, 4.8), dpi=110)
        for tracker, row in sorted(ordered, key=lambda item: -(item[1][score_key] or 0)):
            axes.plot(xs, row[key], linewidth=2, label=f"{tracker} [{label} {row[score_key]:.3f}]")
        axes.set_xlim(xs[0], xs[-1])
        axes.set_ylim(0, 1.02)
        axes.set_xlabel(xlabel)
        axes.set_ylabel("success rate" if score_key == "auc" else "precision")
        axes.set_title(f"{'Success' if score_key == 'auc' else 'Precision'} plots of OPE\n{title}", fontsize=10)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower left" if score_key == "auc" else "lower right", fontsize=8)
        figure.tight_layout()
        figure.savefig(folder / name)
        plt.close(figure)
        written.append(name)
    return written


def write_report(outcomes: Sequence[SequenceOutcome], folder: Path, title: str = "evaluation",
                 command: str = "", environment: Optional[dict] = None, notes: Sequence[str] = ()) -> dict:
    """Write everything for ``outcomes`` into ``folder``; returns the report as a dict."""
    make_folder(folder, InputError)
    write_raw_results(outcomes, folder)
    summary = summarise(outcomes)
    sequences = list(dict.fromkeys(o.sequence for o in outcomes))
    report = {
        "title": title,
        "command": command,
        "environment": environment or {},
        "notes": list(notes),
        "thresholds": {"success": SUCCESS_THRESHOLDS.tolist(), "precision": PRECISION_THRESHOLDS.tolist(),
                       "normalized_precision": NORMALIZED_THRESHOLDS.tolist()},
        "summary": summary,
        "sequences": [{"tracker": o.tracker, "sequence": o.sequence, "error": o.error,
                       **{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in o.metrics.items()}}
                      for o in outcomes],
    }
    write_json(folder / "report.json", report)
    plots = _plot(summary, folder, title)

    names = sorted(summary, key=lambda n: -(summary[n]["auc"] or 0))
    lines = [f"# {title}", ""]
    if command:
        lines += ["Made with:", "", f"    {command}", ""]
    for note in notes:
        lines += [note, ""]
    lines += ["| tracker | AUC | P@20 | norm. P | AO | SR0.5 | SR0.75 | fps "
              "| latency p50 / p90 / p99 (ms) | failures |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        row = summary[name]
        lines.append(f"| {name} | {_fmt(row['auc'])} | {_fmt(row['precision20'])} "
                     f"| {_fmt(row['normalized_precision'])} "
                     f"| {_fmt(row['ao'])} | {_fmt(row['sr50'])} | {_fmt(row['sr75'])} | {_fmt(row['fps'], 1)} "
                     f"| {_fmt(row['latency_ms_p50'], 1)} / {_fmt(row['latency_ms_p90'], 1)} / "
                     f"{_fmt(row['latency_ms_p99'], 1)} | {len(row['failures'])} |")
    lines += ["", "Success AUC: mean over sequences of the area under the success curve (21 IoU thresholds); "
              "P@20: center error <= 20 px; norm. P: center error / target size <= 0.2; AO, SR: GOT-10k "
              "definitions. Speed: tracking only, on frames decoded beforehand, same thread count for all.", ""]
    lines += [f"![success plot]({plots[0]}) ![precision plot]({plots[1]})", ""]
    lines += ["## Success AUC per sequence", "", "| sequence | frames | " + " | ".join(names) + " |",
              "|---|---:|" + "---:|" * len(names)]
    by_key = {(o.tracker, o.sequence): o for o in outcomes}
    for sequence in sequences:
        cells = []
        for name in names:
            outcome = by_key.get((name, sequence))
            failed = " (failed)" if outcome is not None and outcome.error else ""
            cells.append("-" if outcome is None else _fmt(outcome.metrics["auc"]) + failed)
        frames = next(o.metrics["frames"] for o in outcomes if o.sequence == sequence)
        lines.append(f"| {sequence} | {frames} | " + " | ".join(cells) + " |")
    absent = [o for o in outcomes if o.absent.any()]
    if absent:
        lines += ["", "## Lost flag on sequences with absent-target frames", "",
                  "precision: of the frames flagged lost, the share where the target is absent; recall: of the "
                  "absent frames, the share flagged lost; false-lost: of the frames with the target visible, the "
                  "share flagged lost.", "",
                  "| tracker | sequence | absent frames | precision | recall | false-lost rate |",
                  "|---|---|---:|---:|---:|---:|"]
        for outcome in sorted(absent, key=lambda o: (o.sequence, names.index(o.tracker))):
            m = outcome.metrics
            lines.append(f"| {outcome.tracker} | {outcome.sequence} | {m['absent_frames']} | "
                         f"{_fmt(m['lost_precision'])} | {_fmt(m['lost_recall'])} | "
                         f"{_fmt(m['lost_false_lost_rate'])} |")
    failures = [o for o in outcomes if o.error]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {o.tracker} on {o.sequence}: {o.error}" for o in failures]
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    return report
