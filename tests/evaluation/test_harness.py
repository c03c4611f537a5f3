"""The harness runs trackers side by side, survives faulty ones, and writes a readable report."""

import json

import cv2
import numpy as np
import pytest

from siamtrack.datasets import LabeledSequence
from siamtrack.evaluation.harness import TrackerEntry, evaluate, summarise
from siamtrack.evaluation.report import write_report
from siamtrack.results import TrackResult


@pytest.fixture()
def sequences(tmp_path):
    made = []
    for name, absent_at in (("walk", None), ("hide", 3)):
        folder = tmp_path / name
        folder.mkdir()
        paths, boxes = [], []
        for index in range(6):
            image = np.zeros((60, 80, 3), np.uint8)
            paths.append(folder / f"{index:04d}.png")
            cv2.imwrite(str(paths[-1]), image)
            boxes.append([10 + index, 10, 20, 20])
        boxes = np.array(boxes, float)
        if absent_at is not None:
            boxes[absent_at] = np.nan
        made.append(LabeledSequence(name, tuple(paths), boxes))
    return made


class Perfect:
    """Knows the truth: follows the box moving one pixel right per frame."""

    def init(self, frame, box):
        self.box = list(box)

    def update(self, frame):
        self.box[0] += 1
        return TrackResult(tuple(self.box), 1.0, False, 0)


class Throws(Perfect):
    def update(self, frame):
        if self.box[0] >= 12:
            raise RuntimeError("model exploded")
        return super().update(frame)


class Garbage(Perfect):
    def update(self, frame):
        return (np.nan, 1, 2)


def test_faulty_trackers_are_recorded_and_the_run_goes_on(sequences):
    entries = [TrackerEntry("throws", Throws), TrackerEntry("garbage", Garbage), TrackerEntry("perfect", Perfect)]
    outcomes = evaluate(entries, sequences)
    assert len(outcomes) == 6
    by = {(o.tracker, o.sequence): o for o in outcomes}
    assert "RuntimeError: model exploded" in by["throws", "walk"].error
    assert "not a box" in by["garbage", "walk"].error
    assert by["perfect", "walk"].error is None and by["perfect", "walk"].metrics["auc"] == pytest.approx(20 / 21)
    # Frames after a failure count as misses, not as crashes of the harness.
    assert by["throws", "walk"].metrics["auc"] < by["perfect", "walk"].metrics["auc"]
    summary = summarise(outcomes)
    assert len(summary["throws"]["failures"]) == 2 and summary["perfect"]["failures"] == []


def test_absent_frames_score_the_lost_flag(sequences):
    class SaysLostWhenHidden(Perfect):
        def update(self, frame):
            result = super().update(frame)
            return TrackResult(result.box, 0.1, self.box[0] == 13, 0)

    [outcome] = evaluate([TrackerEntry("x", SaysLostWhenHidden)], sequences[1:])
    assert outcome.metrics["absent_frames"] == 1
    assert outcome.metrics["lost_precision"] == 1.0 and outcome.metrics["lost_recall"] == 1.0
    assert outcome.metrics["auc"] == pytest.approx(20 / 21)  # the absent frame is not scored


def test_report_files(tmp_path, sequences):
    outcomes = evaluate([TrackerEntry("perfect", Perfect), TrackerEntry("throws", Throws)], sequences)
    report = write_report(outcomes, tmp_path / "report", title="unit", command="siamtrack eval x")
    folder = tmp_path / "report"
    written = json.loads((folder / "report.json").read_text())
    assert written["summary"]["perfect"]["auc"] == report["summary"]["perfect"]["auc"]
    markdown = (folder / "report.md").read_text()
    assert "| perfect |" in markdown and "## Failures" in markdown and "siamtrack eval x" in markdown
    assert "## Lost flag" in markdown
    for plot in ("success.png", "precision.png"):
        image = cv2.imread(str(folder / plot))
        assert image is not None and image.shape[0] > 300
    rows = (folder / "results" / "perfect" / "walk.txt").read_text().splitlines()
    assert len(rows) == 6 and rows[0] == "11.00,11.00,20.00,20.00"  # OTB: 1-based
    failed = (folder / "results" / "throws" / "walk.txt").read_text().splitlines()
    assert failed[-1] == "NaN,NaN,NaN,NaN"
    assert len((folder / "results" / "perfect" / "hide_lost.txt").read_text().split()) == 6
