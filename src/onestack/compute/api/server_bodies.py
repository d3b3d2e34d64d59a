"""Server request bodies checked for shape, with Nova's 400 wording: the whole ``POST /servers``
(a ``CreateRequest`` for the service layer), and the members that update, rebuild and the
actions share. Nothing here looks anything up."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from starlette.requests import Request

from onestack.common import errors
from onestack.compute import validation
from onestack.compute.api import block_devices
from onestack.compute.api.helpers import at_least
from onestack.compute.service.create import CreateRequest
from onestack.compute.validation import invalid

USER_DATA_MAX = 65535
COUNT_MAX = 2**31 - 1  # Nova's integer column; the configured max_count cuts it further
METADATA_MAX_ITEMS = 1000  # whatever the quota says: one request writes a bounded number

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


def unexpected(key: str, field: str = "server") -> errors.ValidationError:
    return invalid(field, f"Additional properties are not allowed ({key!r} was unexpected)")


def string(body: dict[str, Any], key: str, max_len: int = 255, *, empty_ok: bool = False) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise invalid(key, f"{value!r} is not of type 'string'")
    if not value.strip() and not empty_ok:
        raise invalid(key, f"{value!r} is too short")
    if len(value) > max_len:
        raise invalid(key, f"{value!r} is too long")
    return value


def hostname_max(request: Request) -> int:
    """A hostname is one DNS label until 2.94, a fully qualified name from then on."""
    return 255 if at_least(request, 94) else 63


def count(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    # Nova's schema: an integer, or a string of digits; never a float or a bool.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid(key, f"{value!r} is not of type 'integer', 'string'")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(key, f"{value!r} is not of type 'integer', 'string'") from None
    if number < 1:
        raise invalid(key, f"{value!r} is less than the minimum of 1")
    if number > COUNT_MAX:
        raise invalid(key, f"{value!r} is greater than the maximum of {COUNT_MAX}")
    return number


def metadata(value: Any, field: str = "metadata") -> dict[str, str]:
    if not isinstance(value, dict):
        raise invalid(field, f"{value!r} is not of type 'object'")
    if len(value) > METADATA_MAX_ITEMS:
        raise invalid(field, f"more than {METADATA_MAX_ITEMS} properties")
    for k, v in value.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 255:
            raise invalid(field, f"invalid metadata key {k!r}")
        if not isinstance(v, str) or len(v) > 255:
            raise invalid(f"{field}.{k}", f"{v!r} is not a string of at most 255 characters")
    return dict(value)


def config_drive(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", ""):
        return value.lower() == "true"
    raise invalid("config_drive", f"{value!r} is not of type 'boolean', 'string'")


def user_data(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("user_data", f"{value!r} is not of type 'string'")
    if len(value) > USER_DATA_MAX:
        raise invalid("user_data", f"the value is longer than {USER_DATA_MAX} characters")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("user_data", "the value is not valid base64") from None
    return value


def personality(request: Request, body: dict[str, Any]) -> list[dict[str, str]]:
    """Injected files (before 2.57): ``[{"path", "contents" (base64)}]``, kept as given for
    the metadata service and config drive (the service layer checks them against quotas)."""
    files = body["personality"]
    if at_least(request, 57):
        raise unexpected("personality")
    if not isinstance(files, list):
        raise invalid("personality", f"{files!r} is not of type 'array'")
    out = []
    for item in files:
        if not isinstance(item, dict) or set(item) != {"path", "contents"}:
            raise invalid("personality", f"{item!r} is not a {{'path', 'contents'}} object")
        path, contents = item["path"], item["contents"]
        if not isinstance(path, str) or not path or not isinstance(contents, str):
            raise invalid("personality", "path and contents are strings")
        try:
            base64.b64decode(contents, validate=True)
        except (binascii.Error, ValueError):
            reason = f"Personality content for {path} cannot be decoded"
            raise invalid("personality", reason) from None
        out.append({"path": path, "contents": contents})
    return out


# -- POST /servers ---------------------------------------------------------------------------


def create_request(request: Request, data: Any) -> tuple[CreateRequest, dict[str, Any]]:
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
    image_ref, boot_volume, volume_mappings = _boot_source(request, body, max_count)
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
        networks=_networks(request, body.get("networks")),
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
        files=personality(request, body) if "personality" in body else None,
        **_described(request, body),
    )
    return req, body


def _boot_source(
    request: Request, body: dict[str, Any], max_count: int
) -> tuple[str, bool, list[dict[str, Any]]]:
    """(image reference, whether the root disk is a volume, the volume mappings)."""
    image_ref = body.get("imageRef", "")
    if image_ref and not isinstance(image_ref, str):
        raise invalid("imageRef", f"{image_ref!r} is not of type 'string'")
    bdms = block_devices.mappings(request, body)
    return block_devices.boot_source(image_ref or "", bdms, max_count)


def _networks(request: Request, networks: Any) -> str | list[dict[str, Any]] | None:
    if at_least(request, 37) and networks is None:
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


def _described(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """The tags (2.52), description (2.19) and hostname (2.90) the server is created with."""
    tags = body.get("tags") or []
    if tags and not at_least(request, 52):
        raise unexpected("tags")
    if (
        not isinstance(tags, list)
        or len(tags) > 50
        or any(not isinstance(t, str) or not t or len(t) > 60 or "/" in t or "," in t for t in tags)
    ):
        raise invalid("tags", "each tag is a string of 1-60 characters without '/' or ','")
    description = body.get("description")
    if description is not None:
        if not at_least(request, 19):
            raise unexpected("description")
        description = string(body, "description", empty_ok=True)
    hostname = body.get("hostname")
    if hostname is not None:
        if not at_least(request, 90):
            raise unexpected("hostname")
        hostname = string(body, "hostname", hostname_max(request))
    return {"tags": tags, "description": description, "hostname": hostname}
