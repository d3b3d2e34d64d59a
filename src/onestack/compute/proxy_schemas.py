"""The bodies of Nova's proxies to the other services (``/images`` metadata, ``os-volumes``,
``os-snapshots`` and ``os-security-groups``, below 2.36), declared as ``validation.NovaBody``
models. The proxies refuse bad bodies with words of their own (the volume proxy's ``Invalid
input for field/attribute x. Value: v. ...``, the image proxy's and the security group
proxy's short reasons), not with the API's jsonschema ones; each keeps the words its handler
has always answered with, in the order it checked them."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute.server_members import raw
from onestack.compute.validation import NovaBody, OneMember, invalid

NOT_OBJECT = "Invalid input for the request body: must be an object"


def attribute(key: str, value: Any, reason: str = "") -> errors.BadRequest:
    """The proxies' 400 for a member: Nova's legacy ``field/attribute`` wording."""
    return errors.BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.{reason}")


class ProxyBody(NovaBody):
    """An object of the declared members (all of them named when others are sent), one of
    them ``required``, checked before any member's value."""

    required: ClassVar[str]
    open_ended = True  # the envelope refuses the members not declared, in its own words

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise errors.BadRequest(NOT_OBJECT)
        extra = sorted(set(data) - {key for key, _ in cls.members()})
        if extra:
            names = ", ".join(map(repr, extra))
            raise errors.BadRequest(
                f"Additional properties are not allowed ({names} were unexpected)"
            )
        if cls.required not in data:
            raise errors.BadRequest(f"'{cls.required}' is a required property")
        return data


def check_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise attribute(key, repr(value), f" {value!r} is not of type 'string'")
    return value


def check_size(body: dict[str, Any], key: str) -> int:
    """Nova's schema: an integer, or a string of digits, of 1 or more."""
    value = body[key]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise attribute(key, value, f" '{value}' does not match '^[0-9]+$'")
    if value < 1:
        raise attribute(key, value, f" {value} is less than the minimum of 1")
    return value


def check_volume_metadata(body: dict[str, Any], key: str) -> dict[str, str]:
    metadata = body.get(key) or {}
    if not isinstance(metadata, dict):
        raise errors.BadRequest(f"Invalid input for field/attribute {key}: not an object")
    return {str(k): str(v) for k, v in metadata.items()}


