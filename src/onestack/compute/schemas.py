"""Compute's request bodies, each declared once (once per microversion where Nova's schema
changes) as a ``validation.NovaBody`` and taken through the one body path,
``common.api.body``, with Nova's wording (``compute.validation`` says how)."""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, create_model, model_validator

from onestack.common import errors
from onestack.compute.service.groups import POLICIES
from onestack.compute.validation import (
    Boolean,
    Check,
    Integer,
    NovaBody,
    OneMember,
    String,
    as_object,
    integer,
    invalid,
    only,
    string,
    uuid_of,
)

# --- flavors (Nova's flavor_manage and flavors_extraspecs schemas) ---------------------------

FLAVOR_ID_PATTERN = r"(?! )[a-zA-Z0-9. _-]+(?<! )"


def check_flavor_id(body: dict[str, Any], key: str) -> Any:
    value = body.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        body = {key: str(value)}  # Nova takes numbers too (Tempest sends them)
    return string(body, key, nullable=True, min_len=1, pattern=FLAVOR_ID_PATTERN)


def check_rxtx_factor(body: dict[str, Any], key: str) -> float:
    rxtx = body.get(key, 1.0)
    if isinstance(rxtx, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", rxtx):
        rxtx = float(rxtx)
    if isinstance(rxtx, bool) or not isinstance(rxtx, int | float) or not 0 < rxtx <= 3.40282e38:
        raise invalid(key, f"{rxtx!r} is not a valid rxtx_factor")
    return float(rxtx)


FlavorDescription = Annotated[str | None, String(nullable=True, max_len=65535)]


FLAVOR_MEMBERS = (
    "name",
    "id",
    "ram",
    "vcpus",
    "disk",
    "OS-FLV-EXT-DATA:ephemeral",
    "swap",
    "rxtx_factor",
    "os-flavor-access:is_public",
)


class FlavorCreate(NovaBody):
    """``POST /flavors`` before 2.55 (no description)."""

    wrapper = "flavor"
    accepts: ClassVar[tuple[str, ...] | None] = FLAVOR_MEMBERS

    name: Annotated[str, String(required=True, min_len=1, strip_check=True)]
    flavorid: Annotated[str | None, check_flavor_id] = Field(None, alias="id")
    ram: Annotated[int, Integer(required=True, minimum=1)]
    vcpus: Annotated[int, Integer(required=True, minimum=1)]
    disk: Annotated[int, Integer(required=True, minimum=0)]
    ephemeral: Annotated[int, Integer(minimum=0, default=0)] = Field(
        0, alias="OS-FLV-EXT-DATA:ephemeral"
    )
    swap: Annotated[int, Integer(minimum=0, default=0)] = 0
    rxtx_factor: Annotated[float, check_rxtx_factor] = 1.0
    is_public: Annotated[bool, Boolean(default=True)] = Field(
        True, alias="os-flavor-access:is_public"
    )
    description: FlavorDescription = None


class FlavorCreateV255(FlavorCreate):
    """From 2.55 a flavor has a description."""

    accepts: ClassVar[tuple[str, ...] | None] = (*FLAVOR_MEMBERS, "description")


def check_flavor_description_required(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise invalid("flavor", f"'{key}' is a required property")
    return string(body, key, nullable=True, max_len=65535)


class FlavorUpdate(NovaBody):
    """``PUT /flavors/{id}`` (2.55): only the description changes."""

    wrapper = "flavor"

    description: Annotated[str | None, check_flavor_description_required]


class AddTenantAccess(NovaBody):
    """The flavor's ``addTenantAccess`` action (the action's name is its key)."""

    wrapper = "addTenantAccess"

    tenant: Annotated[str, String(required=True, min_len=1)]


class RemoveTenantAccess(AddTenantAccess):
    wrapper = "removeTenantAccess"


SPEC_KEY = re.compile(r"[a-zA-Z0-9-_:. ]{1,255}")


def spec_values(specs: Any) -> dict[str, str]:
    """Extra specs: keys of ``SPEC_KEY``, values strings of at most 255 (numbers and booleans
    taken as their strings)."""
    specs = as_object(specs, "extra_specs")
    out: dict[str, str] = {}
    for key, value in specs.items():
        if not SPEC_KEY.fullmatch(key):
            raise invalid("extra_specs", f"{key!r} does not match any of the regexes")
        if isinstance(value, bool | int | float):
            value = str(value)
        if not isinstance(value, str) or len(value) > 255:
            raise invalid(f"extra_specs/{key}", f"{value!r} is not a valid value")
        out[key] = value
    return out


def check_extra_specs(body: dict[str, Any], key: str) -> dict[str, str]:
    return spec_values(body.get(key))


class FlavorExtraSpecs(OneMember):
    """``POST /flavors/{id}/os-extra_specs``."""

    wrapper = "extra_specs"

    extra_specs: Annotated[dict[str, str], check_extra_specs]


# --- key pairs (Nova's keypairs schemas: create, create_v22, create_v210, create_v292) -------

KEYPAIR_NAME_PATTERN = r"[a-zA-Z0-9 _-]+"
KEYPAIR_NAME_PATTERN_292 = r"[a-zA-Z0-9 @._-]+"  # 2.92 allows @ and .


def check_keypair_name(pattern: str) -> Check:
    def check(body: dict[str, Any], key: str) -> Any:
        name = string(body, key, required=True, min_len=1, pattern=pattern)
        if not name.strip():
            raise errors.BadRequest(
                "Keypair data is invalid: Keypair name must be string and between 1 and 255 "
                "characters long"
            )
        return name

    return check


def check_keypair_type(body: dict[str, Any], key: str) -> str:
    key_type = string(body, key) or "ssh"
    if key_type not in ("ssh", "x509"):
        raise invalid(key, f"{key_type!r} is not one of ['ssh', 'x509']")
    return str(key_type)


KEYPAIR_MEMBERS = ("name", "public_key")  # type from 2.2, user_id from 2.10


class KeypairCreate(NovaBody):
    """``POST /os-keypairs`` in 2.0 and 2.1: a name and maybe a public key (an ssh key)."""

    wrapper = "keypair"
    accepts: ClassVar[tuple[str, ...] | None] = KEYPAIR_MEMBERS

    name: Annotated[str, check_keypair_name(KEYPAIR_NAME_PATTERN)]
    public_key: Annotated[str | None, String(max_len=65535, printable=False)] = None
    type: Annotated[str, check_keypair_type] = "ssh"
    user_id: Annotated[str | None, String(min_len=1)] = None


class KeypairCreateV22(KeypairCreate):
    """From 2.2 a key pair has a type (ssh or x509)."""

    accepts: ClassVar[tuple[str, ...] | None] = (*KEYPAIR_MEMBERS, "type")


class KeypairCreateV210(KeypairCreateV22):
    """From 2.10 an admin may make a key pair for another user."""

    accepts: ClassVar[tuple[str, ...] | None] = (*KEYPAIR_MEMBERS, "type", "user_id")


class KeypairCreateV292(KeypairCreateV210):
    """From 2.92 names may hold ``@`` and ``.`` (and Nova no longer generates keys: the
    handler asks for ``public_key`` once the policy has allowed the caller)."""

    name: Annotated[str, check_keypair_name(KEYPAIR_NAME_PATTERN_292)]


# --- host aggregates (Nova's aggregates schemas) -----------------------------------------


def check_availability_zone(body: dict[str, Any], key: str) -> Any:
    zone = string(body, key, nullable=True, min_len=1, max_len=255, strip_check=True)
    if zone is not None and ":" in zone:
        raise invalid(key, f"{zone!r} must not contain ':'")
    return zone


class AggregateCreate(NovaBody):
    wrapper = "aggregate"

    name: Annotated[str, String(required=True, min_len=1, strip_check=True)]
    availability_zone: Annotated[str | None, check_availability_zone] = None


class AggregateUpdate(NovaBody):
    """A name, a zone or both; a zone sent as null clears it (``model_fields_set`` tells)."""

    wrapper = "aggregate"
    min_members = 1

    name: Annotated[str | None, String(min_len=1, strip_check=True)] = None
    availability_zone: Annotated[str | None, check_availability_zone] = None


class AggregateAddHost(NovaBody):
    """The ``add_host`` action's body (the action's name is its key)."""

    wrapper = "add_host"

    host: Annotated[str, String(required=True, min_len=1)]


class AggregateRemoveHost(AggregateAddHost):
    wrapper = "remove_host"


def check_aggregate_metadata(body: dict[str, Any], key: str) -> dict[str, str | None]:
    """Keys of 1-255 characters, values strings of at most 255 or null (null deletes); an
    ``availability_zone`` among them is checked as the aggregate's own."""
    metadata = as_object(body.get(key), key)
    values: dict[str, str | None] = {}
    for name, value in metadata.items():
        if not 1 <= len(name) <= 255:
            raise invalid(key, f"{name!r} is not a valid key")
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise invalid(f"{key}/{name}", f"{value!r} is not a valid value")
        values[name] = value
    if values.get("availability_zone") is not None:
        check_availability_zone(values, "availability_zone")
    return values


class AggregateSetMetadata(NovaBody):
    wrapper = "set_metadata"

    metadata: Annotated[dict[str, str | None], check_aggregate_metadata]


# --- server groups (Nova's server_groups schemas: create, create_v215, create_v264) --------

OLD_POLICIES = ("affinity", "anti-affinity")  # the soft ones came with 2.15


def check_policies(valid: tuple[str, ...]) -> Check:
    """Before 2.64: ``policies``, a list of exactly one policy."""

    def check(body: dict[str, Any], key: str) -> str:
        policies = body.get(key)
        if policies is None:
            raise invalid("server_group", f"'{key}' is a required property")
        if not isinstance(policies, list) or len(policies) != 1:
            raise invalid(key, f"{policies!r} must hold exactly one policy")
        if policies[0] not in valid:
            raise invalid(f"{key}/0", f"{policies[0]!r} is not one of {list(valid)}")
        return str(policies[0])

    return check


def no_rules(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {}  # before 2.64 a group has no rules (the member is refused as unexpected)


def check_group_policy(body: dict[str, Any], key: str) -> str:
    policy = string(body, key, required=True)
    if policy not in POLICIES:
        raise invalid(key, f"{policy!r} is not one of {list(POLICIES)}")
    return str(policy)


def check_group_rules(body: dict[str, Any], key: str) -> dict[str, Any]:
    """2.64's ``rules``: only ``max_server_per_host``, only for anti-affinity (the policy,
    declared before, has passed its check)."""
    rules = as_object(body.get(key, {}), key)
    only(rules, ("max_server_per_host",), key)
    if rules and body.get("policy") != "anti-affinity":
        raise invalid(key, "Only anti-affinity policy supports rules.")
    if "max_server_per_host" in rules:
        rules = {"max_server_per_host": integer(rules, "max_server_per_host", minimum=1)}
    return rules


GroupName = Annotated[str, String(required=True, min_len=1, strip_check=True)]


class ServerGroupCreate(NovaBody):
    """``POST /os-server-groups`` before 2.15: ``policies`` of the two hard ones."""

    wrapper = "server_group"
    accepts: ClassVar[tuple[str, ...] | None] = ("name", "policies")
    before_extras = ("name",)

    name: GroupName
    policy: Annotated[str, check_policies(OLD_POLICIES)] = Field(alias="policies")
    rules: Annotated[dict[str, Any], no_rules] = Field(default_factory=dict)


class ServerGroupCreateV215(ServerGroupCreate):
    """From 2.15 the soft policies too."""

    policy: Annotated[str, check_policies(POLICIES)] = Field(alias="policies")


class ServerGroupCreateV264(ServerGroupCreate):
    """From 2.64 one ``policy`` and its ``rules``."""

    accepts: ClassVar[tuple[str, ...] | None] = ("name", "policy", "rules")

    policy: Annotated[str, check_group_policy]
    rules: Annotated[dict[str, Any], check_group_rules] = Field(default_factory=dict)


# --- a server's volume attachments and interfaces (Nova's volumes and attach_interfaces) ---


def check_volume_id(body: dict[str, Any], key: str) -> str:
    if key not in body:
        raise invalid(key, f"'{key}' is a required property")
    return uuid_of(body[key], key)


def check_device(body: dict[str, Any], key: str) -> Any:
    device = body.get(key)
    if device is not None and (not isinstance(device, str) or not device.startswith("/dev/")):
        raise invalid(
            key, f"{device!r} does not match '(^/dev/x{{0,1}}[a-z]{{0,1}}d{{0,1}})([a-z]+)[0-9]*$'"
        )
    return device


def check_tag(body: dict[str, Any], key: str) -> Any:
    tag = body.get(key)
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "/" in tag):
        raise invalid(key, f"{tag!r} is not a valid tag")
    return tag


def check_strict_boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise invalid(key, f"{value!r} is not of type 'boolean'")
    return value


class VolumeAttachmentCreate(NovaBody):
    """``POST /servers/{id}/os-volume_attachments``: ``tag`` from 2.49,
    ``delete_on_termination`` from 2.79."""

    wrapper = "volumeAttachment"
    accepts: ClassVar[tuple[str, ...] | None] = ("volumeId", "device")
    name_first_unexpected = True

    volume_id: Annotated[str, check_volume_id] = Field(alias="volumeId")
    device: Annotated[str | None, check_device] = None
    tag: Annotated[str | None, check_tag] = None
    delete_on_termination: Annotated[bool, check_strict_boolean] = False


class VolumeAttachmentCreateV249(VolumeAttachmentCreate):
    accepts: ClassVar[tuple[str, ...] | None] = ("volumeId", "device", "tag")


class VolumeAttachmentCreateV279(VolumeAttachmentCreate):
    accepts: ClassVar[tuple[str, ...] | None] = (
        "volumeId",
        "device",
        "tag",
        "delete_on_termination",
    )


def check_optional_uuid(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return uuid_of(value, key) if value else None


class VolumeAttachmentSwap(NovaBody):
    """``PUT /servers/{id}/os-volume_attachments/{volume_id}`` before 2.85: a swap only."""

    wrapper = "volumeAttachment"
    name_first_unexpected = True

    volume_id: Annotated[str, check_volume_id] = Field(alias="volumeId")


class VolumeAttachmentUpdateV285(VolumeAttachmentSwap):
    """From 2.85 the attachment as shown may come back: only ``delete_on_termination`` may
    differ (and ``volumeId``, for a swap)."""

    device: Annotated[str | None, check_device] = None
    tag: Annotated[str | None, check_tag] = None
    delete_on_termination: Annotated[bool | None, Boolean()] = None
    server_id: Annotated[str | None, check_optional_uuid] = Field(None, alias="serverId")
    id: Annotated[str | None, check_optional_uuid] = None


def check_fixed_ips(body: dict[str, Any], key: str) -> str | None:
    """At most one ``{"ip_address": ...}``: the address, or None."""
    fixed_ips = body.get(key)
    if fixed_ips is None:
        return None
    if not isinstance(fixed_ips, list) or len(fixed_ips) > 1:
        raise invalid(key, "must be an array of at most one {'ip_address': ...}")
    if not fixed_ips:
        return None
    item = fixed_ips[0]
    if not isinstance(item, dict) or set(item) != {"ip_address"}:
        raise invalid(key, f"{item!r} is not an {{'ip_address': ...}} object")
    try:
        return str(ipaddress.ip_address(item["ip_address"]))
    except ValueError:
        raise invalid("ip_address", f"{item['ip_address']!r} is not an IP address") from None


class InterfaceAttachmentCreate(NovaBody):
    """``POST /servers/{id}/os-interface``: a port, or a network (and maybe an address on
    it); ``tag`` from 2.49."""

    wrapper = "interfaceAttachment"
    accepts: ClassVar[tuple[str, ...] | None] = ("port_id", "net_id", "fixed_ips")
    name_first_unexpected = True

    port_id: Annotated[str | None, check_optional_uuid] = None
    net_id: Annotated[str | None, check_optional_uuid] = None
    fixed_ip: Annotated[str | None, check_fixed_ips] = Field(None, alias="fixed_ips")
    tag: Annotated[str | None, check_tag] = None

    @model_validator(mode="after")
    def _port_or_network(self) -> Self:
        if self.port_id and self.net_id:
            raise errors.BadRequest("Must not input both network_id and port_id")
        if self.fixed_ip and not self.net_id:
            raise errors.BadRequest("Must input network_id when request IP address")
        return self


class InterfaceAttachmentCreateV249(InterfaceAttachmentCreate):
    accepts: ClassVar[tuple[str, ...] | None] = ("port_id", "net_id", "fixed_ips", "tag")


# --- remote consoles (Nova's remote_consoles schemas: create_v26, create_v28) --------------

CONSOLE_PROTOCOLS = ("vnc", "spice", "rdp", "serial", "mks")  # mks from 2.8
CONSOLE_TYPES = ("novnc", "xvpvnc", "serial", "spice-html5", "rdp-html5", "webmks")  # webmks too


def check_one_of(choices: tuple[str, ...]) -> Check:
    def check(body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        if value not in choices:
            raise invalid(key, f"{value!r} is not one of {list(choices)!r}")
        return str(value)

    return check


class RemoteConsoleCreate(NovaBody):
    """``POST /servers/{id}/remote-consoles`` (2.6): a protocol and a console type."""

    wrapper = "remote_console"
    name_first_unexpected = True

    protocol: Annotated[str, check_one_of(CONSOLE_PROTOCOLS[:4])]
    type: Annotated[str, check_one_of(CONSOLE_TYPES[:5])]


class RemoteConsoleCreateV28(RemoteConsoleCreate):
    """From 2.8 the VMware MKS protocol and its webmks type."""

    protocol: Annotated[str, check_one_of(CONSOLE_PROTOCOLS)]
    type: Annotated[str, check_one_of(CONSOLE_TYPES)]


# --- quotas (Nova's quota_sets and quota_classes schemas, built from the resources shown) ---


class QuotaLimits(NovaBody):
    """A limit per resource the microversion shows (-1 for none); Nova builds these schemas
    from its resource list too (``quota_set_update`` below)."""

    def limits(self) -> dict[str, int]:
        """The limits the request sets (by resource)."""
        return {
            key: value
            for key in type(self).model_fields
            if key != "force" and (value := getattr(self, key)) is not None
        }


class QuotaSetUpdate(QuotaLimits):
    """``PUT /os-quota-sets/{project}``: the limits, then ``force`` (past what is in use)."""

    wrapper = "quota_set"

    def forced(self) -> bool:
        # ``force`` is declared after the limits (its check comes last), by quota_set_update
        return bool(getattr(self, "force", False))


class QuotaClassSetUpdate(QuotaLimits):
    """``PUT /os-quota-class-sets/{class}``: the limits alone."""

    wrapper = "quota_class_set"


Limit = Annotated[int | None, Integer(minimum=-1, maximum=2**31 - 1)]


@cache
def quota_set_update(resources: tuple[str, ...]) -> type[QuotaSetUpdate]:
    """The quota set body for ``resources`` (those the request's microversion shows)."""
    members: dict[str, Any] = {key: (Limit, None) for key in resources}
    members["force"] = (Annotated[bool, Boolean(default=False)], False)
    return create_model("QuotaSetUpdate", __base__=QuotaSetUpdate, **members)


@cache
def quota_class_set_update(resources: tuple[str, ...]) -> type[QuotaClassSetUpdate]:
    members: dict[str, Any] = {key: (Limit, None) for key in resources}
    return create_model("QuotaClassSetUpdate", __base__=QuotaClassSetUpdate, **members)
