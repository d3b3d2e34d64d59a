"""OS::Nova::Server's ``block_device_mapping_v2``: Heat's shortened mappings (a ``volume_id``,
``snapshot_id`` or ``image`` to boot from, a ``swap_size`` or ``ephemeral_size`` local disk)
turned into Nova's mappings as Heat's _build_block_device_mapping_v2 does, then checked by
compute's own rules (boot sequence, sizes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute import block_device_members as block_devices
from onestack.orchestration.errors import ResourceFailure

TUNED = ("device_type", "disk_bus", "boot_index", "volume_size", "delete_on_termination")


async def nova_mapping(item: Any, image_id: Callable[[str], Awaitable[str]]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ResourceFailure("block_device_mapping_v2: each mapping must be a map")
    out: dict[str, Any]
    if item.get("volume_id"):
        out = {"uuid": str(item["volume_id"]), "source_type": "volume"}
    elif item.get("snapshot_id"):
        out = {"uuid": str(item["snapshot_id"]), "source_type": "snapshot"}
    elif item.get("image") or item.get("image_id"):
        ref = str(item.get("image") or item.get("image_id"))
        out = {"uuid": await image_id(ref), "source_type": "image"}
    elif item.get("swap_size") or item.get("ephemeral_size"):
        swap = bool(item.get("swap_size"))
        out = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
               "delete_on_termination": True,
               "volume_size": item.get("swap_size") or item.get("ephemeral_size")}  # fmt: skip
        guest_format = "swap" if swap else item.get("ephemeral_format")
        if guest_format:
            out["guest_format"] = guest_format
    else:
        raise ResourceFailure(
            "block_device_mapping_v2: one of volume_id, snapshot_id, image, swap_size or "
            "ephemeral_size is required"
        )
    if out["source_type"] != "blank":
        out.update({"destination_type": "volume", "boot_index": 0, "delete_on_termination": False})
    if item.get("device_name"):
        out["device_name"] = str(item["device_name"])
    out.update({k: item[k] for k in TUNED if item.get(k) is not None})
    return out


async def boot_source(
    image_ref: str, items: list[Any], image_id: Callable[[str], Awaitable[str]]
) -> tuple[str, bool, list[dict[str, Any]]]:
    """(image id, whether the root disk is a volume, compute's volume mappings)."""
    body = {"block_device_mapping_v2": [await nova_mapping(i, image_id) for i in items]}
    try:
        bdms = block_devices.mappings(APIVersion(2, 67), body)
        return block_devices.boot_source(image_ref, bdms, 1)
    except errors.OneStackError as exc:
        raise ResourceFailure(exc.message) from None
