"""The scheduler against the database: candidates from the compute tables, and claims.

A claim is Placement's allocation write, folded into our tables: in one transaction it
1. bumps ``compute_node.generation`` with ``UPDATE ... WHERE uuid = :node AND generation =
   :seen`` (compare-and-swap: no row means another claim changed the node since the scheduler
   read it, so the choice was made on stale usage and the caller reschedules), which also
   takes the node row's write lock (PostgreSQL, MariaDB) or the database's (SQLite), so
   every claim on a node runs after the previous one committed; then
2. re-reads the node's usage under that lock and refuses if the allocation no longer fits;
3. writes the allocation.
The UPDATE comes first so that SQLite takes its write lock before reading anything (a
snapshot read first would make the later write fail), and MariaDB runs the claim at READ
COMMITTED so the re-read sees the claims committed before the lock was granted.

Resizes hold both flavors, as Nova does with a migration record as second consumer: the
instance's old allocation moves to ``migration_consumer(instance_uuid)`` (a uuid5 of the
instance's: it fits the 36-character column and needs no migration row), the instance gets
the new flavor's allocation on the destination node (the same node for a resize on the same
host: both must fit there together). Confirming releases the migration consumer; reverting
drops the new allocation and gives the old one back to the instance.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import Database, utcnow
from onestack.compute import models
from onestack.compute.scheduler.hosts import (
    HostCandidate,
    MaxRetriesExceeded,
    NoValidHost,
    Placement,
    RequestSpec,
)
from onestack.compute.scheduler.select import select_hosts
from onestack.config import Settings

LOG = logging.getLogger(__name__)

COMPUTE_BINARY = "nova-compute"
AZ_KEY = "availability_zone"
RACE_ATTEMPTS = 10  # reloads after a lost claim race before giving up
_MIGRATION_NS = uuid.UUID("5b0e6d1c-6c3e-4f0a-9a57-1f2a7c0c8e11")


def migration_consumer(instance_uuid: str) -> str:
    """The consumer that holds an instance's old allocation while it is resized."""
    return str(uuid.uuid5(_MIGRATION_NS, instance_uuid))


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


async def load_candidates(
    db: Database,
    settings: Settings,
    now: datetime | None = None,
    *,
    exclude_instances: Collection[str] = (),
) -> list[HostCandidate]:
    """Every compute node with its usage (summed allocations), its service's state, zone and
    aggregate metadata, and server-group members per group (by ``Instance.host``; the
    ``exclude_instances`` being scheduled do not count). Ordered by host and node name so
    ties between equal hosts always break the same way."""
    cs = settings.compute
    now = _naive_utc(now or utcnow())
    down_after = timedelta(seconds=cs.service_down_time)
    async with db.session() as session:
        nodes = (
            await session.scalars(
                select(models.ComputeNode).order_by(
                    models.ComputeNode.host, models.ComputeNode.hypervisor_hostname
                )
            )
        ).all()
        # Sums, not rows: one row per node however many instances the cloud runs.
        usage: dict[str, tuple[int, int, int]] = {
            node_uuid: (int(v), int(mem), int(disk))
            for node_uuid, v, mem, disk in await session.execute(
                select(
                    models.Allocation.node_uuid,
                    func.sum(models.Allocation.vcpus),
                    func.sum(models.Allocation.memory_mb),
                    func.sum(models.Allocation.disk_gb),
                ).group_by(models.Allocation.node_uuid)
            )
        }
        services = {
            s.host: s
            for s in await session.scalars(
                select(models.Service).where(models.Service.binary == COMPUTE_BINARY)
            )
        }
        metadata = await _aggregate_metadata(session)
        members = await _group_members(session, exclude_instances)

    out = []
    for n in nodes:
        svc = services.get(n.host)
        enabled = svc is not None and not svc.disabled
        up = False
        if svc is not None and not svc.forced_down:
            seen = svc.last_seen_up or svc.updated_at or svc.created_at
            up = seen is not None and now - _naive_utc(seen) <= down_after
        meta = metadata.get(n.host, {})
        zones = sorted(meta.get(AZ_KEY, ()))
        out.append(
            _candidate(
                n,
                usage.get(n.uuid, (0, 0, 0)),
                enabled=enabled,
                up=up,
                availability_zone=zones[0] if zones else cs.default_availability_zone,
                aggregate_metadata={k: set(v) for k, v in meta.items()},
                group_members=dict(members.get(n.host, {})),
            )
        )
    return out


