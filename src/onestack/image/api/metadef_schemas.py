"""The metadefs' JSON schemas (``GET /v2/schemas/metadefs/*``), as Glance builds them
(``glance/api/v2/metadef_*.py`` and ``glance/schema.py``'s Schema/CollectionSchema), and the
request bodies they describe, as pydantic models."""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_TYPES = ["array", "boolean", "integer", "number", "object", "string", None]
PropertyType = Literal["array", "boolean", "integer", "number", "object", "string"] | None


def _timestamp(description: str) -> dict[str, Any]:
    return {"type": "string", "readOnly": True, "description": description, "format": "date-time"}


_READ_ONLY_STRING = {"readOnly": True, "type": "string"}

PROPERTY_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 80},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "operators": {"type": "array", "items": {"type": "string"}},
    "type": {"type": "string", "enum": _TYPES},
    "required": {"$ref": "#/definitions/stringArray"},
    "minimum": {"type": "number"},
    "maximum": {"type": "number"},
    "maxLength": {"$ref": "#/definitions/positiveInteger"},
    "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
    "pattern": {"type": "string", "format": "regex"},
    "enum": {"type": "array"},
    "readonly": {"type": "boolean"},
    "default": {},
    "items": {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": _TYPES}, "enum": {"type": "array"}},
    },
    "maxItems": {"$ref": "#/definitions/positiveInteger"},
    "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
    "uniqueItems": {"type": "boolean", "default": False},
    "additionalItems": {"type": "boolean"},
}

DEFINITIONS: dict[str, Any] = {
    "positiveInteger": {"type": "integer", "minimum": 0},
    "positiveIntegerDefault0": {
        "allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]
    },
    "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "property": {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["title", "type"],
            "properties": PROPERTY_PROPERTIES,
        },
    },
}

NAMESPACE_PROPERTIES: dict[str, Any] = {
    "namespace": {
        "type": "string",
        "description": "The unique namespace text.",
        "maxLength": 80,
    },
    "display_name": {
        "type": "string",
        "description": "The user friendly name for the namespace. Used by UI if available.",
        "maxLength": 80,
    },
    "description": {
        "type": "string",
        "description": "Provides a user friendly description of the namespace.",
        "maxLength": 500,
    },
    "visibility": {
        "type": "string",
        "description": "Scope of namespace accessibility.",
        "enum": ["public", "private"],
    },
    "protected": {
        "type": "boolean",
        "description": "If true, namespace will not be deletable.",
    },
    "owner": {"type": "string", "description": "Owner of the namespace.", "maxLength": 255},
    "created_at": _timestamp("Date and time of namespace creation"),
    "updated_at": _timestamp("Date and time of the last namespace modification"),
    "schema": _READ_ONLY_STRING,
    "self": _READ_ONLY_STRING,
    "resource_type_associations": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "prefix": {"type": "string"},
                "properties_target": {"type": "string"},
            },
        },
    },
    "properties": {"$ref": "#/definitions/property"},
    "objects": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "required": {"$ref": "#/definitions/stringArray"},
                "properties": {"$ref": "#/definitions/property"},
            },
        },
    },
    "tags": {
        "type": "array",
        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
}

OBJECT_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 80},
    "description": {"type": "string"},
    "required": {"$ref": "#/definitions/stringArray"},
    "properties": {"$ref": "#/definitions/property"},
    "schema": _READ_ONLY_STRING,
    "self": _READ_ONLY_STRING,
    "created_at": _timestamp("Date and time of object creation"),
    "updated_at": _timestamp("Date and time of the last object modification"),
}

RESOURCE_TYPE_PROPERTIES: dict[str, Any] = {
    "name": {
        "type": "string",
        "description": "Resource type names should be aligned with Heat resource types "
        "whenever possible: https://docs.openstack.org/heat/latest/template_guide/"
        "openstack.html",
        "maxLength": 80,
    },
    "prefix": {
        "type": "string",
        "description": "Specifies the prefix to use for the given resource type. Any "
        "properties in the namespace should be prefixed with this prefix when being applied "
        "to the specified resource type. Must include prefix separator (e.g. a colon :).",
        "maxLength": 80,
    },
    "properties_target": {
        "type": "string",
        "description": "Some resource types allow more than one key / value pair per "
        "instance.  For example, Cinder allows user and image metadata on volumes. Only the "
        "image properties metadata is evaluated by Nova (scheduling or drivers). This "
        "property allows a namespace target to remove the ambiguity.",
        "maxLength": 80,
    },
    "created_at": _timestamp("Date and time of resource type association"),
    "updated_at": _timestamp("Date and time of the last resource type association modification"),
}

TAG_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 80},
    "created_at": _timestamp("Date and time of tag creation"),
    "updated_at": _timestamp("Date and time of the last tag modification"),
}


