"""``block_device_mapping_v2`` (and the legacy ``block_device_mapping``) of ``POST /servers``
checked for shape with Nova's schema and wording, as plain mappings for the service layer.

A mapping after this module: ``source_type`` (image, volume, snapshot, blank),
``destination_type`` (local, volume), ``uuid`` (None for a blank), ``boot_index`` (an int, None
for "not bootable"), ``volume_size`` (GiB or None), ``delete_on_termination``, ``device_name``,
``tag``, ``volume_type``, ``guest_format``. Nothing here looks anything up."""

from __future__ import annotations

import re
from typing import Any

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute import validation
from onestack.compute.validation import invalid

MAX_INT = 2**31 - 1
UUID_LIKE = re.compile(r"^[a-zA-Z0-9._-]*$")
INTEGER = re.compile(r"^-?[0-9]+$")
V2_KEYS = {
    "source_type", "uuid", "image_id", "destination_type", "guest_format", "device_type",
    "disk_bus", "boot_index", "volume_id", "snapshot_id", "volume_size", "device_name",
    "delete_on_termination", "no_device", "connection_info", "virtual_name",
}  # fmt: skip
LEGACY_KEYS = {"virtual_name", "volume_id", "snapshot_id", "volume_size", "device_name",
               "delete_on_termination", "no_device", "connection_info"}  # fmt: skip
SOURCES = ("volume", "image", "snapshot", "blank")
DESTINATIONS = ("local", "volume")


def bdm_invalid(details: str) -> errors.BadRequest:
    """Nova's ``InvalidBDMFormat`` and kin."""
    return errors.BadRequest(f"Block Device Mapping is Invalid: {details}")


def boot_sequence_invalid() -> errors.BadRequest:
    return bdm_invalid(
        "Boot sequence for the instance and image/block device mapping combination is not valid."
    )


