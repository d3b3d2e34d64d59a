"""A server's request bodies, declared as ``validation.NovaBody`` models (``compute.schemas``
holds the other resources'): the actions on ``POST /servers/{id}/action``, the server update,
a server's metadata and tags, and the envelopes of action bodies. Each keeps the words its
handler has always answered with (the member checks are ``server_members``'); a member whose
check changes with the microversion is a ``validation.Since``. Nothing here looks anything up."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onestack.common import errors
from onestack.common.http import INT_RANGE
from onestack.common.microversion import APIVersion
from onestack.compute import validation
from onestack.compute.server_members import (
    check_access_ip,
    check_disk_config,
    check_metadata,
    check_tags,
    given,
    hostname_of,
    metadata,
    metadata_member,
    no_personality,
    one_of,
    personality_member,
    raw,
    required,
    string,
    unexpected,
    user_data,
)
from onestack.compute.service.hosts import COMPUTE_BINARY
from onestack.compute.validation import (
    ABSENT,
    Check,
    NovaBody,
    OneMember,
    Since,
    as_object,
    invalid,
)

# --- the actions ------------------------------------------------------------------------------


class ActionBody(NovaBody):
    """An action's member: anything but an object counts as an empty one, and members not
    declared are ignored (the actions never refused them)."""

    open_ended = True

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        return data if isinstance(data, dict) else {}


def check_reboot_type(body: dict[str, Any], key: str) -> str:
    kind = body.get(key)
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise invalid(
            "reboot.type",
            f"{kind!r} is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']",
        )
    return kind.upper()


class Reboot(ActionBody):
    wrapper = "reboot"

    type: Annotated[str, check_reboot_type]


def no_locked_reason(body: dict[str, Any], key: str) -> Any:
    if key in body:
        raise invalid("lock", "Additional properties are not allowed")
    return ABSENT


class Lock(ActionBody):
    """A lock's reason from 2.73 (refused before, other members ignored)."""

    wrapper = "lock"

    locked_reason: Annotated[
        str | None,
        Since(73, given(lambda body, key: string(body, key, empty_ok=True)), no_locked_reason),
    ] = None


class Resize(ActionBody):
    wrapper = "resize"

    flavor_ref: Annotated[str, required("resize", lambda body, key: str(body[key]))] = Field(
        alias="flavorRef"
    )
    disk_config: Annotated[str | None, check_disk_config] = Field(None, alias="OS-DCF:diskConfig")


def check_image_ref(body: dict[str, Any], key: str) -> str:
    if not body.get(key):
        raise invalid("rebuild", f"'{key}' is a required property")
    return str(body[key])


