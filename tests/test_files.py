"""siamtrack.files: atomic replacement and checksums."""

import hashlib
import os

import pytest

from siamtrack.files import sha256_of, write_atomically, write_text_atomically


def test_new_file_gets_the_permissions_of_any_new_file(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_text_atomically(tmp_path / "a.txt", "hi")
    finally:
        os.umask(umask)
    assert path.read_text() == "hi" and (os.stat(path).st_mode & 0o777) == 0o644


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "a.txt").write_text("old")

    def fail(temporary):
        temporary.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "a.txt", fail)
    assert (tmp_path / "a.txt").read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_sha256_of(tmp_path):
    (tmp_path / "b").write_bytes(b"x" * 3_000_000)
    assert sha256_of(tmp_path / "b") == hashlib.sha256(b"x" * 3_000_000).hexdigest()
