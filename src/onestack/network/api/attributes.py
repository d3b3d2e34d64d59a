"""Neutron's attribute maps: which attributes a body may carry on POST and PUT, how each is
converted and validated, its name in the service layer, and which ones policy guards. They are
the declaration of the resources' bodies: ``bodies.member_body`` compiles each map into the
models ``common.api.body`` validates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onestack.network import errors as nerr

Convert = Callable[[str, Any], Any]


def _bad(name: str, reason: str) -> nerr.InvalidInput:
    return nerr.InvalidInput(reason=f"Invalid input for {name}. Reason: {reason}.")


def string(max_len: int = 255) -> Convert:
    def convert(name: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise _bad(name, f"'{value}' is not a valid string")
        if len(value) > max_len:
            raise _bad(name, f"'{value}' exceeds maximum length of {max_len}")
        return value

    return convert


def nullable_string(max_len: int = 255) -> Convert:
    inner = string(max_len)

    def convert(name: str, value: Any) -> Any:
        return None if value is None else inner(name, value)

    return convert


def boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _bad(name, f"'{value}' cannot be converted to boolean")


def integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _bad(name, f"'{value}' is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(name, f"'{value}' is not an integer") from None


def nullable_integer(name: str, value: Any) -> int | None:
    return None if value is None else integer(name, value)


def port_or_none(name: str, value: Any) -> Any:
    # Kept raw: the security group rule validator gives Neutron's own errors for ports.
    return value


def anything(name: str, value: Any) -> Any:
    return value


def string_list(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(name, f"'{value}' is not a list of strings")
    return value


def nullable_list(name: str, value: Any) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _bad(name, f"'{value}' is not a list")
    return value


def dict_list(name: str, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _bad(name, f"'{value}' is not a list of dictionaries")
    return value


def dictionary(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(name, f"'{value}' is not a dictionary")
    return value


def nullable_dict(name: str, value: Any) -> dict[str, Any] | None:
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise _bad(name, f"'{value}' is not a dictionary")
    return value


def ip_version(name: str, value: Any) -> int:
    number = integer(name, value)
    if number not in (4, 6):
        raise _bad(name, f"{value} is not in [4, 6]")
    return number


def choice(*values: Any) -> Convert:
    def convert(name: str, value: Any) -> Any:
        if value not in values:
            raise _bad(name, f"'{value}' is not in {list(values)}")
        return value

    return convert


NO_DEFAULT = object()


@dataclass(frozen=True)
class Attr:
    name: str
    convert: Convert = anything
    post: bool = True
    put: bool = False
    internal: str | None = None
    write_policy: bool = False  # "<action>:<name>" is checked when the body sets it
    read_policy: bool = False  # shown only when "get_<member>:<name>" passes
    required: bool = False
    # Neutron's default: a create that sets the attribute to it is not checked by its rule.
    default: Any = NO_DEFAULT

    @property
    def key(self) -> str:
        return self.internal or self.name


OWNER = (
    Attr("project_id", string(64)),
    Attr("tenant_id", string(64), internal="project_id"),
)
NAMED = (Attr("name", string(), put=True), Attr("description", string(), put=True), *OWNER)
TAGS = (Attr("tags", string_list),)

MAPS: dict[str, tuple[Attr, ...]] = {
    "network": (
        *NAMED,
        *TAGS,
        Attr("admin_state_up", boolean, put=True),
        Attr("shared", boolean, put=True, write_policy=True, default=False),
        Attr(
            "router:external",
            boolean,
            put=True,
            internal="external",
            write_policy=True,
            default=False,
        ),
        Attr(
            "provider:network_type",
            string(16),
            internal="network_type",
            write_policy=True,
            read_policy=True,
        ),
        Attr(
            "provider:physical_network",
            nullable_string(64),
            internal="physical_network",
            write_policy=True,
            read_policy=True,
        ),
        Attr(
            "provider:segmentation_id",
            nullable_integer,
            internal="segmentation_id",
            write_policy=True,
            read_policy=True,
        ),
        Attr("mtu", integer, put=True),
        Attr("port_security_enabled", boolean, put=True),
        Attr("availability_zone_hints", string_list),
        Attr("is_default", boolean, put=True, write_policy=True, default=False),
        Attr("qos_policy_id", nullable_string(36), put=True),
    ),
    "subnet": (
        *NAMED,
        *TAGS,
        Attr("network_id", string(36), required=True),
        Attr("ip_version", ip_version),
        Attr("cidr", string(64)),
        Attr("prefixlen", integer),
        Attr("gateway_ip", nullable_string(64), put=True),
        Attr("allocation_pools", dict_list, put=True),
        Attr("dns_nameservers", string_list, put=True),
        Attr("host_routes", dict_list, put=True),
        Attr("enable_dhcp", boolean, put=True),
        Attr("ipv6_ra_mode", nullable_string(32)),
        Attr("ipv6_address_mode", nullable_string(32)),
        Attr("subnetpool_id", nullable_string(36)),
        Attr("use_default_subnetpool", boolean),
        Attr("service_types", string_list),
        Attr("segment_id", nullable_string(36)),
    ),
    "port": (
        *NAMED,
        *TAGS,
        Attr("network_id", string(36), required=True),
        Attr("admin_state_up", boolean, put=True),
        Attr("mac_address", string(32), put=True, write_policy=True),
        Attr("fixed_ips", dict_list, put=True, write_policy=True),
        Attr("device_id", string(), put=True),
        Attr("device_owner", string(), put=True, write_policy=True),
        Attr("security_groups", string_list, put=True),
        Attr("allowed_address_pairs", dict_list, put=True, write_policy=True),
        Attr("extra_dhcp_opts", dict_list, put=True),
        Attr("port_security_enabled", boolean, put=True, write_policy=True),
        Attr(
            "binding:host_id",
            string(),
            put=True,
            internal="binding_host_id",
            write_policy=True,
            read_policy=True,
        ),
        Attr(
            "binding:vnic_type",
            choice(
                "normal",
                "direct",
                "macvtap",
                "baremetal",
                "direct-physical",
                "virtio-forwarder",
                "smart-nic",
                "remote-managed",
                "vdpa",
            ),
            put=True,
            internal="binding_vnic_type",
        ),
        Attr(
            "binding:profile",
            dictionary,
            put=True,
            internal="binding_profile",
            write_policy=True,
            read_policy=True,
        ),
        Attr("qos_policy_id", nullable_string(36), put=True),
        Attr("binding:vif_type", post=False, read_policy=True),
        Attr("binding:vif_details", post=False, read_policy=True),
    ),
    "security_group": (*NAMED, *TAGS, Attr("stateful", boolean, put=True)),
    "security_group_rule": (
        Attr("description", string()),
        *OWNER,
        Attr("security_group_id", string(36), required=True),
        Attr("direction", string(16), required=True),
        Attr("ethertype", string(8)),
        Attr("protocol", anything),
        Attr("port_range_min", port_or_none),
        Attr("port_range_max", port_or_none),
        Attr("remote_ip_prefix", nullable_string(64)),
        Attr("remote_group_id", nullable_string(36)),
        Attr("remote_address_group_id", nullable_string(36)),
    ),
    "router": (
        *NAMED,
        *TAGS,
        Attr("admin_state_up", boolean, put=True),
        Attr("external_gateway_info", nullable_dict, put=True),
        Attr("routes", dict_list, put=True),
        Attr("availability_zone_hints", string_list),
        Attr("distributed", boolean, put=True, write_policy=True),
        Attr("ha", boolean, put=True, write_policy=True, read_policy=True),
    ),
    "floatingip": (
        Attr("description", string(), put=True),
        *OWNER,
        *TAGS,
        Attr("floating_network_id", string(36), required=True),
        Attr("floating_ip_address", nullable_string(64), write_policy=True),
        Attr("subnet_id", nullable_string(36)),
        Attr("port_id", nullable_string(36), put=True),
        Attr("fixed_ip_address", nullable_string(64), put=True),
    ),
    "port_forwarding": (
        Attr("description", string(), put=True),
        Attr("internal_port_id", string(36), put=True, required=True),
        Attr("internal_ip_address", string(64), put=True, required=True),
        Attr("internal_port", integer, put=True, required=True),
        Attr("external_port", integer, put=True, required=True),
        Attr("protocol", string(8), put=True, required=True),
    ),
    "rbac_policy": (
        *OWNER,
        Attr("object_type", string(32), required=True),
        Attr("object_id", string(36), required=True),
        Attr("action", string(32), required=True),
        Attr("target_tenant", string(64), put=True, required=True),
    ),
    "address_scope": (
        *NAMED,
        *TAGS,
        Attr("ip_version", ip_version, required=True),
        Attr("shared", boolean, put=True, write_policy=True, default=False),
    ),
    "subnetpool": (
        *NAMED,
        *TAGS,
        Attr("prefixes", string_list, put=True, required=True),
        Attr("default_prefixlen", integer, put=True),
        Attr("min_prefixlen", integer, put=True),
        Attr("max_prefixlen", integer, put=True),
        Attr("default_quota", nullable_integer, put=True),
        Attr("address_scope_id", nullable_string(36), put=True),
        Attr("shared", boolean, write_policy=True, default=False),
        Attr("is_default", boolean, put=True, write_policy=True, default=False),
        Attr("ip_version", ip_version),
    ),
    "metering_label": (
        *NAMED,
        Attr("shared", boolean, default=False),
    ),
    "metering_label_rule": (
        Attr("metering_label_id", string(36), required=True),
        Attr("direction", string(16), required=True),
        Attr("excluded", boolean, default=False),
        Attr("remote_ip_prefix", nullable_string(64)),
        Attr("source_ip_prefix", nullable_string(64)),
        Attr("destination_ip_prefix", nullable_string(64)),
    ),
    "flavor": (
        Attr("name", string(), put=True),
        Attr("description", string(1024), put=True),
        Attr("service_type", string(36), required=True),
        Attr("service_profiles", string_list, put=True),
        Attr("enabled", boolean, put=True),
        *OWNER,
    ),
    "service_profile": (
        Attr("description", string(1024), put=True),
        Attr("driver", string(1024), put=True),
        Attr("metainfo", string(4096), put=True),
        Attr("enabled", boolean, put=True),
        *OWNER,
    ),
    "trunk": (
        *NAMED,
        Attr("admin_state_up", boolean, put=True),
        Attr("port_id", string(36), required=True),
        Attr("sub_ports", anything),  # validated by the trunk service, as Neutron's rules
    ),
    "policy": (
        *NAMED,
        *TAGS,
        Attr("shared", boolean, put=True, default=False),
        Attr("is_default", boolean, put=True, default=False),
    ),
    "agent": (
        Attr("admin_state_up", boolean, post=False, put=True),
        Attr("description", nullable_string(), post=False, put=True),
    ),
}

# Attributes that exist only in responses (their PUT or POST is refused as read-only).
READ_ONLY = {
    "id",
    "status",
    "created_at",
    "updated_at",
    "revision_number",
    "subnets",
    "availability_zones",
    "ipv4_address_scope",
    "ipv6_address_scope",
    "router_id",
    "normalized_cidr",
    "trunk_details",
    "rules",
}


def guarded_reads(member: str) -> list[str]:
    return [a.name for a in MAPS.get(member, ()) if a.read_policy]


def guarded_writes(
    member: str, present: list[str], creating: dict[str, Any] | None = None
) -> list[str]:
    """The attributes of a body whose own rule applies; on a create (``creating``: the
    converted values) not those set to Neutron's default, as Neutron checks them."""
    attrs = {a.name: a for a in MAPS[member]}
    return [
        n
        for n in present
        if attrs[n].write_policy
        and not (creating is not None and creating.get(attrs[n].key) == attrs[n].default)
    ]
