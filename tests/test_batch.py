"""``siamtrack batch``: job files, the local pool (resume, failures, a killed worker) and Ray."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siamtrack.batch.jobs import Job, read_jobs
from siamtrack.errors import InputError
from tests.cli_helpers import SIAMTRACK_WITH_CTRL_C
from tests.test_runtime_install import write_clip

ROOT = Path(__file__).resolve().parents[1]


def batch(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "siamtrack.cli", "batch", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture
def clips(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    write_clip(folder / "a.mp4", frames=12)
    write_clip(folder / "b.mp4", frames=20)
    return folder


def write_jobs(path, text):
    path.write_text(text)
    return path


def test_read_jobs_csv_and_jsonl(clips):
    jobs = read_jobs(write_jobs(clips / "jobs.csv", 'source,box,end\na.mp4,"30,40,40,40",\n'
                                                    'b.mp4,"30,40,40,40;5,5,20,20",10\n'))
    assert jobs == [Job("a", str(clips / "a.mp4"), ((30, 40, 40, 40),)),
                    Job("b", str(clips / "b.mp4"), ((30, 40, 40, 40), (5, 5, 20, 20)), end=10)]
    jobs = read_jobs(write_jobs(clips / "jobs.jsonl", '{"id": "cam", "source": "a.mp4", "box": [1, 2, 3, 4], '
                                                      '"start": 2, "config": "siamfc-5s"}\n\n'))
    assert jobs == [Job("cam", str(clips / "a.mp4"), ((1, 2, 3, 4),), start=2, config="siamfc-5s")]


@pytest.mark.parametrize("text, message", [
    ("source,box,color\na.mp4,\"1,1,5,5\",red\n", "unknown column(s) color"),
    ("source,box\na.mp4,1,1,5,5\n", "quote the box"),
    ("source,box\na.mp4,\"1,1,0,5\"\n", "w, h > 0"),
    ("source,box\na.mp4,\"1,1,nan,5\"\n", "finite"),
    ("source,box\n,\"1,1,5,5\"\n", "no source"),
    ("source,box,end\na.mp4,\"1,1,5,5\",x\n", "whole number"),
    ("source,box\na.mp4,\"1,1,5,5\"\nother/a.mp4,\"1,1,5,5\"\n", "ids used more than once: a"),
    ("id,source,box\n../x,a.mp4,\"1,1,5,5\"\n", "cannot name a file"),
    ("source,box\n", "lists no jobs"),
])
def test_read_jobs_rejects_bad_rows(tmp_path, text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_jobs(write_jobs(tmp_path / "jobs.csv", text))


def test_batch_local_pool_failures_summary_and_resume(clips, tmp_path):
    jobs = write_jobs(clips / "jobs.csv", 'source,box\na.mp4,"30,40,40,40"\nb.mp4,"30,40,40,40;5,5,20,20"\n'
                                          'missing.mp4,"1,1,5,5"\n')
    out = tmp_path / "out"
    result = batch(jobs, "--output", out, "--workers", "2")
    assert result.returncode == 1, result.stderr  # one job failed
    assert "backend onnx on cpu" in result.stderr and "failed: missing" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    by_id = {row["id"]: row for row in summary["results"]}
    assert [by_id[i]["status"] for i in "ab"] == ["ok", "ok"] and by_id["a"]["frames"] == 12
    # A missing source is the job's own error: a retry cannot change it, so there is none.
    assert by_id["missing"]["status"] == "failed" and by_id["missing"]["attempts"] == 1
    assert "no such file" in by_id["missing"]["error"]
    rows = [json.loads(line) for line in (out / "b.jsonl").read_text().splitlines()]
    assert len(rows) == 40 and {r["target"] for r in rows} == {1, 2}
    assert (out / "summary.csv").read_text().splitlines()[0] == "id,status,frames,fps,seconds,attempts,error"

    # A rerun skips the finished jobs and runs again one whose result was left partial.
    (out / "a.jsonl").rename(out / "a.jsonl.part")
    result = batch(jobs, "--output", out, "--workers", "1")
    statuses = {row["id"]: row["status"] for row in json.loads((out / "summary.json").read_text())["results"]}
    assert statuses == {"a": "ok", "b": "skipped", "missing": "failed"}
    assert not (out / "a.jsonl.part").exists() and len((out / "a.jsonl").read_text().splitlines()) == 12


def test_batch_all_ok_exits_0(clips, tmp_path):
    jobs = write_jobs(clips / "jobs.jsonl", '{"source": "a.mp4", "box": "30,40,40,40", "end": 5}\n')
    result = batch(jobs, "--output", tmp_path / "out", "--quiet")
    assert result.returncode == 0 and result.stderr == ""
    assert len((tmp_path / "out" / "a.jsonl").read_text().splitlines()) == 5


@pytest.mark.parametrize("args, message", [
    (["nope.csv"], "cannot read job file"),
    (["JOBS", "--workers", "0"], "--workers: must be a whole number >= 1"),
    (["JOBS", "--threads-per-job", "-1"], "--threads-per-job: must be a whole number >= 1"),
    (["JOBS", "--model", "nope.pth"], "nope.pth"),
])
def test_batch_bad_arguments_exit_2(clips, tmp_path, args, message):
    jobs = write_jobs(clips / "jobs.csv", 'source,box\na.mp4,"30,40,40,40"\n')
    args = [jobs if a == "JOBS" else a for a in args]
    result = batch(*args, "--output", tmp_path / "out")
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_batch_without_ray_says_so(clips, tmp_path):
    jobs = write_jobs(clips / "jobs.csv", 'source,box\na.mp4,"30,40,40,40"\n')
    code = ("import sys; sys.modules['ray'] = None; from siamtrack.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "batch", str(jobs), "--output", str(tmp_path / "o"),
                             "--ray", "local"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "siamtrack[cluster]" in result.stderr


def spawned_workers(parent_pid):
    """Pids of the pool's worker processes (spawned children running multiprocessing's spawn_main)."""
    children = Path(f"/proc/{parent_pid}/task/{parent_pid}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the worker through /proc (Linux)")
def test_batch_worker_killed_mid_job_is_retried(clips, tmp_path):
    write_clip(clips / "long.mp4", frames=300)
    jobs = write_jobs(clips / "jobs.csv", 'source,box\nlong.mp4,"30,40,40,40"\na.mp4,"30,40,40,40"\n')
    out = tmp_path / "out"
    process = subprocess.Popen([*SIAMTRACK_WITH_CTRL_C, "batch", str(jobs), "--output", str(out),
                                "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ((out / "long.jsonl.part").is_file() and (out / "long.jsonl.part").stat().st_size > 0):
            assert time.monotonic() < deadline and process.poll() is None, "the job never started"
            time.sleep(0.05)
        workers = spawned_workers(process.pid)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    summary = {row["id"]: row for row in json.loads((out / "summary.json").read_text())["results"]}
    assert summary["long"]["status"] == "ok" and summary["long"]["attempts"] == 2
    assert summary["a"]["status"] == "ok" and len((out / "long.jsonl").read_text().splitlines()) == 300


@pytest.mark.slow
def test_batch_on_a_local_ray_cluster(clips, tmp_path):
    pytest.importorskip("ray", reason="Ray is the cluster extra: pip install 'siamtrack[cluster]'")
    jobs = write_jobs(clips / "jobs.csv", 'source,box,model\na.mp4,"30,40,40,40",\n'
                                          'b.mp4,"30,40,40,40;5,5,20,20",default\n'
                                          'missing.mp4,"1,1,5,5",\n')
    out = tmp_path / "out"
    # An explicit model folder travels through Ray's object store to the tasks; a built-in model
    # (job b) is named, and found in the worker's own install.
    result = batch(jobs, "--output", out, "--ray", "local", "--workers", "2",
                   "--model", ROOT / "weights" / "siamtrack-default-onnx", timeout=240)
    assert result.returncode == 1, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["engine"] == "ray (local)"
    statuses = {row["id"]: (row["status"], row["attempts"]) for row in summary["results"]}
    assert statuses == {"a": ("ok", 1), "b": ("ok", 1), "missing": ("failed", 1)}
    assert len((out / "b.jsonl").read_text().splitlines()) == 40


def test_a_job_file_saved_with_a_byte_order_mark_is_read(clips):
    path = clips / "jobs.csv"
    path.write_bytes('\ufeffid,source,box\nfirst,a.mp4,"30,40,40,40"\n'.encode("utf-8"))
    assert [job.id for job in read_jobs(path)] == ["first"]


def test_a_job_whose_result_would_be_the_job_file_is_refused(clips):
    jobs = write_jobs(clips / "jobs.jsonl", '{"id": "jobs", "source": "a.mp4", "box": "30,40,40,40"}\n')
    result = batch(jobs, "--output", clips)
    assert result.returncode == 2 and "would be the job file itself" in result.stderr
    assert jobs.read_text().startswith('{"id": "jobs"')  # untouched


@pytest.mark.parametrize("content", ["", '{"frame": 0, "time": 0.0, "tar', '{"hello": "world"}\n'],
                         ids=["empty", "damaged", "foreign"])
def test_resume_reruns_jobs_whose_result_file_is_empty_damaged_or_foreign(clips, tmp_path, content):
    jobs = write_jobs(clips / "jobs.csv", 'source,box\na.mp4,"30,40,40,40"\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.jsonl").write_text(content)
    result = batch(jobs, "--output", out, "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["results"][0]["status"] == "ok" and len((out / "a.jsonl").read_text().splitlines()) == 12
    kept = [p for p in out.iterdir() if p.name.startswith("a.damaged-")]
    assert len(kept) == 1 and kept[0].read_text() == content and "kept as" in summary["notes"][0]


def long_batch(clips, tmp_path, frames=2500):
    write_clip(clips / "long.mp4", frames=frames)
    jobs = write_jobs(clips / "jobs.csv", 'source,box\nlong.mp4,"30,40,40,40"\na.mp4,"30,40,40,40"\n')
    out = tmp_path / "out"
    process = subprocess.Popen([*SIAMTRACK_WITH_CTRL_C, "batch", str(jobs), "--output", str(out),
                                "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not ((out / "long.jsonl.part").is_file() and (out / "long.jsonl.part").stat().st_size > 0):
        assert time.monotonic() < deadline and process.poll() is None, "the job never started"
        time.sleep(0.05)
    return process, jobs, out


@pytest.mark.slow
@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_an_interrupted_batch_writes_its_summary_with_the_unfinished_jobs(clips, tmp_path, signal_name, code):
    process, _, out = long_batch(clips, tmp_path)
    try:
        # Ctrl-C reaches the whole process group (workers too), as a terminal sends it.
        os.killpg(process.pid, getattr(signal, signal_name)) if signal_name == "SIGINT" else \
            process.send_signal(getattr(signal, signal_name))
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert {row["id"]: row["status"] for row in summary["results"]} == {"long": "interrupted", "a": "interrupted"}
    assert summary["interrupted"] == 2 and (out / "summary.csv").read_text().count("interrupted") == 2


@pytest.mark.slow
def test_a_second_batch_on_the_same_output_folder_is_refused(clips, tmp_path):
    process, jobs, out = long_batch(clips, tmp_path)
    try:
        second = batch(jobs, "--output", out)
        assert second.returncode == 2, second.stderr
        assert f"batch that is still running (process {process.pid})" in second.stderr
        assert (out / "long.jsonl.part").is_file()  # the first batch's work is untouched
    finally:
        process.terminate()
        process.communicate(timeout=60)


def test_batch_jobs_write_their_events(clips, tmp_path):
    jobs = write_jobs(clips / "jobs.csv", 'source,box\na.mp4,"30,40,40,40;5,5,20,20"\n')
    out = tmp_path / "out"
    result = batch(jobs, "--output", out, "--events", "--quiet")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in (out / "a.events.jsonl").read_text().splitlines()]
    assert [(e["event"], e["target"]) for e in events if e["event"] in ("started", "ended")] == \
        [("started", 1), ("started", 2), ("ended", 1), ("ended", 2)]
    assert events[0]["frame"] == 0 and events[-1]["frame"] == 11
