"""``OS::Heat::WaitConditionHandle`` and ``OS::Heat::WaitCondition``: a guest (or anyone
holding the handle's token) signals the handle; the wait condition completes when ``count``
successes arrived, fails on a failure or at its timeout.

The handle's token is a secret of that one resource (its hash is not enough: ``curl_cli``
must carry it), accepted only by ``POST .../resources/{handle}/signal``: it is no Keystone
token and opens nothing else. A ``NO_SIGNAL`` handle has no token: the wait condition counts
a success each time it looks (Heat's)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import time
import uuid
from typing import Any

from onestack.orchestration.errors import ResourceFailure, StackValidationFailed, not_allowed
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop
from onestack.orchestration.software import guest_base_url

POLL = 0.25  # seconds between looks at the handle while waiting
STATUSES = ("SUCCESS", "FAILURE")
# Heat's signal transports; this cloud has no CloudFormation API, Zaqar or stack-user domain
# for the others.
TRANSPORTS = ("CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL", "ZAQAR_SIGNAL",
              "TOKEN_SIGNAL")  # fmt: skip
OFFERED = ("TOKEN_SIGNAL", "NO_SIGNAL")


def signal_url(c: Context, base: str = "") -> str:
    """The resource's signal endpoint in the Heat API (at ``base``, else the public URL)."""
    project = c.ctx.project_id
    return (
        f"{base or c.runtime.public_url}/orchestration/v1/{project}/stacks/{c.stack_name}/"
        f"{c.stack_id}/resources/{c.resource_name}/signal"
    )


def _store(c: Context) -> Any:
    from onestack.orchestration.engine.runner import Engine

    return c.runtime.service(Engine).store


class WaitConditionFailure(ResourceFailure):
    pass


class WaitConditionTimeout(ResourceFailure):
    pass


def _transport_error(value: Any, path: str) -> str:
    if value not in TRANSPORTS:
        return f"{path}: {not_allowed(value, TRANSPORTS)}"
    if value not in OFFERED:
        return f"{path}: {value} is not offered by this cloud (only {', '.join(OFFERED)})"
    return ""


def _data(signals: list[dict[str, Any]]) -> str:
    return json.dumps({s["id"]: s.get("data") for s in signals if s["status"] == "SUCCESS"})


class WaitConditionHandle(Plugin):
    type_name = "OS::Heat::WaitConditionHandle"
    description = "Receives signals (from a guest's curl_cli) for an OS::Heat::WaitCondition."
    properties = {
        "signal_transport": Prop("string", default="TOKEN_SIGNAL", description="How the "
                                 "client will signal the wait condition: TOKEN_SIGNAL (an HTTP "
                                 "POST to the endpoint with the token) or NO_SIGNAL (signalled "
                                 "without waiting for any signal)."),
    }  # fmt: skip
    # Heat's attributes (heat/engine/resources/openstack/heat/wait_condition_handle.py).
    attributes = {
        "token": "Token for the signal URL (only good for this handle's signal) when "
        "signal_transport is TOKEN_SIGNAL; None for the other transports.",
        "endpoint": "Endpoint/url which can be used for signalling the handle when "
        "signal_transport is TOKEN_SIGNAL; None for the other transports.",
        "curl_cli": "Convenience attribute, a cURL CLI command prefix to signal the handle: "
        'append --data-binary \'{"status": "SUCCESS"}\' (or FAILURE). None for the other '
        "transports.",
        "signal": "JSON serialized map that includes the endpoint, token and/or other "
        "attributes the client must use for signalling this handle.",
    }

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        problem = super().check_properties(props, path, literal)
        if problem or "signal_transport" not in literal:
            return problem
        return _transport_error(props.get("signal_transport"), f"{path}.signal_transport")

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        transport = props.get("signal_transport") or "TOKEN_SIGNAL"
        problem = _transport_error(transport, "properties.signal_transport")
        if problem:
            raise ResourceFailure(problem)
        if transport == "NO_SIGNAL":
            # Heat's: nothing to signal with; the wait condition is signalled as it polls.
            attrs = {"token": None, "endpoint": None, "curl_cli": None, "signal": "{}"}
            return Created(str(uuid.uuid4()), attrs, {"__transport": transport, "signals": []})
        token = secrets.token_urlsafe(32)
        # A guest calls it: at the URL guests reach the cloud by.
        endpoint = signal_url(c, guest_base_url(c.runtime))
        curl = (
            f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
            f"-H 'Accept: application/json' {endpoint}"
        )
        # Heat's TOKEN_SIGNAL handle gives a JSON null here; the attribute's documented map
        # is more use to a template: the URL under the key Heat's other transports give it
        # (``alarm_url``), with the token to send as X-Auth-Token.
        signal = json.dumps({"alarm_url": endpoint, "token": token})
        attrs = {"token": token, "endpoint": endpoint, "curl_cli": curl, "signal": signal}
        return Created(str(uuid.uuid4()), attrs, {"__signal_secret": token, "signals": []})

    async def metadata(self, c: Context, row: Any) -> dict[str, Any]:
        """Heat keeps a handle's signals in its metadata, by id: ``{"1": {"data", "reason",
        "status"}}`` (a later signal of the same id replaces the earlier)."""
        signals = (row.data or {}).get("signals") or []
        kept = {s["id"]: {k: s.get(k) for k in ("data", "reason", "status")} for s in signals}
        return {**(row.rsrc_metadata or {}), **kept}

    async def signal(self, c: Context, row: Any, details: dict[str, Any]) -> None:
        """Heat's body: ``{"status": "SUCCESS"|"FAILURE", "reason", "data", "id"}``; an empty
        body is a success."""
        details = details if isinstance(details, dict) else {}
        status = str(details.get("status", "SUCCESS"))
        if status not in STATUSES:
            raise StackValidationFailed(message=f"Metadata format invalid: status {status} "
                                        f"is not one of {list(STATUSES)}")  # fmt: skip
        db = c.runtime.db
        from onestack.orchestration.models import Resource

        async with db.session() as s:
            fresh = await s.get(Resource, row.id, with_for_update=True)
            assert fresh is not None
            signals = list((fresh.data or {}).get("signals") or [])
            number = len(signals) + 1
            sid = str(details["id"] if details.get("id") is not None else number)
            # Heat keeps them by id: a signal with an id already signalled replaces it.
            signals = [s for s in signals if s["id"] != sid]
            signals.append({
                "id": sid,
                "status": status,
                "reason": str(details.get("reason") or f"Signal {number} received"),
                "data": details.get("data"),
            })  # fmt: skip
            fresh.data = {**(fresh.data or {}), "signals": signals}


