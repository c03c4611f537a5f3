import cv2
import numpy as np
import pytest

from siamtrack.datasets import dataset_layout, load_dataset
from siamtrack.datasets import video as video_layout
from siamtrack.errors import InputError


def write_video(path, frames=6, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    assert writer.isOpened()
    for index in range(frames):
        image = np.zeros((size[1], size[0], 3), np.uint8)
        image[:, index * 8:index * 8 + 8] = 255  # a bar that moves: frame order is visible
        writer.write(image)
    writer.release()


def make_sequence(root, name, rows, frames=6):
    folder = root / name
    folder.mkdir(parents=True)
    write_video(folder / "video.mp4", frames)
    (folder / "groundtruth_rect.txt").write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SIAMTRACK_CACHE", str(folder))
    return folder


def test_video_sequence_frames_in_order_boxes_zero_based(tmp_path, cache):
    rows = [(i + 1, 2, 8, 8) for i in range(5)] + [("NaN",) * 4]
    folder = make_sequence(tmp_path / "data", "walk", rows)
    assert dataset_layout(tmp_path / "data") == "video"
    (sequence,) = load_dataset(tmp_path / "data")
    assert sequence.name == "walk" and len(sequence.frames) == 6
    np.testing.assert_allclose(sequence.boxes[0], [0, 1, 8, 8])
    assert sequence.absent.tolist() == [False] * 5 + [True]
    bright = [int(np.argmax(cv2.imread(str(p))[24, :, 0])) for p in sequence.frames]
    assert bright == [0, 8, 16, 24, 32, 40]
    assert all(p.parent.parent == cache for p in sequence.frames)
    assert dataset_layout(folder) == "video"


def test_decoded_once_and_again_after_the_video_changes(tmp_path, cache, monkeypatch):
    folder = make_sequence(tmp_path, "walk", [(1, 1, 4, 4)] * 6)
    opened = []
    real = cv2.VideoCapture
    monkeypatch.setattr(video_layout.cv2, "VideoCapture", lambda path: opened.append(path) or real(path))
    first = video_layout.load_sequence(folder)
    second = video_layout.load_sequence(folder)
    assert len(opened) == 1 and first.frames == second.frames
    write_video(folder / "video.mp4", frames=4)
    third = video_layout.load_sequence(folder)
    assert len(opened) == 2 and len(third.frames) == 4 and third.frames[0].parent != first.frames[0].parent


def test_interrupted_decode_leaves_no_cache_a_later_run_trusts(tmp_path, cache, monkeypatch):
    folder = make_sequence(tmp_path, "walk", [(1, 1, 4, 4)] * 6)
    calls = {"n": 0}
    real_write = cv2.imwrite

    def failing_write(path, image, params=()):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_write(path, image, params)

    monkeypatch.setattr(video_layout.cv2, "imwrite", failing_write)
    with pytest.raises(KeyboardInterrupt):
        video_layout.load_sequence(folder)
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(video_layout.cv2, "imwrite", real_write)
    assert len(video_layout.load_sequence(folder).frames) == 6


def test_mixed_folder_reads_image_sequences_too(tmp_path, cache):
    make_sequence(tmp_path, "video_one", [(1, 1, 4, 4)] * 6)
    images = tmp_path / "image_one" / "img"
    images.mkdir(parents=True)
    for index in range(3):
        cv2.imwrite(str(images / f"{index + 1:04d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "image_one" / "groundtruth_rect.txt").write_text("1,1,2,2\n" * 3)
    sequences = load_dataset(tmp_path)
    assert [(s.name, len(s.frames)) for s in sequences] == [("image_one", 3), ("video_one", 6)]


def test_bad_videos_are_one_line_errors(tmp_path, cache):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "video.mp4").write_bytes(b"not a video")
    (folder / "groundtruth_rect.txt").write_text("1,1,2,2\n")
    with pytest.raises(InputError, match="video"):
        video_layout.load_sequence(folder)
    write_video(folder / "other.avi")
    with pytest.raises(InputError, match="holds 2 videos"):
        video_layout.load_sequence(folder)
    assert not any(p.name.startswith(".") for p in cache.iterdir()) if cache.exists() else True


def test_unwritable_cache_is_a_one_line_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SIAMTRACK_CACHE", str(blocker / "cache"))
    folder = make_sequence(tmp_path, "walk", [(1, 1, 4, 4)] * 6)
    with pytest.raises(InputError, match="cannot write the frame cache"):
        video_layout.load_sequence(folder)
