"""Neutron's collections declared with the common ``Collection`` (``common/resource.py``):
Neutron's style is list with Neutron's query semantics (filters, sort, paging links), create
also in bulk, PUT to update, policy checked against the resource and per attribute, and
``fields=`` and attribute-level read policy on every response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from dataclasses import field as attribute
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from onestack.common import api, errors, resource
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import INT_RANGE
from onestack.network.api import attributes, bodies
from onestack.network.service import Caller, ListQuery, NetworkService

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


kit = api.ServiceHelpers(NetworkService)
service = kit.service
enforce = kit.authorize  # Neutron's checks always name their target
allowed = kit.allowed


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
        # Neutron passes any limit to the database: more rows than a column can count is
        # every row.
        limit = min(limit, INT_RANGE // 2) or None
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


def hidden(request: Request, member: str) -> list[str]:
    """Attributes of ``member`` this caller may not read (role-based: one answer a request)."""
    target = {"project_id": get_context(request).project_id}
    return [
        name
        for name in attributes.guarded_reads(member)
        if not allowed(request, f"get_{member}:{name}", target)
    ]


def paging_links(
    request: Request, rows: list[dict[str, Any]], has_more: bool, q: ListQuery
) -> list[dict[str, str]]:
    """Neutron's ``next``/``previous`` links (previous only once paging has begun)."""
    url = str(request.url).split("?")[0]
    params = [(k, v) for k, v in request.query_params.multi_items()
              if k not in ("marker", "page_reverse")]  # fmt: skip
    links = []
    more_forward = has_more if not q.page_reverse else bool(q.marker)
    more_back = bool(q.marker) if not q.page_reverse else has_more
    if rows and more_forward:
        links.append(
            {"rel": "next", "href": f"{url}?{urlencode([*params, ('marker', rows[-1]['id'])])}"}
        )
    if rows and more_back:
        query = urlencode([*params, ("marker", rows[0]["id"]), ("page_reverse", "True")])
        links.append({"rel": "previous", "href": f"{url}?{query}"})
    return links


@dataclass(frozen=True)
class Neutron:
    """The ``resource.Style`` of a Neutron collection, with the collection's own extra checks."""

    write_check: WriteCheck | None = None  # extra policy checks on nested attributes
    target_hook: TargetHook | None = None  # parent facts for the attribute rules
    update_method: str = attribute(default="PUT", init=False)
    checks_resource: bool = attribute(default=True, init=False)

    def authorize(
        self, request: Request, c: resource.Collection, verb: str, target: dict[str, Any] | None
    ) -> None:
        enforce(request, f"{verb}_{c.member}", target or {})

    def list_query(self, request: Request, c: resource.Collection) -> ListQuery:
        return list_query(request)

    def refuse_list(
        self, request: Request, c: resource.Collection, query: ListQuery
    ) -> dict[str, Any] | None:
        if not allowed(request, f"get_{c.member}", {"project_id": get_context(request).project_id}):
            # Neutron filters a list by the read policy of each item: a caller who may read
            # none of them (a member listing agents) gets an empty list, never a 403.
            return {c.plural: []}
        return None

    def list_body(
        self,
        request: Request,
        c: resource.Collection,
        page: resource.Page,
        items: list[dict[str, Any]],
        query: ListQuery,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {c.plural: items}
        if query.limit:
            body[f"{c.plural}_links"] = paging_links(request, page.rows, page.has_more, query)
        return body

    def fields(self, request: Request) -> tuple[str, ...]:
        return fields_of(request)

    def render(
        self,
        request: Request,
        c: resource.Collection,
        rows: list[Any],
        fields: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        hide = hidden(request, c.member)
        return [strip(row, hide, fields) for row in rows]

    def body(self, c: resource.Collection, creating: bool) -> type[resource.Body]:
        return bodies.document(c.member, c.plural if creating else None, creating)

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
        """The rule with the body as target on create; on update (the rule on the current
        resource already checked) the attribute rules see the resource as it would be after
        the update, as in Neutron."""
        ctx = get_context(request)
        if current is None:
            target = {**(raw if isinstance(raw, dict) else {}),
                      "project_id": values.get("project_id") or ctx.project_id}  # fmt: skip
            enforce(request, f"create_{c.member}", target)
        else:
            target = {**current, **values, "project_id": current.get("project_id")}
        if self.target_hook is not None:
            svc = service(request)
            target.update(await svc.run(self.target_hook, svc, Caller.of(ctx), values, current))
        # On a create, an attribute set to its default is not checked (as Neutron).
        creating = values if current is None else None
        for name in attributes.guarded_writes(c.member, present, creating):
            enforce(request, f"{verb}_{c.member}:{name}", target)
        if self.write_check is not None:
            self.write_check(request, ctx, values, verb, target)


def neutron_collection(
    path: str,
    member: str,
    plural: str,
    create: Create | None = None,
    update: Update | None = None,
    delete: Delete | None = None,
    *,
    write_check: WriteCheck | None = None,
    target_hook: TargetHook | None = None,
    before_list: Callable[[NetworkService, Caller], Awaitable[None]] | None = None,
) -> resource.Collection:
    """A Neutron collection at ``/v2.0/<path>``: ``member`` names its body key and rules; the
    service-layer calls run in the network service's ``run``."""

    async def listing(request: Request, q: ListQuery) -> resource.Page:
        svc, who = service(request), caller(request)
        if before_list is not None:
            await svc.run(before_list, svc, who)
        items, page = await svc.list_page(path, who, q)
        return resource.Page(items, page.has_more)

    async def get(request: Request, ident: str) -> Any:
        return await service(request).show(path, caller(request), ident)

    def writer(call: Any) -> Any:
        async def write(request: Request, *args: Any) -> Any:
            svc, who = service(request), caller(request)
            row = await svc.run(call, svc, who, *args)
            return await svc.render(path, who, row)

        return write if call is not None else None

    async def deleting(request: Request, ident: str) -> None:
        svc = service(request)
        assert delete is not None
        await svc.run(delete, svc, caller(request), ident)

    ops = resource.Ops(listing, get, writer(create), writer(update),
                       deleting if delete is not None else None)  # fmt: skip
    return resource.Collection(
        f"/v2.0/{path}", member, plural, ops, Neutron(write_check, target_hook)
    )
