import numpy as np
import pytest

from siamtrack.errors import ConfigError
from siamtrack.geometry import context_side
from siamtrack.tracking.crops import crop_squares
from siamtrack.training.augment import NO_AUGMENTATION, Augmentation, training_pair


def scene(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, (300, 400, 3), dtype=np.uint8)
    image[120:160, 180:240] = (40, 200, 250)  # the target: a bright 60 x 40 block
    return image


BOX = np.array([180.0, 120.0, 60.0, 40.0])


def test_without_augmentation_crops_equal_the_trackers():
    image = scene()
    exemplar, search, target = training_pair(image, BOX, image, BOX, np.random.default_rng(0), NO_AUGMENTATION)
    center = (BOX[0] + (BOX[2] - 1) / 2, BOX[1] + (BOX[3] - 1) / 2)
    pad = image.reshape(-1, 3).mean(axis=0)
    side = context_side(BOX[2], BOX[3], 0.5)
    expected_z = crop_squares(image, center, [side], 127, pad)[0]
    expected_x = crop_squares(image, center, [side * 255 / 127], 255, pad)[0]
    assert np.abs(exemplar.astype(int) - expected_z).max() <= 1
    assert np.abs(search.astype(int) - expected_x).max() <= 1
    scale = 255 / (side * 255 / 127)  # search-crop pixels per frame pixel
    assert target.tolist() == pytest.approx([0.0, 0.0, 60 * scale, 40 * scale], abs=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_target_says_where_the_target_is_and_how_large(seed):
    image = scene(seed)
    aug = Augmentation(max_shift=64, stretch=0.05, color=0.0, blur_probability=0.0, gray_probability=0.0)
    _, search, target = training_pair(image, BOX, image, BOX, np.random.default_rng(seed), aug)
    assert np.abs(target[:2]).max() <= 64
    bright = np.argwhere(search[:, :, 2] > 150)  # the target's red channel stands out
    center_yx = bright.mean(axis=0)
    assert center_yx[1] - 127 == pytest.approx(target[0], abs=2.0)
    assert center_yx[0] - 127 == pytest.approx(target[1], abs=2.0)
    # Its size in the crop, stretch included: the bright block's extent.
    extent_yx = bright.max(axis=0) - bright.min(axis=0) + 1
    assert extent_yx[1] == pytest.approx(target[2], abs=2.0)
    assert extent_yx[0] == pytest.approx(target[3], abs=2.0)


def test_augmentation_is_reproducible_and_varies():
    image = scene()
    first = training_pair(image, BOX, image, BOX, np.random.default_rng(7))
    again = training_pair(image, BOX, image, BOX, np.random.default_rng(7))
    other = training_pair(image, BOX, image, BOX, np.random.default_rng(8))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])
    assert first[0].shape == (127, 127, 3) and first[1].shape == (255, 255, 3) and first[0].dtype == np.uint8


def test_gray_pairs_are_gray_together():
    image = scene()
    aug = Augmentation(gray_probability=1.0)
    exemplar, search, _ = training_pair(image, BOX, image, BOX, np.random.default_rng(0), aug)
    for crop in (exemplar, search):
        assert (crop[:, :, 0] == crop[:, :, 1]).all() and (crop[:, :, 1] == crop[:, :, 2]).all()


def test_bad_settings():
    with pytest.raises(ConfigError):
        Augmentation(stretch=0.7)
    with pytest.raises(ConfigError):
        Augmentation(gray_probability=2)


def test_distractor_pairs_are_cut_around_the_distractor():
    image = scene(3)
    image[200:240, 40:100] = (250, 60, 40)  # a second object, blue: the distractor
    distractor = np.array([40.0, 200.0, 60.0, 40.0])
    aug = Augmentation(max_shift=0, stretch=0.0, color=0.0, blur_probability=0.0, gray_probability=0.0)
    _, search, target = training_pair(image, BOX, image, BOX, np.random.default_rng(0), aug, distractor_box=distractor)
    blue = np.argwhere(search[:, :, 0] > 150)
    assert np.abs(blue.mean(axis=0) - 127).max() < 2  # the distractor is in the middle
    # The offset still points at the target: 140 px right and 80 px up of the distractor, in crop pixels.
    scale = 255 / (context_side(distractor[2], distractor[3], 0.5) * 255 / 127)
    assert target.tolist() == pytest.approx([140 * scale, -80 * scale, 60 * scale, 40 * scale], abs=1e-3)


def test_scale_jitter_shows_the_target_at_varied_sizes_and_says_which():
    image = scene()
    aug = Augmentation(max_shift=0, stretch=0.0, color=0.0, blur_probability=0.0, gray_probability=0.0, scale=0.25)
    widths = []
    for seed in range(12):
        _, search, target = training_pair(image, BOX, image, BOX, np.random.default_rng(seed), aug)
        bright = np.argwhere(search[:, :, 2] > 150)
        extent = bright.max(axis=0) - bright.min(axis=0) + 1
        assert extent[1] == pytest.approx(target[2], abs=2.0) and extent[0] == pytest.approx(target[3], abs=2.0)
        widths.append(target[2])
    natural = 60 * 127 / context_side(BOX[2], BOX[3], 0.5)  # the block's width in a crop cut at its own size
    assert min(widths) >= natural / 1.25 - 1e-3 and max(widths) <= natural * 1.25 + 1e-3
    assert max(widths) / min(widths) > 1.25  # the sizes really vary
    plain = training_pair(image, BOX, image, BOX, np.random.default_rng(0), NO_AUGMENTATION)[2]
    assert plain[2] == pytest.approx(natural, abs=1e-3)
