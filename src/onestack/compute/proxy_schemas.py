"""The bodies of Nova's proxies to the other services (``/images`` metadata, ``os-volumes``
and ``os-snapshots``, below 2.36), declared as ``validation.NovaBody`` models. The proxies
refuse bad bodies with words of their own (the volume proxy's ``Invalid input for
field/attribute x. Value: v. ...``, the image proxy's short reasons), not with the API's
jsonschema ones; each keeps the words its handler has always answered with, in the order it
checked them."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute.validation import NovaBody, OneMember, invalid

NOT_OBJECT = "Invalid input for the request body: must be an object"


def attribute(key: str, value: Any, reason: str = "") -> errors.BadRequest:
    """The proxies' 400 for a member: Nova's legacy ``field/attribute`` wording."""
    return errors.BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.{reason}")


class ProxyBody(NovaBody):
    """An object of the declared members (all of them named when others are sent), one of
    them ``required``, checked before any member's value."""

    required: ClassVar[str]
    open_ended = True  # the envelope refuses the members not declared, in its own words

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise errors.BadRequest(NOT_OBJECT)
        extra = sorted(set(data) - {key for key, _ in cls.members()})
        if extra:
            names = ", ".join(map(repr, extra))
            raise errors.BadRequest(
                f"Additional properties are not allowed ({names} were unexpected)"
            )
        if cls.required not in data:
            raise errors.BadRequest(f"'{cls.required}' is a required property")
        return data


def check_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise attribute(key, repr(value), f" {value!r} is not of type 'string'")
    return value


def check_size(body: dict[str, Any], key: str) -> int:
    """Nova's schema: an integer, or a string of digits, of 1 or more."""
    value = body[key]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise attribute(key, value, f" '{value}' does not match '^[0-9]+$'")
    if value < 1:
        raise attribute(key, value, f" {value} is less than the minimum of 1")
    return value


def check_volume_metadata(body: dict[str, Any], key: str) -> dict[str, str]:
    metadata = body.get(key) or {}
    if not isinstance(metadata, dict):
        raise errors.BadRequest(f"Invalid input for field/attribute {key}: not an object")
    return {str(k): str(v) for k, v in metadata.items()}


def check_force(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f"):
        return False
    raise attribute(key, value)


ProxyString = Annotated[str | None, check_string]


class VolumeCreate(ProxyBody):
    """``POST /os-volumes``."""

    wrapper = "volume"
    required = "size"

    metadata: Annotated[dict[str, str], check_volume_metadata] = Field(default_factory=dict)
    size: Annotated[int, check_size]
    display_name: ProxyString = None
    display_description: ProxyString = None
    volume_type: ProxyString = None
    snapshot_id: ProxyString = None
    availability_zone: ProxyString = None


class SnapshotCreate(ProxyBody):
    """``POST /os-snapshots``."""

    wrapper = "snapshot"
    required = "volume_id"

    volume_id: ProxyString
    display_name: ProxyString = None
    display_description: ProxyString = None
    force: Annotated[bool, check_force] = False


# --- the image proxy's metadata (``/images/{id}/metadata``, below 2.36) ----------------------


def check_image_metadata(body: dict[str, Any], key: str) -> dict[str, str]:
    """Keys of 1-255 characters, values strings of at most 255 (the count is the quota's)."""
    value = body.get(key)
    if not isinstance(value, dict):
        raise invalid(key, "must be an object")
    for name, item in value.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise invalid(key, "keys are 1 to 255 characters")
        if not isinstance(item, str) or len(item) > 255:
            raise invalid(key, "values are strings of 255 at most")
    return dict(value)


class ImageMetadata(OneMember):
    """``POST``/``PUT /images/{id}/metadata``."""

    wrapper = "metadata"

    metadata: Annotated[dict[str, str], check_image_metadata]


class ImageMetadataItem(OneMember):
    """``PUT /images/{id}/metadata/{key}`` (its handler asks that it be that one key)."""

    wrapper = "meta"

    meta: Annotated[dict[str, str], check_image_metadata]
