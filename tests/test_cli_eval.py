"""``siamtrack eval`` run as a user would."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np

from siamtrack.model.weights import save_weights


def make_otb(root, count=6):
    folder = root / "Square"
    (folder / "img").mkdir(parents=True)
    rows = []
    for index in range(count):
        frame = np.full((90, 120, 3), 40, np.uint8)
        frame[30:60, 20 + 2 * index:50 + 2 * index] = (30, 200, 220)
        cv2.imwrite(str(folder / "img" / f"{index + 1:04d}.jpg"), frame)
        rows.append(f"{21 + 2 * index},31,30,30")
    (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")
    return root


def run(*args):
    return subprocess.run([sys.executable, "-m", "siamtrack.cli", "eval", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "SIAMTRACK_MODEL": ""})


def test_eval_writes_report_and_skips_unavailable(tmp_path, tiny_weights):
    data = make_otb(tmp_path / "data")
    model = save_weights(tiny_weights, tmp_path / "m.pth")
    result = run(data, "--trackers", "mine,kcf,mil,nano", "--siamtrack", f"mine={model}", "--report",
                 tmp_path / "rep", "--threads", "1", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "skipping nano" in result.stderr and "--peer-models" in result.stderr
    assert f"tracker 'mine': backend torch on cpu, model {model}" in result.stderr  # says what runs it
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(report["summary"]) == {"mine", "kcf", "mil"}
    assert report["environment"]["threads"] == 1
    assert "eval" in report["command"] and "Skipped nano" in (tmp_path / "rep" / "report.md").read_text()
    assert (tmp_path / "rep" / "results" / "kcf" / "Square.txt").is_file()


def test_eval_bad_inputs(tmp_path):
    assert run(tmp_path / "none", "--report", tmp_path / "r").returncode == 2
    data = make_otb(tmp_path / "data")
    result = run(data, "--trackers", "yolo", "--report", tmp_path / "r")
    assert result.returncode == 2 and "none of the requested trackers" in result.stderr
    result = run(data, "--trackers", "kcf", "--sequences", "Nope", "--report", tmp_path / "r")
    assert result.returncode == 2 and "Nope" in result.stderr
