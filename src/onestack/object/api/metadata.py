"""Swift's limits (``swift.common.constraints``) and which request headers are stored as
metadata of an account, container or object, and how they come back."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Iterable

from onestack.object import errors
from onestack.object.drivers.base import ObjectInfo

MAX_FILE_SIZE = 5 * 1024**3 + 2
MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_COUNT = 90
MAX_META_OVERALL_SIZE = 4096
MAX_HEADER_SIZE = 8192
MAX_OBJECT_NAME_LENGTH = 1024
CONTAINER_LISTING_LIMIT = 10000
ACCOUNT_LISTING_LIMIT = 10000
MAX_ACCOUNT_NAME_LENGTH = 256
MAX_CONTAINER_NAME_LENGTH = 256
POLICY = "Policy-0"

# Object headers kept with the object besides X-Object-Meta-* (Swift's allowed headers).
OBJECT_HEADERS = (
    "content-disposition",
    "content-encoding",
    "x-delete-at",
    "x-object-manifest",
    "x-static-large-object",
    "cache-control",
    "content-language",
    "expires",
    "x-robots-tag",
)
# Container headers kept besides X-Container-Meta-* (the ACLs, versioning, sync).
CONTAINER_HEADERS = (
    "x-container-read",
    "x-container-write",
    "x-versions-location",
    "x-history-location",
)
# Shown only to the account's owner (keystoneauth's swift_owner headers).
OWNER_ONLY = (
    "x-container-read",
    "x-container-write",
    "x-container-meta-temp-url-key",
    "x-container-meta-temp-url-key-2",
    "x-account-meta-temp-url-key",
    "x-account-meta-temp-url-key-2",
)
SYNC_HEADERS = ("x-container-sync-to", "x-container-sync-key")


def check_metadata(headers: dict[str, str], kind: str) -> None:
    """Swift's ``check_metadata``: 400 with its reason when the user metadata is too much."""
    prefix = f"x-{kind}-meta-"
    count = 0
    size = 0
    for key, value in headers.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if not name:
            raise errors.BadRequest("Metadata name cannot be empty")
        if kind == "object" and len(value.encode("latin-1", "replace")) > MAX_HEADER_SIZE:
            raise errors.BadRequest("Header value too long")
        count += 1
        size += len(name) + len(value)
        if len(name) > MAX_META_NAME_LENGTH:
            raise errors.BadRequest(
                f"Metadata name too long: {prefix}{name}; max {MAX_META_NAME_LENGTH}"
            )
        if len(value) > MAX_META_VALUE_LENGTH:
            raise errors.BadRequest(
                f"Metadata value longer than {MAX_META_VALUE_LENGTH}: {prefix}{name}"
            )
        if count > MAX_META_COUNT:
            raise errors.BadRequest(f"Too many metadata items; max {MAX_META_COUNT}")
        if size > MAX_META_OVERALL_SIZE:
            raise errors.BadRequest(f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")


def meta_changes(headers: dict[str, str], kind: str, extra: Iterable[str] = ()) -> dict[str, str]:
    """The metadata a PUT or POST of an account or container sets (values) or removes
    (``X-Remove-<Kind>-Meta-Foo``, or an empty value: empty strings)."""
    prefix = f"x-{kind}-meta-"
    remove_prefix = f"x-remove-{kind}-meta-"
    wanted = set(extra)
    changes: dict[str, str] = {}
    for key, value in headers.items():
        if key.startswith(prefix) or key in wanted:
            changes[key] = value.strip()
    for key in headers:
        if key.startswith(remove_prefix):
            changes[prefix + key[len(remove_prefix) :]] = ""
        elif key.startswith("x-remove-") and "x-" + key[len("x-remove-") :] in wanted:
            changes["x-" + key[len("x-remove-") :]] = ""
    return changes


def object_metadata(headers: dict[str, str]) -> dict[str, str]:
    """What a PUT or POST stores with an object: all of its X-Object-Meta-* (a POST
    replaces them all) and the allowed headers."""
    kept: dict[str, str] = {}
    for key, value in headers.items():
        if key.startswith("x-object-meta-"):
            kept[key] = value  # an empty value is kept, as Swift keeps it
        elif key in OBJECT_HEADERS and value != "":
            kept[key] = value
    for key in headers:
        if key.startswith("x-remove-object-meta-"):
            kept.pop("x-object-meta-" + key[len("x-remove-object-meta-") :], None)
    return kept


# Swift's normalize_delete_at_timestamp: later times are this one (ten digits).
LAST_DELETE_AT = 9999999999


def delete_at(headers: dict[str, str], now: float) -> str | None:
    """X-Delete-At (or X-Delete-After from now) as Swift validates them; None when neither."""
    after = headers.get("x-delete-after")
    at = headers.get("x-delete-at")
    if after is not None:
        try:
            seconds = int(after)
        except ValueError:
            raise errors.BadRequest("Non-integer X-Delete-After") from None
        if seconds <= 0:
            raise errors.BadRequest("X-Delete-After in past")
        return str(min(int(now + seconds), LAST_DELETE_AT))
    if at is not None:
        try:
            when = int(float(at))
        except (ValueError, OverflowError):  # OverflowError: an infinity ("1e999")
            raise errors.BadRequest("Non-integer X-Delete-At") from None
        if when <= time.time():
            raise errors.BadRequest("X-Delete-At in past")
        return str(min(when, LAST_DELETE_AT))
    return None


def content_type(headers: dict[str, str], name: str) -> str:
    """The Content-Type to store: given, or guessed from the name when absent or when
    ``X-Detect-Content-Type`` asks."""
    given = headers.get("content-type", "")
    detect = headers.get("x-detect-content-type", "").lower() in ("true", "1", "yes", "on")
    if given and not detect:
        # Swift drops the swift_bytes parameter clients must not set.
        return given.split(";swift_bytes=")[0]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def title(key: str) -> str:
    """``x-object-meta-color`` -> ``X-Object-Meta-Color`` (Swift's header case)."""
    return "-".join(part[:1].upper() + part[1:] for part in key.split("-"))


def response_headers(
    metadata: dict[str, str], owner: bool, hide: Iterable[str] = ()
) -> list[tuple[str, str]]:
    hidden = set(hide)
    return [
        (title(k), v)
        for k, v in metadata.items()
        if k not in hidden and (owner or k not in OWNER_ONLY) and "-sysmeta-" not in k
    ]


def check_object_name(name: str) -> None:
    length = len(name.encode("utf-8"))
    if length > MAX_OBJECT_NAME_LENGTH:
        raise errors.BadRequest(
            f"Object name length of {length} longer than {MAX_OBJECT_NAME_LENGTH}"
        )


def check_container_name(name: str, raw: str) -> None:
    if "/" in name or "%2f" in raw.lower():
        raise errors.BadRequest("Container name cannot contain slashes")
    length = len(name.encode("utf-8"))
    if length > MAX_CONTAINER_NAME_LENGTH:
        raise errors.BadRequest(
            f"Container name length of {length} longer than {MAX_CONTAINER_NAME_LENGTH}"
        )


def expired(info: ObjectInfo, now: float | None = None) -> bool:
    at = info.metadata.get("x-delete-at")
    if not at:
        return False
    return float(at) <= (now if now is not None else time.time())


def put_metadata(headers: dict[str, str], now: float) -> dict[str, str]:
    """What a PUT or POST stores with the object, validated."""
    check_metadata(headers, "object")
    metadata = object_metadata(headers)
    metadata.pop("x-static-large-object", None)  # only the SLO code sets it
    at = delete_at(headers, now)
    if at is not None:
        metadata["x-delete-at"] = at
    manifest = metadata.get("x-object-manifest")
    if manifest is not None and "/" not in manifest.lstrip("/"):
        raise errors.BadRequest("X-Object-Manifest must be in the format container/prefix")
    return metadata
