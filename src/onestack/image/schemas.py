"""Request bodies of the image API and the rules on image attributes (Glance's schema)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onestack.common import errors
from onestack.common.http import validate
from onestack.image.formats import CONTAINER_FORMATS, DISK_FORMATS

VISIBILITIES = ("public", "private", "shared", "community")
STATUSES = (
    "queued",
    "saving",
    "uploading",
    "importing",
    "active",
    "deactivated",
    "killed",
    "deleted",
    "pending_delete",
)
MEMBER_STATUSES = ("pending", "accepted", "rejected")

# Attributes Glance computes: a client may read them, never set them.
READ_ONLY = frozenset(
    {
        "checksum",
        "created_at",
        "direct_url",
        "file",
        "os_hash_algo",
        "os_hash_value",
        "schema",
        "self",
        "size",
        "status",
        "stores",
        "updated_at",
        "virtual_size",
    }
)
RESERVED = frozenset({"deleted", "deleted_at", "location", "locations"})
RESERVED_PREFIX = "os_glance"
# Attributes with a column of their own; everything else is a free-form property.
CORE = frozenset(
    {
        "id",
        "name",
        "visibility",
        "protected",
        "os_hidden",
        "owner",
        "container_format",
        "disk_format",
        "min_disk",
        "min_ram",
        "tags",
    }
)
MAX_PROPERTY_VALUE = 65535


def check_settable(name: str, creating: bool = False) -> None:
    """403 for attributes a user may not set, as Glance does."""
    if name in READ_ONLY or (name == "id" and not creating):
        raise errors.Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise errors.Forbidden(f"Attribute '{name}' is reserved.")


class CoreFields(BaseModel):
    """The typed attributes, as a create body or one patch value checks them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str | None = None
    name: str | None = Field(None, max_length=255)
    visibility: Literal["public", "private", "shared", "community"] | None = None
    protected: bool | None = None
    os_hidden: bool | None = None
    owner: str | None = Field(None, max_length=255)
    container_format: Literal[CONTAINER_FORMATS] | None = None  # type: ignore[valid-type]
    disk_format: Literal[DISK_FORMATS] | None = None  # type: ignore[valid-type]
    min_disk: int | None = Field(None, ge=0, le=2**31 - 1)
    min_ram: int | None = Field(None, ge=0, le=2**31 - 1)
    tags: list[str] | None = None


def check_property(name: str, value: Any) -> str:
    if not name or len(name) > 255:
        raise errors.BadRequest(f"Invalid property name {name!r}: 1 to 255 characters.")
    if not isinstance(value, str):
        raise errors.BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not of type "
            f"'string' (property {name!r})."
        )
    if len(value) > MAX_PROPERTY_VALUE:
        raise errors.BadRequest(f"Property {name!r} is longer than {MAX_PROPERTY_VALUE}.")
    return value


def check_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > 255:
            raise errors.BadRequest(f"Invalid tag {tag!r}: a string of 1 to 255 characters.")
        if tag not in out:
            out.append(tag)
    return out


def check_core(name: str, value: Any) -> Any:
    """One core attribute's value, checked like Glance's schema (400 when wrong)."""
    if name == "tags":
        if not isinstance(value, list):
            raise errors.BadRequest("Invalid value for 'tags': an array of strings is required.")
        return check_tags(value)
    if name in ("name", "owner", "container_format", "disk_format") and value is None:
        return None
    checked = validate(CoreFields, {name: value})
    result = getattr(checked, name)
    if name == "id" and result is not None:
        try:
            return str(uuid.UUID(result))
        except ValueError:
            raise errors.BadRequest(f"Invalid image id {result!r}: not a UUID.") from None
    if result is None and name not in ("name", "owner", "container_format", "disk_format"):
        raise errors.BadRequest(f"Invalid value for '{name}': it cannot be null.")
    return result


def parse_create(body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A create body → (core attributes, properties); 403 for read-only or reserved ones."""
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object.")
    core: dict[str, Any] = {}
    props: dict[str, str] = {}
    for name, value in body.items():
        check_settable(name, creating=True)
        if name in CORE:
            core[name] = check_core(name, value)
        else:
            props[name] = check_property(name, value)
    return core, props


class ImageCreate(BaseModel):
    """``POST /v2/images``: its core attributes and its properties, each checked as Glance
    does (``parse_create``: 403 for a read-only or reserved one, 400 for a bad value)."""

    core: dict[str, Any]
    props: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def glance_words(cls, data: Any) -> Any:
        core, props = parse_create(data)
        return {"core": core, "props": props}


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    member: str = Field(min_length=1, max_length=255)


class MemberUpdate(BaseModel):
    # openstacksdk sends the member id back beside the status.
    model_config = ConfigDict(extra="ignore", strict=True)
    status: Literal["pending", "accepted", "rejected"]


class ImportMethod(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    uri: str | None = None


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    method: ImportMethod
    stores: list[str] | None = None
    all_stores: bool | None = None
    all_stores_must_succeed: bool | None = None


# The task types Glance's task schema names (glance/api/v2/tasks.py ``_TASK_SCHEMA``).
TASK_SCHEMA_TYPES = ("import", "api_image_import", "location_import")


class TaskCreate(BaseModel):
    """A task's create body, refused in Glance's words (its task deserializer)."""

    type: str
    input: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def glance_words(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise errors.BadRequest("The request body must be a JSON object.")
        for key in ("type", "input"):
            if key not in data:
                raise errors.BadRequest(f"Task '{key}' is required")
        extra = set(data) - {"type", "input"}
        if extra:
            raise errors.BadRequest(f"Additional properties are not allowed: {sorted(extra)}")
        if data["type"] not in TASK_SCHEMA_TYPES or not isinstance(data["input"], dict):
            raise errors.BadRequest(f"Invalid type value: {data['type']}")
        return data
