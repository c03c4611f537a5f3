import cv2
import numpy as np
import pytest

from siamtrack.datasets.otb import list_sequences, load_sequence, read_boxes
from siamtrack.errors import InputError


def make_sequence(root, name, rows, frames=None, separator=","):
    folder = root / name
    (folder / "img").mkdir(parents=True)
    for index in range(frames if frames is not None else len(rows)):
        cv2.imwrite(str(folder / "img" / f"{index + 1:04d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    (folder / "groundtruth_rect.txt").write_text("\n".join(separator.join(map(str, r)) for r in rows) + "\n")
    return folder


@pytest.mark.parametrize("separator", [",", "\t", " "])
def test_separators_and_one_based_conversion(tmp_path, separator):
    folder = make_sequence(tmp_path, "seq", [(1, 2, 3, 4), (5.5, 6, 7, 8)], separator=separator)
    sequence = load_sequence(folder)
    np.testing.assert_allclose(sequence.boxes, [[0, 1, 3, 4], [4.5, 5, 7, 8]])
    assert [p.name for p in sequence.frames] == ["0001.jpg", "0002.jpg"]


def test_nan_rows_mark_absence(tmp_path):
    folder = make_sequence(tmp_path, "seq", [(1, 2, 3, 4), ("NaN", "NaN", "NaN", "NaN"), (1, 1, 2, 2)])
    sequence = load_sequence(folder)
    assert sequence.absent.tolist() == [False, True, False]


def test_lengths_are_matched(tmp_path):
    assert len(load_sequence(make_sequence(tmp_path, "a", [(1, 1, 2, 2)] * 3, frames=5)).frames) == 3
    assert len(load_sequence(make_sequence(tmp_path, "b", [(1, 1, 2, 2)] * 5, frames=2)).boxes) == 2


def test_bad_rows(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3\n")
    with pytest.raises(InputError, match="expected 4 values"):
        read_boxes(path)
    path.write_text("1,2,x,4\n")
    with pytest.raises(InputError, match="gt.txt:1"):
        read_boxes(path)


def test_not_a_sequence(tmp_path):
    with pytest.raises(InputError, match="no groundtruth_rect.txt"):
        load_sequence(tmp_path)


def test_list_sequences(tmp_path):
    make_sequence(tmp_path, "b", [(1, 1, 2, 2)])
    make_sequence(tmp_path, "a", [(1, 1, 2, 2)])
    (tmp_path / "notes").mkdir()
    assert [p.name for p in list_sequences(tmp_path)] == ["a", "b"]
