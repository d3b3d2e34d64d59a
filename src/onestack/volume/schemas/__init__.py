"""Request bodies of the block storage API (Cinder's JSON schemas as pydantic models)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from onestack.common import errors

MISMATCH = "Request body and URI mismatch"


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
    """``{"meta": {key: value}}``: one item, the one the URL names (the context's ``key``)."""

    meta: Metadata

    @model_validator(mode="before")
    @classmethod
    def an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise errors.BadRequest(MISMATCH)
        return data

    @model_validator(mode="after")
    def the_urls_key(self, info: ValidationInfo) -> MetaItem:
        if list(self.meta) != [(info.context or {}).get("key")]:
            raise errors.BadRequest(MISMATCH)
        return self


class SnapshotCreate(_Body):
    volume_id: str | None = None  # missing: Cinder's 404 for the volume None
    name: str | None = Field(None, max_length=255)
    display_name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=255)
    display_description: str | None = Field(None, max_length=255)
    force: bool | str = False
    metadata: Metadata | None = None


class SnapshotUpdate(_Body):
    name: str | None = Field(None, max_length=255)
    display_name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=255)
    display_description: str | None = Field(None, max_length=255)


class SnapshotMetaItem(_Body):
    """``{"meta": {key: value}}`` of a snapshot, its key the URL's (the context's ``key``)."""

    meta: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any, info: ValidationInfo) -> Any:
        meta = data.get("meta") if isinstance(data, dict) else None
        if not isinstance(meta, dict) or list(meta) != [(info.context or {}).get("key")]:
            raise errors.BadRequest(MISMATCH)
        return {"meta": meta}


class Extend(_Body):
    new_size: Size


class TypeCreate(_Body):
    """``{"volume_type": {...}}``'s member; ``public_access`` is the access extension's
    ``is_public``, which wins when sent (as sent: set or not, ``model_fields_set`` says)."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    description: str | None = Field(None, max_length=255)
    is_public: bool | None = None
    public_access: Any = Field(None, alias="os-volume-type-access:is_public")
    extra_specs: dict[Annotated[str, Field(min_length=1, max_length=255)], str] = Field(
        default_factory=dict
    )

    @model_validator(mode="before")
    @classmethod
    def an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise errors.ValidationError(
                field="volume_type", reason="'volume_type' is a required property"
            )
        return data


class ExtraSpecValue(_Body):
    """``{key: value}`` for one extra spec, its key the URL's (the context's ``key``)."""

    value: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any, info: ValidationInfo) -> Any:
        key = (info.context or {}).get("key")
        if not isinstance(data, dict) or len(data) != 1 or key not in data:
            raise errors.BadRequest(MISMATCH)
        return {"value": str(data[key])}


class ProjectAccess(_Body):
    """``addProjectAccess``'s or ``removeProjectAccess``'s ``{"project"}``."""

    project: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        project = data.get("project") if isinstance(data, dict) else None
        if not isinstance(project, str) or not project:
            raise errors.ValidationError(field="project", reason="'project' is a required property")
        return {"project": project}


class DefaultTypeSet(_Body):
    """``{"default_type": {"volume_type"}}`` (3.62)."""

    volume_type: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "default_type")
        ref = raw.get("volume_type") if isinstance(raw, dict) else None
        if not isinstance(ref, str) or not ref:
            raise _required("volume_type")
        return {"volume_type": ref}


class QosCreate(_Body):
    """``{"qos_specs": {"name", "consumer", spec: value...}}``."""

    name: str
    consumer: str
    specs: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = dict(_qos_specs(data))
        name = raw.pop("name", None)
        if not isinstance(name, str) or not name.strip():
            raise _required("name")
        consumer = str(raw.pop("consumer", "back-end"))
        return {"name": name.strip(), "consumer": consumer, "specs": _strings(raw)}


class QosUpdate(_Body):
    """``{"qos_specs": {spec: value...}}``."""

    specs: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        return {"specs": _strings(_qos_specs(data))}


def _qos_specs(data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = _object(data, "qos_specs", "'{key}' is required")
    return raw


def _strings(specs: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in specs.items()}


class QosKeys(_Body):
    """``{"keys": [spec...]}`` to delete from a QoS spec."""

    keys: list[str]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        keys = _member(data, "keys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise errors.ValidationError(field="keys", reason="'keys' is a list of strings")
        return {"keys": keys}


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


def _object(data: Any, key: str, reason: str = "'{key}' is a required property") -> Any:
    """The body's ``key`` member, which must be an object: else a 400 naming ``key``."""
    raw = _member(data, key)
    if not isinstance(raw, dict):
        raise errors.ValidationError(field=key, reason=reason.format(key=key))
    return raw


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
        raw = _object(data, "quota_set")
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
        raw = _object(data, "quota_class_set")
        try:
            values = {str(k): int(v) for k, v in raw.items() if k not in ("id", "class_name")}
        except (TypeError, ValueError):
            raise errors.BadRequest("Quota class values must be integers.") from None
        return {"values": values}


