"""Request bodies of the block storage API (Cinder's JSON schemas as pydantic models)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from onestack.common import errors


def _size(value: Any) -> Any:
    """Cinder takes sizes as integers or strings of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool):
        raise ValueError("size must be an integer")
    return value


Size = Annotated[int, BeforeValidator(_size), Field(ge=1, le=2**31 - 1)]
Name = Annotated[str, Field(max_length=255)]
Metadata = dict[
    Annotated[str, Field(min_length=1, max_length=255)], Annotated[str, Field(max_length=255)]
]


class _Body(BaseModel):
    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(extra="ignore", defer_build=True)


class VolumeCreate(_Body):
    size: Size | None = None
    name: Name | None = None
    display_name: Name | None = None
    description: str | None = Field(None, max_length=255)
    display_description: str | None = Field(None, max_length=255)
    volume_type: str | None = None
    availability_zone: str | None = None
    metadata: Metadata | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    imageRef: str | None = None
    backup_id: str | None = None
    multiattach: bool | None = None
    consistencygroup_id: str | None = None
    group_id: str | None = None


class VolumeUpdate(_Body):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    display_name: Name | None = None
    description: str | None = Field(None, max_length=255)
    display_description: str | None = Field(None, max_length=255)
    metadata: Metadata | None = None


class MetadataBody(_Body):
    metadata: Metadata


class MetaItem(_Body):
    meta: Metadata


class Extend(_Body):
    new_size: Size


class TypeCreate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    description: str | None = Field(None, max_length=255)
    is_public: bool | None = None
    extra_specs: dict[Annotated[str, Field(min_length=1, max_length=255)], str] = Field(
        default_factory=dict
    )


class TypeUpdate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    description: str | None = Field(None, max_length=255)
    is_public: bool | None = None


class ExtraSpecs(_Body):
    extra_specs: dict[Annotated[str, Field(min_length=1, max_length=255)], Any]


# Bodies Cinder checks member by member, in its own words: each model's validator takes the
# whole document and words its refusals as Cinder does (no pydantic wording reaches a client).


def _required(field: str) -> errors.ValidationError:
    return errors.ValidationError(field=field, reason=f"'{field}' is required")


def _member(data: Any, key: str) -> Any:
    """The body's ``key`` member, or None when the body is no object or has none."""
    return data.get(key) if isinstance(data, dict) else None


class TransferCreate(_Body):
    """``{"transfer": {"volume_id", "name", "no_snapshots"}}``."""

    volume_id: str
    name: str | None = None
    no_snapshots: bool = False

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "transfer")
        if not isinstance(raw, dict) or not isinstance(raw.get("volume_id"), str):
            raise _required("volume_id")
        name = raw.get("name")
        return {
            "volume_id": raw["volume_id"],
            "name": name if isinstance(name, str) else None,
            "no_snapshots": bool(raw.get("no_snapshots", False)),
        }


class TransferAccept(_Body):
    """``{"accept": {"auth_key"}}``."""

    auth_key: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "accept")
        key = raw.get("auth_key") if isinstance(raw, dict) else None
        if not isinstance(key, str):
            raise _required("auth_key")
        return {"auth_key": key}


class AttachmentCreate(_Body):
    """``{"attachment": {"volume_id", "instance_uuid", "connector", "mode"}}``; ``mode`` is
    checked by the handler, which knows the microversion (3.54) and has found the volume."""

    volume_id: str
    instance_uuid: Any = None
    connector: dict[str, Any] | None = None
    mode: Any = "rw"

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "attachment")
        if not isinstance(raw, dict) or not isinstance(raw.get("volume_id"), str):
            raise _required("volume_id")
        connector = raw.get("connector")
        return {
            "volume_id": raw["volume_id"],
            "instance_uuid": raw.get("instance_uuid"),
            "connector": connector if isinstance(connector, dict) else None,
            "mode": raw.get("mode", "rw"),
        }


class AttachmentUpdate(_Body):
    """``{"attachment": {"connector"}}``."""

    connector: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "attachment")
        connector = raw.get("connector") if isinstance(raw, dict) else None
        if not isinstance(connector, dict):
            raise _required("connector")
        return {"connector": connector}


class AttachmentComplete(_Body):
    """``{"os-complete": ...}``, the one attachment action."""

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        if not isinstance(data, dict) or list(data) != ["os-complete"]:
            raise errors.BadRequest("The only attachment action is os-complete.")
        return {}


class QuotaSetUpdate(_Body):
    """``{"quota_set": {resource: limit}}``; the ids Cinder's clients echo back are ignored."""

    values: dict[str, int]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "quota_set")
        if not isinstance(raw, dict):
            raise errors.ValidationError(
                field="quota_set", reason="'quota_set' is a required property"
            )
        values: dict[str, int] = {}
        for key, value in raw.items():
            if key in ("tenant_id", "id"):
                continue
            try:
                values[key] = int(value)
            except (TypeError, ValueError):
                raise errors.BadRequest(f"Quota {key} must be an integer, got {value!r}.") from None
        return {"values": values}


class QuotaClassSetUpdate(_Body):
    """``{"quota_class_set": {resource: limit}}``."""

    values: dict[str, int]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "quota_class_set")
        if not isinstance(raw, dict):
            raise errors.ValidationError(
                field="quota_class_set", reason="'quota_class_set' is a required property"
            )
        try:
            values = {str(k): int(v) for k, v in raw.items() if k not in ("id", "class_name")}
        except (TypeError, ValueError):
            raise errors.BadRequest("Quota class values must be integers.") from None
        return {"values": values}
