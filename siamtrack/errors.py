"""Exceptions raised by siamtrack.

Every error a user can cause (bad input, bad file, unavailable backend) derives from
[SiamtrackError][siamtrack.SiamtrackError], so applications can catch one type and report its message. Errors about
argument values also derive from `ValueError`, as Python users expect.
"""

from __future__ import annotations


class SiamtrackError(Exception):
    """Base class of all errors siamtrack raises on purpose."""


class ConfigError(SiamtrackError, ValueError):
    """A configuration value or key is invalid."""


class InputError(SiamtrackError, ValueError):
    """A frame or box passed to the tracker is invalid."""


class WeightsError(SiamtrackError, ValueError):
    """A weights file is missing, corrupt, or does not match what the network expects."""


class BackendUnavailableError(SiamtrackError, RuntimeError):
    """The requested inference backend or device cannot be used on this machine."""


class NotInitializedError(SiamtrackError, RuntimeError):
    """``update`` was called before ``init`` (or after ``reset``)."""


class DownloadError(SiamtrackError):
    """A model download failed, timed out, or did not match its published checksum."""


class TrackingStopped(SiamtrackError):
    """``siamtrack serve``'s tracking has stopped (an output failed); it takes no more changes."""


class SourceError(InputError):
    """A source (camera, stream, file, folder) cannot be opened or read."""


class OutputError(InputError):
    """An output cannot be written (a bad path, a read-only file, another run writing it)."""


class OutputWriteError(SiamtrackError, OSError):
    """Writing an output failed part-way (disk full, I/O error, file too large, reader gone): the
    world failed, not a value the user gave, so it is an ``OSError`` and not a ``ValueError``."""


class ExportError(SiamtrackError, RuntimeError):
    """A graph or engine could not be produced or failed its checks."""


class ParityError(BackendUnavailableError):
    """A backend's responses differ from the reference's by more than its tolerance."""


class PeerUnavailable(SiamtrackError):
    """A peer tracker cannot be built here (missing model, or absent from this OpenCV build)."""


class JobFailed(SiamtrackError):
    """A Ray task's job failed; the message is the job's error line."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent

    def __reduce__(self) -> tuple:  # Ray pickles it back to the driver with both arguments
        return (JobFailed, (str(self), self.permanent))
