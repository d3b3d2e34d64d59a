"""Every body the networking API takes, as a declared model that ``common.api.body`` validates.

A resource's body is compiled from its Neutron attribute map (``attributes.MAPS``): one model
for a create and one for an update, a field for each attribute the verb accepts, aliased by
its API name (``router:external``) and carrying its ``Attr`` (converter, service-layer name,
policy flags) in its ``Annotated`` metadata, as a ``NovaBody`` member carries its check. The
model's validator walks the body as Neutron's ``prepare_request_body`` does, in the order the
client sent it, so that the first bad attribute named is the one Neutron names, in Neutron's
words (``Invalid input for name. Reason: ...``) and error types (``HTTPBadRequest``,
``InvalidInput``). The converters raise the API's own errors, which pydantic lets through.

The document models around them (``document``) take Neutron's envelopes: ``{"port": {...}}``,
or ``{"ports": [...]}`` for a bulk create. The routes that are not plain collections (router
interfaces and routes, tags, quotas, QoS rules, agent scheduling, trunk sub-ports, a flavor's
service profiles) declare their bodies below, each with the error Neutron answers for a
malformed one.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, model_validator
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from onestack.common import errors, resource
from onestack.network import errors as nerr
from onestack.network.api.attributes import MAPS, READ_ONLY, Attr

MAX_BULK = 1000  # items of one bulk create: each is a transaction, the request is bounded


class NeutronBody(BaseModel):
    """One resource's body (its member object), compiled from its attribute map by
    ``member_body``; ``values()`` are the service layer's, ``present()`` the API names set."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    member: ClassVar[str]
    creating: ClassVar[bool]
    attrs: ClassVar[dict[str, Attr]]  # every attribute of the map, by API name

    # Set by the validator: the API names in the order sent, and the service layer's values.
    _present: list[str] = PrivateAttr(default_factory=list)
    _values: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _check_as_neutron_does(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        converted, values = convert(cls, data)
        body = handler(converted)
        body._present, body._values = list(converted), values
        return body

    def present(self) -> list[str]:
        return list(self._present)

    def values(self) -> dict[str, Any]:
        return dict(self._values)

    def as_member(self, raw: Any) -> resource.Member:
        """The body as the common ``Collection`` takes it (``raw``: as sent)."""
        return resource.Member(raw, self._values, self._present)


def convert(model: type[NeutronBody], body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The converted attributes of ``body`` by API name, in the order sent, and by their
    service-layer name; Neutron's error for the first attribute it would refuse."""
    member, creating, attrs = model.member, model.creating, model.attrs
    if not isinstance(body, dict):
        raise nerr.HTTPBadRequest(f"Resource body required for {member}.")
    unknown = sorted(k for k in body if k not in attrs and k not in READ_ONLY)
    if unknown:
        raise nerr.HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    out: dict[str, Any] = {}
    keys: dict[str, Any] = {}
    for name, raw in body.items():
        attr = attrs.get(name)
        if attr is None:
            raise nerr.HTTPBadRequest(f"Cannot update read-only attribute {name}")
        if creating and not attr.post:
            raise nerr.HTTPBadRequest(f"Attribute '{name}' not allowed in POST")
        if not creating and not attr.put:
            raise nerr.HTTPBadRequest(f"Cannot update read-only attribute {name}")
        value = attr.convert(name, raw)
        if attr.key in keys and keys[attr.key] != value:
            raise nerr.HTTPBadRequest(
                "Specifying 'project_id' or 'tenant_id' other than the "
                "authenticated project in request requires admin "
                "privileges"
                if attr.key == "project_id"
                else f"Conflicting values for {name}"
            )
        keys[attr.key] = out[name] = value
    if creating:
        for attr in attrs.values():
            if attr.required and attr.key not in keys:
                raise nerr.HTTPBadRequest(
                    f"Failed to parse request. Required attribute '{attr.name}' not specified"
                )
    return out, keys


def _field_name(api_name: str) -> str:
    return "a_" + api_name.replace(":", "__")  # API names are not all identifiers


@functools.cache
def member_body(member: str, creating: bool) -> type[NeutronBody]:
    """The model of ``member``'s body on a create (POST) or an update (PUT), compiled from its
    attribute map once, on first use."""
    attrs = {a.name: a for a in MAPS[member]}
    accepted = [a for a in attrs.values() if (a.post if creating else a.put)]
    fields: dict[str, Any] = {
        _field_name(a.name): (Annotated[Any, a], Field(default=None, alias=a.name))
        for a in accepted
    }
    verb = "Create" if creating else "Update"
    model: type[NeutronBody] = create_model(
        f"{verb}{member.title().replace('_', '')}", __base__=NeutronBody, **fields
    )
    model.member, model.creating, model.attrs = member, creating, attrs
    return model


def parse(member: str, body: Any, creating: bool) -> tuple[dict[str, Any], list[str]]:
    """``body`` (a member object) validated by its model: (service values, API names set)."""
    found = member_body(member, creating).model_validate(body)
    return found.values(), found.present()


def _required(key: str, data: Any) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise errors.BadRequest(f"Resource body required for {key}.")
    return data[key]


def _members(model: type[NeutronBody], bodies: list[Any]) -> list[resource.Member]:
    return [model.model_validate(raw).as_member(raw) for raw in bodies]


@functools.cache
def document(member: str, plural: str | None, creating: bool) -> type[resource.Body]:
    """The model of a whole request document: ``{member: {...}}``, or (``plural`` given, on a
    create) ``{plural: [{...}, ...]}``, Neutron's bulk create of at most ``MAX_BULK``."""
    model = member_body(member, creating)

    class NeutronDocument(resource.Body):
        @model_validator(mode="before")
        @classmethod
        def _envelope(cls, data: Any) -> dict[str, Any]:
            if plural is None or not (isinstance(data, dict) and plural in data):
                return {"members": _members(model, [_required(member, data)])}
            if member in data:
                return {"members": _members(model, [data[member]])}
            bodies = data[plural]
            if not isinstance(bodies, list):
                raise errors.BadRequest(f"Resource body required for {plural}.")
            if len(bodies) > MAX_BULK:
                raise errors.BadRequest(
                    f"A bulk create makes at most {MAX_BULK} {plural}, not {len(bodies)}."
                )
            return {"members": _members(model, bodies), "bulk": True}

    NeutronDocument.__name__ = f"{model.__name__}Document"
    return NeutronDocument


# --- the bodies of the routes that are not plain collections --------------------------------


class Checked(BaseModel):
    """A body whose shape is checked whole before its fields are read: ``shape`` raises the
    error Neutron answers for a malformed one, or gives what the fields are read from."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    @classmethod
    def shape(cls, data: Any) -> Any:
        return data

    @model_validator(mode="before")
    @classmethod
    def _shaped(cls, data: Any) -> Any:
        return cls.shape(data)


class RouterInterface(Checked):
    """``PUT /v2.0/routers/{id}/add_router_interface`` (and remove): a subnet or a port."""

    subnet_id: Any = None
    port_id: Any = None

    @classmethod
    def shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise errors.BadRequest("Resource body required for router interface.")
        unknown = set(data) - {"subnet_id", "port_id"}
        if unknown:
            raise nerr.HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(sorted(unknown))}'")
        return data

    def given(self) -> dict[str, Any]:
        """The members the client sent (a null is sent, as Neutron tells them apart)."""
        return {k: getattr(self, k) for k in ("subnet_id", "port_id") if k in self.model_fields_set}


def route_key(route: Any) -> tuple[str, str]:
    """A route (``destination``, ``nexthop``) as normalised strings; 400 if it is not one."""
    if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
        raise nerr.HTTPBadRequest(f"Invalid format for routes: {route}")
    try:
        dest = ipaddress.ip_network(str(route["destination"]), strict=False)
        hop = ipaddress.ip_address(str(route["nexthop"]))
    except ValueError as exc:
        raise nerr.HTTPBadRequest(f"Invalid format for routes: {route}, {exc}") from None
    return str(dest), str(hop)


class ExtraRoutes(Checked):
    """``PUT /v2.0/routers/{id}/add_extraroutes`` (and remove): ``{"router": {"routes":
    [...]}}``, each route normalised."""

    routes: list[tuple[str, str]]

    @classmethod
    def shape(cls, data: Any) -> Any:
        router = data.get("router") if isinstance(data, dict) else None
        routes = router.get("routes") if isinstance(router, dict) else None
        if not isinstance(routes, list):
            raise errors.BadRequest("Resource body required for router routes: router.routes.")
        return {"routes": [route_key(r) for r in routes]}


class Tags(Checked):
    """``PUT /v2.0/{collection}/{id}/tags``: the resource's whole set of tags."""

    tags: list[Any]

    @classmethod
    def shape(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("tags"), list):
            raise nerr.HTTPBadRequest("Invalid tags body: a list of tags is required")
        return data


class Wrapped(Checked):
    """A body that is one object under one key (``{"quota": {...}}``), else ``BadRequest``
    ``Resource body required for <key>.``; ``body`` is that object."""

    key: ClassVar[str]
    body: dict[str, Any]

    @classmethod
    def shape(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get(cls.key), dict):
            raise errors.BadRequest(f"Resource body required for {cls.key}.")
        return {"body": data[cls.key]}


class Quota(Wrapped):
    """``PUT /v2.0/quotas/{project_id}``: the limits to change."""

    key = "quota"


@functools.cache
def qos_rule(rule_type: str) -> type[Wrapped]:
    """``POST`` or ``PUT`` of a QoS rule of ``rule_type``: ``{"<rule_type>_rule": {...}}``
    (its members are checked by the QoS service, by rule type, as Neutron's)."""
    model: type[Wrapped] = create_model(f"QosRule_{rule_type}", __base__=Wrapped)
    model.key = f"{rule_type}_rule"
    return model


class Scheduled(Checked):
    """``POST /v2.0/agents/{id}/dhcp-networks`` (``network_id``) or ``.../l3-routers``
    (``router_id``): the resource to host; the subclass names the key."""

    key: ClassVar[str]
    ident: str

    @classmethod
    def shape(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get(cls.key), str):
            raise errors.BadRequest(
                f"Failed to parse request. Required attribute '{cls.key}' not specified"
            )
        return {"ident": data[cls.key]}


class ScheduledNetwork(Scheduled):
    key = "network_id"


class ScheduledRouter(Scheduled):
    key = "router_id"


class SubPorts(Checked):
    """``PUT /v2.0/trunks/{id}/add_subports`` (and remove): the sub-ports, checked by the
    trunk service with Neutron's rules for each."""

    sub_ports: Any

    @classmethod
    def shape(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "sub_ports" not in data:
            raise nerr.HTTPBadRequest("Resource body required for sub_ports.")
        return data


class FlavorProfile(Checked):
    """``POST /v2.0/flavors/{id}/service_profiles``: ``{"service_profile": {"id": ...}}``."""

    id: str

    @classmethod
    def shape(cls, data: Any) -> Any:
        profile = data.get("service_profile") if isinstance(data, dict) else None
        if not isinstance(profile, dict) or not isinstance(profile.get("id"), str):
            raise nerr.HTTPBadRequest("Resource body required for service_profile: its id.")
        return {"id": profile["id"]}