class UpdateWaitConditionHandle(WaitConditionHandle):
    """Heat's: a WaitConditionHandle made anew (a new token, no signals) on each stack
    update, so the wait conditions on it wait again: a rolled-out change is known done once
    the update completes."""

    type_name = "OS::Heat::UpdateWaitConditionHandle"
    description = ("Receives signals for an OS::Heat::WaitCondition; replaced (its signals "
                   "cleared, a new handle) on every stack update.")  # fmt: skip
    replaced_on_update = True


class WaitCondition(Plugin):
    type_name = "OS::Heat::WaitCondition"
    description = "Waits for signals on a WaitConditionHandle."
    properties = {
        "handle": Prop("string", required=True, description="A reference to the wait "
                       "condition handle used to signal this wait condition."),
        "timeout": Prop("number", required=True, description="The number of seconds to wait "
                        "for the correct number of signals to arrive."),
        "count": Prop("integer", default=1, update_allowed=True, description="The number of "
                      "success signals that must be received before the stack creation "
                      "process continues."),
    }  # fmt: skip
    attributes = {"data": "JSON string containing data associated with wait condition signals "
                  "sent to the handle."}  # fmt: skip

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        store = _store(c)
        count = int(props.get("count") or 1)
        deadline = time.monotonic() + float(props["timeout"])
        name = c.resource_name
        while True:
            handle = None
            for row in await store.resources(c.stack_id):
                if row.physical_resource_id == props["handle"]:
                    handle = row
            if handle is not None and (handle.data or {}).get("__transport") == "NO_SIGNAL":
                # Heat's NO_SIGNAL handle is signalled (a success) each time it is looked at.
                at = dataclasses.replace(c, resource_name=handle.name)
                await WaitConditionHandle().signal(at, handle, {})
                handle = await store.resource_named(c.stack_id, handle.name)
            signals = list(((handle.data if handle else None) or {}).get("signals") or [])
            failed = [s for s in signals if s["status"] == "FAILURE"]
            if failed:
                raise WaitConditionFailure(failed[0]["reason"])
            good = [s for s in signals if s["status"] == "SUCCESS"]
            if len(good) >= count:
                return Created(f"{c.stack_name}-{name}-{secrets.token_hex(6)}",
                               {"data": _data(good)})  # fmt: skip
            if time.monotonic() >= deadline:
                raise WaitConditionTimeout(f"{len(good)} of {count} received")
            await asyncio.sleep(POLL)

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        return {}


PLUGINS: tuple[type[Plugin], ...] = (WaitConditionHandle, UpdateWaitConditionHandle, WaitCondition)
