"""Trunks (Neutron's trunk extension): a parent port and sub-ports, each tagged with a VLAN id.

The API and its rules are Neutron's; the data plane does not carry them. No network driver here
wires sub-ports: the linuxbridge driver has no VLAN sub-interfaces on the guest's tap (and the
kernels this runs on may have no 802.1q module), so a sub-port's frames are never tagged or
untagged. A trunk therefore never claims more than the parent port gives: ``DOWN`` while the
parent port is not bound to a host, ``ACTIVE`` once bound with no sub-ports (the parent port
works untagged as any port), ``DEGRADED`` once bound with sub-ports (they are not wired).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import (
    Caller,
    NetworkContext,
    apply,
    require_owner,
    tags_of,
    touch,
)
from onestack.network.service.ports import (
    PortInUseAsSubPort,
    PortInUseAsTrunkParent,
    visible_port,
)
from onestack.network.service.views import owner, standard, subports_of

SEGMENTATION_TYPES = {"vlan": (1, 4094)}
# Why a bound trunk with sub-ports is DEGRADED (the trunk's status has no reason field).
NOT_WIRED = "sub-ports are not wired: the data plane does not tag VLANs"


class TrunkNotFound(errors.NotFound):
    template = "Trunk {trunk_id} could not be found."


class SubPortNotFound(errors.NotFound):
    template = "SubPort {port_id} could not be found for trunk {trunk_id}."


class TrunkPortInUse(errors.Conflict):
    template = "Port {port_id} is in use by another trunk."


class ParentPortInUse(errors.Conflict):
    template = "Port {port_id} is currently in use and is not eligible for use as a parent port."


class DuplicateSubPort(errors.Conflict):
    template = (
        "segmentation_type {segmentation_type} and segmentation_id {segmentation_id} "
        "already in use on trunk {trunk_id}."
    )


class TrunkInUse(errors.Conflict):
    template = "Trunk {trunk_id} is currently in use."


class TrunkDisabled(errors.Conflict):
    template = "Trunk {trunk_id} is currently disabled."


def _bad(reason: str) -> nerr.InvalidInput:
    return nerr.InvalidInput(reason=f"Invalid input for sub_ports. Reason: {reason}.")


def parse_subports(raw: Any, removing: bool = False) -> list[dict[str, Any]]:
    """Neutron's ``sub_ports`` validation: a list of ``{port_id, segmentation_type,
    segmentation_id}`` (only ``port_id`` to remove), VLAN ids 1-4094, each port and each
    (type, id) once."""
    if not isinstance(raw, list):
        raise _bad(f"'{raw}' is not a list")
    out: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("port_id"), str):
            raise _bad(f"Invalid subport details '{item}': missing port_id")
        if removing:
            out.append({"port_id": item["port_id"]})
            continue
        kind, seg = item.get("segmentation_type"), item.get("segmentation_id")
        if kind is None or seg is None:
            raise _bad(
                f"Invalid subport details '{item}': missing segmentation information. Must "
                "specify both segmentation_id and segmentation_type"
            )
        if kind not in SEGMENTATION_TYPES:
            raise _bad(f"'{kind}' is not in {sorted(SEGMENTATION_TYPES)}")
        try:
            number = int(seg)
        except (TypeError, ValueError):
            raise _bad(f"'{seg}' is not an integer") from None
        low, high = SEGMENTATION_TYPES[kind]
        if isinstance(seg, bool) or not low <= number <= high:
            raise _bad(
                f"Segmentation ID for segmentation type {kind} must be in range [{low}, {high}]"
            )
        out.append({"port_id": item["port_id"], "segmentation_type": kind,
                    "segmentation_id": number})  # fmt: skip
    ports = [s["port_id"] for s in out]
    if len(set(ports)) != len(ports):
        raise _bad(f"Duplicate port_id in {ports}")
    if not removing:
        segments = [(s["segmentation_type"], s["segmentation_id"]) for s in out]
        if len(set(segments)) != len(segments):
            raise _bad("Duplicate segmentation ID")
    return out


def status_of(parent_host: str, has_subports: bool) -> str:
    if not parent_host:
        return "DOWN"
    return "DEGRADED" if has_subports else "ACTIVE"


def _public(sub: dict[str, Any]) -> dict[str, Any]:
    return {k: sub[k] for k in ("segmentation_id", "segmentation_type", "port_id")}


async def render(session: AsyncSession, rows: Sequence[models.Trunk]) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    subs = await subports_of(session, ids)
    parents = [r.port_id for r in rows]
    hosts = {
        port_id: host
        for port_id, host in await session.execute(
            select(models.Port.id, models.Port.binding_host_id).where(models.Port.id.in_(parents))
        )
    }
    tags = await tags_of(session, ids)
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "admin_state_up": r.admin_state_up,
            "port_id": r.port_id,
            "status": status_of(hosts.get(r.port_id) or "", bool(subs.get(r.id))),
            "sub_ports": [_public(s) for s in subs.get(r.id, [])],
            **standard(r, tags),
        }
        for r in rows
    ]


class Trunks:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    @staticmethod
    async def visible(session: AsyncSession, caller: Caller, trunk_id: str) -> models.Trunk:
        row = await session.get(models.Trunk, trunk_id)
        if row is None or not (caller.is_admin or row.project_id == caller.project_id):
            raise TrunkNotFound(trunk_id=trunk_id)
        return row

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.Trunk:
        subports = parse_subports(body.get("sub_ports") or [])
        async with self.ctx.db.session() as session:
            parent = await visible_port(session, caller, body["port_id"])
            other = await session.scalar(
                select(models.Trunk.id).where(models.Trunk.port_id == parent.id)
            )
            if other is not None:
                raise TrunkPortInUse(port_id=parent.id)
            if await session.get(models.SubPort, parent.id) is not None:
                raise ParentPortInUse(port_id=parent.id)
            trunk = models.Trunk(
                id=models.uuid_str(),
                project_id=body.get("project_id") or caller.project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                admin_state_up=body.get("admin_state_up", True),
                port_id=parent.id,
            )
            session.add(trunk)
            await session.flush()
            await self._add(session, caller, trunk, subports)
        return trunk

    async def _add(
        self,
        session: AsyncSession,
        caller: Caller,
        trunk: models.Trunk,
        subports: list[dict[str, Any]],
    ) -> None:
        for sub in subports:
            port = await visible_port(session, caller, sub["port_id"])
            if port.id == trunk.port_id:
                raise PortInUseAsTrunkParent(port_id=port.id, trunk_id=trunk.id)
            parent_of = await session.scalar(
                select(models.Trunk.id).where(models.Trunk.port_id == port.id)
            )
            if parent_of is not None:
                raise PortInUseAsTrunkParent(port_id=port.id, trunk_id=parent_of)
            existing = await session.get(models.SubPort, port.id)
            if existing is not None:
                raise PortInUseAsSubPort(port_id=port.id, trunk_id=existing.trunk_id)
            if port.device_id:
                raise nerr.PortInUse(
                    port_id=port.id, net_id=port.network_id, device_id=port.device_id
                )
            taken = await session.scalar(
                select(models.SubPort.port_id).where(
                    models.SubPort.trunk_id == trunk.id,
                    models.SubPort.segmentation_type == sub["segmentation_type"],
                    models.SubPort.segmentation_id == sub["segmentation_id"],
                )
            )
            if taken is not None:
                raise DuplicateSubPort(trunk_id=trunk.id, **{k: sub[k] for k in (
                    "segmentation_type", "segmentation_id")})  # fmt: skip
            session.add(models.SubPort(trunk_id=trunk.id, **sub))
            await session.flush()

    async def update(self, caller: Caller, trunk_id: str, changes: dict[str, Any]) -> models.Trunk:
        async with self.ctx.db.session() as session:
            trunk = await self.visible(session, caller, trunk_id)
            require_owner(caller, trunk.project_id, "update_trunk")
            apply(trunk, changes)
        return trunk

    async def delete(self, caller: Caller, trunk_id: str) -> None:
        async with self.ctx.db.session() as session:
            trunk = await self.visible(session, caller, trunk_id)
            require_owner(caller, trunk.project_id, "delete_trunk")
            parent = await session.get(models.Port, trunk.port_id)
            if parent is not None and parent.binding_host_id:
                raise TrunkInUse(trunk_id=trunk.id)  # as Neutron: its parent port is bound
            await session.delete(trunk)

    async def change_subports(
        self, caller: Caller, trunk_id: str, raw: Any, add: bool
    ) -> models.Trunk:
        subports = parse_subports(raw, removing=not add)
        async with self.ctx.db.session() as session:
            trunk = await self.visible(session, caller, trunk_id)
            require_owner(caller, trunk.project_id, "add_subports" if add else "remove_subports")
            if not trunk.admin_state_up:
                raise TrunkDisabled(trunk_id=trunk.id)
            if add:
                await self._add(session, caller, trunk, subports)
            else:
                for sub in subports:
                    row = await session.get(models.SubPort, sub["port_id"])
                    if row is None or row.trunk_id != trunk.id:
                        raise SubPortNotFound(port_id=sub["port_id"], trunk_id=trunk.id)
                    await session.delete(row)
            touch(trunk)
        return trunk