def check_user_data(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        return ABSENT
    return None if body[key] is None else user_data(body[key])


class Rebuild(ActionBody):
    """What a rebuild changes: a member the request sends is in ``model_fields_set``; the
    description from 2.19, a key pair from 2.54, user data from 2.57 (and no more injected
    files), a hostname from 2.90 (a fully qualified one from 2.94)."""

    wrapper = "rebuild"

    image_ref: Annotated[str, check_image_ref] = Field(alias="imageRef")
    name: Annotated[str | None, given(string)] = None
    description: Annotated[Any, Since(19, raw)] = None
    user_data: Annotated[str | None, Since(57, check_user_data)] = None
    hostname: Annotated[str | None, Since(94, hostname_of(255), Since(90, hostname_of(63)))] = None
    access_ip_v4: Annotated[str | None, check_access_ip] = Field(None, alias="accessIPv4")
    access_ip_v6: Annotated[str | None, check_access_ip] = Field(None, alias="accessIPv6")
    key_name: Annotated[Any, Since(54, raw)] = None
    disk_config: Annotated[str | None, check_disk_config] = Field(None, alias="OS-DCF:diskConfig")
    files: Annotated[list[dict[str, str]] | None, Since(57, no_personality, personality_member)] = (
        Field(None, alias="personality")
    )
    metadata: Annotated[dict[str, str] | None, metadata_member] = None
    admin_pass: Annotated[Any, raw] = Field(None, alias="adminPass")


def image_name(field: str) -> Check:
    def check(body: dict[str, Any], key: str) -> str:
        if key not in body:
            raise invalid(field, f"'{key}' is a required property")
        return string(body, key)

    return check


def metadata_or_empty(body: dict[str, Any], key: str) -> dict[str, str]:
    return metadata(body.get(key, {}))


class CreateImage(ActionBody):
    wrapper = "createImage"

    name: Annotated[str, image_name("createImage")]
    metadata: Annotated[dict[str, str], metadata_or_empty] = Field(default_factory=dict)


def check_backup_type(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise invalid(key, f"{value!r} is not of type 'string'")
    return value


def check_rotation(body: dict[str, Any], key: str) -> int:
    """Nova's non_negative_integer: an integer, or a string of digits."""
    rotation = body[key]
    if isinstance(rotation, str) and rotation.isdigit():
        rotation = int(rotation)
    if isinstance(rotation, bool) or not isinstance(rotation, int) or rotation < 0:
        raise invalid(key, f"{body[key]!r} is not a non-negative integer")
    if rotation >= INT_RANGE:
        raise invalid(key, f"{rotation} is greater than the maximum of {INT_RANGE - 1}")
    return rotation


class CreateBackup(NovaBody):
    """The members required first, then none unexpected, then each checked."""

    wrapper = "createBackup"
    name_first_unexpected = True
    accepts: ClassVar[tuple[str, ...] | None] = ("name", "backup_type", "rotation", "metadata")

    name: Annotated[str, string]
    backup_type: Annotated[str, check_backup_type]
    rotation: Annotated[int, check_rotation]
    metadata: Annotated[dict[str, str], metadata_or_empty] = Field(default_factory=dict)

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        body = as_object(data, cls.wrapper)
        for key in ("name", "backup_type", "rotation"):
            if key not in body:
                raise invalid(cls.wrapper, f"'{key}' is a required property")
        return body


def check_length(body: dict[str, Any], key: str) -> int | None:
    length = body.get(key)
    if length is None:
        return None
    try:
        length = int(length)
    except (TypeError, ValueError):
        raise invalid(key, f"{length!r} is not of type 'integer'") from None
    if length < -1:
        raise invalid(key, f"{length} is less than the minimum of -1")
    if length >= INT_RANGE:
        raise invalid(key, f"{length} is greater than the maximum of {INT_RANGE - 1}")
    return None if length == -1 else length  # -1: the whole log


class ConsoleOutput(ActionBody):
    wrapper = "os-getConsoleOutput"

    length: Annotated[int | None, check_length] = None


def check_group_name(body: dict[str, Any], key: str) -> str:
    name = body.get(key)
    if not isinstance(name, str) or not name:
        raise invalid(key, f"'{key}' is a required property")
    return name


class AddSecurityGroup(ActionBody):
    wrapper = "addSecurityGroup"

    name: Annotated[str, check_group_name]


class RemoveSecurityGroup(AddSecurityGroup):
    wrapper = "removeSecurityGroup"


class ResetState(ActionBody):
    wrapper = "os-resetState"

    state: Annotated[str, one_of("state", ("active", "error"))]


def check_admin_pass(body: dict[str, Any], key: str) -> str:
    if key not in body:
        raise invalid("changePassword", f"'{key}' is a required property")
    value = body[key]
    if not isinstance(value, str):
        raise invalid(key, f"{value!r} is not of type 'string'")
    return value


class ChangePassword(ActionBody):
    wrapper = "changePassword"

    admin_pass: Annotated[str, check_admin_pass] = Field(alias="adminPass")


def optional_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(key, f"{value!r} is not of type 'string'")
    return value


class Rescue(NovaBody):
    """An object or null; only a password and a rescue image."""

    wrapper = "rescue"
    name_first_unexpected = True

    admin_pass: Annotated[str | None, optional_string] = Field(None, alias="adminPass")
    rescue_image_ref: Annotated[str | None, optional_string] = None

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if data is not None and not isinstance(data, dict):
            raise invalid(cls.wrapper, f"{data!r} is not of type 'object', 'null'")
        return data or {}


class TriggerCrashDump(NovaBody):
    """Null, nothing else (2.17)."""

    wrapper = "trigger_crash_dump"

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if data is not None:
            raise invalid(cls.wrapper, f"{data!r} is not of type 'null'")
        return {}


class Unshelve(ActionBody):
    """Null or an object, whose members are not used (shelved servers stay on this host)."""

    wrapper = "unshelve"

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if data is not None and not isinstance(data, dict):
            raise invalid(cls.wrapper, f"{data!r} is not an object")
        return data or {}


class FixedIpAction(NovaBody):
    """``os-multinic``'s actions: one string member, refused in Nova's legacy words (the
    action's name, the body as sent, the member)."""

    open_ended = True
    member: ClassVar[str]

    @classmethod
    def refused(cls, body: Any) -> errors.BadRequest:
        return errors.BadRequest(
            f"Invalid input for field/attribute {cls.wrapper}. Value: {body}. "
            f"'{cls.member}' is a required property"
        )

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        value = data.get(cls.member) if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise cls.refused(data)
        return as_object(data, cls.wrapper)


class AddFixedIp(FixedIpAction):
    wrapper = "addFixedIp"
    member = "networkId"

    network_id: Annotated[str, raw] = Field(alias="networkId")


class RemoveFixedIp(FixedIpAction):
    wrapper = "removeFixedIp"
    member = "address"

    address: Annotated[str, raw]


class ConsoleAction(ActionBody):
    """``os-getVNCConsole`` and its siblings (before remote-consoles): a console type, one
    of those the action's class (``console_type``) offers."""

    type: Annotated[str, raw]


def console_type(action: str, allowed: tuple[str, ...]) -> type[ConsoleAction]:
    """The action's model: the types it offers."""

    class Console(ConsoleAction):
        wrapper = action

        type: Annotated[str, one_of(f"{action}.type", allowed)]

    Console.__name__ = Console.__qualname__ = f"Console_{action}"
    return Console


class FloatingIPCreate(ActionBody):
    """``POST /os-floating-ips``: any body or none; its ``pool`` names the pool."""

    wrapper = "body"

    pool: Annotated[Any, raw] = None


# --- server update (PUT /servers/{id}) --------------------------------------------------------

UPDATE_KEYS = ("name", "description", "accessIPv4", "accessIPv6", "hostname", "OS-DCF:diskConfig")
UPDATE_SINCE = (("description", 19), ("hostname", 90))


def check_description(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        return ABSENT
    return None if body[key] is None else string(body, key, empty_ok=True)


class ServerUpdate(NovaBody):
    """What an update changes (a member sent is in ``model_fields_set``): the description
    from 2.19, the hostname from 2.90 (a fully qualified one from 2.94). Anything else is
    refused first, an unknown member before one the microversion does not know yet."""

    wrapper = "server"
    accepts: ClassVar[tuple[str, ...] | None] = UPDATE_KEYS

    name: Annotated[str | None, given(string)] = None
    description: Annotated[str | None, check_description] = None
    hostname: Annotated[str | None, Since(94, hostname_of(255), hostname_of(63))] = None
    access_ip_v4: Annotated[str | None, check_access_ip] = Field(None, alias="accessIPv4")
    access_ip_v6: Annotated[str | None, check_access_ip] = Field(None, alias="accessIPv6")
    disk_config: Annotated[str | None, check_disk_config] = Field(None, alias="OS-DCF:diskConfig")

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise invalid(cls.wrapper, f"'{cls.wrapper}' is a required property")
        unknown = sorted(set(data) - set(UPDATE_KEYS))
        early = [k for k, minor in UPDATE_SINCE if k in data and version < APIVersion(2, minor)]
        if unknown or early:
            raise unexpected((unknown or early)[0])
        return data


# --- the envelopes ----------------------------------------------------------------------------


class Action(BaseModel):
    """An action body (``POST .../action``): an object of one member, the action's name,
    holding the action's own body (validated by the action's model)."""

    model_config = ConfigDict(frozen=True)
    one: ClassVar[str] = "There is either no action or more than one action."

    name: str
    args: Any = None

    @classmethod
    def envelope(cls, data: Any) -> dict[str, Any]:
        return as_object(data, "body")

    @model_validator(mode="before")
    @classmethod
    def _one_action(cls, data: Any) -> dict[str, Any]:
        body = cls.envelope(data)
        if len(body) != 1:
            raise errors.BadRequest(cls.one)
        ((name, args),) = body.items()
        return {"name": name, "args": args}


class Members(BaseModel):
    """An object body whose members its handler checks (``os-services`` updates of each
    microversion, a flavor's extra spec)."""

    model_config = ConfigDict(frozen=True)

    members: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> dict[str, Any]:
        return {"members": as_object(data, "body")}


class ServerAction(Action):
    """A server's: anything but an object of one member is "no action"."""

    one: ClassVar[str] = "There is either no action or more than one action in the body."

    @classmethod
    def envelope(cls, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise errors.BadRequest(cls.one)
        return data


def check_host_value(body: dict[str, Any], key: str) -> Any:
    value = validation.string(body, key)
    if value is not None and value not in ("enable", "disable"):
        raise invalid(key, f"{value!r} is not one of ['enable', 'disable']")
    return value


class HostUpdate(NovaBody):
    """``PUT /os-hosts/{host}`` (before 2.43): a status, a maintenance mode, or both."""

    wrapper = "body"

    status: Annotated[str | None, check_host_value] = None
    maintenance_mode: Annotated[str | None, check_host_value] = None

    @model_validator(mode="after")
    def _something(self) -> HostUpdate:
        if self.status is None and self.maintenance_mode is None:
            raise errors.BadRequest("'status' or 'maintenance_mode' needed for host update")
        return self


# --- a server's metadata and tags: the key holds the body's one member itself --------------


class ServerMetadata(OneMember):
    """``POST``/``PUT /servers/{id}/metadata``."""

    wrapper = "metadata"

    metadata: Annotated[dict[str, str], check_metadata]


class ServerMetadataItem(OneMember):
    """``PUT /servers/{id}/metadata/{key}`` (its handler asks that it be that one key)."""

    wrapper = "meta"

    meta: Annotated[dict[str, str], check_metadata]


class ServerTags(OneMember):
    """``PUT /servers/{id}/tags`` (2.26)."""

    wrapper = "tags"

    tags: Annotated[list[str], check_tags]


# --- os-services updates (the ``Members`` envelope taken first, then the service's id) -------


def check_service_status(body: dict[str, Any], key: str) -> str | None:
    status: str | None = validation.string(body, key)
    if status is not None and status not in ("enabled", "disabled"):
        raise invalid(key, f"{status!r} is not one of ['enabled', 'disabled']")
    return status


def check_disabled_reason(body: dict[str, Any], key: str) -> str | None:
    reason: str | None = validation.string(body, key, min_len=1, max_len=255)
    return reason


class ServiceUpdate(NovaBody):
    """``PUT /os-services/{uuid}`` from 2.53: a status, a forced_down, or both."""

    wrapper = "body"

    status: Annotated[str | None, check_service_status] = None
    disabled_reason: Annotated[str | None, check_disabled_reason] = None
    forced_down: Annotated[bool | None, validation.Boolean()] = None

    @model_validator(mode="after")
    def _consistent(self) -> ServiceUpdate:
        if self.status is None and self.forced_down is None:
            raise errors.BadRequest("At least one of 'status' or 'forced_down' must be specified.")
        if self.disabled_reason is not None and self.status != "disabled":
            raise errors.BadRequest(
                "Specifying a disabled reason is not supported when the status is enabled."
            )
        return self


ServiceHost = Annotated[str, validation.String(required=True, min_len=1)]


def check_forced_down(body: dict[str, Any], key: str) -> bool:
    forced = validation.boolean(body, key)
    if forced is None:
        raise invalid("body", f"'{key}' is a required property")
    return forced


class ServiceForceDown(NovaBody):
    """The legacy ``PUT /os-services/force-down`` (2.11 to 2.52), of any binary."""

    wrapper = "body"
    open_ended = True  # the legacy actions ignore members they do not know

    host: ServiceHost
    binary: ServiceHost
    forced_down: Annotated[bool, check_forced_down]


def check_compute_binary(body: dict[str, Any], key: str) -> str:
    binary = str(validation.string(body, key, required=True, min_len=1))
    if binary != COMPUTE_BINARY:
        raise errors.BadRequest(
            f"Updating a {binary} service is not supported. Only nova-compute services can be "
            "updated."
        )
    return binary


class ServiceEnable(NovaBody):
    """The legacy ``PUT /os-services/enable`` and ``disable`` (before 2.53): compute's only."""

    wrapper = "body"
    open_ended = True

    host: ServiceHost
    binary: Annotated[str, check_compute_binary]


def check_reason_given(body: dict[str, Any], key: str) -> str:
    reason = check_disabled_reason(body, key)
    if reason is None:
        raise errors.BadRequest("Missing disabled reason field")
    return reason


class ServiceDisableLogReason(ServiceEnable):
    """The legacy ``PUT /os-services/disable-log-reason``: a disable with its reason."""

    disabled_reason: Annotated[str, check_reason_given]
