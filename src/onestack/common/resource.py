"""One way to declare a REST collection: ``Collection(path, member, plural, ops, style)``
answers list, create, show, update and delete at ``path`` and ``path/{id}``.

The flow of each verb is here, once: read and check the body, check the policy, make one call
into the service layer (``Ops``), render, answer with the status the APIs use (201 on create,
204 on delete). What differs between the OpenStack APIs is the ``Style`` a service gives its
collections: the model a body is validated with (Keystone's schemas; Neutron's attribute maps
compiled into models, with Neutron's bulk create), what a policy rule is named and what it is
checked against (Keystone checks before it reads anything; Neutron checks the resource itself,
and its attributes), how a list's query is read and its envelope built (Keystone's ``links``,
Neutron's paging links and ``fields``), and the update verb (PATCH or PUT).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.http import empty, json_response

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Page:
    """One list call's rows (as the service layer gives them) and whether more follow."""

    rows: list[Any]
    has_more: bool = False


class Member:
    """One member body as its collection's model validated it: as sent (Neutron's create rule
    sees it as its target), the service layer's values, and the API names it set, in the
    order sent (the order their attribute rules are checked in)."""

    __slots__ = ("present", "raw", "values")

    def __init__(self, raw: Any, values: dict[str, Any], present: list[str]):
        self.raw = raw
        self.values = values
        self.present = present


class Body(BaseModel):
    """What a collection's body model validates a create or update document into: its member
    bodies (one, or several for a bulk create). A style's subclass checks the document as its
    API does, in a ``model_validator(mode="before")`` that gives these two fields."""

    model_config = ConfigDict(frozen=True, defer_build=True, arbitrary_types_allowed=True)

    members: list[Member]
    bulk: bool = False


@dataclass(frozen=True)
class Ops:
    """The service-layer calls of one collection; a verb without its call has no route."""

    list: Callable[[Request, Any], Awaitable[Page]]
    get: Callable[[Request, str], Awaitable[Any]]
    create: Callable[[Request, dict[str, Any]], Awaitable[Any]] | None = None
    update: Callable[[Request, str, dict[str, Any]], Awaitable[Any]] | None = None
    delete: Callable[[Request, str], Awaitable[None]] | None = None


