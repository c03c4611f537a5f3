"""Several cameras, several targets each, one process, one network call per round of frames:
targets started from a detector, lost ones re-acquired, events for the rest of the pipeline.

    python demos/surveillance_pipeline.py streams.json --output-dir results/ [--detect person]
    python demos/surveillance_pipeline.py --generate 3     # no files needed; -> surveillance-results/

``streams.json`` maps each stream (a video file, image folder or RTSP/HTTP URL standing in for a
camera) to the boxes of its targets on its first frame, or to ``[]`` to start its targets from
the detections of its first frame that has any (``--detect``: ``person``, ``face`` or
``onnx:PATH``)::

    {"cam1.mp4": [[10, 20, 40, 30], [200, 50, 25, 60]], "rtsp://cam2/stream": []}

Every round takes the next frame of every stream that still has frames, and all targets of all
streams go through the network together (:func:`siamtrack.update_streams`), so adding a camera
costs crops, not another round trip through the backend. With a detector, a stream whose targets
are lost runs it every ``--detect-every`` rounds and gives them back their detections
(:meth:`~siamtrack.MultiTracker.reacquire`). Each stream writes ``OUTPUT_DIR/<stream>.jsonl``
(one JSON object per target and frame) and ``OUTPUT_DIR/<stream>.events.jsonl`` (started, lost,
left, reacquired, ended: :mod:`siamtrack.app.events`). No window, no drawing.

``--generate N`` writes N synthetic cameras whose object leaves the view and comes back, each with
a stand-in detector that reports the object when it is in view (what a real detector would), so
the whole pipeline runs without a camera or a model download.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

import numpy as np

from siamtrack import MultiTracker, TrackResult, update_streams
from siamtrack.app.events import EventLog
from siamtrack.app.synthetic import ClipSpec, make_clip
from siamtrack.backends import create_backend
from siamtrack.detection.detectors import Detections, Detector, create_detector
from siamtrack.errors import SiamtrackError
from siamtrack.io.outputs import ResultWriter, VideoSink
from siamtrack.io.sources import Frame, frames


def stream_name(source: str) -> str:
    """A file-name-safe name for a stream (its file stem, or the URL's tail)."""
    stem = Path(source.rstrip("/")).stem or source
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)


def run(streams: Mapping[str, Sequence[Sequence[float]]], output_dir: Path, model: Optional[str] = None,
        backend: str = "auto", threads: Optional[int] = None, detectors: Optional[Mapping[str, Detector]] = None,
        detect_every: int = 5) -> dict[str, int]:
    """Track every stream's targets until all streams end; returns result rows written per stream.

    ``detectors`` gives a stream its detector: it starts the targets of a stream listed without
    boxes, and re-acquires the stream's lost targets.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    detectors = detectors or {}
    missing = [source for source, boxes in streams.items() if not boxes and source not in detectors]
    if missing:
        raise SiamtrackError(f"{missing[0]} has no boxes and no detector to start from (--detect)")
    shared = create_backend(backend, model, threads=threads)  # one model in memory for every camera
    readers: dict[str, Iterator[Frame]] = {source: iter(frames(source)) for source in streams}
    trackers = {source: MultiTracker(backend=shared) for source in streams}
    writers = {source: ResultWriter(output_dir / f"{stream_name(source)}.jsonl", "jsonl") for source in streams}
    events = {source: EventLog(path=output_dir / f"{stream_name(source)}.events.jsonl") for source in streams}
    started: set[str] = set()
    rounds = 0
    try:
        while readers:
            batch = []
            for source, reader in list(readers.items()):
                frame = next(reader, None)
                if frame is None:
                    del readers[source]
                    continue
                if source not in started:  # targets start on each stream's first frame (with a detection)
                    firsts = _start(trackers[source], frame, streams[source], detectors.get(source), events[source])
                    if firsts:
                        started.add(source)
                        _record(writers[source], events[source], frame, firsts)
                    continue
                batch.append((source, frame))
            rounds += 1
            results = update_streams([(trackers[source], frame.image) for source, frame in batch])
            for (source, frame), per_target in zip(batch, results):
                tracker, detector = trackers[source], detectors.get(source)
                if detector is not None and rounds % detect_every == 0 and tracker.lost_ids():
                    resumed = tracker.reacquire(frame.image, detector.detect(frame.image))
                    if resumed:
                        events[source].observe(frame.index, frame.timestamp, per_target, _size(frame))
                        per_target.update(resumed)
                _record(writers[source], events[source], frame, per_target)
    finally:
        for writer in writers.values():
            writer.close()
        for log in events.values():
            log.close()
    return {source: writer.rows_written for source, writer in writers.items()}


def _size(frame: Frame) -> tuple[int, int]:
    return frame.image.shape[1], frame.image.shape[0]


def _start(tracker: MultiTracker, frame: Frame, boxes: Sequence[Sequence[float]], detector: Optional[Detector],
           events: EventLog) -> dict[int, TrackResult]:
    """Start a stream's targets on ``frame``; their first results (none while the detector finds nothing)."""
    if boxes:
        return {result.target_id: result for result in (tracker.add(frame.image, box) for box in boxes)}
    assert detector is not None  # run() checked
    found = detector.detect(frame.image)
    results = tracker.add_detections(frame.image, found)
    for result in results:
        class_id = tracker.target_class(result.target_id)
        if class_id is not None and class_id < len(found.names):
            events.classes[result.target_id] = found.names[class_id]
    return {result.target_id: result for result in results}


