"""Remote consoles: ``os-getVNCConsole`` / ``os-getSerialConsole`` actions and
``POST /servers/{id}/remote-consoles`` (2.6): a URL with a short-lived token that the console
proxy (``onestack.compute.console_proxy``) redeems."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.api import runtime_of
from onestack.common.context import RequestContext
from onestack.common.http import json_response
from onestack.compute import schemas, server_schemas
from onestack.compute.api.helpers import service, valid_body, valid_member, versioned
from onestack.compute.api.server_actions import EXTRA_ACTIONS, ActionHandler
from onestack.compute.api.server_lookup import require_version, server_row
from onestack.compute.console_proxy import mount_path
from onestack.compute.service.consoles import TYPES, ConsoleTypeUnavailable, console_link


class ConsoleTypeInvalid(errors.BadRequest):
    template = "Invalid console type {type}"


def proxy_base(request: Request) -> str:
    runtime = runtime_of(request)
    return f"{runtime.public_url}{mount_path(runtime.settings)}"


async def console_url(request: Request, ctx: RequestContext, uuid: str, kind: str) -> str:
    """A new console URL for the server (see ``Consoles.open``)."""
    token = await service(request).consoles.open(ctx, uuid, kind)
    return console_link(proxy_base(request), token, kind)


async def _typed(request: Request, ctx: RequestContext, uuid: str, kind: str) -> str:
    protocol = TYPES.get(kind)
    if protocol is None:
        raise ConsoleTypeUnavailable(type=kind)
    return await console_url(request, ctx, uuid, protocol)


def _action(allowed: tuple[str, ...], name: str) -> ActionHandler:
    model = server_schemas.console_type(name, allowed)

    async def handler(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
        kind = valid_member(request, model, body).type
        url = await _typed(request, ctx, uuid, kind)
        return json_response({"console": {"type": kind, "url": url}})

    return handler


async def remote_consoles(request: Request) -> Response:
    require_version(request, 6)
    ctx, row = await server_row(request, "remote-consoles")
    model = versioned(
        request, (8, schemas.RemoteConsoleCreateV28), (6, schemas.RemoteConsoleCreate)
    )
    body = await valid_body(request, model)
    protocol, kind = body.protocol, body.type
    if protocol not in ("vnc", "serial"):
        raise ConsoleTypeUnavailable(type=kind)
    if TYPES[kind] is not None and TYPES[kind] != protocol:
        raise ConsoleTypeInvalid(type=kind)
    url = await _typed(request, ctx, row.uuid, kind)
    return json_response({"remote_console": {"protocol": protocol, "type": kind, "url": url}})


EXTRA_ACTIONS.update(
    {
        "os-getVNCConsole": (_action(("novnc", "xvpvnc"), "os-getVNCConsole"), "remote-consoles"),
        "os-getSerialConsole": (_action(("serial",), "os-getSerialConsole"), "remote-consoles"),
        "os-getSPICEConsole": (
            _action(("spice-html5",), "os-getSPICEConsole"),
            "remote-consoles",
        ),
        "os-getRDPConsole": (_action(("rdp-html5",), "os-getRDPConsole"), "remote-consoles"),
    }
)

routes = [Route("/servers/{server_id}/remote-consoles", remote_consoles, methods=["POST"])]
