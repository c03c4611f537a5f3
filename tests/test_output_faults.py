"""Outputs under faults, as an operator meets them: special files at the output path, read-only
files, a full disk, two runs on one file, names at and past the system's limits. Every special
file is made in the test's own temporary folder, never a system path."""

import json
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from siamtrack.io import outputs
from siamtrack.io.outputs import OutputError, OutputWriteError, ResultWriter, VideoSink
from siamtrack.results import TrackResult
from tests.cli_helpers import box_text, siamtrack
from tests.stream_server import StreamServer

ROW = TrackResult((10.0, 20.0, 30.0, 40.0), 0.9, False, 0)


def track_into(video, model, clip, *outputs_args):
    return siamtrack("track", video, "--box", box_text(clip), "--model", model, "--device", "cpu", "--quiet",
                     *outputs_args)


def test_a_fifo_is_written_in_place_and_stays_a_fifo(tmp_path, video, model, clip):
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = track_into(video, model, clip, "--results", fifo, "--results-format", "jsonl")
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    rows = [json.loads(line) for line in received[0].splitlines()]
    assert len(rows) == 16 and rows[0]["frame"] == 0


def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path, monkeypatch):
    fifo = tmp_path / "nobody.fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(outputs, "FIFO_WAIT", 0.3)
    began = time.monotonic()
    with pytest.raises(OutputError, match="no process opened the FIFO for reading within 0.3 s"):
        ResultWriter(fifo, "jsonl")
    assert time.monotonic() - began < 5 and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_character_device_is_written_in_place_and_stays_a_device(tmp_path, video, model, clip):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a null device of our own
    except PermissionError:
        pytest.skip("making a device node needs root")
    result = track_into(video, model, clip, "--results", device, "--results-format", "csv", "--output",
                        tmp_path / "v.avi")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.stat().st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".null")]  # no temporary file beside it


