"""How a server's boot and resize use the scheduler: its request spec from the server's row
(flavor, zone, forced host, server group), and the claims that follow it around."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestack.compute import models, scheduler
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.hosts import Hosts
from onestack.compute.service.image_mappings import boots_from_volume


@dataclass(frozen=True)
class Placement:
    host: str
    node_uuid: str
    hypervisor_hostname: str
    availability_zone: str


async def _group(context: ComputeContext, group_uuid: str | None, uuid: str) -> dict[str, Any]:
    if not group_uuid:
        return {}
    async with context.db.session() as s:
        group = await s.scalar(
            select(models.ServerGroup).where(models.ServerGroup.uuid == group_uuid)
        )
        if group is None:
            return {}
        hosts = (
            await s.scalars(
                select(models.Instance.host)
                .join(
                    models.ServerGroupMember,
                    models.ServerGroupMember.instance_uuid == models.Instance.uuid,
                )
                .where(
                    models.ServerGroupMember.group_id == group.id,
                    models.Instance.deleted.is_(False),
                    models.Instance.uuid != uuid,
                    models.Instance.host.is_not(None),
                )
            )
        ).all()
        return {
            "group_uuid": group.uuid,
            "group_policy": group.policy,
            "group_rules": dict(group.rules or {}),
            "group_hosts": frozenset(h for h in hosts if h),
        }


async def place(context: ComputeContext, row: models.Instance, ignore: list[str]) -> Placement:
    """Claim room for ``row`` on the best host not in ``ignore``; ``NoValidHost`` if none."""
    zone = row.availability_zone
    forced = row.request.get("forced_host")
    if forced:
        zone = f"{zone or ''}:{forced}"
    spec = scheduler.RequestSpec.from_flavor(
        row.uuid,
        row.project_id,
        row.flavor,
        # A server booted from an image that defines its root volume (a volume-backed
        # server's snapshot) shows that image, yet takes no local disk.
        boot_from_volume=not row.image_ref
        or boots_from_volume(row.request.get("block_devices") or []),
        availability_zone=zone,
        ignore_hosts=frozenset(ignore),
        **await _group(context, row.request.get("group"), row.uuid),
    )
    placements = await scheduler.schedule(context.db, context.settings, spec)
    p = placements[0]
    zone = await Hosts(context).zone_of(p.host)
    return Placement(p.host, p.node_uuid, p.hypervisor_hostname, zone)


async def release(context: ComputeContext, consumer_uuid: str) -> None:
    await scheduler.release(context.db, consumer_uuid)
    await scheduler.release(context.db, scheduler.migration_consumer(consumer_uuid))


async def resize_claim(
    context: ComputeContext, row: models.Instance, flavor: dict[str, Any]
) -> None:
    """Hold the new flavor on the server's node beside the old one; 400 when it won't fit."""
    async with context.db.session() as s:
        node = await s.scalar(select(models.ComputeNode).where(models.ComputeNode.host == row.host))
    if node is None:
        raise scheduler.NoValidHost(reason=f"host {row.host} has no compute node")
    spec = scheduler.RequestSpec.from_flavor(row.uuid, row.project_id, flavor)
    ok = await scheduler.resize_claim(
        context.db, row.uuid, node.uuid, row.project_id, spec.vcpus, spec.memory_mb, spec.disk_gb
    )
    if not ok:
        raise scheduler.NoValidHost(reason="the new flavor does not fit on the server's host")


async def confirm_resize(context: ComputeContext, uuid: str) -> None:
    await scheduler.confirm_resize(context.db, uuid)


async def revert_resize(context: ComputeContext, uuid: str) -> None:
    await scheduler.revert_resize(context.db, uuid)
