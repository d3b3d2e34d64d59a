"""Block device mappings an image carries (Nova's ``_get_image_defined_bdms``): the snapshot of
a server booted from volumes is an image with no data whose ``block_device_mapping`` property
(``bdm_v2`` True, as ``volume_snapshots`` writes it) names one volume snapshot per disk. A
server booted from such an image gets a new volume made from each snapshot, and boots from
the one at ``boot_index`` 0; the caller's own mappings win over the image's at the same
device (Nova's ``_merge_bdms_lists``)."""

from __future__ import annotations

import json
from typing import Any

from onestack.common import errors

ROOT_NAMES = ("vda", "sda", "xvda", "hda")


def _invalid(details: str) -> errors.BadRequest:
    return errors.BadRequest(f"Block Device Mapping is Invalid: {details}")


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on", "t", "y")


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(f"{value!r} is not an integer in the image's mappings.") from None


def defined_by(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The volume mappings the image's properties define, in the service layer's shape
    (``source_type``, ``destination_type``, ``uuid``, ``boot_index``, ...); none for a plain
    image. The image's own local mappings (swap, ephemeral) are not kept: servers here get
    none."""
    raw = properties.get("block_device_mapping")
    if not raw:
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise _invalid("the image's block_device_mapping is not JSON.") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _invalid("the image's block_device_mapping is not a list of mappings.")
    v2 = _truthy(properties.get("bdm_v2", False))
    out = [_v2(item) if v2 else _legacy(item) for item in items]
    return [m for m in out if m is not None]


def _v2(item: dict[str, Any]) -> dict[str, Any] | None:
    source = item.get("source_type")
    if item.get("destination_type", "volume") != "volume" or source not in (
        "snapshot", "volume", "image", "blank"
    ):  # fmt: skip
        return None
    ref = {"snapshot": item.get("snapshot_id"), "volume": item.get("volume_id"),
           "image": item.get("image_id"), "blank": None}[source]  # fmt: skip
    if source != "blank" and not ref:
        raise _invalid("Missing device UUID.")
    return _mapping(item, source, ref, _int_or_none(item.get("boot_index")))


def _legacy(item: dict[str, Any]) -> dict[str, Any] | None:
    """A pre-v2 mapping (EC2-style: a snapshot or volume at a device name)."""
    if item.get("no_device"):
        return None
    snapshot, volume = item.get("snapshot_id"), item.get("volume_id")
    if not snapshot and not volume:
        return None
    device = str(item.get("device_name") or "")
    boot_index = 0 if device.rsplit("/", 1)[-1] in ROOT_NAMES else None
    source = "volume" if volume else "snapshot"
    return _mapping(item, source, volume or snapshot, boot_index)


def _mapping(item: dict[str, Any], source: str, ref: Any, boot_index: int | None) -> dict[str, Any]:
    return {
        "source_type": source,
        "destination_type": "volume",
        "uuid": None if ref is None else str(ref),
        "boot_index": boot_index if boot_index is not None and boot_index >= 0 else None,
        "volume_size": _int_or_none(item.get("volume_size")),
        "delete_on_termination": _truthy(item.get("delete_on_termination", False)),
        "device_name": item.get("device_name") or None,
        "tag": item.get("tag") or None,
        "volume_type": item.get("volume_type") or None,
        "guest_format": item.get("guest_format") or None,
    }


def merge(
    image_defined: list[dict[str, Any]], requested: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The server's volume mappings: the caller's, then the image's at devices the caller
    did not name. When the image defines the root disk, an image-to-volume root the client
    added for the image itself (``--boot-from-volume``) gives way to it."""
    if not image_defined:
        return requested
    if any(m["boot_index"] == 0 for m in image_defined):
        requested = [
            m for m in requested if not (m["boot_index"] == 0 and m["source_type"] == "image")
        ]
    named = {_short(m["device_name"]) for m in requested if m["device_name"]}
    merged = requested + [m for m in image_defined if _short(m["device_name"]) not in named]
    if len([m for m in merged if m["boot_index"] == 0]) > 1:
        raise _invalid(
            "Boot sequence for the instance and image/block device mapping combination is "
            "not valid."
        )
    return merged


def _short(device: str | None) -> str | None:
    return device.rsplit("/", 1)[-1] if device else None


def boots_from_volume(mappings: list[dict[str, Any]]) -> bool:
    """Whether the root disk (``boot_index`` 0) is one of the volume mappings."""
    return any(m["boot_index"] == 0 for m in mappings)
