"""Models that siamtrack can fetch on request, by name, into a cache, checked against their checksums.

Nothing here is bundled with siamtrack: ``siamtrack weights download nanotrack`` fetches NanoTrack
v2's two published graphs (Apache-2.0) into ``$SIAMTRACK_CACHE/models/nanotrack_v2`` (see
`siamtrack.files.cache_root`) and prints the folder, which ``--model`` then takes.

Each file is checked against the SHA-256 recorded here before it is published in the cache, and
is written to a temporary name first, so an interrupted or tampered download leaves nothing a
later run would trust. A file already there with the right checksum is not fetched again. Every
wait is bounded: each network read by ``timeout`` seconds and the whole file by ``deadline``; a
file larger than its recorded size is refused while it streams.
``$SIAMTRACK_DOWNLOAD_URL`` (or ``base_url``) replaces the address's base: a mirror inside a
closed network, or a local server in the tests.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from siamtrack.errors import DownloadError
from siamtrack.files import cache_root, sha256_of

BASE_URL_ENV = "SIAMTRACK_DOWNLOAD_URL"
CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """One file of a downloadable model: where it is published, its size and checksum."""

    name: str
    path: str  # below the model's base address
    size: int
    sha256: str


@dataclass(frozen=True)
class RemoteModel:
    """A model folder that can be fetched: its files, their base address and the licence."""

    name: str
    folder: str
    base_url: str
    licence: str
    files: tuple[RemoteFile, ...]


# The checksums and sizes are those of the files OpenCV's TrackerNano documentation points to
# (HonglinChu/SiamTrackers, NanoTrack/models/nanotrackv2).
MODELS = {
    "nanotrack": RemoteModel(
        "nanotrack", "nanotrack_v2",
        "https://raw.githubusercontent.com/HonglinChu/SiamTrackers/master/NanoTrack/models/nanotrackv2",
        "Apache-2.0 (HonglinChu/SiamTrackers)",
        (RemoteFile("nanotrack_backbone_sim.onnx", "nanotrack_backbone_sim.onnx", 1056849,
                    "530bdd0cd00f19afab79a863e71ba71e3312395a5dc9151af675082bdaaa2fc4"),
         RemoteFile("nanotrack_head_sim.onnx", "nanotrack_head_sim.onnx", 726198,
                    "0d8c0637be849f092cc7236cae02e55c8b9455ebe37ba50601d6115db4247cd9"))),
}


def models_root() -> Path:
    """Where downloaded models are kept: ``models/`` in siamtrack's cache."""
    return cache_root() / "models"


def download(name: str, root: str | Path | None = None, base_url: str | None = None, timeout: float = 30.0,
             deadline: float = 600.0) -> Path:
    """Fetch model ``name`` (a key of ``MODELS``) into the cache, unless it is there already; returns its folder.

    Raises:
        DownloadError: unknown name, a network failure or timeout, a file of the wrong size or
            checksum, or a cache that cannot be written.
    """
    if name not in MODELS:
        raise DownloadError(f"no downloadable model {name!r}; known: {', '.join(MODELS)}")
    model = MODELS[name]
    folder = Path(root if root is not None else models_root()) / model.folder
    base = (base_url or os.environ.get(BASE_URL_ENV) or model.base_url).rstrip("/")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the model cache {folder}: {exc.strerror}") from None
    for remote in model.files:
        destination = folder / remote.name
        if destination.is_file() and sha256_of(destination) == remote.sha256:
            continue
        _fetch(f"{base}/{remote.path}", destination, remote, timeout, deadline)
    return folder


def _fetch(url: str, destination: Path, remote: RemoteFile, timeout: float, deadline: float) -> None:
    """One file to ``destination`` through a temporary sibling, published only when its checksum matches."""
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    digest, received, began = hashlib.sha256(), 0, time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as handle:
            while chunk := response.read(CHUNK):
                received += len(chunk)
                if received > remote.size:
                    raise DownloadError(f"{url} sends more than the {remote.size} bytes of {remote.name}")
                if time.monotonic() - began > deadline:
                    raise DownloadError(f"{url} did not arrive within {deadline:g} s")
                digest.update(chunk)
                handle.write(chunk)
        if digest.hexdigest() != remote.sha256:
            raise DownloadError(f"{url} does not match the published checksum of {remote.name} "
                                f"({received} bytes, sha256 {digest.hexdigest()[:16]}...); nothing was kept")
        partial.replace(destination)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"cannot download {url}: {reason}") from None
    except OSError as exc:
        raise DownloadError(f"cannot write {destination}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
