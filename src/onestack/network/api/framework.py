"""One generic REST resource for every Neutron collection: list with Neutron's query
semantics, show, create (also in bulk), update, delete; policy by rule name and per attribute;
``fields=`` and attribute-level read policy on every response."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response, read_json
from onestack.network.api import attributes
from onestack.network.service import Caller, ListQuery, NetworkService

Handler = Callable[[Request], Awaitable[Response]]
Create = Callable[[NetworkService, Caller, dict[str, Any]], Awaitable[Any]]
Update = Callable[[NetworkService, Caller, str, dict[str, Any]], Awaitable[Any]]
Delete = Callable[[NetworkService, Caller, str], Awaitable[None]]
WriteCheck = Callable[[Request, RequestContext, dict[str, Any], str, dict[str, Any]], None]
# Facts about a resource's parent that its policy rules match on (Neutron's ``network:tenant_id``
# for a port): given the network service, the caller, the request's values and, on an update,
# the resource as it stands.
TargetHook = Callable[
    [NetworkService, Caller, dict[str, Any], dict[str, Any] | None], Awaitable[dict[str, Any]]
]

PAGING_KEYS = {"limit", "marker", "page_reverse", "sort_key", "sort_dir", "fields"}
TAG_KEYS = {"tags": "tags", "tags-any": "tags_any", "not-tags": "not_tags",
            "not-tags-any": "not_tags_any"}  # fmt: skip


def service(request: Request) -> NetworkService:
    return api.service(request, NetworkService)


def enforce(request: Request, action: str, target: dict[str, Any]) -> RequestContext:
    ctx = get_context(request)
    request.app.state.runtime.enforcer.enforce(ctx, action, target)
    return ctx


def allowed(request: Request, action: str, target: dict[str, Any]) -> bool:
    ctx = get_context(request)
    result: bool = request.app.state.runtime.enforcer.allowed(ctx, action, target)
    return result


def caller(request: Request) -> Caller:
    return Caller.of(get_context(request))


def list_query(request: Request) -> ListQuery:
    """Split Neutron's query string: filters (repeatable), tags, fields, sort, paging."""
    params = request.query_params
    filters: dict[str, list[str]] = {}
    for key, value in params.multi_items():
        if key in PAGING_KEYS or key in TAG_KEYS:
            continue
        filters.setdefault(key, []).append(value)
    keys = params.getlist("sort_key")
    dirs = params.getlist("sort_dir")
    if dirs and len(dirs) != len(keys):
        raise errors.BadRequest("The number of sort_keys and sort_dirs must be same")
    sort = tuple(zip(keys, dirs or ["asc"] * len(keys), strict=False))
    limit: int | None = None
    if params.get("limit"):
        try:
            limit = int(params["limit"])
        except ValueError:
            raise errors.BadRequest(
                "Bad limit request: Limit must be an integer 0 or greater and not "
                f"'{params['limit']}'."
            ) from None
        if limit < 0:
            raise errors.BadRequest(
                f"Bad limit request: Limit must be an integer 0 or greater and not '{limit}'."
            )
        limit = limit or None
    tags: dict[str, tuple[str, ...]] = {}
    for key, field in TAG_KEYS.items():
        values = [t for v in params.getlist(key) for t in v.split(",") if t]
        tags[field] = tuple(values)
    fields = tuple(f for v in params.getlist("fields") for f in v.split(",") if f)
    return ListQuery(
        filters=filters,
        fields=fields,
        sort=sort,
        limit=limit,
        marker=params.get("marker") or None,
        page_reverse=params.get("page_reverse", "").lower() == "true",
        **tags,
    )


def fields_of(request: Request) -> tuple[str, ...]:
    return tuple(f for v in request.query_params.getlist("fields") for f in v.split(",") if f)


def strip(item: dict[str, Any], hidden: list[str], fields: tuple[str, ...]) -> dict[str, Any]:
    for name in hidden:
        item.pop(name, None)
    if fields:
        return {k: v for k, v in item.items() if k in fields}
    return item


