"""``os-server-external-events``: other services (Neutron, Cinder) tell compute that something
happened to a server. OneStack's own services need none of these (compute asks the network
service for ports as it goes, and hears port status over the bus), so a known event for a
server that exists is acknowledged, and the answer is Nova's: 200, 207 or 404 per event."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import json_response
from onestack.compute.api.helpers import authorize, service, valid_body
from onestack.compute.callback_schemas import ExternalEvents


async def create_events(request: Request) -> Response:
    authorize(request, "os-server-external-events:create")
    events = (await valid_body(request, ExternalEvents)).events
    servers = service(request).servers
    answered = []
    for event in events:
        found = await servers.get_any(event["server_uuid"], deleted=False)
        if found is None:
            event.update(code=404, status="failed")
        else:
            event["code"] = 200
        answered.append(event)
    codes = {e["code"] for e in answered}
    status = 200 if codes == {200} else (404 if codes == {404} else 207)
    return json_response({"events": answered}, status)


routes = [Route("/os-server-external-events", create_events, methods=["POST"])]
