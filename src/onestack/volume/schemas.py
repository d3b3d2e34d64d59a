"""Request bodies of the block storage API (Cinder's JSON schemas as pydantic models)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


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
