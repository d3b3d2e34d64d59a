"""A server's request bodies, declared as ``validation.NovaBody`` models (``compute.schemas``
holds the other resources'): the actions on ``POST /servers/{id}/action``, and the member
checks that create, update, rebuild and the actions share. Each keeps the words its handler
has always answered with; a member whose check changes with the microversion is a
``validation.Since``. Nothing here looks anything up."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onestack.common import errors
from onestack.common.http import INT_RANGE
from onestack.compute import validation
from onestack.compute.validation import ABSENT, Check, NovaBody, Since, as_object, invalid

USER_DATA_MAX = 65535
COUNT_MAX = 2**31 - 1  # Nova's integer column; the configured max_count cuts it further
METADATA_MAX_ITEMS = 1000  # whatever the quota says: one request writes a bounded number

# --- the members servers share ---------------------------------------------------------------


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


def personality_files(files: Any) -> list[dict[str, str]]:
    """Injected files (before 2.57): ``[{"path", "contents" (base64)}]``, kept as given for
    the metadata service and config drive (the service layer checks them against quotas)."""
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


# --- member checks (body, key) -> value -------------------------------------------------------


def given(check: Callable[[dict[str, Any], str], Any]) -> Check:
    """``check`` for a member the request sends; an absent one is left out."""

    def member(body: dict[str, Any], key: str) -> Any:
        return check(body, key) if key in body else ABSENT

    return member


def raw(body: dict[str, Any], key: str) -> Any:
    """A member taken as sent (the service layer or the answer makes of it what it is)."""
    return body.get(key, ABSENT)


def required(field: str, check: Check = raw) -> Check:
    """A member refused under ``field`` (the action's name) when absent."""

    def member(body: dict[str, Any], key: str) -> Any:
        if key not in body:
            raise invalid(field, f"'{key}' is a required property")
        return check(body, key)

    return member


def hostname_of(max_len: int) -> Check:
    return given(lambda body, key: string(body, key, max_len))


def personality_member(body: dict[str, Any], key: str) -> Any:
    return personality_files(body[key]) if key in body else ABSENT


def no_personality(body: dict[str, Any], key: str) -> Any:
    if key in body:
        raise unexpected(key)  # gone in 2.57, refused under the server as Nova's create does
    return ABSENT


def check_disk_config(body: dict[str, Any], key: str) -> str | None:
    return validation.disk_config(body)


def check_access_ip(body: dict[str, Any], key: str) -> Any:
    return validation.access_ip(body, key) if key in body else ABSENT


def metadata_member(body: dict[str, Any], key: str) -> Any:
    return metadata(body[key]) if key in body else ABSENT


# --- the actions ------------------------------------------------------------------------------


class ActionBody(NovaBody):
    """An action's member: anything but an object counts as an empty one, and members not
    declared are ignored (the actions never refused them)."""

    open_ended = True

    @classmethod
    def envelope(cls, data: Any) -> dict[str, Any]:
        return data if isinstance(data, dict) else {}


def one_of(field: str, choices: tuple[str, ...], shown: tuple[str, ...] | None = None) -> Check:
    def check(body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        if value not in choices:
            raise invalid(field, f"{value!r} is not one of {list(shown or choices)!r}")
        return str(value)

    return check


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
    def envelope(cls, data: Any) -> dict[str, Any]:
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
    def envelope(cls, data: Any) -> dict[str, Any]:
        if data is not None and not isinstance(data, dict):
            raise invalid(cls.wrapper, f"{data!r} is not of type 'object', 'null'")
        return data or {}


class TriggerCrashDump(NovaBody):
    """Null, nothing else (2.17)."""

    wrapper = "trigger_crash_dump"

    @classmethod
    def envelope(cls, data: Any) -> dict[str, Any]:
        if data is not None:
            raise invalid(cls.wrapper, f"{data!r} is not of type 'null'")
        return {}


class Unshelve(ActionBody):
    """Null or an object, whose members are not used (shelved servers stay on this host)."""

    wrapper = "unshelve"

    @classmethod
    def envelope(cls, data: Any) -> dict[str, Any]:
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
    def envelope(cls, data: Any) -> dict[str, Any]:
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