class BackupCreate(_Body):
    """``{"backup": {...}}``: the volume named, no snapshot; the rest as sent (metadata is the
    handler's from 3.43)."""

    volume_id: str
    name: Any = None
    description: Any = None
    incremental: bool = False
    force: bool = False
    metadata: Any = None

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "backup")
        if not isinstance(raw, dict) or not isinstance(raw.get("volume_id"), str):
            raise _required("volume_id")
        if raw.get("snapshot_id"):
            raise errors.BadRequest("Backups of snapshots are not supported.")
        return {
            "volume_id": raw["volume_id"],
            "name": raw.get("name"),
            "description": raw.get("description"),
            "incremental": bool(raw.get("incremental", False)),
            "force": bool(raw.get("force", False)),
            "metadata": raw.get("metadata"),
        }


class BackupUpdate(_Body):
    """``{"backup": {"name", "description", "metadata"}}`` (3.9; metadata from 3.43, which
    the validation context's ``metadata`` says) as the changes to make."""

    changes: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any, info: ValidationInfo) -> Any:
        raw = _member(data, "backup")
        allowed = {"name", "description"} | (
            {"metadata"} if (info.context or {}).get("metadata") else set()
        )
        if not isinstance(raw, dict) or not raw or set(raw) - allowed:
            raise errors.ValidationError(
                field="backup", reason=f"only {sorted(allowed)} may change"
            )
        changes: dict[str, Any] = {}
        for key in ("name", "description"):
            if key in raw:
                if raw[key] is not None and (not isinstance(raw[key], str) or len(raw[key]) > 255):
                    raise errors.ValidationError(
                        field=key, reason="must be a string of 255 or fewer"
                    )
                changes[key] = raw[key]
        if "metadata" in raw:
            meta = raw["metadata"]
            if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
                raise errors.ValidationError(field="metadata", reason="must map strings to strings")
            changes["meta"] = dict(meta)
        return {"changes": changes}


class BackupRestore(_Body):
    """``{"restore": {"volume_id", "name"}}``: into a volume, or a new one (named ``name``)."""

    volume_id: Any = None
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _object(data, "restore", "'{key}' is required")
        name = raw.get("name")
        return {"volume_id": raw.get("volume_id"), "name": name if isinstance(name, str) else None}


class OneAction(_Body):
    """``{name: arguments}``, one action on a backup, snapshot or type (which one is the
    handler's to know)."""

    name: str
    args: Any = None

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        if not isinstance(data, dict) or len(data) != 1:
            raise errors.BadRequest("The body must name one action.")
        ((name, args),) = data.items()
        return {"name": name, "args": args}


class BackupRecord(_Body):
    """``{"backup-record": {"backup_service", "backup_url"}}``."""

    backup_service: str
    backup_url: str

    @model_validator(mode="before")
    @classmethod
    def cinder_words(cls, data: Any) -> Any:
        raw = _member(data, "backup-record")
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), str) for k in ("backup_service", "backup_url")
        ):
            raise errors.ValidationError(
                field="backup-record", reason="'backup_service' and 'backup_url' are required"
            )
        return {"backup_service": raw["backup_service"], "backup_url": raw["backup_url"]}


class ServiceUpdate(_Body):
    """``PUT /os-services/{action}``'s ``{"host", "binary", "disabled_reason"}``, as sent:
    which of them an action needs, and the hosts known, the handler checks."""

    host: Any = None
    binary: Any = None
    disabled_reason: Any = None

    @model_validator(mode="before")
    @classmethod
    def as_sent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {}
        return {
            "host": data.get("host"),
            "binary": data.get("binary", "cinder-volume"),
            "disabled_reason": data.get("disabled_reason"),
        }
