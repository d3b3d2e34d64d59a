"""The bodies of ``POST /volumes/{id}/action``: the envelope names one action; each action's
member is checked by its own model once the action is known, allowed and in the microversion
(``common.http.validate``), in Cinder's words."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from onestack.common import errors
from onestack.volume.schemas import _Body, _required


class VolumeAction(_Body):
    """``{name: arguments}``, one volume action."""

    name: str
    args: Any = None

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        if not isinstance(data, dict) or len(data) != 1:
            raise errors.BadRequest("There is no such action: the body must name one action.")
        ((name, args),) = data.items()
        return {"name": name, "args": args}


def as_bool(value: Any, field: str) -> bool:
    """Cinder's lenient booleans (``True``, ``"true"``, ``"1"``, ``"yes"`` ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise errors.ValidationError(field=field, reason=f"{value!r} is not a boolean")


def _property(data: Any, key: str) -> Any:
    """``data``'s ``key``, refused as a missing required property when absent."""
    if not isinstance(data, dict) or key not in data:
        raise errors.ValidationError(field=key, reason=f"'{key}' is a required property")
    return data[key]


class Reimage(_Body):
    """``os-reimage`` (3.68)."""

    image_id: str
    reimage_reserved: bool = False

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        image_id = data.get("image_id") if isinstance(data, dict) else None
        if not isinstance(image_id, str) or not image_id:
            raise errors.ValidationError(
                field="image_id", reason="'image_id' is a required property"
            )
        reserved = as_bool(data.get("reimage_reserved", False), "reimage_reserved")
        return {"image_id": image_id, "reimage_reserved": reserved}


class ResetStatus(_Body):
    """``os-reset_status``: the statuses to set, as sent (the service checks them)."""

    fields: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise errors.ValidationError(field="os-reset_status", reason="must be an object")
        return {"fields": data}


class Bootable(_Body):
    """``os-set_bootable``."""

    bootable: bool

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        return {"bootable": as_bool(_property(data, "bootable"), "bootable")}


class Readonly(_Body):
    """``os-update_readonly_flag``."""

    readonly: bool

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        return {"readonly": as_bool(_property(data, "readonly"), "readonly")}


class ImageMetadataSet(_Body):
    """``os-set_image_metadata``: values as strings."""

    metadata: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        meta = data.get("metadata") if isinstance(data, dict) else None
        if not isinstance(meta, dict):
            raise errors.ValidationError(
                field="metadata", reason="'metadata' is a required property"
            )
        return {"metadata": {str(k): str(v) for k, v in meta.items()}}


class ImageMetadataUnset(_Body):
    """``os-unset_image_metadata``."""

    key: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        key = data.get("key") if isinstance(data, dict) else None
        if not isinstance(key, str):
            raise errors.ValidationError(field="key", reason="'key' is a required property")
        return {"key": key}


class Retype(_Body):
    """``os-retype``."""

    new_type: str
    migration_policy: str = "never"

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        new_type = data.get("new_type") if isinstance(data, dict) else None
        if not isinstance(new_type, str):
            raise _required("new_type")
        policy = data.get("migration_policy", "never")
        if policy not in ("never", "on-demand"):
            raise errors.ValidationError(field="migration_policy", reason="never or on-demand")
        return {"new_type": new_type, "migration_policy": policy}


class Revert(_Body):
    """``revert`` (3.40)."""

    snapshot_id: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        snap = data.get("snapshot_id") if isinstance(data, dict) else None
        if not isinstance(snap, str):
            raise _required("snapshot_id")
        return {"snapshot_id": snap}


class UploadImage(_Body):
    """``os-volume_upload_image``."""

    image_name: str
    disk_format: str = "raw"
    container_format: Any = "bare"
    force: bool = False
    visibility: Any = None

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        data = data if isinstance(data, dict) else {}
        name = data.get("image_name")
        if not isinstance(name, str) or not name:
            raise _required("image_name")
        disk_format = data.get("disk_format", "raw")
        if disk_format not in ("raw", "qcow2"):
            raise errors.BadRequest(
                f"Invalid disk-format '{disk_format}' is specified. Allowed disk-formats are "
                "raw, qcow2."
            )
        return {
            "image_name": name,
            "disk_format": disk_format,
            "container_format": data.get("container_format", "bare"),
            "force": as_bool(data.get("force", False), "force"),
            "visibility": data.get("visibility"),
        }
