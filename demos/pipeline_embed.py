"""Embed the tracker in a pipeline: frames in from a queue, results out as JSON lines.

    python demos/pipeline_embed.py VIDEO --box x,y,w,h [--model weights.pth] > results.jsonl

A producer thread stands in for the rest of a surveillance pipeline (decoder, camera
driver, ...): it puts frames on a bounded queue. The tracking worker takes them off, tracks, and
writes one JSON object per frame to stdout. No window, no drawing.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
from typing import Optional, TextIO

import numpy as np

from siamtrack import Tracker
from siamtrack.errors import SiamtrackError
from siamtrack.io.sources import frames

END = None  # put on the queue after the last frame


def tracking_worker(inbox: "queue.Queue[Optional[tuple[int, np.ndarray]]]", tracker: Tracker,
                    box: tuple[float, float, float, float], out: TextIO) -> int:
    """Consume (frame index, BGR frame) items until ``END``; write a JSON line per frame.

    Returns the number of frames tracked.
    """
    count = 0
    while (item := inbox.get()) is not END:
        index, image = item
        result = tracker.init(image, box) if count == 0 else tracker.update(image)
        out.write(json.dumps({"frame": index, "box": [round(v, 2) for v in result.box],
                              "score": round(result.score, 4), "lost": result.lost}) + "\n")
        count += 1
    out.flush()
    return count


def run_pipeline(video: str, box: tuple[float, float, float, float], model: Optional[str] = None,
                 out: TextIO = sys.stdout) -> int:
    """Feed ``video`` through a queue into a tracking worker; returns frames tracked."""
    tracker = Tracker(model=model)
    inbox: "queue.Queue[Optional[tuple[int, np.ndarray]]]" = queue.Queue(maxsize=8)
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for frame in frames(video):
                inbox.put((frame.index, frame.image))
        except SiamtrackError as exc:
            failure.append(exc)
        finally:
            inbox.put(END)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    count = tracking_worker(inbox, tracker, box, out)
    producer.join()
    if failure:
        raise failure[0]
    return count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", help="video file or image folder")
    parser.add_argument("--box", required=True, help="x,y,w,h on the first frame, 0-based pixels")
    parser.add_argument("--model", help="weights file (default: the default model)")
    args = parser.parse_args()
    try:
        box = tuple(float(v) for v in args.box.split(","))
        if len(box) != 4:
            raise ValueError
    except ValueError:
        sys.exit(f"error: --box takes x,y,w,h, got {args.box!r}")
    try:
        tracked = run_pipeline(args.video, box, args.model)  # type: ignore[arg-type]
    except SiamtrackError as exc:
        sys.exit(f"error: {exc}")
    print(f"{tracked} frames tracked", file=sys.stderr)
