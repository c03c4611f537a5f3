"""Process a folder of video files into one results file per video.

    python demos/batch_folder.py VIDEOS_DIR BOXES_JSON OUT_DIR [--format csv] [--model weights.pth]

BOXES_JSON maps each video's file name to its target's box on the first frame, 0-based pixels:
``{"street.mp4": [412, 188, 40, 96], "harbour.mp4": [120, 60, 80, 50]}``. Videos without an
entry are skipped (and listed). Every frame of every video is processed; none is dropped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

from siamtrack import Tracker
from siamtrack.app.loop import run_tracking
from siamtrack.errors import SiamtrackError
from siamtrack.io.outputs import ResultWriter
from siamtrack.io.sources import open_source

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm")


def process_folder(videos: Path, boxes_file: Path, out_dir: Path, result_format: str = "jsonl",
                   model: Optional[str] = None, threads: Optional[int] = None) -> dict[str, str]:
    """Track the listed target in each video; returns {video name: outcome}.

    One tracker (one loaded model) serves all videos: ``init`` starts each one afresh. A video
    that cannot be read is reported and the batch goes on.
    """
    try:
        boxes = json.loads(boxes_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SiamtrackError(f"cannot read boxes from {boxes_file}: {exc}") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(model=model, threads=threads)
    outcomes = {}
    for video in sorted(p for p in videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES):
        if video.name not in boxes:
            outcomes[video.name] = "skipped: no box in the boxes file"
            continue
        destination = out_dir / f"{video.stem}.{'txt' if result_format == 'mot' else result_format}"
        try:
            with open_source(video) as source, ResultWriter(destination, result_format) as writer:
                summary = run_tracking(source, tracker, tuple(boxes[video.name]), [writer])
            outcomes[video.name] = f"{summary.tracked} frames -> {destination} ({summary.fps:.1f} fps)"
        except SiamtrackError as exc:
            outcomes[video.name] = f"failed: {exc}"
    return outcomes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", type=Path, help="folder of video files")
    parser.add_argument("boxes", type=Path, help="JSON file: video name -> [x, y, w, h]")
    parser.add_argument("out", type=Path, help="folder for the results files")
    parser.add_argument("--format", choices=("jsonl", "csv", "mot"), default="jsonl")
    parser.add_argument("--model", help="weights file (default: the default model)")
    parser.add_argument("--threads", type=int, help="CPU threads for inference")
    args = parser.parse_args()
    try:
        results = process_folder(args.videos, args.boxes, args.out, args.format, args.model, args.threads)
    except SiamtrackError as exc:
        sys.exit(f"error: {exc}")
    for name, outcome in results.items():
        print(f"{name}: {outcome}")
