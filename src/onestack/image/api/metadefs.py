"""Metadata definitions: ``/v2/metadefs/namespaces`` with their objects, properties, tags and
resource type associations, ``/v2/metadefs/resource_types``, ``/v2/schemas/metadefs/*``.

Policy as Glance's defaults: reading is for a reader of the namespace's project or of a
public namespace, every change is admin's. A namespace the caller cannot see is 404.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response, query_bool, read_json, validate
from onestack.image.api import metadef_schemas as ms
from onestack.image.api.helpers import authorize, param, service
from onestack.image.models import MetadefNamespace
from onestack.image.service.metadef_docs import NamespaceFields
from onestack.image.service.metadef_items import MetadefItems
from onestack.image.service.metadefs import NAMESPACE_SORT_KEYS, Metadefs

M = TypeVar("M", bound=BaseModel)
READ_ONLY = ("self", "schema", "created_at", "updated_at")


def metadefs(request: Request) -> Metadefs:
    return service(request).metadefs


def items(request: Request) -> MetadefItems:
    return service(request).metadef_items


def _target(row: MetadefNamespace) -> dict[str, Any]:
    return {"project_id": row.owner, "visibility": row.visibility}


async def _namespace(request: Request, rule: str, *, hide: bool = False) -> RequestContext:
    """The path's namespace as the caller may see it (404), once ``rule`` allows it (403, or
    404 when ``hide``: Glance does not tell a namespace one cannot read exists)."""
    ctx = get_context(request)
    row = await metadefs(request).namespace(ctx, param(request, "namespace"))
    if hide and not api.allowed(request, rule, _target(row)):
        raise errors.NotFound(f"Metadata definition namespace={row.namespace} was not found.")
    return authorize(request, rule, _target(row))


async def _body(request: Request, model: type[M], read_only: tuple[str, ...] = READ_ONLY) -> M:
    data = await read_json(request)
    if isinstance(data, dict):
        for key in read_only:
            if key in data:
                raise errors.Forbidden(f"Attribute '{key}' is read-only.")
    return validate(model, data)


def _fields(ctx: RequestContext, body: ms.NamespaceBody) -> NamespaceFields:
    """A full namespace document: what it leaves out takes Glance's defaults."""
    return NamespaceFields(
        namespace=body.namespace,
        display_name=body.display_name,
        description=body.description,
        visibility=body.visibility or "private",
        protected=bool(body.protected),
        owner=body.owner or ctx.project_id,
    )


# -- namespaces ---------------------------------------------------------------------------


