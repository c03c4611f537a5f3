"""Video layout: one video file per sequence, boxes as in OTB.

::

    <LabeledSequence>/video.mp4                 all frames in order (any container OpenCV decodes)
    <LabeledSequence>/groundtruth_rect.txt      one row per frame: x,y,w,h (1-based), NaN row = no box

This is how ``../shared/data/train`` ships its sequences, and how users label their own footage:
they label videos, not folders of frames.

Training reads two random frames per pair and evaluation reads every frame; seeking in an H.264
stream for each pair would decode up to a whole group of pictures per frame. So each video is
decoded **once** into a frame cache (JPEG files, quality 95: a fraction of raw size, and the
re-encoding error is far below the H.264 error already in the frames), and the sequence's
``frames`` are the cached files. Everything that reads image sequences (training pairs,
``siamtrack eval``, benchmarks) then works on videos unchanged.

The cache lives in ``$SIAMTRACK_CACHE`` (default ``$XDG_CACHE_HOME/siamtrack`` or
``~/.cache/siamtrack``), one folder per video keyed by its resolved path, size and modification
time, so an edited video is decoded again. A folder is only ever published complete (decoded into
a temporary folder, then renamed), so an interrupted decode leaves nothing a later run would trust.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import cv2

from siamtrack.datasets import otb
from siamtrack.datasets.base import LabeledSequence, images_in, matched
from siamtrack.datasets.otb import read_boxes
from siamtrack.errors import InputError
from siamtrack.files import cache_root

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")
JPEG_QUALITY = 95


def video_in(folder: Path) -> Path | None:
    """The one video file in ``folder`` (None if there is none)."""
    videos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if len(videos) > 1:
        raise InputError(f"{folder} holds {len(videos)} videos; a sequence folder holds one")
    return videos[0] if videos else None


def _cache_key(video: Path) -> str:
    stat = video.stat()
    identity = f"{video.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return f"{video.parent.name}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def decoded_frames(video: str | Path, root: str | Path | None = None) -> list[Path]:
    """Frame files of ``video``, decoding it into the cache the first time.

    Args:
        video: the video file.
        root: cache folder (default `cache_root`).

    Raises:
        InputError: the video cannot be opened or holds no frame, or the cache is not writable.
    """
    video = Path(video)
    root = Path(root) if root is not None else cache_root()
    target = root / _cache_key(video)
    if target.is_dir():
        return images_in(target)
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise InputError(f"cannot open video {video}")
    try:
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    except OSError as exc:
        capture.release()
        raise InputError(f"cannot write the frame cache in {root}: {exc.strerror}") from None
    try:
        count = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            count += 1
            if not cv2.imwrite(str(partial / f"{count:06d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
                raise InputError(f"cannot write decoded frames to {partial}")
        if count == 0:
            raise InputError(f"video {video} holds no decodable frame")
        try:
            partial.rename(target)
        except OSError as exc:
            if not target.is_dir():  # else another process published the same video first: use theirs
                raise InputError(f"cannot publish decoded frames to {target}: {exc.strerror}") from None
    finally:
        capture.release()
        shutil.rmtree(partial, ignore_errors=True)
    return images_in(target)


def load_sequence(folder: str | Path, root: str | Path | None = None) -> LabeledSequence:
    """Read one video sequence folder (decoding its video into the cache the first time)."""
    folder = Path(folder)
    truth = folder / "groundtruth_rect.txt"
    if not truth.is_file():
        raise InputError(f"{folder} is not a sequence: no groundtruth_rect.txt")
    video = video_in(folder)
    if video is None:
        raise InputError(f"{folder} holds no video file ({', '.join(VIDEO_SUFFIXES)})")
    return matched(folder.name, decoded_frames(video, root), read_boxes(truth))


def is_video_sequence(folder: Path) -> bool:
    """True for a folder with ground truth and a video file."""
    return (folder / "groundtruth_rect.txt").is_file() and video_in(folder) is not None


def load(root: Path) -> list[LabeledSequence]:
    """Every sequence under ``root``; folders of image frames beside the videos are read as OTB."""
    folders = [root] if (root / "groundtruth_rect.txt").is_file() else otb.list_sequences(root)
    return [load_sequence(f) if video_in(f) is not None else otb.load_sequence(f) for f in folders]
