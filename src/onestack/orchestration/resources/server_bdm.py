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
V2_SCHEMA = {
    key: Prop(kind)
    for key, kind in (
        ("device_name", "string"),
        ("volume_id", "string"),
        ("image_id", "string"),
        ("image", "string"),
        ("snapshot_id", "string"),
        ("swap_size", "integer"),
        ("device_type", "string"),
        ("disk_bus", "string"),
        ("boot_index", "integer"),
        ("volume_size", "integer"),
        ("delete_on_termination", "boolean"),
        ("ephemeral_size", "integer"),
        ("ephemeral_format", "string"),
        ("volume_type", "string"),
    )
}
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
    problem = mappings_problem(props, name, lambda _: False)
    if problem:
        raise ResourceFailure(problem)
    if props.get("block_device_mapping"):
        return legacy_boot_source(image_ref, props["block_device_mapping"])
    return await boot_source(image_ref, props.get("block_device_mapping_v2") or [], image_id)


def mappings_problem(props: dict[str, Any], name: str, is_call: Callable[[Any], bool]) -> str:
    """What Heat's validation finds wrong with ``block_device_mapping`` and
    ``block_device_mapping_v2`` (their schemas, then _validate_block_device_mapping), or "".
    ``is_call``: a value resolved later (not checked; a device name of one might be ``vda``,
    a boot index of one might be 0)."""
    v1, v2 = props.get("block_device_mapping"), props.get("block_device_mapping_v2")
    if is_call(v1) or is_call(v2):
        return ""
    v1, v2 = (v if isinstance(v, list) else [] for v in (v1, v2))  # else: the type check's
    if not v1 and not v2:
        return ""
    if v1 and v2:
        return ("Cannot define the following properties at the same time: "
                "block_device_mapping, block_device_mapping_v2.")  # fmt: skip
    for prop, items, schema in (("block_device_mapping", v1, V1_SCHEMA),
                                ("block_device_mapping_v2", v2, V2_SCHEMA)):  # fmt: skip
        for i, item in enumerate(items):
            path = f"resources.{name}.properties.{prop}[{i}]"
            problem = "" if is_call(item) else _item_schema(item, path, schema, is_call)
            if problem:
                return f"Property error: {problem}"
    bootable = props.get("image") is not None
    for item in v1:
        if is_call(item):
            bootable = True
            continue
        device = item["device_name"]
        bootable = bootable or device == "vda" or is_call(device)
        volume, snapshot = item.get("volume_id"), item.get("snapshot_id")
        if volume is not None and snapshot is not None:
            return ("Cannot define the following properties at the same time: volume_id, "
                    "snapshot_id.")  # fmt: skip
        if volume is None and snapshot is None:
            return f"Either volume_id or snapshot_id must be specified for device mapping {device}"
    problem, bootable = _v2_problem(v2, name, bootable, props.get("image"), is_call)
    if problem:
        return problem
    if not bootable:
        return f"Neither image nor bootable volume is specified for instance {name}"
    return ""


def _v2_problem(
    items: list[Any], name: str, bootable: bool, image: Any, is_call: Callable[[Any], bool]
) -> tuple[str, bool]:
    """Heat's checks of each v2 mapping: one source exactly; those at boot index 0 (or
    none) are bootable, and with the server's image there must be one such (a mapping or a
    boot index resolved later is bootable but not counted: it might be no boot source)."""
    devices, unknown = [image], False
    for item in items:
        if is_call(item):
            bootable = unknown = True
            continue
        disk = item.get("image") if item.get("image") is not None else item.get("image_id")
        sources = (item.get("volume_id"), item.get("snapshot_id"), disk, item.get("swap_size"),
                   item.get("ephemeral_size") or item.get("ephemeral_format"))  # fmt: skip
        if sources.count(None) < 4:
            return (
                "Cannot define the following properties at the same time: volume_id, "
                "snapshot_id, image, swap_size, ephemeral_size, ephemeral_format."
            ), bootable
        if sources.count(None) == 5:
            return (
                "Either volume_id, snapshot_id, image_id, swap_size, ephemeral_size or "
                "ephemeral_format must be specified."
            ), bootable
        if any(s is not None for s in sources[:3]):
            index = item.get("boot_index")
            if is_call(index):
                bootable = unknown = True
            elif index is None or str(index).strip() in ("0", "-0", "+0"):
                bootable = True
                devices.extend(sources[:3])
    if items and not unknown and bootable and len([d for d in devices if d is not None]) != 1:
        return f"Multiple bootable sources for instance {name}.", bootable
    return "", bootable


def _item_schema(
    item: Any, path: str, schema: dict[str, Prop], is_call: Callable[[Any], bool]
) -> str:
    if not isinstance(item, dict):
        return f'{path}: Value "{item}" is invalid for data type "map".'
    for key in item:
        if key not in schema:
            return f"{path}: Unknown Property {key}"
    for key, prop in schema.items():
        if prop.required and item.get(key) is None:
            return f"{path}: Property {key} not assigned"
    for key, prop in schema.items():
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
