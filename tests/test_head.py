import numpy as np
import pytest

from siamtrack.config import TrackerConfig
from siamtrack.head import ResponseHead, hann_window, scale_factors, upsample


def gaussian_map(row, col, size=17, sigma=1.2, height=1.0):
    rows, cols = np.mgrid[:size, :size]
    return height * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def test_scale_factors():
    np.testing.assert_allclose(scale_factors(TrackerConfig()), [1 / 1.0375, 1.0, 1.0375])
    assert len(scale_factors(TrackerConfig(scale_count=5, scale_step=1.0255))) == 5


def test_hann_window_sums_to_one_and_peaks_in_the_middle():
    window = hann_window(272)
    assert window.sum() == pytest.approx(1.0, rel=1e-5)
    assert window[135:137, 135:137].min() == window.max()


def test_upsample_shapes_and_values():
    maps = np.stack([gaussian_map(8, 8), gaussian_map(4, 12)])
    up = upsample(maps, 272)
    assert up.shape == (2, 272, 272)
    assert np.unravel_index(up[1].argmax(), up[1].shape) in {(71, 199), (72, 200), (71, 200), (72, 199)}
    assert upsample(maps[:1], 272).shape == (1, 272, 272)


def test_centred_peak_moves_nothing():
    head = ResponseHead(TrackerConfig())
    peak = head.locate(np.stack([gaussian_map(8, 8, height=h) for h in (0.5, 1.0, 0.5)]))
    assert peak.scale_index == 1
    assert peak.offset == pytest.approx((0.0, 0.0), abs=0.5)


@pytest.mark.parametrize("d_row, d_col", [(0, 3), (-2, 0), (1, -4), (3, 3)])
def test_known_offset_maps_to_stride_pixels(d_row, d_col):
    head = ResponseHead(TrackerConfig(window_influence=0.0))
    maps = np.stack([gaussian_map(8 + d_row, 8 + d_col, height=h) for h in (0.2, 1.0, 0.2)])
    peak = head.locate(maps)
    # One response cell is one backbone stride (8 search-crop pixels).
    assert peak.offset == pytest.approx((8.0 * d_col, 8.0 * d_row), abs=0.5)


def test_window_pulls_towards_the_centre():
    free = ResponseHead(TrackerConfig(window_influence=0.0))
    windowed = ResponseHead(TrackerConfig(window_influence=0.5))
    maps = np.stack([gaussian_map(8, 12, sigma=3.0)] * 3)
    assert abs(windowed.locate(maps).offset[0]) < abs(free.locate(maps).offset[0])


def test_scale_penalty_decides_between_scales():
    head = ResponseHead(TrackerConfig())
    centred = gaussian_map(8, 8)
    # A side scale must beat the middle one by more than the penalty (0.9745) to win.
    assert head.locate(np.stack([centred * 1.02, centred, centred])).scale_index == 1
    assert head.locate(np.stack([centred * 1.05, centred, centred])).scale_index == 0
    assert head.locate(np.stack([centred, centred, centred * 1.05])).scale_index == 2


def test_peak_reports_raw_response_and_contrast():
    head = ResponseHead(TrackerConfig())
    maps = np.stack([gaussian_map(8, 8, height=5.0) + 2.0] * 3)
    peak = head.locate(maps)
    assert peak.response == pytest.approx(7.0, abs=0.05)
    # The contrast ignores the constant offset of 2.
    assert peak.contrast == pytest.approx(head.contrast(maps[1] - 2.0), rel=1e-4)


def test_wrong_number_of_maps():
    with pytest.raises(ValueError, match="3 response maps"):
        ResponseHead(TrackerConfig()).locate(np.zeros((2, 17, 17), np.float32))
