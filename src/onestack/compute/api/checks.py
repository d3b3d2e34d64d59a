"""Request-body checks the catalog resources share, with Nova's 400 wording."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any

from onestack.common import errors

_MISSING = object()


def invalid(field: str, reason: str) -> errors.ValidationError:
    return errors.ValidationError(field=field, reason=reason)


def as_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, f"{value!r} is not of type 'object'")
    return value


def only(body: dict[str, Any], allowed: tuple[str, ...], field: str) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        names = ", ".join(repr(k) for k in extra)
        raise invalid(field, f"Additional properties are not allowed ({names} was unexpected)")


def string(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    nullable: bool = False,
    min_len: int = 0,
    max_len: int = 255,
    pattern: str | None = None,
    strip_check: bool = False,
    printable: bool = True,
) -> Any:
    """A string member (or None when absent and not required)."""
    value = body.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(key, f"'{key}' is a required property")
        return None
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise invalid(key, f"{value!r} is not of type 'string'")
    if len(value) < min_len:
        raise invalid(key, f"{value!r} is too short")
    if len(value) > max_len:
        raise invalid(key, f"{value!r} is too long")
    if strip_check and value != value.strip():
        raise invalid(key, f"{value!r} has leading or trailing whitespace")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise invalid(key, f"{value!r} does not match {pattern!r}")
    if printable and any(not ch.isprintable() for ch in value):
        raise invalid(key, f"{value!r} has non-printable characters")
    return value


def integer(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    maximum: int = 2**31 - 1,
    default: int | None = None,
) -> int | None:
    """An integer member; digit strings count (Nova's schemas accept them)."""
    value = body.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(key, f"'{key}' is a required property")
        return default
    if isinstance(value, bool):
        raise invalid(key, f"{value!r} is not of type 'integer'")
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise invalid(key, f"{value!r} is not of type 'integer', 'string'")
    if minimum is not None and value < minimum:
        raise invalid(key, f"{value} is less than the minimum of {minimum}")
    if value > maximum:
        raise invalid(key, f"{value} is greater than the maximum of {maximum}")
    return value


_TRUE = ("true", "1", "yes", "on", "t", "y")
_FALSE = ("false", "0", "no", "off", "f", "n")


def boolean(body: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    value = body.get(key, _MISSING)
    if value is _MISSING:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise invalid(key, f"{value!r} is not of type 'boolean', 'string'")


def query_bool(value: str, name: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise errors.BadRequest(f"Invalid value '{value}' for {name}.")


def query_int(value: str, name: str, minimum: int = 0) -> int:
    try:
        n = int(value)
    except ValueError:
        raise errors.BadRequest(
            f"Invalid input for query parameters {name}. Value: {value}. "
            f"'{value}' is not of type 'integer'"
        ) from None
    if n < minimum:
        raise errors.BadRequest(
            f"Invalid input for query parameters {name}. Value: {value}. "
            f"{n} is less than the minimum of {minimum}"
        )
    return n


def nova_time(value: datetime | None) -> str | None:
    """Nova's timestamps: ISO 8601 with microseconds and no zone (UTC implied)."""
    if value is None:
        return None
    return value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")


def access_ip(body: dict[str, Any], key: str) -> str | None:
    """``accessIPv4`` / ``accessIPv6``: an address of that family, kept in its compressed
    form as Nova's IP column does; an empty string clears it."""
    value = body.get(key)
    if value is None or value == "":
        return None
    family = ipaddress.IPv4Address if key == "accessIPv4" else ipaddress.IPv6Address
    try:
        return str(family(value)) if isinstance(value, str) else str(family(""))
    except ValueError:
        fmt = "ipv4" if key == "accessIPv4" else "ipv6"
        raise invalid(key, f"{value!r} is not a {fmt!r}") from None


def disk_config(body: dict[str, Any]) -> str | None:
    """``OS-DCF:diskConfig``: AUTO or MANUAL, None when absent."""
    value = body.get("OS-DCF:diskConfig")
    if value is None:
        return None
    if value not in ("AUTO", "MANUAL"):
        raise invalid("OS-DCF:diskConfig", f"{value!r} is not one of ['AUTO', 'MANUAL']")
    return str(value)