def _record(writer: ResultWriter, events: EventLog, frame: Frame, results: Mapping[int, TrackResult]) -> None:
    events.observe(frame.index, frame.timestamp, results, _size(frame))
    for target, result in results.items():
        writer.write(frame.index, frame.timestamp, result, target)


class GeneratedCameraDetector:
    """Stands in for a detector on a generated camera: reports its object whenever it is wholly in view."""

    names = ("object",)

    def __init__(self, images: Sequence[np.ndarray], boxes: np.ndarray) -> None:
        self._frames = {image.tobytes(): box for image, box in zip(images, boxes)}

    def detect(self, frame: np.ndarray) -> Detections:
        box = self._frames.get(frame.tobytes())
        height, width = frame.shape[:2]
        if box is None or not np.isfinite(box).all() or box[0] < 0 or box[0] + box[2] > width:
            return Detections.empty(self.names)
        return Detections(np.asarray([box]), np.ones(1), np.zeros(1, np.int64), self.names)


def generate_streams(count: int, folder: Path) -> tuple[dict[str, list], dict[str, Detector]]:
    """Write ``count`` synthetic videos whose object leaves the view and comes back, and a stand-in
    detector for each (the first camera starts from its box, the others from their detector)."""
    streams: dict[str, list] = {}
    detectors: dict[str, Detector] = {}
    for index in range(count):
        spec = ClipSpec(frames=60, width=320, height=240, object_size=(48, 36), seed=11 + index,
                        offscreen=(24, 34))
        clip, truth = make_clip(spec)
        path = folder / f"camera{index + 1}.avi"
        with VideoSink(path, 25.0, (320, 240)) as sink:
            for image in clip:
                sink.write(image)
        decoded = [frame.image for frame in frames(str(path))]  # as the pipeline will read them back
        streams[str(path)] = [[round(float(v), 2) for v in truth[0]]] if index == 0 else []
        detectors[str(path)] = GeneratedCameraDetector(decoded, truth)
    return streams, detectors


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("streams", nargs="?", help="JSON file: {stream: [[x, y, w, h], ...] or []}")
    parser.add_argument("--generate", type=int, metavar="N", help="use N generated cameras instead")
    parser.add_argument("--output-dir", type=Path, default=Path("surveillance-results"),
                        help="folder for the per-stream JSON lines (default: surveillance-results)")
    parser.add_argument("--detect", metavar="DETECTOR", help="person, face or onnx:PATH: starts streams listed "
                                                             "without boxes and re-acquires lost targets")
    parser.add_argument("--detect-every", type=int, default=5, metavar="N",
                        help="rounds between detector runs on a stream with lost targets (default: 5)")
    parser.add_argument("--model", help="weights file or ONNX export folder (default: the default model)")
    parser.add_argument("--backend", default="auto", help="inference backend (default: auto)")
    parser.add_argument("--threads", type=int, help="CPU threads for inference")
    args = parser.parse_args(argv)
    if (args.streams is None) == (args.generate is None):
        parser.error("give a streams JSON file or --generate N")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            if args.generate is not None:
                streams, detectors = generate_streams(args.generate, Path(scratch))
            else:
                try:
                    streams = json.loads(Path(args.streams).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise SiamtrackError(f"cannot read {args.streams}: {exc}") from None
                if not isinstance(streams, dict) or not all(isinstance(v, list) for v in streams.values()):
                    raise SiamtrackError(f"{args.streams} must map each stream to a list of [x, y, w, h] boxes")
                detector = create_detector(args.detect) if args.detect else None
                detectors = {source: detector for source in streams} if detector is not None else {}
            rows = run(streams, args.output_dir, args.model, args.backend, args.threads, detectors, args.detect_every)
    except SiamtrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for source, count in rows.items():
        name = stream_name(source)
        print(f"{name}: {count} result rows -> {args.output_dir / (name + '.jsonl')}, events -> "
              f"{args.output_dir / (name + '.events.jsonl')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
