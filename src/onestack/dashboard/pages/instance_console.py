"""An instance's console in the browser: noVNC over the compute console proxy, the serial
console (a plain terminal) where VNC is not to be had."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.assets import NOVNC
from onestack.dashboard.client import APIError
from onestack.dashboard.pages.instances import row
from onestack.dashboard.web import Ctx, page


def socket_path(url: str) -> str:
    """The websocket's path and query (with its console token) in a console URL: noVNC's page
    carries it in ``path=``, the serial console's URL is the websocket itself."""
    parts = urlsplit(url)
    if parts.scheme in ("ws", "wss"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    inner = parse_qs(parts.query).get("path", [""])[0]
    return "/" + unquote(inner).lstrip("/")


async def _console(ctx: Ctx, server_id: str, protocol: str, kind: str) -> str:
    body = {"remote_console": {"protocol": protocol, "type": kind}}
    found = await ctx.api.post("compute", f"/servers/{server_id}/remote-consoles", body)
    return socket_path(str(found["remote_console"]["url"]))


@page()
async def console(ctx: Ctx) -> Response:
    server_id = ctx.request.path_params["server_id"]
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    wanted = ctx.request.query_params.get("type", "")
    kind, path, problem = "", "", ""
    if wanted != "serial" and NOVNC.installed:
        try:
            kind, path = "vnc", await _console(ctx, server_id, "vnc", "novnc")
        except APIError as exc:
            problem = exc.message
    if not path:
        try:
            kind, path = "serial", await _console(ctx, server_id, "serial", "serial")
        except APIError as exc:
            problem = exc.message
    if not NOVNC.installed and not problem:
        problem = "The VNC viewer is not installed here (python -m onestack.dashboard.assets)."
    return ctx.render(
        "project/instance_console.html",
        server=server,
        row=row(server, is_admin=ctx.user.is_admin),
        tab="console",
        kind=kind,
        socket=path,
        problem=problem,
        novnc=NOVNC.installed,
    )


ROUTES = [Route("/project/instances/{server_id}/console/", console, methods=["GET"])]