@dataclass(frozen=True)
class Collection:
    """A Neutron collection at ``/v2.0/<path>``: ``member`` names its body key and rules."""

    path: str  # URL segment, e.g. "security-groups"
    member: str  # body key and rule stem, e.g. "security_group"
    plural: str  # collection body key, e.g. "security_groups"
    create: Create | None = None
    update: Update | None = None
    delete: Delete | None = None
    write_check: WriteCheck | None = None  # extra policy checks on nested attributes
    target_hook: TargetHook | None = None  # parent facts for the attribute rules
    before_list: Callable[[NetworkService, Caller], Awaitable[None]] | None = None

    def hidden(self, request: Request) -> list[str]:
        """Attributes this caller may not read (checked once per request: role-based)."""
        ctx = get_context(request)
        target = {"project_id": ctx.project_id}
        return [
            name
            for name in attributes.guarded_reads(self.member)
            if not allowed(request, f"get_{self.member}:{name}", target)
        ]

    def routes(self) -> list[Route]:
        base = f"/v2.0/{self.path}"
        one = f"{base}/{{id}}"
        routes = [
            Route(base, self.listing, methods=["GET"]),
            Route(one, self.showing, methods=["GET"]),
        ]
        if self.create is not None:
            routes.append(Route(base, self.creating, methods=["POST"]))
        if self.update is not None:
            routes.append(Route(one, self.updating, methods=["PUT"]))
        if self.delete is not None:
            routes.append(Route(one, self.deleting, methods=["DELETE"]))
        return routes

    async def listing(self, request: Request) -> Response:
        ctx = get_context(request)
        q = list_query(request)
        if not allowed(request, f"get_{self.member}", {"project_id": ctx.project_id}):
            # Neutron filters a list by the read policy of each item: a caller who may read
            # none of them (a member listing agents) gets an empty list, never a 403.
            return json_response({self.plural: []})
        who = Caller.of(ctx)
        if self.before_list is not None:
            await service(request).run(self.before_list, service(request), who)
        items, page = await service(request).list_page(self.path, who, q)
        hidden = self.hidden(request)
        body: dict[str, Any] = {self.plural: [strip(i, hidden, q.fields) for i in items]}
        if q.limit:
            body[f"{self.plural}_links"] = self._links(request, items, page.has_more, q)
        return json_response(body)

    def _links(
        self, request: Request, items: list[dict[str, Any]], has_more: bool, q: ListQuery
    ) -> list[dict[str, str]]:
        """Neutron's ``next``/``previous`` links (previous only once paging has begun)."""
        url = str(request.url).split("?")[0]
        params = [(k, v) for k, v in request.query_params.multi_items()
                  if k not in ("marker", "page_reverse")]  # fmt: skip
        links = []
        more_forward = has_more if not q.page_reverse else bool(q.marker)
        more_back = bool(q.marker) if not q.page_reverse else has_more
        if items and more_forward:
            links.append(
                {
                    "rel": "next",
                    "href": f"{url}?{urlencode([*params, ('marker', items[-1]['id'])])}",
                }
            )
        if items and more_back:
            query = urlencode([*params, ("marker", items[0]["id"]), ("page_reverse", "True")])
            links.append({"rel": "previous", "href": f"{url}?{query}"})
        return links  # fmt: skip

    async def showing(self, request: Request) -> Response:
        ctx = get_context(request)
        item = await service(request).show(self.path, Caller.of(ctx), request.path_params["id"])
        enforce(request, f"get_{self.member}", item)
        return json_response({self.member: strip(item, self.hidden(request), fields_of(request))})

    async def creating(self, request: Request) -> Response:
        assert self.create is not None
        data = await read_json(request)
        if isinstance(data, dict) and self.plural in data and self.member not in data:
            bodies = data[self.plural]
            if not isinstance(bodies, list):
                raise errors.BadRequest(f"Resource body required for {self.plural}.")
            return json_response({self.plural: await self._create_all(request, bodies)}, 201)
        if not isinstance(data, dict) or self.member not in data:
            raise errors.BadRequest(f"Resource body required for {self.member}.")
        return json_response({self.member: await self._create_one(request, data[self.member])}, 201)

    async def _create_all(self, request: Request, bodies: list[Any]) -> list[dict[str, Any]]:
        """Bulk create is all or nothing, as Neutron's: if one item fails, the ones already
        made are deleted again before the error is answered."""
        items: list[dict[str, Any]] = []
        try:
            for body in bodies:
                items.append(await self._create_one(request, body))
        except Exception:
            if self.delete is not None:
                svc = service(request)
                who = Caller.of(get_context(request))
                for item in reversed(items):
                    with contextlib.suppress(errors.OneStackError):
                        await svc.run(self.delete, svc, who, item["id"])
            raise
        return items

    async def _create_one(self, request: Request, raw: Any) -> dict[str, Any]:
        assert self.create is not None
        values, present = attributes.convert_body(self.member, raw, creating=True)
        ctx = get_context(request)
        target = {**(raw if isinstance(raw, dict) else {}),
                  "project_id": values.get("project_id") or ctx.project_id}  # fmt: skip
        enforce(request, f"create_{self.member}", target)
        svc = service(request)
        who = Caller.of(ctx)
        if self.target_hook is not None:
            target.update(await svc.run(self.target_hook, svc, who, values, None))
        for name in attributes.guarded_writes(self.member, present):
            enforce(request, f"create_{self.member}:{name}", target)
        if self.write_check is not None:
            self.write_check(request, ctx, values, "create", target)
        row = await svc.run(self.create, svc, who, values)
        item = await svc.render(self.path, who, row)
        return strip(item, self.hidden(request), ())

    async def updating(self, request: Request) -> Response:
        assert self.update is not None
        data = await read_json(request)
        if not isinstance(data, dict) or self.member not in data:
            raise errors.BadRequest(f"Resource body required for {self.member}.")
        values, present = attributes.convert_body(self.member, data[self.member], creating=False)
        svc = service(request)
        ctx = get_context(request)
        who = Caller.of(ctx)
        ident = request.path_params["id"]
        current = await svc.show(self.path, who, ident)
        enforce(request, f"update_{self.member}", current)
        # Attribute rules see the resource as it would be after the update (as in Neutron).
        target = {**current, **values, "project_id": current.get("project_id")}
        if self.target_hook is not None:
            target.update(await svc.run(self.target_hook, svc, who, values, current))
        for name in attributes.guarded_writes(self.member, present):
            enforce(request, f"update_{self.member}:{name}", target)
        if self.write_check is not None:
            self.write_check(request, ctx, values, "update", target)
        row = await svc.run(self.update, svc, who, ident, values)
        item = await svc.render(self.path, who, row)
        return json_response({self.member: strip(item, self.hidden(request), ())})

    async def deleting(self, request: Request) -> Response:
        assert self.delete is not None
        svc = service(request)
        who = caller(request)
        ident = request.path_params["id"]
        current = await svc.show(self.path, who, ident)
        enforce(request, f"delete_{self.member}", current)
        await svc.run(self.delete, svc, who, ident)
        return empty()
