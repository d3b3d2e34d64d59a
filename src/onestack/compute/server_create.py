"""``POST /servers``'s body, declared as ``ServerCreate`` and taken through the one body path
(``common.api.body``, the request's microversion as the validation context): the whole
document checked member by member in the order Nova's schema (and this API) always has, with
the same words, into a ``CreateRequest`` for the service layer. Nothing here looks anything
up."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, SkipValidation, ValidationInfo, model_validator

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute import block_device_members as block_devices
from onestack.compute import validation
from onestack.compute.server_members import (
    config_drive,
    count,
    metadata,
    personality_files,
    string,
    unexpected,
    user_data,
)
from onestack.compute.service.create import CreateRequest
from onestack.compute.validation import BASE_VERSION, invalid

CREATE_KEYS = {
    "name",
    "imageRef",
    "flavorRef",
    "networks",
    "key_name",
    "user_data",
    "config_drive",
    "metadata",
    "security_groups",
    "block_device_mapping_v2",
    "block_device_mapping",
    "availability_zone",
    "min_count",
    "max_count",
    "return_reservation_id",
    "description",
    "tags",
    "hostname",
    "accessIPv4",
    "accessIPv6",
    "adminPass",
    "OS-DCF:diskConfig",
    "personality",
    "trusted_image_certificates",
    "host",
    "hypervisor_hostname",
}


def hostname_max(version: APIVersion) -> int:
    """A hostname is one DNS label until 2.94, a fully qualified name from then on."""
    return 255 if version >= APIVersion(2, 94) else 63


def personality(version: APIVersion, body: dict[str, Any]) -> list[dict[str, str]]:
    """Injected files (before 2.57; ``server_schemas.personality_files``)."""
    if version >= APIVersion(2, 57):
        raise unexpected("personality")
    return personality_files(body["personality"])


# -- POST /servers ---------------------------------------------------------------------------


def create_request(version: APIVersion, data: Any) -> tuple[CreateRequest, dict[str, Any]]:
    """The create request, and the ``server`` member it came from (for the answer)."""
    if not isinstance(data, dict) or not isinstance(data.get("server"), dict):
        raise invalid("server", "'server' is a required property")
    body: dict[str, Any] = data["server"]
    unknown = sorted(set(body) - CREATE_KEYS)
    if unknown:
        raise unexpected(unknown[0])
    if "name" not in body:
        raise invalid("name", "'name' is a required property")
    name = string(body, "name")
    if "flavorRef" not in body:
        raise invalid("flavorRef", "'flavorRef' is a required property")
    min_count = count(body, "min_count", 1)
    max_count = count(body, "max_count", min_count)
    image_ref, boot_volume, volume_mappings = _boot_source(version, body, max_count)
    if min_count > max_count:
        raise errors.BadRequest("min_count must be <= max_count")
    zone, forced_host = _zone(body.get("availability_zone"))
    hints = data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints") or {}
    group = hints.get("group") if isinstance(hints, dict) else None
    req = CreateRequest(
        name=name,
        flavor_ref=str(body["flavorRef"]),
        image_ref=image_ref,
        boot_volume=boot_volume,
        block_devices=volume_mappings,
        networks=_networks(version, body.get("networks")),
        security_groups=_security_groups(body.get("security_groups") or []),
        key_name=None if body.get("key_name") is None else str(body["key_name"]),
        user_data=user_data(body["user_data"]) if body.get("user_data") is not None else None,
        config_drive=config_drive(body.get("config_drive", False)),
        metadata=metadata(body.get("metadata", {})),
        min_count=min_count,
        max_count=max_count,
        availability_zone=zone,
        forced_host=forced_host,
        group=None if group is None else str(group),
        access_ip_v4=validation.access_ip(body, "accessIPv4"),
        access_ip_v6=validation.access_ip(body, "accessIPv6"),
        disk_config=validation.disk_config(body) or "MANUAL",
        files=personality(version, body) if "personality" in body else None,
        **_described(version, body),
    )
    return req, body


def _boot_source(
    version: APIVersion, body: dict[str, Any], max_count: int
) -> tuple[str, bool, list[dict[str, Any]]]:
    """(image reference, whether the root disk is a volume, the volume mappings)."""
    image_ref = body.get("imageRef", "")
    if image_ref and not isinstance(image_ref, str):
        raise invalid("imageRef", f"{image_ref!r} is not of type 'string'")
    bdms = block_devices.mappings(version, body)
    return block_devices.boot_source(image_ref or "", bdms, max_count)


def _networks(version: APIVersion, networks: Any) -> str | list[dict[str, Any]] | None:
    if version >= APIVersion(2, 37) and networks is None:
        raise invalid("networks", "'networks' is a required property")
    if isinstance(networks, str) and networks not in ("auto", "none"):
        raise invalid("networks", f"{networks!r} is not one of ['none', 'auto']")
    if networks is not None and not isinstance(networks, (str, list)):
        raise invalid("networks", f"{networks!r} is not of type 'array'")
    if isinstance(networks, list):
        for item in networks:
            if not isinstance(item, dict):
                raise invalid("networks", f"{item!r} is not of type 'object'")
            _network_item(item)
    return networks


def _network_item(item: dict[str, Any]) -> None:
    """Nova's schema of one requested network: ``uuid``, ``port`` and ``tag`` strings (a
    ``port`` may be null), ``fixed_ip`` an IP address."""
    for key in ("uuid", "port", "tag", "fixed_ip"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise invalid(f"networks.{key}", f"{value!r} is not of type 'string'")
    if item.get("fixed_ip") is not None:
        try:
            ipaddress.ip_address(item["fixed_ip"])
        except ValueError:
            raise invalid("networks.fixed_ip", f"{item['fixed_ip']!r} is not a 'ip'") from None


def _security_groups(groups: Any) -> list[str]:
    if not isinstance(groups, list):
        raise invalid("security_groups", f"{groups!r} is not of type 'array'")
    names: list[str] = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            raise invalid("security_groups", f"{group!r} is not a {{'name': ...}} object")
        names.append(group["name"])
    return names


def _zone(value: Any) -> tuple[str | None, str | None]:
    """(zone, forced host): ``ZONE:HOST`` forces a host (an admin's choice)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise invalid("availability_zone", f"{value!r} is not of type 'string'")
    if ":" not in value:
        return value, None
    zone, _, host = value.partition(":")
    return zone or None, host.split(":")[0] or None


def _described(version: APIVersion, body: dict[str, Any]) -> dict[str, Any]:
    """The tags (2.52), description (2.19) and hostname (2.90) the server is created with."""
    tags = body.get("tags") or []
    if tags and version < APIVersion(2, 52):
        raise unexpected("tags")
    if (
        not isinstance(tags, list)
        or len(tags) > 50
        or any(not isinstance(t, str) or not t or len(t) > 60 or "/" in t or "," in t for t in tags)
    ):
        raise invalid("tags", "each tag is a string of 1-60 characters without '/' or ','")
    description = body.get("description")
    if description is not None:
        if version < APIVersion(2, 19):
            raise unexpected("description")
        description = string(body, "description", empty_ok=True)
    hostname = body.get("hostname")
    if hostname is not None:
        if version < APIVersion(2, 90):
            raise unexpected("hostname")
        hostname = string(body, "hostname", hostname_max(version))
    return {"tags": tags, "description": description, "hostname": hostname}


class ServerCreate(BaseModel):
    """The create body: ``request`` for the service layer, ``server`` the member as sent (the
    answer echoes some of it). Its one validator is ``create_request``: the members depend on
    each other (``max_count`` on ``min_count``, the boot source on both, the scheduler hints
    sit beside ``server``), so the document is checked as a whole, in its order."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    request: Annotated[CreateRequest, SkipValidation]
    server: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any, info: ValidationInfo) -> dict[str, Any]:
        version = (info.context or {}).get("version", BASE_VERSION)
        request, server = create_request(version, data)
        return {"request": request, "server": server}
