"""The test image's one error type: a build step failed (the message says which)."""

from __future__ import annotations


class BuildError(RuntimeError):
    """The test image could not be built."""
