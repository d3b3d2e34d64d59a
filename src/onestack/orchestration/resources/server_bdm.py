"""OS::Nova::Server's ``block_device_mapping_v2``: Heat's shortened mappings (a ``volume_id``,
``snapshot_id`` or ``image`` to boot from, a ``swap_size`` or ``ephemeral_size`` local disk)
turned into Nova's mappings as Heat's _build_block_device_mapping_v2 does, then checked by
compute's own rules (boot sequence, sizes). And ``block_device_mapping`` (v1): a volume, or
a volume made from a snapshot, at a device name, as Heat's _build_block_device_mapping hands
it to novaclient, read by compute as Nova reads legacy mappings (the one at ``vda`` is the
root disk)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute import block_device_members as block_devices
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.resources.base import Prop, type_error

V1_SCHEMA = {"device_name": Prop("string", required=True), "volume_id": Prop("string"),
             "snapshot_id": Prop("string"), "volume_size": Prop("integer"),
             "delete_on_termination": Prop("boolean")}  # fmt: skip
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


async def server_boot(
    image_ref: str, props: dict[str, Any], name: str, image_id: Callable[[str], Awaitable[str]]
) -> tuple[str, bool, list[dict[str, Any]]]:
    """``boot_source`` of the server's resolved properties, by v1 or v2 mappings."""
    problem = v1_problem(props, name, lambda _: False)
    if problem:
        raise ResourceFailure(problem)
    if props.get("block_device_mapping"):
        return legacy_boot_source(image_ref, props["block_device_mapping"])
    return await boot_source(image_ref, props.get("block_device_mapping_v2") or [], image_id)


def v1_problem(props: dict[str, Any], name: str, is_call: Callable[[Any], bool]) -> str:
    """What Heat's validation finds wrong with ``block_device_mapping`` (its schema, then
    _validate_block_device_mapping), or "". ``is_call``: a value resolved later (not
    checked; a device name of one might be ``vda``)."""
    items = props.get("block_device_mapping")
    if not items or is_call(items) or not isinstance(items, list):
        return ""
    if props.get("block_device_mapping_v2"):
        return ("Cannot define the following properties at the same time: "
                "block_device_mapping, block_device_mapping_v2.")  # fmt: skip
    bootable = props.get("image") is not None
    for i, item in enumerate(items):
        if is_call(item):
            bootable = True
            continue
        path = f"resources.{name}.properties.block_device_mapping[{i}]"
        problem = _v1_schema(item, path, is_call)
        if problem:
            return f"Property error: {problem}"
        device = item["device_name"]
        bootable = bootable or device == "vda" or is_call(device)
        volume, snapshot = item.get("volume_id"), item.get("snapshot_id")
        if volume is not None and snapshot is not None:
            return ("Cannot define the following properties at the same time: volume_id, "
                    "snapshot_id.")  # fmt: skip
        if volume is None and snapshot is None:
            return f"Either volume_id or snapshot_id must be specified for device mapping {device}"
    if not bootable:
        return f"Neither image nor bootable volume is specified for instance {name}"
    return ""


def _v1_schema(item: Any, path: str, is_call: Callable[[Any], bool]) -> str:
    if not isinstance(item, dict):
        return f'{path}: Value "{item}" is invalid for data type "map".'
    for key in item:
        if key not in V1_SCHEMA:
            return f"{path}: Unknown Property {key}"
    if item.get("device_name") is None:
        return f"{path}: Property device_name not assigned"
    for key, prop in V1_SCHEMA.items():
        value = item.get(key)
        bad = type_error(prop, value) if value is not None and not is_call(value) else ""
        if bad:
            return f"{path}.{key}: {bad}"
    return ""


def legacy_boot_source(image_ref: str, items: list[Any]) -> tuple[str, bool, list[dict[str, Any]]]:
    """(image id, whether the root disk is a volume, compute's volume mappings) of v1
    mappings as novaclient sends them; a root volume beside an image is refused as Nova
    refuses it."""
    legacy = []
    for item in items:
        out: dict[str, Any] = {"device_name": str(item["device_name"])}
        if item.get("snapshot_id"):
            out["snapshot_id"] = str(item["snapshot_id"])
        else:
            out["volume_id"] = str(item["volume_id"])
        if item.get("volume_size"):
            out["volume_size"] = int(item["volume_size"])
        if item.get("delete_on_termination") in (True, "true", "True"):
            out["delete_on_termination"] = True
        legacy.append(out)
    try:
        bdms = block_devices.mappings(APIVersion(2, 67), {"block_device_mapping": legacy})
        root = [b for b in bdms if b["boot_index"] == 0]
        if image_ref and root:
            device = str(root[0]["device_name"]).rsplit("/", 1)[-1]
            raise errors.BadRequest(
                f"The volume cannot be assigned the same device name as the root device {device}"
            )
        return block_devices.boot_source(image_ref, bdms, 1)
    except errors.OneStackError as exc:
        raise ResourceFailure(exc.message) from None
