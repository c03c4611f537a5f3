"""Turning tracker names from the command line into `TrackerEntry` objects."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from siamtrack.errors import SiamtrackError
from siamtrack.evaluation.harness import TrackerEntry
from siamtrack.evaluation.peers import PEER_NAMES, OpenCVPeer, PeerUnavailable, create_peer


@dataclass(frozen=True)
class SiamtrackVariant:
    """A named siamtrack configuration: weights file (None: default model) and config preset/file."""

    name: str
    model: Optional[str] = None
    config: Optional[str] = None

    @classmethod
    def parse(cls, text: str) -> "SiamtrackVariant":
        """``NAME=MODEL[:CONFIG]``, e.g. ``ref5s=siamfc.pth:siamfc-5s``."""
        name, sep, rest = text.partition("=")
        if not sep or not name or not rest:
            raise SiamtrackError(f"--siamtrack takes NAME=MODEL[:CONFIG], got {text!r}")
        model, _, config = rest.partition(":")
        return cls(name, model or None, config or None)


def _same_peer(peer: OpenCVPeer) -> OpenCVPeer:
    """One OpenCV peer serves every sequence: it builds a fresh OpenCV tracker at each init."""
    return peer


def pin_threads(threads: int) -> None:
    """Give every framework the same number of CPU threads, so speeds compare fairly."""
    import cv2

    cv2.setNumThreads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch
    except ImportError:  # an ONNX Runtime-only install: nothing to pin
        return
    torch.set_num_threads(threads)


def siamtrack_entry(variant: SiamtrackVariant, device: str = "cpu", backend: str = "auto",
                    threads: Optional[int] = None) -> TrackerEntry:
    from siamtrack.tracking.tracker import Tracker

    tracker = Tracker(model=variant.model, backend=backend, device=device, config=variant.config,
                      threads=threads)  # loads once
    description = (f"backend {tracker.backend_name} on {tracker.device}, model {variant.model or 'the default model'}, "
                   f"{tracker.config.scale_search} scale search")
    return TrackerEntry(variant.name, lambda: tracker, description)


def build_entries(names: list[str], variants: list[SiamtrackVariant], peer_models: Optional[Path],
                  device: str = "cpu", backend: str = "auto",
                  threads: Optional[int] = None) -> tuple[list[TrackerEntry], dict[str, str]]:
    """Entries for the requested trackers, and {name: reason} for those skipped.

    ``siamtrack`` names the default variant (overridable by a variant called ``siamtrack``);
    other variant names must be defined with ``--siamtrack``.
    """
    by_name = {v.name: v for v in variants}
    entries, skipped = [], {}
    for name in dict.fromkeys(names):
        try:
            if name in by_name or name == "siamtrack":
                entries.append(siamtrack_entry(by_name.get(name, SiamtrackVariant("siamtrack")), device,
                                               backend, threads))
            elif name in PEER_NAMES:
                peer = create_peer(name, peer_models)
                entries.append(TrackerEntry(name, functools.partial(_same_peer, peer)))
            else:
                raise PeerUnavailable(f"unknown tracker {name!r}: use siamtrack, {', '.join(PEER_NAMES)} "
                                      f"or a name defined with --siamtrack NAME=MODEL")
        except SiamtrackError as exc:
            skipped[name] = str(exc)
    return entries, skipped
