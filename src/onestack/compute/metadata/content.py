"""Nova's metadata documents, built from an :class:`InstanceMetadata`: pure functions.

The shapes follow ``nova/api/metadata/base.py`` and ``nova/virt/netutils.py``: the OpenStack
tree (``meta_data.json``, ``network_data.json``, ``vendor_data.json``, ``vendor_data2.json``,
``user_data``, ``password``) under dated versions, the EC2 tree (``meta-data/...``,
``user-data``), the text listings of both, and the config drive's file set.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onestack.compute.metadata.source import InstanceMetadata, PortInfo, SubnetInfo

FOLSOM = "2012-08-10"
GRIZZLY = "2013-04-04"
HAVANA = "2013-10-17"
LIBERTY = "2015-10-15"
NEWTON_ONE = "2016-06-30"
NEWTON_TWO = "2016-10-06"
OCATA = "2017-02-22"
ROCKY = "2018-08-27"
VICTORIA = "2020-10-14"
OPENSTACK_VERSIONS = (
    FOLSOM,
    GRIZZLY,
    HAVANA,
    LIBERTY,
    NEWTON_ONE,
    NEWTON_TWO,
    OCATA,
    ROCKY,
    VICTORIA,
)
EC2_VERSIONS = (
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
)
LATEST = "latest"
# Nova's [api] config_drive_skip_versions default: the drive holds 2009-04-04 and latest.
CONFIG_DRIVE_SKIP_EC2 = frozenset(EC2_VERSIONS[:-1])

MD_JSON_NAME = "meta_data.json"
VD_JSON_NAME = "vendor_data.json"
VD2_JSON_NAME = "vendor_data2.json"
NW_JSON_NAME = "network_data.json"
UD_NAME = "user_data"
PASS_NAME = "password"
CONTENT_DIR = "content"
TEXT = "text/plain"
# VIF types network_data.json names as they are; any other link is "phy".
LEGACY_VIF_TYPES = frozenset(
    {"bridge", "dvs", "hw_veb", "hyperv", "ovs", "tap", "vhostuser", "vif"}
)
JSON = "application/json"


class NotFound(Exception):
    """No document at this path (the API answers 404)."""


@dataclass(frozen=True)
class Item:
    """What a metadata path holds: the body and its content type. ``password`` marks the
    password document, the one path a guest may also POST to."""

    body: bytes
    content_type: str = TEXT
    password: bool = False


def to_json(document: Any) -> bytes:
    return json.dumps(document).encode()


def openstack_version(version: str) -> str:
    """The dated version ``version`` names (``latest`` is the newest); NotFound if none."""
    if version == LATEST:
        return OPENSTACK_VERSIONS[-1]
    if version not in OPENSTACK_VERSIONS:
        raise NotFound(version)
    return version


def ec2_version(version: str) -> str:
    if version == LATEST:
        return EC2_VERSIONS[-1]
    if version not in EC2_VERSIONS:
        raise NotFound(version)
    return version


def _at_least(required: str, version: str, versions: tuple[str, ...]) -> bool:
    return versions.index(version) >= versions.index(required)


def _os_at_least(required: str, version: str) -> bool:
    return _at_least(required, openstack_version(version), OPENSTACK_VERSIONS)


def _ec2_at_least(required: str, version: str) -> bool:
    return _at_least(required, ec2_version(version), EC2_VERSIONS)


def hostname(md: InstanceMetadata) -> str:
    return f"{md.hostname}.{md.dhcp_domain}" if md.dhcp_domain else md.hostname


def content_key(index: int) -> str:
    return f"{index:04d}"


# -- OpenStack documents ------------------------------------------------------------------


def meta_data_json(
    md: InstanceMetadata, version: str = LATEST, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``meta_data.json`` of ``version``. ``extra`` is merged in as Nova's ``extra_md`` is (the
    config drive carries ``admin_pass`` that way; the metadata service never does)."""
    doc: dict[str, Any] = {"uuid": md.uuid}
    if md.metadata:
        doc["meta"] = dict(md.metadata)
    if md.files:
        doc["files"] = [
            {"path": f.path, "content_path": f"/{CONTENT_DIR}/{content_key(i)}"}
            for i, f in enumerate(md.files)
        ]
    if extra:
        doc.update(extra)
    if md.key is not None:
        doc["public_keys"] = {md.key.name: md.key.public_key}
        doc["keys"] = [{"name": md.key.name, "type": md.key.type, "data": md.key.public_key}]
    doc["hostname"] = hostname(md)
    doc["name"] = md.name
    doc["launch_index"] = md.launch_index
    doc["availability_zone"] = md.availability_zone
    if _os_at_least(GRIZZLY, version):
        doc["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    if _os_at_least(LIBERTY, version):
        doc["project_id"] = md.project_id
    if _os_at_least(NEWTON_ONE, version):
        doc["devices"] = _devices(md, version)
    if _os_at_least(VICTORIA, version):
        doc["dedicated_cpus"] = list(md.dedicated_cpus)
    return doc


def _devices(md: InstanceMetadata, version: str) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = []
    for device in md.devices:
        entry: dict[str, Any] = {}
        if device.type == "nic":
            if _os_at_least(OCATA, version) and device.vlan is not None:
                entry["vlan"] = device.vlan
            if _os_at_least(ROCKY, version):
                entry["vf_trusted"] = device.vf_trusted
            entry["type"] = "nic"
            entry["mac"] = device.mac
            # An untagged NIC has nothing to say unless its VLAN or trust does.
            if not (device.tags or "vlan" in entry or "vf_trusted" in entry):
                continue
        elif device.type == "disk":
            entry["type"] = "disk"
            if device.serial is not None:
                entry["serial"] = device.serial
            if device.path is not None:
                entry["path"] = device.path
        else:
            continue
        entry["bus"] = device.bus
        entry["address"] = device.address
        if device.tags:
            entry["tags"] = list(device.tags)
        devices.append(entry)
    return devices


def vendor_data_json(md: InstanceMetadata) -> dict[str, Any]:
    """``vendor_data.json``: Nova's StaticJSON provider (``{}`` unless configured)."""
    return dict(md.vendor_data)


def vendor_data2_json(md: InstanceMetadata) -> dict[str, Any]:
    """``vendor_data2.json``: each provider's data under its name; only StaticJSON here."""
    return {"static": dict(md.vendor_data)}


def network_data_json(md: InstanceMetadata) -> dict[str, Any]:
    """``network_data.json``: links (one per VIF with addresses), networks (the first IPv4 and
    the first IPv6 subnet of each), services (DNS servers, once each)."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, str]] = []
    for port in md.ports:
        subnets = _subnets(port)
        if not subnets:
            continue
        link = _link(port, subnets)
        links.append(link)
        for version in (4, 6):
            first = next((s for s in subnets if s[0].ip_version == version), None)
            if first is None:
                continue
            subnet, ips = first
            networks.append(_network(port, subnet, ips[0], f"network{len(networks)}", link["id"]))
            services += [dns for dns in _dns(subnet) if dns not in services]
    return {"links": links, "networks": networks, "services": services}


def _subnets(port: PortInfo) -> list[tuple[SubnetInfo, list[str]]]:
    """The port's subnets in the order of its fixed IPs, each with its addresses on it."""
    found: dict[str, tuple[SubnetInfo, list[str]]] = {}
    for ip in port.fixed_ips:
        found.setdefault(ip.subnet.id, (ip.subnet, []))[1].append(ip.ip_address)
    return list(found.values())


def _link(port: PortInfo, subnets: list[tuple[SubnetInfo, list[str]]]) -> dict[str, Any]:
    # Nova names the link after the tap Neutron binds, types it with the VIF type it knows
    # from its legacy list (bridge, ovs, ...) else "phy", and leaves the MTU to DHCP when a
    # subnet has a DHCP server.
    mtu = None if any(s.enable_dhcp for s, _ in subnets) else port.mtu
    return {
        "id": port.devname or f"tap{port.port_id[:11]}",
        "vif_id": port.port_id,
        "type": port.vif_type if port.vif_type in LEGACY_VIF_TYPES else "phy",
        "mtu": mtu,
        "ethernet_mac_address": port.mac_address,
    }


def _network(
    port: PortInfo, subnet: SubnetInfo, address: str, net_id: str, link_id: str
) -> dict[str, Any]:
    version = subnet.ip_version
    suffix = ""
    if subnet.ipv6_address_mode is not None:
        suffix = f"_{subnet.ipv6_address_mode}"
    elif subnet.enable_dhcp:
        return {
            "id": net_id,
            "type": f"ipv{version}_dhcp",
            "link": link_id,
            "network_id": port.network_id,
        }
    cidr = ipaddress.ip_network(subnet.cidr, strict=False)
    routes: list[dict[str, str]] = []
    if subnet.gateway_ip:
        anywhere = "0.0.0.0" if version == 4 else "::"
        routes.append({"network": anywhere, "netmask": anywhere, "gateway": subnet.gateway_ip})
    for route in subnet.host_routes:
        destination = ipaddress.ip_network(route.destination, strict=False)
        routes.append(
            {
                "network": str(destination.network_address),
                "netmask": str(destination.netmask),
                "gateway": route.nexthop,
            }
        )
    return {
        "id": net_id,
        "type": f"ipv{version}{suffix}",
        "link": link_id,
        "ip_address": address,
        "netmask": str(cidr.netmask),
        "routes": routes,
        "network_id": port.network_id,
        "services": _dns(subnet),
    }


def _dns(subnet: SubnetInfo) -> list[dict[str, str]]:
    return [{"type": "dns", "address": address} for address in subnet.dns_nameservers]


def version_listing(md: InstanceMetadata, version: str) -> list[str]:
    """What ``/openstack/<version>/`` lists."""
    names = [MD_JSON_NAME]
    if md.user_data is not None:
        names.append(UD_NAME)
    if _os_at_least(GRIZZLY, version):
        names.append(PASS_NAME)
    if _os_at_least(HAVANA, version):
        names.append(VD_JSON_NAME)
    if _os_at_least(LIBERTY, version):
        names.append(NW_JSON_NAME)
    if _os_at_least(NEWTON_TWO, version):
        names.append(VD2_JSON_NAME)
    return names


# -- EC2 ----------------------------------------------------------------------------------


def ec2_instance_id(md: InstanceMetadata) -> str:
    return f"i-{md.ec2_id:08x}"


def ec2_image_id(md: InstanceMetadata) -> str:
    number = md.ec2_image_id
    if number is None:
        try:
            number = int(md.image_id.replace("-", "")[:8], 16)
        except ValueError:
            number = 0
    return f"ami-{number:08x}"


def block_device_mapping(md: InstanceMetadata) -> dict[str, str]:
    if md.root_device_name is None:
        return {}
    mappings = {"ami": md.root_device_name.removeprefix("/dev/"), "root": md.root_device_name}
    for number, device in enumerate(sorted(md.volume_devices)):
        mappings[f"ebs{number}"] = device
    if md.swap_device:
        mappings["swap"] = md.swap_device
    for number, device in enumerate(md.ephemeral_devices):
        mappings[f"ephemeral{number}"] = device
    return mappings


def ec2_tree(
    md: InstanceMetadata, version: str = LATEST, address: str | None = None
) -> dict[str, Any]:
    """The EC2 tree of ``version``: ``{"meta-data": {...}, "user-data": bytes}`` (user-data only
    when there is some). ``address`` is the requester's, used when there is no fixed IPv4.

    ``public-keys`` renders as EC2 does: ``public-keys/`` lists ``0=<name>`` (the ``_name`` of
    the entry), ``public-keys/0/`` lists ``openssh-key``."""
    version = ec2_version(version)
    name = hostname(md)
    fixed = md.fixed_ips(4)
    meta: dict[str, Any] = {
        "ami-id": ec2_image_id(md),
        "ami-launch-index": md.launch_index,
        "ami-manifest-path": "FIXME",
        "instance-id": ec2_instance_id(md),
        "hostname": name,
        "local-ipv4": fixed[0] if fixed else address,
        "reservation-id": md.reservation_id,
        "security-groups": list(md.security_groups),
    }
    if md.key is not None:
        meta["public-keys"] = {"0": {"_name": f"0={md.key.name}", "openssh-key": md.key.public_key}}
    if _ec2_at_least("2007-01-19", version):
        meta["local-hostname"] = name
        meta["public-hostname"] = name
        meta["public-ipv4"] = md.floating_ips[0] if md.floating_ips else ""
    if _ec2_at_least("2007-08-29", version):
        meta["instance-type"] = md.flavor_name
    if _ec2_at_least("2007-12-15", version):
        meta["block-device-mapping"] = block_device_mapping(md)
    if _ec2_at_least("2008-02-01", version):
        meta["placement"] = {"availability-zone": md.availability_zone}
    if _ec2_at_least("2008-09-01", version):
        meta["instance-action"] = "none"
    tree: dict[str, Any] = {"meta-data": meta}
    if md.user_data is not None:
        tree["user-data"] = md.user_data
    return tree


def render(data: Any) -> bytes:
    """A node of a tree as the metadata service prints it: a directory lists its entries one a
    line (sub-directories with a trailing ``/``, or their ``_name``), a list its items, a
    leaf its value."""
    if isinstance(data, dict):
        lines = []
        for key in sorted(data):
            if key == "_name":
                continue
            value = data[key]
            if isinstance(value, dict):
                lines.append(str(value["_name"]) if "_name" in value else f"{key}/")
            else:
                lines.append(key)
        return "\n".join(lines).encode()
    if isinstance(data, list | tuple):
        return "\n".join(str(item) for item in data).encode()
    if isinstance(data, bytes):
        return data
    return str(data).encode()


def _find(tree: Any, tokens: list[str]) -> Any:
    for token in tokens:
        if not isinstance(tree, dict) or token not in tree or token.startswith("_"):
            raise NotFound("/".join(tokens))
        tree = tree[token]
    return tree


# -- paths --------------------------------------------------------------------------------


def resolve(md: InstanceMetadata, path: str, address: str | None = None) -> Item:
    """What the metadata service answers for ``path`` (relative to its root), as Nova resolves
    it: ``/`` and anything not under ``/openstack`` is the EC2 tree (``/latest/meta-data/``),
    ``..`` and repeated or trailing slashes are normalised away. NotFound if nothing is there."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    tokens = [t for t in path.split("/") if t]
    if not tokens or tokens[0] != "openstack":
        if tokens and tokens[0] == "ec2":
            tokens = tokens[1:]
        if not tokens:
            return Item(render([*EC2_VERSIONS, LATEST]))
        return Item(render(_find(ec2_tree(md, tokens[0], address), tokens[1:])))
    tokens = tokens[1:]
    if not tokens:
        return Item(render([*OPENSTACK_VERSIONS, LATEST]))
    if tokens[0] == CONTENT_DIR:
        if len(tokens) != 2:
            raise NotFound(path)
        try:
            index = int(tokens[1])
        except ValueError:
            raise NotFound(path) from None
        if tokens[1] != content_key(index) or not 0 <= index < len(md.files):
            raise NotFound(path)
        return Item(md.files[index].contents)
    version = tokens[0]
    openstack_version(version)
    if len(tokens) == 1:
        return Item(render(version_listing(md, version)))
    name = "/".join(tokens[1:])
    if name == MD_JSON_NAME:
        return Item(to_json(meta_data_json(md, version)), JSON)
    if name == UD_NAME:
        if md.user_data is None:
            raise NotFound(path)
        return Item(md.user_data)
    if name == NW_JSON_NAME:
        return Item(to_json(network_data_json(md)), JSON)
    if name == PASS_NAME and _os_at_least(GRIZZLY, version):
        return Item(md.password.encode(), password=True)
    if name == VD_JSON_NAME and _os_at_least(HAVANA, version):
        return Item(to_json(vendor_data_json(md)), JSON)
    if name == VD2_JSON_NAME and _os_at_least(NEWTON_TWO, version):
        return Item(to_json(vendor_data2_json(md)), JSON)
    raise NotFound(path)


# -- config drive -------------------------------------------------------------------------


def config_drive_files(md: InstanceMetadata, admin_pass: str | None = None) -> dict[str, bytes]:
    """The files of a config drive (paths relative to its root), as Nova writes them:
    ``ec2/{2009-04-04,latest}/meta-data.json`` and ``user-data``, then for each OpenStack
    version and ``latest`` the documents it lists (never the password), and the personality
    files under ``openstack/content/``. ``admin_pass`` goes into ``meta_data.json``."""
    files: dict[str, bytes] = {}
    for version in (*EC2_VERSIONS, LATEST):
        if version in CONFIG_DRIVE_SKIP_EC2:
            continue
        tree = ec2_tree(md, version)
        if "user-data" in tree:
            files[f"ec2/{version}/user-data"] = tree["user-data"]
        # Nova means to drop public-keys' "_name" here but looks for it in the wrong dict, so
        # real drives keep it: so do we.
        files[f"ec2/{version}/meta-data.json"] = to_json(tree["meta-data"])
    extra = {"admin_pass": admin_pass} if admin_pass else None
    for version in (*OPENSTACK_VERSIONS, LATEST):
        base = f"openstack/{version}"
        files[f"{base}/{MD_JSON_NAME}"] = to_json(meta_data_json(md, version, extra))
        if md.user_data is not None:
            files[f"{base}/{UD_NAME}"] = md.user_data
        if _os_at_least(HAVANA, version):
            files[f"{base}/{VD_JSON_NAME}"] = to_json(vendor_data_json(md))
        if _os_at_least(LIBERTY, version):
            files[f"{base}/{NW_JSON_NAME}"] = to_json(network_data_json(md))
        if _os_at_least(NEWTON_TWO, version):
            files[f"{base}/{VD2_JSON_NAME}"] = to_json(vendor_data2_json(md))
    for index, injected in enumerate(md.files):
        files[f"openstack/{CONTENT_DIR}/{content_key(index)}"] = injected.contents
    return files