def check_force(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f"):
        return False
    raise attribute(key, value)


ProxyString = Annotated[str | None, check_string]


class VolumeCreate(ProxyBody):
    """``POST /os-volumes``."""

    wrapper = "volume"
    required = "size"

    metadata: Annotated[dict[str, str], check_volume_metadata] = Field(default_factory=dict)
    size: Annotated[int, check_size]
    display_name: ProxyString = None
    display_description: ProxyString = None
    volume_type: ProxyString = None
    snapshot_id: ProxyString = None
    availability_zone: ProxyString = None


class SnapshotCreate(ProxyBody):
    """``POST /os-snapshots``."""

    wrapper = "snapshot"
    required = "volume_id"

    volume_id: ProxyString
    display_name: ProxyString = None
    display_description: ProxyString = None
    force: Annotated[bool, check_force] = False


# --- the image proxy's metadata (``/images/{id}/metadata``, below 2.36) ----------------------


def check_image_metadata(body: dict[str, Any], key: str) -> dict[str, str]:
    """Keys of 1-255 characters, values strings of at most 255 (the count is the quota's)."""
    value = body.get(key)
    if not isinstance(value, dict):
        raise invalid(key, "must be an object")
    for name, item in value.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise invalid(key, "keys are 1 to 255 characters")
        if not isinstance(item, str) or len(item) > 255:
            raise invalid(key, "values are strings of 255 at most")
    return dict(value)


class ImageMetadata(OneMember):
    """``POST``/``PUT /images/{id}/metadata``."""

    wrapper = "metadata"

    metadata: Annotated[dict[str, str], check_image_metadata]


class ImageMetadataItem(OneMember):
    """``PUT /images/{id}/metadata/{key}`` (its handler asks that it be that one key)."""

    wrapper = "meta"

    meta: Annotated[dict[str, str], check_image_metadata]


# --- the security group proxy (``os-security-groups``, ``os-security-group-rules``) ----------


def security_group_id(value: Any) -> str:
    """A security group's id (in a body or a path): a UUID."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise errors.BadRequest(f"Security group id should be uuid: {value}") from None


class ProxyObject(NovaBody):
    """An object (``<wrapper> must be an object`` else) whose members not declared are
    ignored, as the proxy always did."""

    open_ended = True

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise errors.BadRequest(f"{cls.wrapper} must be an object")
        return data


def check_group_string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise errors.BadRequest(f"Security group {key} is not a string or unicode")
    if len(value) > 255:
        raise errors.BadRequest(f"Security group {key} should not be longer than 255")
    return value


class SecurityGroupBody(ProxyObject):
    """``POST /os-security-groups``, ``PUT /os-security-groups/{id}``: both members, always."""

    wrapper = "security_group"

    name: Annotated[str, check_group_string]
    description: Annotated[str, check_group_string]

    @model_validator(mode="after")
    def _named(self) -> SecurityGroupBody:
        if not self.name.strip():
            raise errors.BadRequest("Security group name cannot be empty")
        return self


def check_parent_id(body: dict[str, Any], key: str) -> str:
    return security_group_id(body.get(key))


def port(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.BadRequest(f"Invalid {name} value: {value}") from None


class SecurityGroupRuleCreate(ProxyObject):
    """``POST /os-security-group-rules``: the parent group's id, checked here; the rule's
    members are checked by ``neutron_rule`` once the parent is found, as Nova looks it up
    before them (a rule of a group not found is a 404 whatever its members)."""

    wrapper = "security_group_rule"

    parent_group_id: Annotated[str, check_parent_id]
    ip_protocol: Annotated[Any, raw] = None
    from_port: Annotated[Any, raw] = None
    to_port: Annotated[Any, raw] = None
    group_id: Annotated[Any, raw] = None
    cidr: Annotated[Any, raw] = None

    def neutron_rule(self, parent: str) -> dict[str, Any]:
        """The rule as a Neutron ingress rule of the ``parent`` group (found), Nova's checks
        first."""
        protocol = str(self.ip_protocol or "").lower()
        low, high = port(self.from_port, "from_port"), port(self.to_port, "to_port")
        if protocol in ("tcp", "udp"):
            if low is None or high is None or not 1 <= low <= high <= 65535:
                raise errors.BadRequest(
                    f"Invalid port range {low}:{high}. Valid TCP ports should be between 1-65535"
                )
        elif protocol == "icmp":
            if low is None or high is None or not (-1 <= low <= 255 and -1 <= high <= 255):
                raise errors.BadRequest(f"Invalid port range {low}:{high}. ICMP type:code")
            low, high = (None if low == -1 else low), (None if high == -1 else high)
        else:
            raise errors.BadRequest(f"Invalid IP protocol {self.ip_protocol}.")
        body: dict[str, Any] = {
            "security_group_id": parent,
            "direction": "ingress",
            "protocol": protocol,
            "port_range_min": low,
            "port_range_max": high,
        }
        if self.group_id:
            return {
                **body,
                "remote_group_id": security_group_id(self.group_id),
                "ethertype": "IPv4",
            }
        given = str(self.cidr or "0.0.0.0/0")
        try:
            cidr = ipaddress.ip_network(given, strict=False)
        except ValueError:
            raise errors.BadRequest(f"Invalid cidr {self.cidr}.") from None
        # the prefix as given, as Nova's parse_cidr (networking keeps it)
        ethertype = "IPv4" if cidr.version == 4 else "IPv6"
        return {**body, "remote_ip_prefix": given, "ethertype": ethertype}
