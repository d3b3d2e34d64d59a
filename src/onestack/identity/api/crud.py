"""Keystone's collections (services, endpoints, regions, roles, policy blobs) declared with the
common ``Collection``: Keystone's style is checking ``identity:<verb>_<kind>`` before reading
anything, a body under the member's key validated by the resource's schema, PATCH to update,
list filters by name and the ``links`` envelope."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import model_validator
from starlette.requests import Request

from onestack.common import resource
from onestack.common.http import validate
from onestack.identity import schemas
from onestack.identity.api.helpers import authorize, filters, require_body_key, service, views
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService


class Ops(NamedTuple):
    """The service-layer calls of one resource."""

    list: Callable[[dict[str, Any]], Awaitable[Any]]
    create: Callable[[dict[str, Any]], Awaitable[Any]]
    get: Callable[[str], Awaitable[Any]]
    update: Callable[[str, dict[str, Any]], Awaitable[Any]]
    delete: Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Keystone:
    """The ``resource.Style`` of a Keystone collection."""

    create_schema: type[schemas.OpenBody]
    update_schema: type[schemas.OpenBody]
    render_row: Callable[[Views, Any], dict[str, Any]]
    list_filters: tuple[str, ...] = ()
    update_method: str = "PATCH"
    checks_resource: bool = False

    def authorize(
        self, request: Request, c: resource.Collection, verb: str, target: dict[str, Any] | None
    ) -> None:
        authorize(request, f"identity:{verb}_{c.member}", target)

    def list_query(self, request: Request, c: resource.Collection) -> dict[str, Any]:
        return filters(request, *self.list_filters)

    def refuse_list(
        self, request: Request, c: resource.Collection, query: dict[str, Any]
    ) -> dict[str, Any] | None:
        authorize(
            request, f"identity:list_{c.plural}", {"target": {"domain_id": query.get("domain_id")}}
        )
        return None

    def list_body(
        self,
        request: Request,
        c: resource.Collection,
        page: resource.Page,
        items: list[dict[str, Any]],
        query: Any,
    ) -> dict[str, Any]:
        return views(request).collection(c.plural, items, c.plural)

    def fields(self, request: Request) -> tuple[str, ...]:
        return ()

    def render(
        self,
        request: Request,
        c: resource.Collection,
        rows: list[Any],
        fields: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        v = views(request)
        return [self.render_row(v, row) for row in rows]

    def body(self, c: resource.Collection, creating: bool) -> type[resource.Body]:
        return keystone_body(c.member, self.create_schema if creating else self.update_schema)

    async def authorize_write(
        self,
        request: Request,
        c: resource.Collection,
        verb: str,
        raw: Any,
        values: dict[str, Any],
        present: list[str],
        current: dict[str, Any] | None,
    ) -> None:
        return None  # checked before the body was read


@functools.cache
def keystone_body(member: str, schema: type[schemas.OpenBody]) -> type[resource.Body]:
    """The document model of a Keystone body: ``schema`` under the ``member`` key, the
    members it sets being the changes."""

    class KeystoneBody(resource.Body):
        @model_validator(mode="before")
        @classmethod
        def _under_member_key(cls, data: Any) -> dict[str, Any]:
            raw = require_body_key(data, member)
            changes = validate(schema, raw).changes()
            return {"members": [resource.Member(raw, changes, list(changes))]}

    return KeystoneBody


def keystone_collection(
    kind: str,
    plural: str,
    create_schema: type[schemas.OpenBody],
    update_schema: type[schemas.OpenBody],
    ops: Callable[[IdentityService], Ops],
    render: Callable[[Views, Any], dict[str, Any]],
    list_filters: tuple[str, ...] = (),
) -> resource.Collection:
    """``/v3/<plural>`` and ``/v3/<plural>/{<kind>_id}``; ``kind`` names the body key and
    the rules (``identity:get_service``)."""

    async def listing(request: Request, wanted: dict[str, Any]) -> resource.Page:
        return resource.Page(list(await ops(service(request)).list(wanted)))

    async def get(request: Request, ident: str) -> Any:
        return await ops(service(request)).get(ident)

    async def create(request: Request, values: dict[str, Any]) -> Any:
        return await ops(service(request)).create(values)

    async def update(request: Request, ident: str, values: dict[str, Any]) -> Any:
        return await ops(service(request)).update(ident, values)

    async def delete(request: Request, ident: str) -> None:
        await ops(service(request)).delete(ident)

    return resource.Collection(
        f"/v3/{plural}",
        kind,
        plural,
        resource.Ops(listing, get, create, update, delete),
        Keystone(create_schema, update_schema, render, list_filters),
        id_param=f"{kind}_id",
    )
