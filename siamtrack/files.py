"""File helpers shared by every writer: atomic replacement and checksums. Needs neither torch nor onnx."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` for a new file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a half-written one; a failure (or an
    interrupt) removes the temporary file and leaves ``path`` as it was. ``write`` creates the
    temporary file itself, so it gets the permissions any new file gets (the process umask),
    not ``mkstemp``'s 0600.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        write(temporary)
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