def test_standard_output_takes_results(tmp_path, video, model, clip):
    result = track_into(video, model, clip, "--results", "-", "--results-format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert len([json.loads(line) for line in result.stdout.splitlines()]) == 16
    refused = track_into(video, model, clip, "--results", "-")
    assert refused.returncode == 2 and "needs --results-format" in refused.stderr


def test_a_symlink_is_followed_and_kept(tmp_path, video, model, clip):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    result = track_into(video, model, clip, "--results", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(target.read_text().splitlines()) == 16


def test_a_read_only_results_file_is_refused_and_kept(tmp_path, video, model, clip):
    kept = tmp_path / "kept.jsonl"
    kept.write_text("precious\n")
    kept.chmod(0o444)
    result = track_into(video, model, clip, "--results", kept)
    assert result.returncode == 2 and "read-only" in result.stderr and len(result.stderr.splitlines()) == 1
    assert kept.read_text() == "precious\n"


@pytest.fixture()
def full_disk(tmp_path):
    """A 200 KB tmpfs mounted in the test's folder (needs root and mount)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def long_video(tmp_path, frames=300):
    from siamtrack.app.synthetic import ClipSpec, make_clip

    images, boxes = make_clip(ClipSpec(frames=frames, width=320, height=240, object_size=(40, 30), seed=3))
    path = tmp_path / "long.avi"
    with VideoSink(path, 25.0, (320, 240)) as sink:
        for image in images:
            sink.write(image)
    return path, ",".join(f"{v:.2f}" for v in boxes[0])


def test_results_on_a_full_disk_end_with_exit_4_and_keep_what_was_written(tmp_path, model, full_disk):
    (full_disk / "filler").write_bytes(b"\0" * 150_000)  # leaves ~50 KB: a few hundred rows fit
    path, box = long_video(tmp_path, frames=1200)
    result = siamtrack("track", path, "--box", box, "--model", model, "--device", "cpu", "--quiet",
                       "--results", full_disk / "r.jsonl")
    assert result.returncode == 4, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "No space left on device" in result.stderr
    assert not (full_disk / "r.jsonl").exists()
    rows = [json.loads(line) for line in (full_disk / "r.incomplete.jsonl").read_text().splitlines()]
    assert 10 < len(rows) < 1200 and [row["frame"] for row in rows] == list(range(len(rows)))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_video_on_a_full_disk_is_never_reported_as_written(tmp_path, model, full_disk, suffix):
    path, box = long_video(tmp_path)
    result = siamtrack("track", path, "--box", box, "--model", model, "--device", "cpu",
                       "--output", full_disk / f"v{suffix}", "--results", tmp_path / "r.jsonl")
    assert result.returncode == 4, result.stderr
    assert "wrote" not in result.stderr and not (full_disk / f"v{suffix}").exists()
    assert "failed" in result.stderr.splitlines()[-1]
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 300  # the other output is complete


class FailingFile:
    """Stands in for a results writer's open file whose writes fail with ``errno``: the one way to
    make a real file fail without a device."""

    def __init__(self, errno: int, message: str) -> None:
        self.error = OSError(errno, message)

    def write(self, text):
        raise self.error

    def flush(self):
        pass

    def close(self):
        pass


def test_a_failing_write_in_the_library_raises_output_write_error(tmp_path):
    writer = ResultWriter(tmp_path / "r.jsonl")
    writer.write(0, 0.0, ROW)
    writer._file = FailingFile(27, "File too large")
    with pytest.raises(OutputWriteError, match="File too large; the 1 rows written before are in"):
        writer.write(1, 0.04, ROW)
    writer.close()
    assert not (tmp_path / "r.jsonl").exists() and (tmp_path / "r.incomplete.jsonl").is_file()


def test_a_second_run_on_a_live_runs_output_is_refused_naming_it(tmp_path, video, model, clip):
    server = StreamServer(frames=100000, period=0.05)
    results = tmp_path / "shared.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    first = subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "track", server.url, "--box", "30,40,40,40",
                              "--model", str(model), "--device", "cpu", "--quiet", "--results", str(results)],
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".shared") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline and first.poll() is None, "the first run did not start writing"
            time.sleep(0.1)
        second = track_into(video, model, clip, "--results", results)
        assert second.returncode == 2, second.stderr
        assert f"being written by another siamtrack run (process {first.pid})" in second.stderr
        assert first.poll() is None  # the first run is untouched
    finally:
        first.terminate()
        first.communicate(timeout=30)
        server.close()
    assert first.returncode == 143 and results.is_file() and len(results.read_text().splitlines()) > 0


def test_a_killed_runs_partial_file_is_recovered_not_refused(tmp_path):
    results = tmp_path / "r.jsonl"
    leftover = tmp_path / ".r.part.jsonl"
    leftover.write_text('{"frame": 0}\n')  # nobody holds its lock: its run is gone
    with ResultWriter(results) as writer:
        writer.write(0, 0.0, ROW)
    recovered = [p for p in tmp_path.iterdir() if p.name.startswith("r.recovered-")]
    assert len(recovered) == 1 and recovered[0].read_text() == '{"frame": 0}\n'


def test_the_longest_legal_name_works(tmp_path, video, model, clip):
    name = "r" * 249 + ".jsonl"  # 255 bytes: the hidden temporary name must be shortened to fit
    result = track_into(video, model, clip, "--results", tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / name).read_text().splitlines()) == 16


@pytest.mark.parametrize("option", ["--results", "--output", "source"])
def test_paths_over_the_system_limit_are_one_line_errors(tmp_path, video, model, clip, option):
    deep = str(tmp_path) + "/" + "/".join(["d" * 200] * 21) + ("/v.avi" if option != "--results" else "/r.jsonl")
    args = (["track", deep] if option == "source" else ["track", video, option, deep])
    result = siamtrack(*args, "--box", box_text(clip), "--model", model, "--device", "cpu")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "over the system's limit" in result.stderr


def test_kept_files_of_a_longest_name_fit_too(tmp_path):
    results = tmp_path / ("r" * 249 + ".jsonl")
    writer = ResultWriter(results)
    writer.write(0, 0.0, ROW)
    writer._file = FailingFile(28, "No space left on device")
    with pytest.raises(OutputWriteError, match="No space left on device"):
        writer.write(1, 0.04, ROW)
    (kept,) = [p for p in tmp_path.iterdir() if ".incomplete" in p.name]
    assert len(kept.name.encode()) <= 255 and kept.read_text().count("\n") == 1
