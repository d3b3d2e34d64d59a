"""How a compute request body is declared (``compute.schemas`` declares them): ``NovaBody``
and the member checks, with Nova's wording, as ``nova.api.validation`` is to Nova's schemas.

Nova validates bodies with jsonschema, and its 400s quote jsonschema's reasons (``'x' is too
long``, ``Additional properties are not allowed``) for the member at fault; Tempest and the
clients compare them, and pydantic's own messages differ. So each member of a ``NovaBody`` is
declared with a check that words its failure as Nova does. The checks run in declaration order,
as jsonschema walks Nova's schema, and raise the API's ``errors.ValidationError``, which
pydantic passes through unchanged (it converts only ``ValueError`` and its own errors).

The member checks (``string``, ``integer``, ...) are also what the declared members' own
checks build on (``server_members``, ``block_device_members``, the ``*_schemas`` modules).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from onestack.common import errors
from onestack.common.microversion import APIVersion

_MISSING = object()
TRUE_WORDS = ("true", "1", "yes", "on", "t", "y")
FALSE_WORDS = ("false", "0", "no", "off", "f", "n")

# --- Nova's wording, member by member ------------------------------------------------------


def invalid(field: str, reason: str) -> errors.ValidationError:
    return errors.ValidationError(field=field, reason=reason)


def as_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, f"{value!r} is not of type 'object'")
    return value


def only(
    body: dict[str, Any], allowed: tuple[str, ...], field: str, *, first: bool = False
) -> None:
    """Refuse members not ``allowed``, naming them all (or the ``first`` in sorted order)."""
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        names = ", ".join(repr(k) for k in (extra[:1] if first else extra))
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


def boolean(body: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    value = body.get(key, _MISSING)
    if value is _MISSING:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*TRUE_WORDS, *FALSE_WORDS):
        return value.lower() in TRUE_WORDS
    raise invalid(key, f"{value!r} is not of type 'boolean', 'string'")


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


def uuid_of(value: Any, field: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise invalid(field, f"{value!r} is not a 'uuid'") from None


# --- declaring a body ----------------------------------------------------------------------

Check = Callable[[dict[str, Any], str], Any]  # (the body, the member's key) -> its value

ABSENT: Any = object()  # a check's answer for a member the request does not take: left out
BASE_VERSION = APIVersion(2, 1)


def ignored(body: dict[str, Any], key: str) -> Any:
    """A member the request's microversion does not know yet, ignored as Nova ignored it."""
    return ABSENT


@dataclass(frozen=True)
class Since:
    """A member whose check changes at microversion 2.``minor``: ``check`` from then on,
    ``before`` until then (ignored by default). Validation's context names the request's
    version (``{"version": APIVersion}``), as ``helpers.valid_body`` passes it."""

    minor: int
    check: Check | Since
    before: Check | Since = ignored

    def at(self, version: APIVersion) -> Check:
        chosen = self.check if version >= APIVersion(2, self.minor) else self.before
        return chosen.at(version) if isinstance(chosen, Since) else chosen


@dataclass(frozen=True)
class String:
    required: bool = False
    nullable: bool = False
    min_len: int = 0
    max_len: int = 255
    pattern: str | None = None
    strip_check: bool = False
    printable: bool = True

    def __call__(self, body: dict[str, Any], key: str) -> Any:
        return string(
            body,
            key,
            required=self.required,
            nullable=self.nullable,
            min_len=self.min_len,
            max_len=self.max_len,
            pattern=self.pattern,
            strip_check=self.strip_check,
            printable=self.printable,
        )


@dataclass(frozen=True)
class Integer:
    required: bool = False
    minimum: int | None = None
    maximum: int = 2**31 - 1
    default: int | None = None

    def __call__(self, body: dict[str, Any], key: str) -> Any:
        return integer(
            body,
            key,
            required=self.required,
            minimum=self.minimum,
            maximum=self.maximum,
            default=self.default,
        )


@dataclass(frozen=True)
class Boolean:
    default: bool | None = None

    def __call__(self, body: dict[str, Any], key: str) -> Any:
        return boolean(body, key, self.default)


class NovaBody(BaseModel):
    """A body Nova wraps in one key (``{"flavor": {...}}``); its fields are its members, each
    ``Annotated`` with its check (a ``String``, ``Integer``, ``Boolean`` or a function of the
    body and the key). A member absent from the request is left out of
    ``model_fields_set``, for updates that tell "not given" from "set to null"."""

    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(frozen=True, defer_build=True)

    wrapper: ClassVar[str]  # the key around the body; errors about the body as a whole name it
    accepts: ClassVar[tuple[str, ...] | None] = None  # the members a request may send (all)
    min_members: ClassVar[int] = 0  # jsonschema's minProperties
    # members (leading, in declaration order) checked before unexpected members are refused
    before_extras: ClassVar[tuple[str, ...]] = ()
    name_first_unexpected: ClassVar[bool] = False  # name one unexpected member, not all
    open_ended: ClassVar[bool] = False  # members not declared are ignored, not refused

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        """The body as an object (the words for one that is not are the body's own), for the
        request's microversion."""
        return as_object(data, cls.wrapper)

    @classmethod
    def members(cls) -> list[tuple[str, Check | Since]]:
        """Each member's key and check, in declaration order."""
        out: list[tuple[str, Check | Since]] = []
        for name, field in cls.model_fields.items():
            checks = [m for m in field.metadata if callable(m) or isinstance(m, Since)]
            if len(checks) != 1:
                raise TypeError(f"{cls.__name__}.{name} needs one check in its Annotated[]")
            out.append((field.alias or name, checks[0]))
        return out

    @model_validator(mode="before")
    @classmethod
    def _check_as_nova_does(cls, data: Any, info: ValidationInfo) -> dict[str, Any]:
        version = (info.context or {}).get("version", BASE_VERSION)
        body = cls.envelope(data, version)
        members = cls.members()
        accepts = cls.accepts if cls.accepts is not None else tuple(k for k, _ in members)
        out: dict[str, Any] = {}

        def check(key: str, member: Check | Since) -> None:
            if isinstance(member, Since):
                member = member.at(version)
            value = member(body, key)  # also for an absent member: it may be required
            if value is not ABSENT and (key in body or value is not None):
                out[key] = value

        for key, member in members:
            if key in cls.before_extras:
                check(key, member)
        if not cls.open_ended:
            only(body, accepts, cls.wrapper, first=cls.name_first_unexpected)
        if len(body) < cls.min_members:
            raise invalid(cls.wrapper, f"{body!r} does not have enough properties")
        for key, member in members:
            if key not in cls.before_extras:
                check(key, member)
        return out


class OneMember(NovaBody):
    """A body whose key holds its one member itself (a metadata object, a tag list) rather
    than an object of members: the member is checked under the key's name."""

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        return {cls.wrapper: data}