def mappings(version: APIVersion, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's block device mappings, v2 or legacy (not both), checked for shape."""
    v2 = body.get("block_device_mapping_v2")
    legacy = body.get("block_device_mapping")
    if v2 is not None and legacy is not None:
        raise errors.BadRequest("Using different block_device_mapping syntaxes is not allowed")
    if legacy is not None:
        return [_legacy(item) for item in _items(legacy, "block_device_mapping")]
    if v2 is None:
        return []
    return [_v2(version, item) for item in _items(v2, "block_device_mapping_v2")]


def _items(value: Any, field: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid(field, f"{value!r} is not of type 'array'")
    for item in value:
        if not isinstance(item, dict):
            raise invalid(field, f"{item!r} is not of type 'object'")
    return value


def _v2(version: APIVersion, item: dict[str, Any]) -> dict[str, Any]:
    allowed = set(V2_KEYS)
    if version >= APIVersion(2, 32):
        allowed.add("tag")
    if version >= APIVersion(2, 67):
        allowed.add("volume_type")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise invalid(
            "block_device_mapping_v2",
            f"Additional properties are not allowed ({unknown[0]!r} was unexpected)",
        )
    source = _enum(item, "source_type", SOURCES)
    destination = _enum(item, "destination_type", DESTINATIONS)
    ref = _string(item, "uuid", UUID_LIKE)
    if ref is not None and not ref:
        raise invalid("block_device_mapping_v2.uuid", "'' is too short")
    boot_index = _boot_index(item.get("boot_index"))
    out = _common(item, "block_device_mapping_v2")
    if source is None:
        # Nova guesses the source from the legacy keys a v2 mapping may still carry.
        if item.get("volume_id") or item.get("snapshot_id"):
            return _legacy(item)
        raise bdm_invalid("Missing device UUID." if destination else "Missing source_type field.")
    destination = destination or ("local" if source in ("image", "blank") else "volume")
    if source != "blank" and not ref:
        raise bdm_invalid("Missing device UUID.")
    if source == "image" and destination == "local" and boot_index != 0:
        raise bdm_invalid("Mapping image to local is not supported.")
    if source in ("volume", "snapshot") and destination == "local":
        raise bdm_invalid(f"Mapping {source} to local is not supported.")
    if out["volume_type"] is not None and destination == "local":
        raise errors.BadRequest(
            "Specifying a volume_type with destination_type=local is not supported."
        )
    return {**out, "source_type": source, "destination_type": destination,
            "uuid": ref if source != "blank" else None, "boot_index": boot_index}  # fmt: skip


def _legacy(item: dict[str, Any]) -> dict[str, Any]:
    """A legacy mapping (``volume_id``/``snapshot_id`` at ``device_name``): a volume."""
    unknown = sorted(set(item) - LEGACY_KEYS - V2_KEYS)
    if unknown:
        raise invalid(
            "block_device_mapping",
            f"Additional properties are not allowed ({unknown[0]!r} was unexpected)",
        )
    out = _common(item, "block_device_mapping")
    volume_id = _string(item, "volume_id", UUID_LIKE)
    snapshot_id = _string(item, "snapshot_id", UUID_LIKE)
    if not volume_id and not snapshot_id:
        raise bdm_invalid("Missing device UUID.")
    device = str(out["device_name"] or "")
    root = device.rsplit("/", 1)[-1] in ("vda", "sda", "xvda", "hda")
    return {**out, "source_type": "snapshot" if snapshot_id and not volume_id else "volume",
            "destination_type": "volume", "uuid": volume_id or snapshot_id,
            "boot_index": 0 if root else None}  # fmt: skip


def _common(item: dict[str, Any], field: str) -> dict[str, Any]:
    size = item.get("volume_size")
    if size is not None:
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        if isinstance(size, bool) or not isinstance(size, int):
            raise invalid(f"{field}.volume_size", f"{size!r} is not of type 'integer', 'string'")
        if size < 1 or size > MAX_INT:
            raise invalid(f"{field}.volume_size", f"{size} is less than the minimum of 1")
    dot = validation.boolean(item, "delete_on_termination", False)
    tag = _string(item, "tag")
    if tag is not None and (len(tag) > 60 or "/" in tag or "," in tag):
        raise invalid(f"{field}.tag", f"{tag!r} is not a valid tag")
    volume_type = item.get("volume_type")
    if volume_type is not None and not isinstance(volume_type, str):
        raise invalid(f"{field}.volume_type", f"{volume_type!r} is not of type 'string', 'null'")
    guest_format = _string(item, "guest_format")
    device = _string(item, "device_name")
    if device is not None and (not device or " " in device):
        raise invalid(f"{field}.device_name", f"{device!r} is not a valid device name")
    return {"volume_size": size, "delete_on_termination": bool(dot), "tag": tag,
            "volume_type": volume_type or None, "guest_format": guest_format,
            "device_name": device}  # fmt: skip


def _enum(item: dict[str, Any], key: str, values: tuple[str, ...]) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if value not in values:
        raise invalid(f"block_device_mapping_v2.{key}", f"{value!r} is not one of {list(values)}")
    return str(value)


def _string(item: dict[str, Any], key: str, pattern: re.Pattern[str] | None = None) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise invalid(key, f"{value!r} is not of type 'string'")
    if pattern is not None and not pattern.match(value):
        raise invalid(key, f"{value!r} does not match {pattern.pattern!r}")
    return value


def _boot_index(value: Any) -> int | None:
    """Nova's boot index: an integer or its string; negative (and null) mean not bootable."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid("boot_index", f"{value!r} is not of type 'integer', 'string', 'null'")
    if isinstance(value, str):
        if not INTEGER.match(value):
            raise invalid("boot_index", f"{value!r} does not match '^-?[0-9]+$'")
        value = int(value)
    return value if value >= 0 else None


def boot_source(
    image_ref: str, bdms: list[dict[str, Any]], max_count: int
) -> tuple[str, bool, list[dict[str, Any]]]:
    """(image reference, whether the root disk is a volume, the volume mappings): the boot
    sequence checked as Nova does (indexes 0, 1, 2, ... with one root), the image's own local
    root folded into ``imageRef`` (OSC and the SDK send the image that way). Beside a root
    volume the image reference is kept: Nova reads the boot metadata from it."""
    roots = [b for b in bdms if b["boot_index"] == 0]
    if len(roots) > 1:
        raise boot_sequence_invalid()
    root = roots[0] if roots else None
    boot_volume = root is not None and root["destination_type"] == "volume"
    if root is not None and not boot_volume:  # an image to a local disk
        if image_ref and image_ref.rstrip("/").rsplit("/", 1)[-1] != root["uuid"]:
            raise boot_sequence_invalid()
        image_ref = image_ref or str(root["uuid"])
    if image_ref and not isinstance(image_ref, str):
        raise invalid("imageRef", f"{image_ref!r} is not of type 'string'")
    indexes = sorted(b["boot_index"] for b in bdms if b["boot_index"] is not None)
    if not boot_volume and image_ref and 0 not in indexes:
        indexes = [0, *indexes]  # the image's own root
    if not indexes or indexes != list(range(len(indexes))):
        raise boot_sequence_invalid()
    volumes = [b for b in bdms if b["destination_type"] == "volume"]
    if max_count > 1 and any(b["source_type"] == "volume" for b in volumes):
        raise errors.BadRequest("Cannot attach one or more volumes to multiple instances")
    for b in volumes:
        if b["source_type"] == "blank" and not b["volume_size"]:
            raise errors.BadRequest(
                "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size"
            )
    locals_ = [b for b in bdms if b["destination_type"] == "local" and b["source_type"] == "blank"]
    if locals_:
        # A flavor's swap and ephemeral disks come whole, as the flavor says: mappings that
        # would size or split them are refused rather than dropped.
        kind = "Swap drive" if locals_[0]["guest_format"] == "swap" else "Ephemeral disks"
        raise errors.BadRequest(
            f"{kind} requested are larger than the instance type allows (this cloud gives a "
            "server its flavor's swap and ephemeral disks whole, not by block device mapping)."
        )
    return image_ref, boot_volume, volumes