def _schema(
    name: str,
    properties: dict[str, Any],
    required: list[str],
    definitions: dict[str, Any] | None = DEFINITIONS,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": name,
        "properties": copy.deepcopy(properties),
        "additionalProperties": False,
    }
    if definitions:
        raw["definitions"] = copy.deepcopy(definitions)
    if required:
        raw["required"] = required
    return raw


_COLLECTION_LINKS = [
    {"rel": "first", "href": "{first}"},
    {"rel": "next", "href": "{next}"},
    {"rel": "describedby", "href": "{schema}"},
]


def _collection(name: str, item: dict[str, Any], *, as_dict: bool = False) -> dict[str, Any]:
    """Glance's CollectionSchema (an array of items) or DictCollectionSchema (a map)."""
    item = dict(item)
    definitions = item.pop("definitions", None)
    members: dict[str, Any] = (
        {"type": "object", "additionalProperties": item}
        if as_dict
        else {"type": "array", "items": item}
    )
    raw: dict[str, Any] = {
        "name": name,
        "properties": {
            name: members,
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": copy.deepcopy(_COLLECTION_LINKS),
    }
    if definitions:
        raw["definitions"] = definitions
    return raw


def schema(kind: str) -> dict[str, Any] | None:
    """The schema ``/v2/schemas/metadefs/{kind}`` serves, None for an unknown kind."""
    namespace = _schema("namespace", NAMESPACE_PROPERTIES, ["namespace"])
    obj = _schema("object", OBJECT_PROPERTIES, ["name"])
    prop = _schema("property", PROPERTY_PROPERTIES, ["title", "type", "name"])
    tag = _schema("tag", TAG_PROPERTIES, ["name"])
    rtype = _schema("resource_type_association", RESOURCE_TYPE_PROPERTIES, ["name"], None)
    props_item = _schema("property", PROPERTY_PROPERTIES, ["title", "type"])
    docs = {
        "namespace": namespace,
        "namespaces": _collection("namespaces", namespace),
        "object": obj,
        "objects": _collection("objects", obj),
        "property": prop,
        "properties": _collection("properties", props_item, as_dict=True),
        "tag": tag,
        "tags": _collection("tags", tag),
        "resource_type": rtype,
        "resource_types": _collection("resource_type_associations", rtype),
    }
    return docs.get(kind)


# -- request bodies ---------------------------------------------------------------------

_FORBID = ConfigDict(extra="forbid")


class PropertyItems(BaseModel):
    model_config = _FORBID
    type: PropertyType = None
    enum: list[Any] | None = None


class PropertyBody(BaseModel):
    """One property definition (its name in the body, or the key of a ``properties`` map)."""

    model_config = _FORBID
    name: str | None = Field(default=None, max_length=80)
    title: str
    type: PropertyType
    description: str | None = None
    operators: list[str] | None = None
    required: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    maxLength: int | None = Field(default=None, ge=0)
    minLength: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    enum: list[Any] | None = None
    readonly: bool | None = None
    default: Any = None
    items: PropertyItems | None = None
    maxItems: int | None = Field(default=None, ge=0)
    minItems: int | None = Field(default=None, ge=0)
    uniqueItems: bool | None = None
    additionalItems: bool | None = None

    def document(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class NamedPropertyBody(PropertyBody):
    name: str = Field(max_length=80)


class ObjectBody(BaseModel):
    model_config = _FORBID
    name: str = Field(max_length=80)
    description: str | None = None
    required: list[str] | None = None
    properties: dict[str, PropertyBody] | None = None

    def document(self) -> dict[str, Any]:
        doc = self.model_dump(exclude_unset=True, exclude={"properties"})
        if self.properties is not None:
            doc["properties"] = {k: v.document() for k, v in self.properties.items()}
        return doc


class TagBody(BaseModel):
    model_config = _FORBID
    name: str = Field(min_length=1, max_length=80)


class TagsBody(BaseModel):
    model_config = _FORBID
    tags: list[TagBody]


class AssociationBody(BaseModel):
    model_config = _FORBID
    name: str = Field(min_length=1, max_length=80)
    prefix: str | None = Field(default=None, max_length=80)
    properties_target: str | None = Field(default=None, max_length=80)


class NamespaceBody(BaseModel):
    model_config = _FORBID
    namespace: str = Field(min_length=1, max_length=80)
    display_name: str | None = Field(default=None, max_length=80)
    description: str | None = Field(default=None, max_length=500)
    visibility: Literal["public", "private"] | None = None
    protected: bool | None = None
    owner: str | None = Field(default=None, max_length=255)
    resource_type_associations: list[AssociationBody] | None = None
    properties: dict[str, PropertyBody] | None = None
    objects: list[ObjectBody] | None = None
    tags: list[TagBody] | None = None

    def contents(self) -> dict[str, Any]:
        return {
            "resource_type_associations": [
                a.model_dump(exclude_unset=True) for a in self.resource_type_associations or []
            ],
            "properties": {k: v.document() for k, v in (self.properties or {}).items()},
            "objects": [o.document() for o in self.objects or []],
            "tags": [t.model_dump() for t in self.tags or []],
        }
