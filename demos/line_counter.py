"""Count tracked objects crossing a line, with roboflow's supervision drawing and counting.

    pip install 'siamtrack[supervision]'
    python demos/line_counter.py [--output counted.mp4]

A generated clip shows three objects moving right across a vertical line. Their first-frame boxes
come in as ``supervision.Detections`` (as a detector in a supervision pipeline would give them),
siamtrack tracks them, and supervision's ``LineZone`` counts each crossing from siamtrack's
results, unchanged; its annotators draw boxes, ids and the count into the output video.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from siamtrack import MultiTracker
from siamtrack.detection.interop import from_supervision, to_supervision

WIDTH, HEIGHT, LINE_X = 320, 240, 160
# (y, x at frame 0, speed px/frame) of each object.
OBJECTS = [(30, 20, 4.0), (100, 40, 3.0), (170, 10, 5.0)]


def make_clip(frames: int = 60, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames, and each object's box on every frame ((frames, objects, 4) x, y, w, h)."""
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 2)
    textures = [cv2.resize(rng.integers(0, 255, (6, 6, 3), dtype=np.uint8), (36, 36),
                           interpolation=cv2.INTER_NEAREST) for _ in OBJECTS]
    images, boxes = [], []
    for index in range(frames):
        image = background.copy()
        row = []
        for (y, x0, speed), texture in zip(OBJECTS, textures):
            x = int(round(x0 + speed * index))
            visible = slice(max(x, 0), min(x + 36, WIDTH))
            if visible.start < visible.stop:
                image[y:y + 36, visible] = texture[:, visible.start - x:visible.stop - x]
            row.append((x, y, 36, 36))
        images.append(image)
        boxes.append(row)
    return images, np.array(boxes, dtype=np.float64)


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("counted.mp4"), help="annotated video to write")
    parser.add_argument("--model", default=None, help="weights or export folder (default: the built-in model)")
    args = parser.parse_args(argv)

    images, truth = make_clip()
    first = truth[0]
    # What a supervision detector would hand over on the first frame.
    detected = sv.Detections(xyxy=np.concatenate([first[:, :2], first[:, :2] + first[:, 2:]], axis=1),
                             confidence=np.full(len(first), 0.9), class_id=np.zeros(len(first), np.int64))
    tracker = MultiTracker(model=args.model)
    tracker.add_detections(images[0], from_supervision(detected, names=("object",)))
    line = sv.LineZone(start=sv.Point(LINE_X, 0), end=sv.Point(LINE_X, HEIGHT))
    boxes, labels, line_drawing = sv.BoxAnnotator(), sv.LabelAnnotator(), sv.LineZoneAnnotator()
    writer = cv2.VideoWriter(str(args.output), cv2.VideoWriter.fourcc(*"mp4v"), 15, (WIDTH, HEIGHT))
    try:
        for index, image in enumerate(images):
            results = tracker.update(image) if index else {}
            detections = to_supervision(results, tracker) if index else detected
            if index:
                line.trigger(detections)
            canvas = boxes.annotate(image.copy(), detections)
            if detections.tracker_id is not None:
                canvas = labels.annotate(canvas, detections, labels=[f"#{i}" for i in detections.tracker_id])
            writer.write(line_drawing.annotate(canvas, line))
    finally:
        writer.release()
    counts = {"in": int(line.in_count), "out": int(line.out_count)}
    print(f"crossed the line: {counts['in']} in, {counts['out']} out; video: {args.output}")
    return counts


if __name__ == "__main__":
    main()
