"""Cinder's errors (bodies as Nova's: ``{"badRequest": {"code", "message"}}``)."""

from __future__ import annotations

from onestack.common import errors


class VolumeNotFound(errors.NotFound):
    template = "Volume {id} could not be found."


class TypeNotFound(errors.NotFound):
    template = "Volume type {id} could not be found."


class SnapshotNotFound(errors.NotFound):
    template = "Snapshot {id} could not be found."


class InvalidVolume(errors.BadRequest):
    template = "Invalid volume: {reason}"


class InvalidInput(errors.BadRequest):
    template = "Invalid input received: {reason}"


class OverQuota(errors.OneStackError):
    code = 413
    title = "Request Entity Too Large"
    template = "{message}"

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)
        self.headers["Retry-After"] = "0"
