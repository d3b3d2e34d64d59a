"""``os-interface``: ports hot-plugged into (and unplugged from) a server on its host."""

from __future__ import annotations

from typing import Any

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.service.base import ComputeContext, compute_topic
from onestack.compute.service.networking import Networking
from onestack.compute.service.records import get_row, record_event, start_action, touch
from onestack.compute.service.servers import check_lock, check_state

log = get_logger(__name__)

# Nova attaches and detaches interfaces only in these states (409 otherwise).
ATTACH_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED)


class InterfaceAttachFailed(errors.InternalError):
    template = "Failed to attach network adapter device to {id}"


class InterfaceDetachFailed(errors.InternalError):
    template = "Failed to detach network adapter device from {id}"


class Interfaces:
    def __init__(self, context: ComputeContext, networking: Networking) -> None:
        self.context = context
        self.networking = networking

    async def listing(
        self, ctx: RequestContext, uuid: str
    ) -> tuple[models.Instance, list[dict[str, Any]]]:
        """The server and its ports (with the ``tag`` its ``network_info`` recorded)."""
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
        ports = (await self.networking.ports_of([uuid])).get(uuid, [])
        tags = {n["port_id"]: n.get("tag") for n in row.network_info or []}
        return row, [{**p, "tag": tags.get(p["id"])} for p in ports]

    async def _begin(self, ctx: RequestContext, uuid: str, action: str) -> models.Instance:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, action, ATTACH_STATES)
            if row.host is None:
                raise errors.Conflict(f"Instance {uuid} has no host yet.")
            return row

    async def attach(
        self,
        ctx: RequestContext,
        uuid: str,
        *,
        port_id: str | None,
        network_id: str | None,
        fixed_ip: str | None,
        tag: str | None,
    ) -> dict[str, Any]:
        """Make or bind the port, record it, and have the host's agent plug it in; the port
        as ``listing`` shows it."""
        row = await self._begin(ctx, uuid, "attach_interface")
        nic = await self.networking.allocate_one(
            ctx, row, port_id=port_id, network_id=network_id, fixed_ip=fixed_ip, tag=tag
        )
        async with self.context.db.session() as s:
            fresh = await get_row(s, None, uuid)
            fresh.network_info = [*(fresh.network_info or []), nic]
            touch(fresh)
            await start_action(s, ctx, fresh, "attach_interface")
        port = await self._port(uuid, nic["port_id"])
        try:
            await self.context.bus.call(
                compute_topic(row.host or ""),
                "attach_interface",
                {
                    "uuid": uuid,
                    "port_id": nic["port_id"],
                    "mac_address": port.get("mac_address", ""),
                    "mtu": int(port.get("mtu") or 1500),
                },
                timeout=120,
            )
        except Exception as exc:
            log.warning("server %s: attaching port %s failed: %s", uuid, nic["port_id"], exc)
            await self._forget(uuid, nic["port_id"], "compute_attach_interface", error=str(exc))
            await self.networking.deallocate([nic])
            raise InterfaceAttachFailed(id=uuid) from None
        async with self.context.db.session() as s:
            await record_event(s, uuid, "compute_attach_interface", row.host)
        port = await self._port(uuid, nic["port_id"]) or port
        return {**port, "tag": nic.get("tag")}

    async def _port(self, uuid: str, port_id: str) -> dict[str, Any]:
        ports = (await self.networking.ports_of([uuid])).get(uuid, [])
        return next((p for p in ports if p["id"] == port_id), {})

    async def detach(self, ctx: RequestContext, uuid: str, port_id: str) -> None:
        row = await self._begin(ctx, uuid, "detach_interface")
        nic = next((n for n in row.network_info or [] if n["port_id"] == port_id), None)
        if nic is None:
            raise errors.NotFound(f"Port {port_id} could not be found.")
        async with self.context.db.session() as s:
            await start_action(s, ctx, await get_row(s, None, uuid), "detach_interface")
        try:
            await self.context.bus.call(
                compute_topic(row.host or ""),
                "detach_interface",
                {"uuid": uuid, "port_id": port_id},
                timeout=120,
            )
        except Exception as exc:
            log.warning("server %s: detaching port %s failed: %s", uuid, port_id, exc)
            async with self.context.db.session() as s:
                await record_event(s, uuid, "compute_detach_interface", row.host, str(exc))
            raise InterfaceDetachFailed(id=uuid) from None
        await self.networking.deallocate([nic])
        await self._forget(uuid, port_id, "compute_detach_interface")

    async def _forget(self, uuid: str, port_id: str, event: str, error: str | None = None) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, None, uuid)
            row.network_info = [n for n in row.network_info or [] if n["port_id"] != port_id]
            touch(row)
            await record_event(s, uuid, event, row.host, error)
