"""Readers for each dataset layout, on small generated folders."""

import cv2
import numpy as np
import pytest

from siamtrack.datasets import dataset_layout, load_dataset
from siamtrack.errors import InputError


def images(folder, count, pattern="{:08d}.jpg"):
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        cv2.imwrite(str(folder / pattern.format(index + 1)), np.zeros((6, 6, 3), np.uint8))


def test_got10k(tmp_path):
    for name in ("GOT-10k_Val_000001", "GOT-10k_Val_000002"):
        images(tmp_path / name, 4)
        (tmp_path / name / "groundtruth.txt").write_text("1,2,3,4\n2,3,4,5\n3,4,5,6\n4,5,6,7\n")
        (tmp_path / name / "absence.label").write_text("0\n0\n1\n0\n")
        (tmp_path / name / "cover.label").write_text("8\n0\n0\n5\n")
    (tmp_path / "list.txt").write_text("GOT-10k_Val_000002\n")
    assert dataset_layout(tmp_path) == "got10k"
    [sequence] = load_dataset(tmp_path)  # list.txt selects one
    assert sequence.name == "GOT-10k_Val_000002"
    np.testing.assert_allclose(sequence.boxes[0], [1, 2, 3, 4])  # GOT-10k boxes are 0-based already
    assert sequence.absent.tolist() == [False, True, True, False]  # cover 0 or absence 1


def test_lasot(tmp_path):
    folder = tmp_path / "airplane" / "airplane-1"
    images(folder / "img", 3)
    (folder / "groundtruth.txt").write_text("11,21,5,6\n12,22,5,6\n13,23,5,6\n")
    (folder / "full_occlusion.txt").write_text("0,1,0")
    (folder / "out_of_view.txt").write_text("0,0,1")
    assert dataset_layout(tmp_path) == "lasot"
    [sequence] = load_dataset(tmp_path)
    assert sequence.name == "airplane-1" and len(sequence.frames) == 3
    np.testing.assert_allclose(sequence.boxes[0], [10, 20, 5, 6])  # 1-based -> 0-based
    assert sequence.absent.tolist() == [False, True, True]


@pytest.mark.parametrize("in_color_folder", [True, False])
def test_vot_polygons_and_rects(tmp_path, in_color_folder):
    folder = tmp_path / "ball"
    images(folder / "color" if in_color_folder else folder, 3)
    (folder / "groundtruth.txt").write_text("10,10,20,12,18,30,8,28\n5,6,7,8\nnan,nan,nan,nan\n")
    assert dataset_layout(tmp_path) == "vot"
    [sequence] = load_dataset(tmp_path)
    np.testing.assert_allclose(sequence.boxes[0], [8, 10, 12, 20])  # bounding rectangle of the polygon
    np.testing.assert_allclose(sequence.boxes[1], [5, 6, 7, 8])
    assert sequence.absent.tolist() == [False, False, True]


def test_otb_through_load_dataset(tmp_path):
    images(tmp_path / "Car" / "img", 2, "{:04d}.jpg")
    (tmp_path / "Car" / "groundtruth_rect.txt").write_text("1\t1\t4\t4\nNaN,NaN,NaN,NaN\n")
    [sequence] = load_dataset(tmp_path)
    assert dataset_layout(tmp_path / "Car") == "otb"
    assert sequence.absent.tolist() == [False, True]


def test_unknown_layout(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(InputError, match="known layout"):
        load_dataset(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_dataset(tmp_path / "missing")
    with pytest.raises(InputError, match="unknown dataset layout"):
        load_dataset(tmp_path, layout="imagenet")


def test_bad_label_file(tmp_path):
    images(tmp_path / "s", 2)
    (tmp_path / "s" / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4\n")
    (tmp_path / "s" / "absence.label").write_text("0\n")
    with pytest.raises(InputError, match="1 labels for 2 frames"):
        load_dataset(tmp_path)
