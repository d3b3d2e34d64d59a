"""The hosts: compute services (``os-services``) and their hypervisors (``os-hypervisors``),
registered and kept alive by each host's compute agent."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select

from onestack.common import errors
from onestack.common.db import int_key, utcnow
from onestack.compute import models
from onestack.compute.service.aggregates import AZ_KEY, INTERNAL_ZONE
from onestack.compute.service.base import ComputeContext

COMPUTE_BINARY = "nova-compute"
CONTROL_BINARIES = ("nova-scheduler", "nova-conductor")


# A hypervisor's capacity and use: shown before 2.88, summed by os-hypervisors/statistics.
HYPERVISOR_FIGURES = (
    "vcpus",
    "memory_mb",
    "local_gb",
    "vcpus_used",
    "memory_mb_used",
    "local_gb_used",
    "free_ram_mb",
    "free_disk_gb",
    "current_workload",
    "running_vms",
    "disk_available_least",
)


class HypervisorFacts(Protocol):
    """What a host's agent reports of its hypervisor (the virt driver's ``HostInfo``)."""

    @property
    def hypervisor_type(self) -> str: ...
    @property
    def hypervisor_version(self) -> int: ...
    @property
    def vcpus(self) -> int: ...
    @property
    def memory_mb(self) -> int: ...
    @property
    def local_gb(self) -> int: ...
    @property
    def accelerator(self) -> str: ...
    @property
    def cpu_info(self) -> dict[str, Any]: ...


class ServiceNotFound(errors.NotFound):
    template = "Service {id} could not be found."


@dataclass
class ServiceView:
    row: models.Service
    zone: str
    up: bool


@dataclass
class HypervisorView:
    node: models.ComputeNode
    service: models.Service
    up: bool
    vcpus_used: int
    memory_mb_used: int
    local_gb_used: int
    running_vms: int
    current_workload: int

    @property
    def vcpus(self) -> int:
        return self.node.vcpus

    @property
    def memory_mb(self) -> int:
        return self.node.memory_mb

    @property
    def local_gb(self) -> int:
        return self.node.local_gb

    @property
    def free_ram_mb(self) -> int:
        return self.node.memory_mb - self.memory_mb_used

    @property
    def free_disk_gb(self) -> int:
        return self.node.local_gb - self.local_gb_used

    @property
    def disk_available_least(self) -> int:
        return self.free_disk_gb


class Hosts:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def report(self, host: str, info: HypervisorFacts, host_ip: str | None = None) -> None:
        """Register (or refresh) this host's compute service and its hypervisor's inventory."""
        c = self.context.settings.compute
        now = utcnow()
        async with self.context.db.session() as s:
            svc = await s.scalar(
                select(models.Service).where(
                    models.Service.host == host, models.Service.binary == COMPUTE_BINARY
                )
            )
            if svc is None:
                svc = models.Service(uuid=str(uuid.uuid4()), host=host, binary=COMPUTE_BINARY)
                svc.topic = "compute"
                s.add(svc)
            svc.last_seen_up = now
            svc.updated_at = now
            svc.report_count = (svc.report_count or 0) + 1
            node = await s.scalar(select(models.ComputeNode).where(models.ComputeNode.host == host))
            if node is None:
                node = models.ComputeNode(
                    uuid=str(uuid.uuid4()), host=host, hypervisor_hostname=host
                )
                s.add(node)
            before = (node.vcpus, node.memory_mb, node.local_gb)
            node.hypervisor_type = info.hypervisor_type
            node.hypervisor_version = info.hypervisor_version
            node.accelerator = info.accelerator
            node.vcpus = info.vcpus
            node.memory_mb = info.memory_mb
            node.local_gb = info.local_gb
            node.cpu_info = dict(info.cpu_info)
            node.host_ip = host_ip
            node.cpu_allocation_ratio = c.cpu_allocation_ratio
            node.ram_allocation_ratio = c.ram_allocation_ratio
            node.disk_allocation_ratio = c.disk_allocation_ratio
            node.reserved_host_cpus = c.reserved_host_cpus
            node.reserved_host_memory_mb = c.reserved_host_memory_mb
            node.reserved_host_disk_gb = c.reserved_host_disk_gb
            node.updated_at = now
            if before != (node.vcpus, node.memory_mb, node.local_gb):
                # Choices made on the old inventory must lose their claim race and reload.
                node.generation = (node.generation or 0) + 1

    async def heartbeat(self, host: str) -> None:
        async with self.context.db.session() as s:
            svc = await s.scalar(
                select(models.Service).where(
                    models.Service.host == host, models.Service.binary == COMPUTE_BINARY
                )
            )
            if svc is not None:
                svc.last_seen_up = utcnow()
                svc.report_count += 1

    def is_up(self, svc: models.Service) -> bool:
        if svc.forced_down or svc.last_seen_up is None:
            return False
        limit = timedelta(seconds=self.context.settings.compute.service_down_time)
        return utcnow() - svc.last_seen_up <= limit

    async def node_for_host(self, host: str) -> dict[str, Any] | None:
        async with self.context.db.session() as s:
            node = await s.scalar(select(models.ComputeNode).where(models.ComputeNode.host == host))
            if node is None:
                return None
            return {"uuid": node.uuid, "hypervisor_hostname": node.hypervisor_hostname}

    # -- os-services --------------------------------------------------------------------

    async def touch_control(self, host: str) -> None:
        """Record this API process's host as running Nova's control services: the API
        answering is their heartbeat (Nova's scheduler and conductor live in it here)."""
        # A Conflict: another request registered them at the same moment, as good.
        with contextlib.suppress(errors.Conflict):
            await self._touch_control(host)

    async def _touch_control(self, host: str) -> None:
        now = utcnow()
        interval = timedelta(seconds=self.context.settings.compute.report_interval)
        async with self.context.db.session() as s:
            for binary in CONTROL_BINARIES:
                svc = await s.scalar(
                    select(models.Service).where(
                        models.Service.host == host, models.Service.binary == binary
                    )
                )
                if svc is None:
                    svc = models.Service(
                        uuid=str(uuid.uuid4()),
                        host=host,
                        binary=binary,
                        topic=binary.removeprefix("nova-"),
                        report_count=0,
                        created_at=now,
                    )
                    s.add(svc)
                elif svc.last_seen_up is not None and now - svc.last_seen_up < interval:
                    continue
                svc.last_seen_up = now
                svc.updated_at = now
                svc.report_count = (svc.report_count or 0) + 1

    async def services(
        self, host: str | None = None, binary: str | None = None
    ) -> list[ServiceView]:
        stmt = select(models.Service).order_by(models.Service.id)
        if host is not None:
            stmt = stmt.where(models.Service.host == host)
        if binary is not None:
            stmt = stmt.where(models.Service.binary == binary)
        async with self.context.db.session() as s:
            rows = list(await s.scalars(stmt))
        zones = await self.zone_map()
        return [self._service_view(r, zones) for r in rows]

    def _service_view(self, row: models.Service, zones: dict[str, str]) -> ServiceView:
        if row.binary == COMPUTE_BINARY:
            zone = zones.get(row.host, self.context.settings.compute.default_availability_zone)
        else:
            zone = INTERNAL_ZONE
        return ServiceView(row, zone, self.is_up(row))

    async def service(self, service_id: str, *, by_uuid: bool) -> ServiceView:
        async with self.context.db.session() as s:
            row = await self._service_row(s, service_id, by_uuid=by_uuid)
        return self._service_view(row, await self.zone_map())

    async def _service_row(self, s: Any, service_id: str, *, by_uuid: bool) -> models.Service:
        if by_uuid:
            row = await s.scalar(select(models.Service).where(models.Service.uuid == service_id))
        else:
            key = int_key(service_id)
            row = None if key is None else await s.get(models.Service, key)
        if row is None:
            raise ServiceNotFound(id=service_id)
        return row  # type: ignore[no-any-return]

    async def update_service(
        self,
        service_uuid: str,
        *,
        status: str | None = None,
        disabled_reason: str | None = None,
        forced_down: bool | None = None,
    ) -> ServiceView:
        """PUT /os-services/{uuid} (2.53): enable/disable (with a reason) and force down."""
        async with self.context.db.session() as s:
            row = await self._service_row(s, service_uuid, by_uuid=True)
            if row.binary != COMPUTE_BINARY:
                raise errors.BadRequest(
                    f"Updating a {row.binary} service is not supported. Only nova-compute "
                    "services can be updated."
                )
            self._apply(row, status, disabled_reason, forced_down)
        return self._service_view(row, await self.zone_map())

    @staticmethod
    def _apply(
        row: models.Service, status: str | None, reason: str | None, forced_down: bool | None
    ) -> None:
        if status == "disabled":
            row.disabled = True
            row.disabled_reason = reason
        elif status == "enabled":
            row.disabled = False
            row.disabled_reason = None
        if forced_down is not None:
            row.forced_down = forced_down
        row.updated_at = utcnow()

    async def update_by_host(
        self,
        host: str,
        binary: str,
        *,
        status: str | None = None,
        disabled_reason: str | None = None,
        forced_down: bool | None = None,
    ) -> ServiceView:
        """The legacy actions (PUT /os-services/enable|disable|disable-log-reason|force-down)."""
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(models.Service).where(
                    models.Service.host == host, models.Service.binary == binary
                )
            )
            if row is None:
                raise errors.NotFound("Unknown service")
            self._apply(row, status, disabled_reason, forced_down)
        return self._service_view(row, await self.zone_map())

    async def delete_service(self, service_id: str, *, by_uuid: bool) -> None:
        """Forget a service; a compute service also takes its hypervisor and aggregate
        memberships with it, and is refused (409) while it hosts servers."""
        async with self.context.db.session() as s:
            row = await self._service_row(s, service_id, by_uuid=by_uuid)
            if row.binary == COMPUTE_BINARY:
                hosting = await s.scalar(
                    select(func.count())
                    .select_from(models.Instance)
                    .where(models.Instance.host == row.host, models.Instance.deleted.is_(False))
                )
                if hosting:
                    raise errors.Conflict(
                        "Unable to delete compute service that is hosting instances. Migrate "
                        "or delete the instances first."
                    )
                nodes = list(
                    await s.scalars(
                        select(models.ComputeNode.uuid).where(models.ComputeNode.host == row.host)
                    )
                )
                if nodes:
                    await s.execute(
                        delete(models.Allocation).where(models.Allocation.node_uuid.in_(nodes))
                    )
                await s.execute(
                    delete(models.ComputeNode).where(models.ComputeNode.host == row.host)
                )
                await s.execute(
                    delete(models.AggregateHost).where(models.AggregateHost.host == row.host)
                )
            await s.delete(row)

    # -- os-hypervisors -----------------------------------------------------------------

    async def _hypervisor_views(
        self, s: Any, nodes: list[models.ComputeNode]
    ) -> list[HypervisorView]:
        if not nodes:
            return []
        hosts = [n.host for n in nodes]
        services = {
            r.host: r
            for r in await s.scalars(
                select(models.Service).where(
                    models.Service.host.in_(hosts), models.Service.binary == COMPUTE_BINARY
                )
            )
        }
        used: dict[str, tuple[int, int, int]] = {}
        for node_uuid, vcpus, ram, disk in await s.execute(
            select(
                models.Allocation.node_uuid,
                func.sum(models.Allocation.vcpus),
                func.sum(models.Allocation.memory_mb),
                func.sum(models.Allocation.disk_gb),
            )
            .where(models.Allocation.node_uuid.in_([n.uuid for n in nodes]))
            .group_by(models.Allocation.node_uuid)
        ):
            used[node_uuid] = (int(vcpus or 0), int(ram or 0), int(disk or 0))
        running: dict[str, int] = {}
        busy: dict[str, int] = {}
        for host, task_state in await s.execute(
            select(models.Instance.host, models.Instance.task_state).where(
                models.Instance.host.in_(hosts), models.Instance.deleted.is_(False)
            )
        ):
            running[host] = running.get(host, 0) + 1
            if task_state is not None:
                busy[host] = busy.get(host, 0) + 1
        out = []
        for n in nodes:
            svc = services.get(n.host)
            if svc is None:  # a node whose service was deleted: Nova skips it too
                continue
            vcpus, ram, disk = used.get(n.uuid, (0, 0, 0))
            out.append(
                HypervisorView(
                    node=n,
                    service=svc,
                    up=self.is_up(svc),
                    vcpus_used=vcpus,
                    memory_mb_used=ram + n.reserved_host_memory_mb,
                    local_gb_used=disk + n.reserved_host_disk_gb,
                    running_vms=running.get(n.host, 0),
                    current_workload=busy.get(n.host, 0),
                )
            )
        return out

    async def hypervisors(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        by_uuid: bool = False,
        pattern: str | None = None,
    ) -> list[HypervisorView]:
        stmt = select(models.ComputeNode).order_by(models.ComputeNode.id)
        if pattern is not None:
            stmt = stmt.where(
                models.ComputeNode.hypervisor_hostname.contains(pattern, autoescape=True)
            )
        async with self.context.db.session() as s:
            if marker is not None:
                mrow = await self._node_row(s, marker, by_uuid=by_uuid, missing=None)
                if mrow is None:
                    raise errors.BadRequest(f"marker [{marker}] not found")
                stmt = stmt.where(models.ComputeNode.id > mrow.id)
            if limit is not None:
                stmt = stmt.limit(limit)
            nodes = list(await s.scalars(stmt))
            return await self._hypervisor_views(s, nodes)

    async def _node_row(
        self, s: Any, node_id: str, *, by_uuid: bool, missing: Exception | None
    ) -> Any:
        row = None
        if by_uuid:
            row = await s.scalar(
                select(models.ComputeNode).where(models.ComputeNode.uuid == node_id)
            )
        elif (key := int_key(node_id)) is not None:
            row = await s.get(models.ComputeNode, key)
        if row is None and missing is not None:
            raise missing
        return row

    async def hypervisor(self, node_id: str, *, by_uuid: bool) -> HypervisorView:
        missing = errors.NotFound(f"Hypervisor with ID '{node_id}' could not be found.")
        async with self.context.db.session() as s:
            row = await self._node_row(s, node_id, by_uuid=by_uuid, missing=missing)
            views = await self._hypervisor_views(s, [row])
        if not views:
            raise missing
        return views[0]

    async def servers_on(self, host: str) -> list[tuple[str, str]]:
        """(uuid, name) of the live servers on ``host``."""
        async with self.context.db.session() as s:
            rows = await s.execute(
                select(models.Instance.uuid, models.Instance.display_name)
                .where(models.Instance.host == host, models.Instance.deleted.is_(False))
                .order_by(models.Instance.created_at, models.Instance.id)
            )
            return [(u, n) for u, n in rows]

    async def host_resources(self, host: str) -> list[dict[str, Any]]:
        """The legacy ``os-hosts/{host}`` usage table: the compute host's totals, what its
        servers use now and at most, then each project's share; 404 for no compute host."""
        async with self.context.db.session() as s:
            node = await s.scalar(select(models.ComputeNode).where(models.ComputeNode.host == host))
            if node is None:
                raise errors.NotFound(f"Compute host {host} could not be found.")
            views = await self._hypervisor_views(s, [node])
            flavors = await s.execute(
                select(models.Instance.project_id, models.Instance.flavor)
                .where(models.Instance.host == host, models.Instance.deleted.is_(False))
                .order_by(models.Instance.id)
            )
            per_project: dict[str, list[int]] = {}
            for project_id, flavor in flavors:
                used = per_project.setdefault(project_id, [0, 0, 0])
                used[0] += int(flavor.get("vcpus", 0))
                used[1] += int(flavor.get("memory_mb", 0))
                used[2] += int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0))

        def row(project: str, cpu: int, memory_mb: int, disk_gb: int) -> dict[str, Any]:
            return {
                "resource": {
                    "host": host,
                    "project": project,
                    "cpu": cpu,
                    "memory_mb": memory_mb,
                    "disk_gb": disk_gb,
                }
            }

        v = views[0] if views else None
        total = [sum(u[i] for u in per_project.values()) for i in range(3)]
        out = [
            row("(total)", node.vcpus, node.memory_mb, node.local_gb),
            row(
                "(used_now)",
                v.vcpus_used if v else total[0],
                v.memory_mb_used if v else total[1],
                v.local_gb_used if v else total[2],
            ),
            row("(used_max)", *total),
        ]
        out += [row(p, *used) for p, used in sorted(per_project.items())]
        return out

    async def statistics(self) -> dict[str, int]:
        views = await self.hypervisors()
        stats = {"count": len(views), **dict.fromkeys(HYPERVISOR_FIGURES, 0)}
        for v in views:
            for k in HYPERVISOR_FIGURES:
                stats[k] += int(getattr(v, k))
        return stats

    # -- availability zones ---------------------------------------------------------------

    async def zone_map(self) -> dict[str, str]:
        """The hosts of zone-giving aggregates, with their zone."""
        async with self.context.db.session() as s:
            rows = await s.execute(
                select(models.AggregateHost.host, models.AggregateMetadata.value)
                .join(
                    models.AggregateMetadata,
                    models.AggregateMetadata.aggregate_id == models.AggregateHost.aggregate_id,
                )
                .where(models.AggregateMetadata.key == AZ_KEY)
                .order_by(models.AggregateHost.aggregate_id)
            )
            out: dict[str, str] = {}
            for host, zone in rows:
                out.setdefault(host, zone)
            return out

    async def zone_of(self, host: str) -> str:
        """A compute host's availability zone: its aggregate's, else the default zone."""
        return (await self.zone_map()).get(
            host, self.context.settings.compute.default_availability_zone
        )

    async def zones(self) -> dict[str, bool]:
        """Every zone with a compute service, and whether it is available (has an enabled
        service), as Nova's os-availability-zone lists them."""
        out: dict[str, bool] = {}
        for v in await self.services(binary=COMPUTE_BINARY):
            out[v.zone] = out.get(v.zone, False) or not v.row.disabled
        return out

    async def hosts_in_zone(self, zone: str) -> list[str]:
        """The compute hosts of ``zone``."""
        return [v.row.host for v in await self.services(binary=COMPUTE_BINARY) if v.zone == zone]

    async def zones_detail(self) -> list[tuple[str, bool, dict[str, dict[str, dict[str, Any]]]]]:
        """(zone, available, {host: {binary: {available, active, updated_at}}}) for every
        zone, the internal one (control services) included."""
        hosts: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        available: dict[str, bool] = {}
        for v in await self.services():
            available[v.zone] = available.get(v.zone, False) or not v.row.disabled
            if v.row.disabled:
                continue
            hosts.setdefault(v.zone, {}).setdefault(v.row.host, {})[v.row.binary] = {
                "available": v.up,
                "active": not v.row.disabled,
                "updated_at": v.row.updated_at,
            }
        return [(z, ok, hosts.get(z, {})) for z, ok in available.items()]