async def _aggregate_metadata(session: AsyncSession) -> dict[str, dict[str, set[str]]]:
    """Per host, the metadata of its aggregates (a key may have several values)."""
    metadata: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for host, key, value in await session.execute(
        select(
            models.AggregateHost.host, models.AggregateMetadata.key, models.AggregateMetadata.value
        ).join(
            models.AggregateMetadata,
            models.AggregateMetadata.aggregate_id == models.AggregateHost.aggregate_id,
        )
    ):
        metadata[host][key].add(value)
    return metadata


async def _group_members(
    session: AsyncSession, exclude_instances: Collection[str]
) -> dict[str, dict[str, int]]:
    """Per host, how many live servers of each server group it runs (by ``Instance.host``),
    those in ``exclude_instances`` aside."""
    members: dict[str, dict[str, int]] = defaultdict(dict)
    query = (
        select(models.Instance.host, models.ServerGroup.uuid, func.count())
        .select_from(models.ServerGroupMember)
        .join(models.ServerGroup, models.ServerGroup.id == models.ServerGroupMember.group_id)
        .join(models.Instance, models.Instance.uuid == models.ServerGroupMember.instance_uuid)
        .where(models.Instance.host.is_not(None), models.Instance.deleted.is_(False))
        .group_by(models.Instance.host, models.ServerGroup.uuid)
    )
    if exclude_instances:
        query = query.where(models.Instance.uuid.not_in(list(exclude_instances)))
    for member_host, group_uuid, count in await session.execute(query):
        if member_host:
            members[member_host][group_uuid] = int(count)
    return members


def _candidate(n: models.ComputeNode, used: tuple[int, int, int], **kwargs: Any) -> HostCandidate:
    return HostCandidate(
        node_uuid=n.uuid,
        host=n.host,
        hypervisor_hostname=n.hypervisor_hostname,
        total_vcpus=n.vcpus,
        total_memory_mb=n.memory_mb,
        total_disk_gb=n.local_gb,
        cpu_allocation_ratio=n.cpu_allocation_ratio,
        ram_allocation_ratio=n.ram_allocation_ratio,
        disk_allocation_ratio=n.disk_allocation_ratio,
        reserved_vcpus=n.reserved_host_cpus,
        reserved_memory_mb=n.reserved_host_memory_mb,
        reserved_disk_gb=n.reserved_host_disk_gb,
        used_vcpus=used[0],
        used_memory_mb=used[1],
        used_disk_gb=used[2],
        generation=n.generation,
        **kwargs,
    )


class _Refused(Exception):
    """The claim must not commit (lost race or no room): roll the transaction back."""


