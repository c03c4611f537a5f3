"""File helpers shared by every writer: atomic replacement and checksums. Needs neither torch nor onnx."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary)`` for a file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a half-written one; a failure (or an
    interrupt) removes the temporary file and leaves ``path`` as it was. The new file gets the
    mode a plainly created file would (``mkstemp`` makes it 0600).
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """:func:`write_atomically` for text (UTF-8)."""
    return write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_bytes_atomically(path: str | Path, content: bytes) -> Path:
    """:func:`write_atomically` for bytes."""
    return write_atomically(path, lambda temporary: temporary.write_bytes(content))


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
