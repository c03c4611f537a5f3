"""File helpers shared by every writer: atomic replacement and checksums. Needs neither torch nor onnx."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import secrets
from pathlib import Path
from typing import Any, Callable, Optional

# Linux's limits: bytes in one file name, and in a whole path handed to the kernel.
NAME_MAX = 255
PATH_MAX = 4096


def describe_path(path: object) -> str:
    """A path (or any text) for a one-line message: control characters escaped, so a hostile file
    name can neither break the line nor repaint the terminal."""
    text = str(path)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def redact_credentials(text: object) -> str:
    """``text`` with the user name and password of every URL in it replaced by ``***``
    (``rtsp://admin:pw@cam/live`` -> ``rtsp://***@cam/live``): what pages, logs and errors show of
    a camera's address."""
    return _USERINFO.sub(r"\1***@", str(text))


def make_folder(path: str | Path, error: Callable[[str], Exception]) -> Path:
    """Create the output folder ``path`` (and its parents); a path that cannot be one (a file is in
    the way, a read-only file system, a name too long) raises ``error(one line)``."""
    folder = Path(path)
    reason = path_too_long(folder)
    if reason:
        raise error(f"cannot create {describe_path(str(folder)[:60])}...: {reason}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise error(f"cannot create folder {describe_path(folder)}: a file of that name is in the way") from None
    except OSError as exc:
        raise error(f"cannot create folder {describe_path(folder)}: {exc.strerror or exc}") from None
    return folder


def check_folder_possible(path: str | Path, error: Callable[[str], Exception]) -> None:
    """Refuse, before any work and without creating anything, an output folder that
    `make_folder` could not make: a file in the way, or an existing ancestor that is not a
    writable folder."""
    folder = Path(path)
    reason = path_too_long(folder)
    if reason:
        raise error(f"cannot create {describe_path(str(folder)[:60])}...: {reason}")
    ancestor = folder
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor == folder and folder.is_dir():
        return
    if not ancestor.is_dir():
        what = ("a file of that name is in the way" if ancestor == folder
                else f"{describe_path(ancestor)} is not a folder")
        raise error(f"cannot create folder {describe_path(folder)}: {what}")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise error(f"cannot create folder {describe_path(folder)}: {describe_path(ancestor)} is not writable")


def path_too_long(path: Path) -> str:
    """Why the operating system would refuse ``path`` as too long ('' when it would not)."""
    size = len(os.fsencode(str(path)))
    if size >= PATH_MAX:
        return f"the path is {size} bytes long, over the system's limit of {PATH_MAX - 1}"
    if len(os.fsencode(path.name)) > NAME_MAX:
        return f"the file name is {len(os.fsencode(path.name))} bytes long, over the system's limit of {NAME_MAX}"
    return ""


def sibling(path: Path, tag: str, hidden: bool = False) -> Path:
    """``NAME.TAG.EXT`` (``.NAME.TAG.EXT`` when ``hidden``) beside ``path``, shortened (with a hash of
    the full name) so the name fits `NAME_MAX` however long ``path``'s own name is. The same
    path always gives the same name."""
    dot = "." if hidden else ""
    name = f"{dot}{path.stem}.{tag}{path.suffix}"
    if len(os.fsencode(name)) <= NAME_MAX:
        return path.with_name(name)
    digest = hashlib.sha256(os.fsencode(path.name)).hexdigest()[:12]
    room = NAME_MAX - len(os.fsencode(f"{dot}~{digest}.{tag}{path.suffix}"))
    stem = os.fsencode(path.stem)[:max(room, 0)].decode("utf-8", "ignore")
    return path.with_name(f"{dot}{stem}~{digest}.{tag}{path.suffix}")


def hidden_sibling(path: Path, tag: str) -> Path:
    """`sibling` with a leading dot (temporary and partial files)."""
    return sibling(path, tag, hidden=True)


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` for a new file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a half-written one; a failure (or an
    interrupt) removes the temporary file and leaves ``path`` as it was. ``write`` creates the
    temporary file itself, so it gets the permissions any new file gets (the process umask),
    not ``mkstemp``'s 0600.
    """
    path = Path(path)
    temporary = hidden_sibling(path, f"{secrets.token_hex(6)}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """`write_atomically` for text (UTF-8)."""
    return write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_bytes_atomically(path: str | Path, content: bytes) -> Path:
    """`write_atomically` for bytes."""
    return write_atomically(path, lambda temporary: temporary.write_bytes(content))


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None: JSON has neither, and a file
    holding them (Python's json writes ``NaN``) is refused by strict readers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def json_text(value: Any, indent: int | None = None) -> str:
    """Strict JSON for ``value`` (non-finite numbers written as null, see `json_safe`)."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)


def lock_holder(fd: int) -> Optional[int]:
    """The process id holding a POSIX write lock on the open file ``fd``, or None (Linux layout)."""
    import fcntl
    import struct

    layout = "hhqqi4x"  # struct flock on 64-bit Linux: type, whence, start, length, pid
    try:
        reply = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(layout, fcntl.F_WRLCK, 0, 0, 0, 0))
        kind, _, _, _, pid = struct.unpack(layout, reply)
    except (OSError, struct.error):
        return None
    return pid if kind != fcntl.F_UNLCK else None


def try_lock(fd: int) -> bool:
    """Lock the open file ``fd`` for this process (POSIX record lock); False when another holds it."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no locking
        return True
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def cache_root() -> Path:
    """siamtrack's cache folder: ``$SIAMTRACK_CACHE``, else ``$XDG_CACHE_HOME/siamtrack`` or
    ``~/.cache/siamtrack`` (decoded training videos, downloaded models)."""
    if os.environ.get("SIAMTRACK_CACHE"):
        return Path(os.environ["SIAMTRACK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "siamtrack"