async def _lock_node(
    db: Database, session: AsyncSession, node_uuid: str, expected_generation: int | None
) -> models.ComputeNode:
    """Step 1 of a claim: bump the generation (compare-and-swap when ``expected_generation``
    is given), which locks the node until the transaction ends; then read it."""
    if db.engine.dialect.name in ("mysql", "mariadb"):
        await session.connection(execution_options={"isolation_level": "READ COMMITTED"})
    where = [models.ComputeNode.uuid == node_uuid]
    if expected_generation is not None:
        where.append(models.ComputeNode.generation == expected_generation)
    result = await session.execute(
        update(models.ComputeNode)
        .where(*where)
        .values(generation=models.ComputeNode.generation + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _Refused(f"node {node_uuid} changed (generation {expected_generation}) or is gone")
    return (
        await session.execute(
            select(models.ComputeNode).where(models.ComputeNode.uuid == node_uuid)
        )
    ).scalar_one()


async def _allocate(
    session: AsyncSession,
    row: models.ComputeNode,
    consumer_uuid: str,
    project_id: str,
    vcpus: int,
    memory_mb: int,
    disk_gb: int,
) -> None:
    """Steps 2 and 3: with the node locked, check the room left and write the allocation
    (replacing the consumer's previous one on the node, if any)."""
    used = (
        await session.execute(
            select(
                func.coalesce(func.sum(models.Allocation.vcpus), 0),
                func.coalesce(func.sum(models.Allocation.memory_mb), 0),
                func.coalesce(func.sum(models.Allocation.disk_gb), 0),
            ).where(
                models.Allocation.node_uuid == row.uuid,
                models.Allocation.consumer_uuid != consumer_uuid,
            )
        )
    ).one()
    node = _candidate(row, (int(used[0]), int(used[1]), int(used[2])))
    if not node.fits(vcpus, memory_mb, disk_gb):
        raise _Refused(
            f"no room on {node.hypervisor_hostname} for VCPU={vcpus} MEMORY_MB={memory_mb} "
            f"DISK_GB={disk_gb} (free {node.free_vcpus}/{node.free_memory_mb}/{node.free_disk_gb})"
        )
    alloc = await session.get(models.Allocation, (consumer_uuid, node.node_uuid))
    if alloc is None:
        session.add(
            models.Allocation(
                consumer_uuid=consumer_uuid,
                node_uuid=node.node_uuid,
                vcpus=vcpus,
                memory_mb=memory_mb,
                disk_gb=disk_gb,
                project_id=project_id,
            )
        )
    else:
        alloc.vcpus, alloc.memory_mb, alloc.disk_gb = vcpus, memory_mb, disk_gb
        alloc.project_id = project_id
    await session.flush()


async def claim(
    db: Database,
    node_uuid: str,
    consumer_uuid: str,
    project_id: str,
    vcpus: int,
    memory_mb: int,
    disk_gb: int,
    expected_generation: int | None,
) -> bool:
    """Allocate the resources to ``consumer_uuid`` on the node, atomically (see the module
    doc). False, with nothing written, if the node's generation is no longer
    ``expected_generation`` (None: do not compare), the allocation does not fit any more, or
    the database gave up on the transaction (lock timeout, deadlock): reload and choose
    again. A consumer's existing allocation on the node is replaced (its old amounts do not
    count against the new ones)."""
    try:
        async with db.session() as session:
            node = await _lock_node(db, session, node_uuid, expected_generation)
            await _allocate(session, node, consumer_uuid, project_id, vcpus, memory_mb, disk_gb)
    except _Refused as why:
        LOG.debug("claim for %s refused: %s", consumer_uuid, why)
        return False
    except (errors.ServiceUnavailable, errors.Conflict) as err:
        if type(err) not in (errors.ServiceUnavailable, errors.Conflict):
            raise
        LOG.debug("claim for %s failed in the database: %s", consumer_uuid, err)
        return False
    return True


async def release(db: Database, consumer_uuid: str, node_uuid: str | None = None) -> None:
    """Drop the consumer's allocations (on one node, or everywhere). Freeing needs no lock:
    it can only make later claims succeed."""
    async with db.session() as session:
        stmt = delete(models.Allocation).where(models.Allocation.consumer_uuid == consumer_uuid)
        if node_uuid is not None:
            stmt = stmt.where(models.Allocation.node_uuid == node_uuid)
        await session.execute(stmt)


async def resize_claim(
    db: Database,
    instance_uuid: str,
    node_uuid: str,
    project_id: str,
    vcpus: int,
    memory_mb: int,
    disk_gb: int,
    expected_generation: int | None = None,
) -> bool:
    """Start a resize (or cold migration) to ``node_uuid``: atomically move the instance's
    current allocation to ``migration_consumer(instance_uuid)`` and claim the new flavor on
    the node for the instance. On the instance's own node both must fit together. False as
    for ``claim`` (nothing changes then). Conflict if a resize is already in progress."""
    held = migration_consumer(instance_uuid)
    try:
        async with db.session() as session:
            node = await _lock_node(db, session, node_uuid, expected_generation)
            if await session.scalar(
                select(func.count()).where(models.Allocation.consumer_uuid == held)
            ):
                raise errors.Conflict(
                    kind="allocation", reason=f"instance {instance_uuid} is already resizing"
                )
            await session.execute(
                update(models.Allocation)
                .where(models.Allocation.consumer_uuid == instance_uuid)
                .values(consumer_uuid=held)
                .execution_options(synchronize_session=False)
            )
            await _allocate(session, node, instance_uuid, project_id, vcpus, memory_mb, disk_gb)
    except _Refused as why:
        LOG.debug("resize claim for %s refused: %s", instance_uuid, why)
        return False
    except errors.ServiceUnavailable as err:
        if type(err) is not errors.ServiceUnavailable:
            raise
        return False
    return True


async def confirm_resize(db: Database, instance_uuid: str) -> None:
    """Resize confirmed: free the old flavor's allocation."""
    await release(db, migration_consumer(instance_uuid))


async def revert_resize(db: Database, instance_uuid: str) -> None:
    """Resize reverted: drop the new allocation, give the old one back to the instance (it
    was held all along, so it fits)."""
    held = migration_consumer(instance_uuid)
    async with db.session() as session:
        if not await session.scalar(
            select(func.count()).where(models.Allocation.consumer_uuid == held)
        ):
            return  # nothing held: not resizing (or already reverted)
        await session.execute(
            delete(models.Allocation).where(models.Allocation.consumer_uuid == instance_uuid)
        )
        await session.execute(
            update(models.Allocation)
            .where(models.Allocation.consumer_uuid == held)
            .values(consumer_uuid=instance_uuid)
            .execution_options(synchronize_session=False)
        )


async def schedule(
    db: Database,
    settings: Settings,
    spec: RequestSpec,
    count: int = 1,
    *,
    now: datetime | None = None,
) -> list[Placement]:
    """Place ``count`` instances (``spec.consumers(count)``): load the candidates, filter,
    weigh (``settings.compute.weigher``), claim each on its host. A lost race reloads and
    chooses again for the instances not placed yet (up to ``RACE_ATTEMPTS`` times). All or
    nothing: on NoValidHost (or any error) the claims made so far are released."""
    consumers = spec.consumers(count)
    placements: list[Placement] = []
    try:
        for attempt in range(RACE_ATTEMPTS):
            remaining = consumers[len(placements) :]
            group_hosts = spec.group_hosts
            if spec.group_policy and placements:
                group_hosts = group_hosts | {p.host for p in placements}
            current = dataclasses.replace(
                spec,
                instance_uuid=remaining[0],
                instance_uuids=remaining if count > 1 else (),
                group_hosts=group_hosts,
            )
            candidates = await load_candidates(db, settings, now, exclude_instances=consumers)
            hosts = select_hosts(candidates, current, settings.compute.weigher, len(remaining))
            generations: dict[str, int] = {}
            for consumer, host in zip(remaining, hosts, strict=True):
                seen = generations.get(host.node_uuid, host.generation)
                if not await claim(
                    db,
                    host.node_uuid,
                    consumer,
                    spec.project_id,
                    spec.vcpus,
                    spec.memory_mb,
                    spec.disk_gb,
                    seen,
                ):
                    break
                generations[host.node_uuid] = seen + 1  # our own bump
                placements.append(
                    Placement(consumer, host.node_uuid, host.host, host.hypervisor_hostname)
                )
            else:
                return placements
            # Lost a race: back off a little (randomly, so racers do not collide again).
            await asyncio.sleep(random.uniform(0.0, 0.01 * (attempt + 1)))
        raise NoValidHost(
            f"lost the claim race {RACE_ATTEMPTS} times for instance {consumers[len(placements)]}"
        )
    except BaseException:
        for p in placements:
            await release(db, p.instance_uuid, p.node_uuid)
        raise


async def reschedule(
    db: Database,
    settings: Settings,
    spec: RequestSpec,
    failed: Placement,
    attempts: int,
    *,
    now: datetime | None = None,
) -> tuple[Placement, RequestSpec]:
    """After a failed spawn on ``failed`` (the ``attempts``-th host tried): release its
    claim and place the instance on a host not tried yet. Returns the placement and the spec
    to keep for the next reschedule (its ``ignore_hosts`` grown). MaxRetriesExceeded (the
    server's fault) once ``settings.compute.max_attempts`` hosts were tried, when the host
    was forced, or when no other host is left."""
    await release(db, failed.instance_uuid, failed.node_uuid)
    tried = spec.ignore_hosts | {failed.host}
    if attempts >= settings.compute.max_attempts or spec.force_host or spec.force_node:
        raise MaxRetriesExceeded(
            failed.instance_uuid, reason=f"{attempts} hosts tried: {', '.join(sorted(tried))}"
        )
    nxt = dataclasses.replace(
        spec, instance_uuid=failed.instance_uuid, instance_uuids=(), ignore_hosts=tried
    )
    try:
        placement = (await schedule(db, settings, nxt, now=now))[0]
    except NoValidHost as err:
        raise MaxRetriesExceeded(failed.instance_uuid, reason=err.reason) from err
    return placement, nxt
