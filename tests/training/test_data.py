import json

import cv2
import numpy as np
import pytest
import torch

from siamtrack.datasets import load_dataset
from siamtrack.datasets.stills import load_stills
from siamtrack.errors import InputError
from siamtrack.training.data import PairDataset


def write_image(path, size=(160, 120)):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(len(str(path))).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    cv2.imwrite(str(path), image)


@pytest.fixture()
def data(tmp_path):
    for index in range(6):
        write_image(tmp_path / "seqs" / "Walk" / "img" / f"{index + 1:04d}.jpg")
    (tmp_path / "seqs" / "Walk" / "groundtruth_rect.txt").write_text(
        "\n".join(["41,31,30,40"] * 3 + ["NaN,NaN,NaN,NaN"] + ["45,33,30,40"] * 2) + "\n")
    write_image(tmp_path / "coco" / "images" / "a.jpg")
    write_image(tmp_path / "coco" / "images" / "b.jpg")
    (tmp_path / "coco" / "boxes.json").write_text(json.dumps({
        "a.jpg": {"size": [160, 120], "boxes": [[10, 10, 40, 30], [60, 50, 0, 10]]},
        "b.jpg": {"size": [160, 120], "boxes": []}}))
    return tmp_path


def test_boxes_json(data):
    [still] = load_stills(data / "coco" / "boxes.json")  # b.jpg has no box; the 0-wide box is dropped
    assert still.path == data / "coco" / "images" / "a.jpg" and still.boxes.tolist() == [[10, 10, 40, 30]]


def test_coco_instances(tmp_path):
    write_image(tmp_path / "imgs" / "x.jpg")
    (tmp_path / "instances.json").write_text(json.dumps({
        "images": [{"id": 7, "file_name": "x.jpg", "width": 160, "height": 120}],
        "annotations": [{"image_id": 7, "bbox": [1, 2, 30, 40], "iscrowd": 0},
                        {"image_id": 7, "bbox": [5, 5, 50, 50], "iscrowd": 1}]}))
    [still] = load_stills(tmp_path / "instances.json", tmp_path / "imgs")
    assert still.boxes.tolist() == [[1, 2, 30, 40]]
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(InputError):
        load_stills(tmp_path / "bad.json")


def test_pairs_are_reproducible_per_epoch(data):
    dataset = PairDataset(load_dataset(data / "seqs"), load_stills(data / "coco" / "boxes.json"),
                          pairs_per_epoch=12, seed=3)
    first = [dataset[i] for i in range(4)]
    again = [dataset[i] for i in range(4)]
    assert all(torch.equal(a[1], b[1]) for a, b in zip(first, again))
    dataset.set_epoch(1)
    assert not all(torch.equal(a[1], dataset[i][1]) for i, a in enumerate(first))
    exemplar, search, target = first[0]
    assert exemplar.shape == (127, 127, 3) and search.shape == (255, 255, 3) and target.shape == (4,)
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
    assert batch[0].shape == (4, 127, 127, 3) and batch[1].dtype == torch.uint8


def test_no_usable_data(tmp_path):
    with pytest.raises(InputError, match="no usable training data"):
        PairDataset([], [], pairs_per_epoch=1)


def test_stills_paths_relative_to_the_annotation_file(tmp_path):
    write_image(tmp_path / "stills" / "images" / "cows" / "0001.jpg")
    (tmp_path / "stills" / "boxes.json").write_text(json.dumps({
        "images/cows/0001.jpg": {"size": [160, 120], "boxes": [[10, 10, 40, 30]]}}))
    [still] = load_stills(tmp_path / "stills" / "boxes.json")
    assert still.path == tmp_path / "stills" / "images" / "cows" / "0001.jpg" and still.path.is_file()


def test_hard_negatives_center_the_search_crop_on_another_object(tmp_path):
    write_image(tmp_path / "images" / "two.jpg", size=(400, 300))
    write_image(tmp_path / "images" / "one.jpg", size=(400, 300))
    (tmp_path / "boxes.json").write_text(json.dumps({
        "two.jpg": {"size": [400, 300], "boxes": [[20, 20, 40, 40], [300, 220, 40, 40]]},
        "one.jpg": {"size": [400, 300], "boxes": [[100, 100, 40, 40]]}}))
    stills = load_stills(tmp_path / "boxes.json")
    negatives = PairDataset([], stills, pairs_per_epoch=16, negative_fraction=1.0, seed=1)
    # Every pair comes from the image with two objects, cut around the other one: the target is
    # about 280 px x 200 px away, far outside the search crop.
    assert all(np.hypot(*negatives[i][2].numpy()[:2]) > 300 for i in range(16))
    plain = PairDataset([], stills, pairs_per_epoch=16, seed=1)
    assert all(np.hypot(*plain[i][2].numpy()[:2]) <= 64 * 2 ** 0.5 + 1e-3 for i in range(16))
    single = [s for s in stills if len(s.boxes) == 1]
    assert PairDataset([], single, pairs_per_epoch=1, negative_fraction=1.0).negative_fraction == 0.0
