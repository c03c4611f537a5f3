import numpy as np
import pytest

from siamtrack.tracking.crops import crop_squares, sampling_grid


def gradient_frame(height=120, width=160):
    """Channel 0 = column, channel 1 = row: bilinear sampling reproduces coordinates exactly."""
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    return np.stack([cols, rows, np.full_like(cols, 7)], axis=-1).astype(np.uint8)


def test_identity_crop_copies_pixels():
    frame = np.random.default_rng(1).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    # Side 21 at output 21, centered on pixel (40, 30): exactly frame[20:41, 30:51].
    crop = crop_squares(frame, (40.0, 30.0), [21], 21, (0, 0, 0))[0]
    assert np.array_equal(crop, frame[20:41, 30:51])


def test_sub_pixel_center():
    frame = gradient_frame()
    crop = crop_squares(frame, (50.5, 40.25), [11], 11, (0, 0, 0))[0].astype(float)
    # Output pixel u samples center + (u - 5); bilinear interpolation of a linear ramp is exact
    # up to OpenCV's 1/32-pixel interpolation grid and rounding to uint8.
    assert np.abs(crop[:, :, 0] - (50.5 + np.arange(11) - 5)[None, :]).max() <= 0.5 + 1 / 32
    assert np.abs(crop[:, :, 1] - (40.25 + np.arange(11) - 5)[:, None]).max() <= 0.5 + 1 / 32


def test_border_is_mean_color_padding():
    frame = np.full((40, 40, 3), 200, np.uint8)
    pad = (10, 20, 30)
    crop = crop_squares(frame, (0.0, 0.0), [41], 41, pad)[0]
    assert (crop[:19, :19] == pad).all()  # fully outside: the pad color
    assert (crop[21:, 21:] == 200).all()  # fully inside: the frame
    assert crop.dtype == np.uint8


def test_crop_far_outside_is_all_padding():
    frame = np.zeros((40, 40, 3), np.uint8)
    crop = crop_squares(frame, (500.0, -300.0), [30], 16, (1, 2, 3))[0]
    assert (crop == (1, 2, 3)).all()


@pytest.mark.parametrize("sizes", [[64.0], [60.0, 64.0, 68.0], [30.0, 40.0, 50.0, 60.0, 70.0]])
def test_scales_are_concentric_and_sized(sizes):
    frame = gradient_frame()
    crops = crop_squares(frame, (80.0, 60.0), sizes, 32, (0, 0, 0)).astype(float)
    assert crops.shape == (len(sizes), 32, 32, 3)
    for crop, size in zip(crops, sizes):
        # Columns span center +- (size/2)(1 - 1/out): the ramp's slope is size / out per pixel.
        slope = np.polyfit(np.arange(32), crop[16, :, 0], 1)[0]
        assert slope == pytest.approx(size / 32, rel=0.02)
        # All crops share the center: the middle of the output sits on column 80.
        assert crop[:, 15:17, 0].mean() == pytest.approx(80.0, abs=0.6)


def test_sampling_grid_layout():
    map_x, map_y = sampling_grid((10.0, 20.0), [4.0, 8.0], 4)
    assert map_x.shape == map_y.shape == (8, 4) and map_x.dtype == np.float32
    np.testing.assert_allclose(map_x[0], [8.5, 9.5, 10.5, 11.5])
    np.testing.assert_allclose(map_x[4], [7.0, 9.0, 11.0, 13.0])
    np.testing.assert_allclose(map_y[4:, 0], [17.0, 19.0, 21.0, 23.0])