class Style(Protocol):
    """A service's API conventions for its collections (one instance per collection, so that
    it can carry the collection's own schemas, filters and extra checks)."""

    @property
    def update_method(self) -> str:
        """ "PATCH" (Keystone) or "PUT" (Neutron)."""

    @property
    def checks_resource(self) -> bool:
        """Whether a rule is checked against the resource (Neutron: the current one, or the
        body on create) rather than before anything is read (Keystone)."""

    def authorize(
        self, request: Request, c: Collection, verb: str, target: dict[str, Any] | None
    ) -> None:
        """Check the rule of ``verb`` (list, get, create, update, delete); ``target`` is the
        current resource when ``checks_resource``, else None."""

    def list_query(self, request: Request, c: Collection) -> Any:
        """The list's filters, sort and paging from the query string."""

    def refuse_list(self, request: Request, c: Collection, query: Any) -> dict[str, Any] | None:
        """Check the list rule: raise, or return the body to answer instead of the list, or
        None to list."""

    def list_body(
        self, request: Request, c: Collection, page: Page, items: list[dict[str, Any]], query: Any
    ) -> dict[str, Any]:
        """The list's envelope around the rendered ``items``."""

    def fields(self, request: Request) -> tuple[str, ...]:
        """The attributes a read asks for (Neutron's ``fields=``); () for all of them."""

    def render(
        self, request: Request, c: Collection, rows: list[Any], fields: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """Rows as the API shows them to this caller, cut to ``fields`` when there are any."""

    def body(self, c: Collection, creating: bool) -> type[Body]:
        """The model a create's (or an update's) JSON document is validated with, through
        ``common.api.body``, the one way a body is taken."""

    async def authorize_write(
        self,
        request: Request,
        c: Collection,
        verb: str,
        raw: Any,
        values: dict[str, Any],
        present: list[str],
        current: dict[str, Any] | None,
    ) -> None:
        """The checks of a create or update once its body is read (Neutron: the rule with the
        body or the resource as target, then its attribute rules)."""


@dataclass(frozen=True)
class Collection:
    """A collection at ``path`` (e.g. ``/v3/services``, ``/v2.0/security-groups``), its
    members at ``path/{id_param}``; ``member`` and ``plural`` are the body keys."""

    path: str
    member: str
    plural: str
    ops: Ops
    style: Style
    id_param: str = "id"

    def routes(self, **replace: Handler) -> list[Route]:
        """The routes of the verbs it has; ``replace`` (``create=``, ``update=``...) swaps the
        generic handler where a resource needs more."""
        handlers: dict[str, Handler] = {
            "list": self.listing, "create": self.creating, "get": self.showing,
            "update": self.updating, "delete": self.deleting, **replace,
        }  # fmt: skip
        one = f"{self.path}/{{{self.id_param}}}"
        routes = [
            Route(self.path, handlers["list"], methods=["GET"]),
            Route(one, handlers["get"], methods=["GET"]),
        ]
        if self.ops.create is not None or "create" in replace:
            routes.append(Route(self.path, handlers["create"], methods=["POST"]))
        if self.ops.update is not None or "update" in replace:
            routes.append(Route(one, handlers["update"], methods=[self.style.update_method]))
        if self.ops.delete is not None or "delete" in replace:
            routes.append(Route(one, handlers["delete"], methods=["DELETE"]))
        return routes

    def ident(self, request: Request) -> str:
        return str(request.path_params[self.id_param])

    async def listing(self, request: Request) -> Response:
        query = self.style.list_query(request, self)
        refused = self.style.refuse_list(request, self, query)
        if refused is not None:
            return json_response(refused)
        page = await self.ops.list(request, query)
        items = self.style.render(request, self, page.rows, self.style.fields(request))
        return json_response(self.style.list_body(request, self, page, items, query))

    async def showing(self, request: Request) -> Response:
        item = await self._checked(request, "get")
        return json_response({self.member: self._render_one(request, item, show=True)})

    async def creating(self, request: Request) -> Response:
        if not self.style.checks_resource:
            self.style.authorize(request, self, "create", None)
        body = await api.body(request, self.style.body(self, True))
        if not body.bulk:
            item = await self._create_one(request, body.members[0])
            return json_response({self.member: item}, 201)
        return json_response({self.plural: await self._create_all(request, body.members)}, 201)

    async def _create_all(self, request: Request, bodies: list[Member]) -> list[dict[str, Any]]:
        """All or nothing: when one item fails, the ones already made are deleted again
        before the error is answered (Neutron's bulk create)."""
        items: list[dict[str, Any]] = []
        try:
            for body in bodies:
                items.append(await self._create_one(request, body))
        except Exception:
            if self.ops.delete is not None:
                for item in reversed(items):
                    with contextlib.suppress(errors.OneStackError):
                        await self.ops.delete(request, item["id"])
            raise
        return items

    async def _create_one(self, request: Request, body: Member) -> dict[str, Any]:
        assert self.ops.create is not None
        await self.style.authorize_write(
            request, self, "create", body.raw, body.values, body.present, None
        )
        row = await self.ops.create(request, body.values)
        return self._render_one(request, row)

    async def updating(self, request: Request) -> Response:
        assert self.ops.update is not None
        if not self.style.checks_resource:
            self.style.authorize(request, self, "update", None)
        body = (await api.body(request, self.style.body(self, False))).members[0]
        raw, values, present = body.raw, body.values, body.present
        ident = self.ident(request)
        current = None
        if self.style.checks_resource:
            current = await self.ops.get(request, ident)
            self.style.authorize(request, self, "update", current)
        await self.style.authorize_write(request, self, "update", raw, values, present, current)
        row = await self.ops.update(request, ident, values)
        return json_response({self.member: self._render_one(request, row)})

    async def deleting(self, request: Request) -> Response:
        assert self.ops.delete is not None
        await self._checked(request, "delete", fetch=self.style.checks_resource)
        await self.ops.delete(request, self.ident(request))
        return empty()

    async def _checked(self, request: Request, verb: str, fetch: bool = True) -> Any:
        """The path's resource (when ``fetch``) once the rule of ``verb`` allows it."""
        if not self.style.checks_resource:
            self.style.authorize(request, self, verb, None)
        item = await self.ops.get(request, self.ident(request)) if fetch else None
        if self.style.checks_resource:
            self.style.authorize(request, self, verb, item)
        return item

    def _render_one(self, request: Request, row: Any, show: bool = False) -> dict[str, Any]:
        fields = self.style.fields(request) if show else ()
        return self.style.render(request, self, [row], fields)[0]
