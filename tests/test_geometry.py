"""One context rule everywhere: a target is calibrated on the crop it is then tracked on."""

import numpy as np
import pytest

import siamtrack.tracking.readout
import siamtrack.tracking.tracker
from siamtrack import MultiTracker
from siamtrack.geometry import box_center, context_side, search_side


def test_context_side_and_center():
    assert context_side(40, 100) == pytest.approx(np.sqrt(110 * 170))
    assert context_side(40, 100, 0.3) == pytest.approx(np.sqrt(82 * 142))
    assert search_side(40, 100, 127, 255, 0.3) == pytest.approx(np.sqrt(82 * 142) * 255 / 127)
    assert box_center((10, 20, 5, 4)) == (12.0, 21.5)


@pytest.mark.parametrize("amount", [0.3, 0.5, 0.8])
def test_calibration_and_tracking_crops_agree_for_any_context_amount(monkeypatch, tiny_weights, amount):
    sides = {"calibrate": [], "track": []}

    def recording(kind, original):
        def crop(image, centers, crop_sides, *args, **kwargs):
            sides[kind].append(list(crop_sides))
            return original(image, centers, crop_sides, *args, **kwargs)
        return crop

    readout, tracking = siamtrack.tracking.readout, siamtrack.tracking.tracker
    monkeypatch.setattr(readout, "crop_regions", recording("calibrate", readout.crop_regions))
    monkeypatch.setattr(tracking, "crop_regions", recording("track", tracking.crop_regions))
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    tracker = MultiTracker(model=tiny_weights, backend="torch", device="cpu", config={"context_amount": amount})
    tracker.add(frame, (100, 60, 40, 100))
    sides["track"].clear()  # the exemplar crop; what matters is the search crops
    tracker.update(frame)
    calibrated = sides["calibrate"][0][0]
    scales = len(sides["track"][0])
    assert sides["track"][0][scales // 2] == pytest.approx(calibrated)
    assert calibrated == pytest.approx(search_side(40, 100, 127, 255, amount))


def test_clear_of_keeps_boxes_no_held_box_covers():
    from siamtrack.geometry import clear_of

    boxes = np.array([[0, 0, 10, 10], [100, 100, 10, 10], [2, 1, 10, 10]])
    assert clear_of(boxes, np.array([[1, 1, 10, 10]])).tolist() == [False, True, False]
    assert clear_of(boxes, np.zeros((0, 4))).tolist() == [True, True, True]