async def list_namespaces(request: Request) -> Response:
    ctx = authorize(
        request, "get_metadef_namespaces", {"project_id": get_context(request).project_id}
    )
    query = request.query_params
    visibility = query.get("visibility")
    if visibility is not None and visibility not in ("public", "private"):
        raise errors.BadRequest(f"Invalid visibility value: {visibility}")
    sort_key = query.get("sort_key", "created_at")
    if sort_key not in NAMESPACE_SORT_KEYS:
        raise errors.BadRequest(f"Invalid sort key: {sort_key}")
    sort_dir = query.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        raise errors.BadRequest(f"Invalid sort direction: {sort_dir}")
    limit = api.query_int(request, "limit", None, maximum=1000)
    types = [t for t in query.get("resource_types", "").split(",") if t]
    rows = await metadefs(request).list_namespaces(
        ctx,
        visibility=visibility,
        resource_types=types,
        limit=limit,
        marker=query.get("marker"),
        sort_key=sort_key,
        sort_dir=sort_dir,
    )
    rows = [
        r
        for r in rows
        if api.allowed(
            request,
            "get_metadef_namespace",
            {"project_id": r.get("owner"), "visibility": r.get("visibility")},
        )
    ]
    kept = [(k, v) for k, v in query.multi_items() if k != "marker"]
    body: dict[str, Any] = {
        "namespaces": rows,
        "first": "/v2/metadefs/namespaces" + (f"?{urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if rows and limit and len(rows) == limit:
        body["next"] = "/v2/metadefs/namespaces?" + urlencode(
            [*kept, ("marker", rows[-1]["namespace"])]
        )
    return json_response(body)


async def create_namespace(request: Request) -> Response:
    body = await _body(request, ms.NamespaceBody)
    ctx = authorize(
        request, "add_metadef_namespace", {"project_id": get_context(request).project_id}
    )
    contents = body.contents()
    for key, rule in (
        ("resource_type_associations", "add_metadef_resource_type_association"),
        ("objects", "add_metadef_object"),
        ("properties", "add_metadef_property"),
        ("tags", "add_metadef_tag"),
    ):
        if contents[key]:
            authorize(request, rule, {"project_id": ctx.project_id})
    doc = await metadefs(request).create_namespace(ctx, _fields(ctx, body), contents)
    return json_response(doc, 201)


async def show_namespace(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_namespace", hide=True)
    doc = await metadefs(request).show_namespace(
        ctx, param(request, "namespace"), request.query_params.get("resource_type")
    )
    return json_response(doc)


async def update_namespace(request: Request) -> Response:
    body = await _body(request, ms.NamespaceBody)
    ctx = await _namespace(request, "modify_metadef_namespace")
    doc = await metadefs(request).update_namespace(
        ctx, param(request, "namespace"), _fields(ctx, body)
    )
    return json_response(doc)


async def delete_namespace(request: Request) -> Response:
    ctx = await _namespace(request, "delete_metadef_namespace")
    await metadefs(request).delete_namespace(ctx, param(request, "namespace"))
    return empty()


def _delete_all(kind: str, rule: str) -> Any:
    async def handler(request: Request) -> Response:
        ctx = await _namespace(request, rule)
        await metadefs(request).delete_contents(ctx, param(request, "namespace"), kind)
        return empty()

    return handler


# -- resource types -----------------------------------------------------------------------


async def list_resource_types(request: Request) -> Response:
    authorize(
        request, "list_metadef_resource_types", {"project_id": get_context(request).project_id}
    )
    return json_response({"resource_types": await metadefs(request).resource_types()})


async def list_associations(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_resource_type")
    rows = await metadefs(request).associations(ctx, param(request, "namespace"))
    return json_response({"resource_type_associations": rows})


async def create_association(request: Request) -> Response:
    body = await _body(request, ms.AssociationBody)
    ctx = await _namespace(request, "add_metadef_resource_type_association")
    doc = await metadefs(request).associate(
        ctx, param(request, "namespace"), body.model_dump(exclude_unset=True)
    )
    return json_response(doc, 201)


async def delete_association(request: Request) -> Response:
    ctx = await _namespace(request, "remove_metadef_resource_type_association")
    await metadefs(request).dissociate(
        ctx, param(request, "namespace"), param(request, "resource_type")
    )
    return empty()


# -- properties ---------------------------------------------------------------------------


async def list_properties(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_properties")
    props = await items(request).properties(ctx, param(request, "namespace"))
    return json_response({"properties": props})


async def create_property(request: Request) -> Response:
    body = await _body(request, ms.NamedPropertyBody, ())
    ctx = await _namespace(request, "add_metadef_property")
    doc = await items(request).create_property(ctx, param(request, "namespace"), body.document())
    return json_response(doc, 201)


async def show_property(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_property")
    doc = await items(request).show_property(
        ctx,
        param(request, "namespace"),
        param(request, "property"),
        request.query_params.get("resource_type"),
    )
    return json_response(doc)


async def update_property(request: Request) -> Response:
    body = await _body(request, ms.NamedPropertyBody, ())
    ctx = await _namespace(request, "modify_metadef_property")
    doc = await items(request).update_property(
        ctx, param(request, "namespace"), param(request, "property"), body.document()
    )
    return json_response(doc)


async def delete_property(request: Request) -> Response:
    ctx = await _namespace(request, "remove_metadef_property")
    await items(request).delete_property(
        ctx, param(request, "namespace"), param(request, "property")
    )
    return empty()


# -- objects ------------------------------------------------------------------------------


async def list_objects(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_objects")
    rows = await items(request).objects(ctx, param(request, "namespace"))
    return json_response({"objects": rows, "schema": "v2/schemas/metadefs/objects"})


async def create_object(request: Request) -> Response:
    body = await _body(request, ms.ObjectBody)
    ctx = await _namespace(request, "add_metadef_object")
    doc = await items(request).create_object(ctx, param(request, "namespace"), body.document())
    return json_response(doc, 201)


async def show_object(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_object")
    doc = await items(request).show_object(
        ctx, param(request, "namespace"), param(request, "object")
    )
    return json_response(doc)


async def update_object(request: Request) -> Response:
    body = await _body(request, ms.ObjectBody)
    ctx = await _namespace(request, "modify_metadef_object")
    doc = await items(request).update_object(
        ctx, param(request, "namespace"), param(request, "object"), body.document()
    )
    return json_response(doc)


async def delete_object(request: Request) -> Response:
    ctx = await _namespace(request, "delete_metadef_object")
    await items(request).delete_object(ctx, param(request, "namespace"), param(request, "object"))
    return empty()


# -- tags ---------------------------------------------------------------------------------


async def list_tags(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_tags")
    return json_response({"tags": await items(request).tags(ctx, param(request, "namespace"))})


async def create_tags(request: Request) -> Response:
    body = await _body(request, ms.TagsBody, ("created_at", "updated_at"))
    ctx = await _namespace(request, "add_metadef_tags")
    append = bool(query_bool(request.headers.get("x-openstack-append", "false")))
    tags = await items(request).create_tags(
        ctx, param(request, "namespace"), [t.name for t in body.tags], append=append
    )
    return json_response({"tags": tags}, 201)


async def create_tag(request: Request) -> Response:
    ctx = await _namespace(request, "add_metadef_tag")
    tag = param(request, "tag")
    if not tag or len(tag) > 80:
        raise errors.BadRequest("A tag name is 1 to 80 characters.")
    doc = await items(request).create_tag(ctx, param(request, "namespace"), tag)
    return json_response(doc, 201)


async def show_tag(request: Request) -> Response:
    ctx = await _namespace(request, "get_metadef_tag")
    doc = await items(request).show_tag(ctx, param(request, "namespace"), param(request, "tag"))
    return json_response(doc)


async def update_tag(request: Request) -> Response:
    body = await _body(request, ms.TagBody, ("created_at", "updated_at"))
    ctx = await _namespace(request, "modify_metadef_tag")
    doc = await items(request).update_tag(
        ctx, param(request, "namespace"), param(request, "tag"), body.name
    )
    return json_response(doc)


async def delete_tag(request: Request) -> Response:
    ctx = await _namespace(request, "delete_metadef_tag")
    await items(request).delete_tag(ctx, param(request, "namespace"), param(request, "tag"))
    return empty()


# -- schemas ------------------------------------------------------------------------------


async def show_schema(request: Request) -> Response:
    get_context(request)
    doc = ms.schema(param(request, "kind"))
    if doc is None:
        raise errors.NotFound("The resource could not be found.")
    return json_response(doc)


NS = "/v2/metadefs/namespaces/{namespace}"
routes = [
    Route("/v2/schemas/metadefs/{kind}", show_schema, methods=["GET"]),
    Route("/v2/metadefs/resource_types", list_resource_types, methods=["GET"]),
    Route("/v2/metadefs/namespaces", list_namespaces, methods=["GET"]),
    Route("/v2/metadefs/namespaces", create_namespace, methods=["POST"]),
    Route(NS, show_namespace, methods=["GET"]),
    Route(NS, update_namespace, methods=["PUT"]),
    Route(NS, delete_namespace, methods=["DELETE"]),
    Route(NS + "/resource_types", list_associations, methods=["GET"]),
    Route(NS + "/resource_types", create_association, methods=["POST"]),
    Route(NS + "/resource_types/{resource_type}", delete_association, methods=["DELETE"]),
    Route(NS + "/properties", list_properties, methods=["GET"]),
    Route(NS + "/properties", create_property, methods=["POST"]),
    Route(
        NS + "/properties", _delete_all("properties", "remove_metadef_property"), methods=["DELETE"]
    ),
    Route(NS + "/properties/{property}", show_property, methods=["GET"]),
    Route(NS + "/properties/{property}", update_property, methods=["PUT"]),
    Route(NS + "/properties/{property}", delete_property, methods=["DELETE"]),
    Route(NS + "/objects", list_objects, methods=["GET"]),
    Route(NS + "/objects", create_object, methods=["POST"]),
    Route(NS + "/objects", _delete_all("objects", "delete_metadef_object"), methods=["DELETE"]),
    Route(NS + "/objects/{object}", show_object, methods=["GET"]),
    Route(NS + "/objects/{object}", update_object, methods=["PUT"]),
    Route(NS + "/objects/{object}", delete_object, methods=["DELETE"]),
    Route(NS + "/tags", list_tags, methods=["GET"]),
    Route(NS + "/tags", create_tags, methods=["POST"]),
    Route(NS + "/tags", _delete_all("tags", "delete_metadef_tags"), methods=["DELETE"]),
    Route(NS + "/tags/{tag}", show_tag, methods=["GET"]),
    Route(NS + "/tags/{tag}", create_tag, methods=["POST"]),
    Route(NS + "/tags/{tag}", update_tag, methods=["PUT"]),
    Route(NS + "/tags/{tag}", delete_tag, methods=["DELETE"]),
]
