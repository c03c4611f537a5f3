"""Several cameras, several targets each, one process, one network call per round of frames.

    python demos/surveillance_pipeline.py streams.json --output-dir results/
    python demos/surveillance_pipeline.py --generate 3     # no files needed; -> surveillance-results/

``streams.json`` maps each stream (a video file, image folder or RTSP/HTTP URL standing in for a
camera) to the boxes of its targets on its first frame::

    {"cam1.mp4": [[10, 20, 40, 30], [200, 50, 25, 60]], "rtsp://cam2/stream": [[5, 5, 50, 50]]}

Every round takes the next frame of every stream that still has frames, and all targets of all
streams go through the network together (:func:`siamtrack.update_streams`), so adding a camera
costs crops, not another round trip through the backend. Each stream's results go to
``OUTPUT_DIR/<stream name>.jsonl``, one JSON object per target and frame, flushed as written.
No window, no drawing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Optional, Sequence

from siamtrack import MultiTracker, update_streams
from siamtrack.backends import create_backend
from siamtrack.errors import SiamtrackError
from siamtrack.outputs import ResultWriter, VideoSink
from siamtrack.sources import Frame, frames
from siamtrack.synthetic import ClipSpec, make_clip


def stream_name(source: str) -> str:
    """A file-name-safe name for a stream (its file stem, or the URL's tail)."""
    stem = Path(source.rstrip("/")).stem or source
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)


def run(streams: dict[str, Sequence[Sequence[float]]], output_dir: Path, model: Optional[str] = None,
        backend: str = "auto", threads: Optional[int] = None) -> dict[str, int]:
    """Track every stream's targets until all streams end; returns result rows written per stream."""
    output_dir.mkdir(parents=True, exist_ok=True)
    shared = create_backend(backend, model, threads=threads)  # one model in memory for every camera
    readers: dict[str, Iterator[Frame]] = {source: iter(frames(source)) for source in streams}
    trackers = {source: MultiTracker(backend=shared) for source in streams}
    writers = {source: ResultWriter(output_dir / f"{stream_name(source)}.jsonl", "jsonl") for source in streams}
    started: set[str] = set()
    try:
        while readers:
            batch = []
            for source, reader in list(readers.items()):
                frame = next(reader, None)
                if frame is None:
                    del readers[source]
                    continue
                if source not in started:  # targets start on each stream's first frame
                    for box in streams[source]:
                        first = trackers[source].add(frame.image, box)
                        writers[source].write(frame.index, frame.timestamp, first, first.target_id)
                    started.add(source)
                    continue
                batch.append((source, frame))
            results = update_streams([(trackers[source], frame.image) for source, frame in batch])
            for (source, frame), per_target in zip(batch, results):
                for target, result in per_target.items():
                    writers[source].write(frame.index, frame.timestamp, result, target)
    finally:
        for writer in writers.values():
            writer.close()
    return {source: writer.rows_written for source, writer in writers.items()}


def generate_streams(count: int, folder: Path) -> dict[str, list[list[float]]]:
    """Write ``count`` short synthetic videos (one target each, known boxes) as stand-in cameras."""
    streams = {}
    for index in range(count):
        clip, truth = make_clip(ClipSpec(frames=40, width=320, height=240, object_size=(48, 36), seed=11 + index))
        path = folder / f"camera{index + 1}.avi"
        with VideoSink(path, 25.0, (320, 240)) as sink:
            for image in clip:
                sink.write(image)
        streams[str(path)] = [[round(float(v), 2) for v in truth[0]]]
    return streams


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("streams", nargs="?", help="JSON file: {stream: [[x, y, w, h], ...]}")
    parser.add_argument("--generate", type=int, metavar="N", help="use N generated videos instead")
    parser.add_argument("--output-dir", type=Path, default=Path("surveillance-results"),
                        help="folder for the per-stream JSON lines (default: surveillance-results)")
    parser.add_argument("--model", help="weights file or ONNX export folder (default: the default model)")
    parser.add_argument("--backend", default="auto", help="inference backend (default: auto)")
    parser.add_argument("--threads", type=int, help="CPU threads for inference")
    args = parser.parse_args(argv)
    if (args.streams is None) == (args.generate is None):
        parser.error("give a streams JSON file or --generate N")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            if args.generate is not None:
                streams = generate_streams(args.generate, Path(scratch))
            else:
                try:
                    streams = json.loads(Path(args.streams).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise SiamtrackError(f"cannot read {args.streams}: {exc}") from None
                if not isinstance(streams, dict) or not all(isinstance(v, list) for v in streams.values()):
                    raise SiamtrackError(f"{args.streams} must map each stream to a list of [x, y, w, h] boxes")
            rows = run(streams, args.output_dir, args.model, args.backend, args.threads)
    except SiamtrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for source, count in rows.items():
        print(f"{stream_name(source)}: {count} result rows -> {args.output_dir / (stream_name(source) + '.jsonl')}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
