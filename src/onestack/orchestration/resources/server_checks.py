"""OS::Nova::Server's checks before anything is made, in the order of Heat's Server.validate:
its properties' AllowedValues, no ``deployments`` in the metadata of a SOFTWARE_CONFIG
server, the block device mappings (server_bdm), then each ``networks`` entry
(server_network_mixin._validate_network), ``allocate_network`` alone, and no
``security_groups`` beside a port of the server's own. Values that a function gives are
checked when known, not here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.orchestration.errors import not_allowed
from onestack.orchestration.resources import server_bdm

ALLOWED = {
    "user_data_format": ("HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG"),
    "software_config_transport": (
        "POLL_SERVER_CFN", "POLL_SERVER_HEAT", "POLL_TEMP_URL", "ZAQAR_MESSAGE"),
    "user_data_update_policy": ("REPLACE", "IGNORE", "REBUILD"),
    "flavor_update_policy": ("RESIZE", "REPLACE"),
    "image_update_policy": ("REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL"),
    "diskConfig": ("AUTO", "MANUAL"),
}  # fmt: skip
ITEM_ALLOWED: dict[str, dict[str, tuple[str, ...]]] = {
    "block_device_mapping_v2": {
        "ephemeral_format": ("ext2", "ext3", "ext4", "xfs", "ntfs"),
        "device_type": ("cdrom", "disk"),
        "disk_bus": ("ide", "lame_bus", "sata", "scsi", "usb", "virtio"),
    },
    "networks": {"allocate_network": ("none", "auto")},
}


def problem(props: dict[str, Any], name: str, metadata: Any, is_call: Callable[[Any], bool]) -> str:
    """What Heat's validation of the server finds wrong, or ""."""
    found = _allowed(props, f"resources.{name}.properties", is_call)
    if found:
        return f"Property error: {found}"
    if props.get("user_data_format") == "SOFTWARE_CONFIG" and (
        isinstance(metadata, dict) and "deployments" in metadata
    ):
        return ("deployments key not allowed in resource metadata with user_data_format of "
                "SOFTWARE_CONFIG")  # fmt: skip
    found = server_bdm.mappings_problem(props, name, is_call)
    if found:
        return found
    networks = props.get("networks")
    if is_call(networks) or not isinstance(networks, list):
        return ""
    entries = [n for n in networks if isinstance(n, dict) and not is_call(n)]
    for entry in entries:
        found = _network_problem(entry, name)
        if found:
            return found
    if any(n.get("allocate_network") is not None for n in entries) and len(networks) != 1:
        return ('Property "allocate_network" can not be specified if multiple network '
                "interfaces set for server.")  # fmt: skip
    if any(n.get("port") is not None for n in entries) and props.get("security_groups"):
        return ("Cannot define the following properties at the same time: security_groups, "
                "networks/port.")  # fmt: skip
    return ""


def _allowed(props: dict[str, Any], path: str, is_call: Callable[[Any], bool]) -> str:
    for key, allowed in ALLOWED.items():
        value = props.get(key)
        if value is not None and not is_call(value) and value not in allowed:
            return f"{path}.{key}: {not_allowed(value, allowed)}"
    for prop, keys in ITEM_ALLOWED.items():
        items = props.get(prop)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            for key, allowed in keys.items():
                value = item.get(key) if isinstance(item, dict) else None
                if value is not None and not is_call(value) and value not in allowed:
                    return f"{path}.{prop}[{i}].{key}: {not_allowed(value, allowed)}"
    return ""


def _network_problem(entry: dict[str, Any], name: str) -> str:
    network = entry.get("network") if entry.get("network") is not None else entry.get("uuid")
    port, subnet, allocate = entry.get("port"), entry.get("subnet"), entry.get("allocate_network")
    if network is None and port is None and subnet is None and not allocate:
        return ('One of the properties "network", "port", "allocate_network" or "subnet" should '
                f'be set for the specified network of server "{name}".')  # fmt: skip
    if allocate and len([k for k, v in entry.items() if v is not None]) != 1:
        return 'Can not specify "allocate_network" with other keys of networks at the same time.'
    if entry.get("fixed_ip") and port is not None:
        return ("Cannot define the following properties at the same time: networks/fixed_ip, "
                "networks/port.")  # fmt: skip
    if (
        entry.get("floating_ip") is not None
        and network is not None
        and port is None
        and (subnet is None and not entry.get("port_extra_properties"))
    ):
        return ('Property "floating_ip" is not supported if only "network" is specified, '
                "because the corresponding port can not be retrieved.")  # fmt: skip
    return ""
