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
