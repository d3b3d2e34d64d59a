"""``os-server-external-events``: other services (Neutron, Cinder) tell compute that something
happened to a server. OneStack's own services need none of these (compute asks the network
service for ports as it goes, and hears port status over the bus), so a known event for a
server that exists is acknowledged, and the answer is Nova's: 200, 207 or 404 per event."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import json_response
from onestack.compute.api.helpers import at_least, authorize, body_of, service

NAMES = {
    "network-changed": 0,
    "network-vif-plugged": 0,
    "network-vif-unplugged": 0,
    "network-vif-deleted": 0,
    "volume-extended": 51,
    "power-update": 76,
    "accelerator-request-bound": 82,
    "volume-reimaged": 93,
}
STATUSES = ("failed", "completed", "in-progress")


def _event(request: Request, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - {"name", "server_uuid", "status", "tag"}:
        raise errors.BadRequest("Invalid input for field/attribute events.")
    name = raw.get("name")
    if name not in NAMES or not at_least(request, NAMES[name]):
        raise errors.BadRequest(f"Invalid input for field/attribute name. Value: {name}.")
    if not isinstance(raw.get("server_uuid"), str):
        raise errors.BadRequest("Invalid input for field/attribute server_uuid.")
    status = raw.get("status", "completed")
    if status not in STATUSES:
        raise errors.BadRequest(f"Invalid input for field/attribute status. Value: {status}.")
    tag = raw.get("tag")
    if tag is not None and (not isinstance(tag, str) or len(tag) > 255):
        raise errors.BadRequest("Invalid input for field/attribute tag.")
    event = {"name": name, "server_uuid": raw["server_uuid"], "status": status}
    if tag is not None:
        event["tag"] = tag
    return event


async def create_events(request: Request) -> Response:
    authorize(request, "os-server-external-events:create")
    raw = await body_of(request, "events")
    if not isinstance(raw, list) or not raw:
        raise errors.BadRequest("Invalid input for field/attribute events.")
    events = [_event(request, e) for e in raw]
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
