"""The members a server's bodies share (create, update, rebuild, the actions, its metadata and
tags), each checked
with the words its handler has always answered with: the checks ``server_schemas`` declares
its models with (a ``validation.Check``: the body and the member's key to its value)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from onestack.common import errors
from onestack.compute import validation
from onestack.compute.validation import ABSENT, Check, as_object, invalid

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


def one_of(field: str, choices: tuple[str, ...], shown: tuple[str, ...] | None = None) -> Check:
    def check(body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        if value not in choices:
            raise invalid(field, f"{value!r} is not one of {list(shown or choices)!r}")
        return str(value)

    return check


# --- a server's own metadata and tags (``/servers/{id}/metadata``, ``/servers/{id}/tags``) ---

# Nova's metadata keys here: 1-255 of these characters (a server create's are any 1-255).
METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def check_metadata(body: dict[str, Any], key: str) -> dict[str, str]:
    """The metadata of a server's metadata requests: at most ``METADATA_MAX_ITEMS`` keys of
    ``METADATA_KEY``, each value a string of at most 255."""
    value = as_object(body.get(key), key)
    if len(value) > METADATA_MAX_ITEMS:
        raise invalid(key, f"more than {METADATA_MAX_ITEMS} properties")
    for name, item in value.items():
        if not METADATA_KEY.match(name):
            raise invalid(key, f"Additional properties are not allowed ({name!r} was unexpected)")
        if not isinstance(item, str):
            raise invalid(f"{key}.{name}", f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise invalid(f"{key}.{name}", f"{item!r} is too long")
    return dict(value)


def tag(value: Any, field: str) -> str:
    """One tag (2.26): 1-60 characters, neither ``/`` nor ``,``."""
    if not isinstance(value, str):
        raise invalid(field, f"{value!r} is not of type 'string'")
    if not value:
        raise invalid(field, f"{value!r} is too short")
    if len(value) > 60:
        raise invalid(field, f"{value!r} is too long")
    if "/" in value or "," in value:
        raise invalid(field, f"{value!r} does not match '^[^,/]*$'")
    return value


def check_tags(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list):
        raise invalid(key, f"{value!r} is not of type 'array'")
    return [tag(item, key) for item in value]
