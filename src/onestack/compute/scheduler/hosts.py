"""What the scheduler decides on: the hosts as candidates, the request, and the failure.

Pure data, no database: ``claims.load_candidates`` builds the candidates, the benchmark and the
unit tests build them by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from onestack.common.errors import OneStackError

AFFINITY = "affinity"
ANTI_AFFINITY = "anti-affinity"
SOFT_AFFINITY = "soft-affinity"
SOFT_ANTI_AFFINITY = "soft-anti-affinity"
GROUP_POLICIES = frozenset({AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY})


def capacity(total: int, reserved: int, ratio: float) -> int:
    """Placement's usable amount of an inventory: ``(total - reserved) * allocation_ratio``."""
    return max(0, int((total - reserved) * ratio))


@dataclass(slots=True, eq=False)
class HostCandidate:
    """One compute node as the scheduler sees it (Nova's HostState).

    ``free_*`` and ``capacity_*`` are derived once; change the usage only through
    :meth:`consume` and :meth:`unconsume` so they stay right (the filters read them on every
    call, so they are plain attributes rather than properties).
    """

    node_uuid: str
    host: str
    hypervisor_hostname: str
    total_vcpus: int
    total_memory_mb: int
    total_disk_gb: int
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_vcpus: int = 0
    reserved_memory_mb: int = 0
    reserved_disk_gb: int = 0
    used_vcpus: int = 0
    used_memory_mb: int = 0
    used_disk_gb: int = 0
    enabled: bool = True  # the nova-compute service is not disabled
    up: bool = True  # the service reported within service_down_time and is not forced down
    availability_zone: str = "nova"
    # Metadata of every aggregate the host is in: key -> the values the aggregates give it.
    aggregate_metadata: dict[str, set[str]] = field(default_factory=dict)
    # Instances placed here by consume() (load_candidates reads sums only: no filter needs them).
    instances: set[str] = field(default_factory=set)
    group_members: dict[str, int] = field(default_factory=dict)  # group uuid -> members here
    generation: int = 0
    usable: bool = field(init=False)  # enabled and up
    capacity_vcpus: int = field(init=False)
    capacity_memory_mb: int = field(init=False)
    capacity_disk_gb: int = field(init=False)
    free_vcpus: int = field(init=False)
    free_memory_mb: int = field(init=False)
    free_disk_gb: int = field(init=False)
    # The free amounts as floats, for the weighers: CPython multiplies float by float about
    # twice as fast as int by float, and weighing is most of a scheduling decision's time.
    free_vcpus_f: float = field(init=False)
    free_memory_mb_f: float = field(init=False)
    free_disk_gb_f: float = field(init=False)
    # The most one allocation can take: what is free, and never more than the total.
    room_vcpus: int = field(init=False)
    room_memory_mb: int = field(init=False)
    room_disk_gb: int = field(init=False)

    def __post_init__(self) -> None:
        self.usable = self.enabled and self.up
        self.capacity_vcpus = capacity(
            self.total_vcpus, self.reserved_vcpus, self.cpu_allocation_ratio
        )
        self.capacity_memory_mb = capacity(
            self.total_memory_mb, self.reserved_memory_mb, self.ram_allocation_ratio
        )
        self.capacity_disk_gb = capacity(
            self.total_disk_gb, self.reserved_disk_gb, self.disk_allocation_ratio
        )
        self._refresh()

    def _refresh(self) -> None:
        self.free_vcpus = self.capacity_vcpus - self.used_vcpus
        self.free_memory_mb = self.capacity_memory_mb - self.used_memory_mb
        self.free_disk_gb = self.capacity_disk_gb - self.used_disk_gb
        self.free_vcpus_f = float(self.free_vcpus)
        self.free_memory_mb_f = float(self.free_memory_mb)
        self.free_disk_gb_f = float(self.free_disk_gb)
        self.room_vcpus = min(self.free_vcpus, self.total_vcpus)
        self.room_memory_mb = min(self.free_memory_mb, self.total_memory_mb)
        self.room_disk_gb = min(self.free_disk_gb, self.total_disk_gb)

    def fits(self, vcpus: int, memory_mb: int, disk_gb: int) -> bool:
        """Whether an allocation fits, as Placement decides: within what is free, and no single
        allocation larger than the physical total (Placement's ``max_unit``). A zero amount
        is not asked for, so an overcommitted resource does not block it."""
        return (
            (vcpus <= 0 or vcpus <= self.room_vcpus)
            and (memory_mb <= 0 or memory_mb <= self.room_memory_mb)
            and (disk_gb <= 0 or disk_gb <= self.room_disk_gb)
        )

    def consume(
        self,
        consumer_uuid: str,
        vcpus: int,
        memory_mb: int,
        disk_gb: int,
        group_uuid: str | None = None,
    ) -> None:
        """Account an instance placed here (in memory), as Nova's consume_from_request."""
        self.used_vcpus += vcpus
        self.used_memory_mb += memory_mb
        self.used_disk_gb += disk_gb
        self.instances.add(consumer_uuid)
        if group_uuid:
            self.group_members[group_uuid] = self.group_members.get(group_uuid, 0) + 1
        self._refresh()

    def unconsume(
        self,
        consumer_uuid: str,
        vcpus: int,
        memory_mb: int,
        disk_gb: int,
        group_uuid: str | None = None,
    ) -> None:
        """Undo :meth:`consume`."""
        self.used_vcpus -= vcpus
        self.used_memory_mb -= memory_mb
        self.used_disk_gb -= disk_gb
        self.instances.discard(consumer_uuid)
        if group_uuid and self.group_members.get(group_uuid, 0) > 0:
            self.group_members[group_uuid] -= 1
        self._refresh()

    def ram_used_ratio(self) -> float:
        """Share of the usable RAM in use (for balance reports)."""
        return self.used_memory_mb / self.capacity_memory_mb if self.capacity_memory_mb else 1.0


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What one boot (or each instance of a multi-create) asks for.

    ``instance_uuids`` lists every instance of a multi-create in launch order (empty: just
    ``instance_uuid``); each becomes the consumer of its own allocation. ``group_hosts`` are
    hosts that already run members of the server group; the loaded candidates'
    ``group_members`` counts (by ``group_uuid``) add to them.
    """

    instance_uuid: str
    project_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    availability_zone: str | None = None
    extra_specs: Mapping[str, str] = field(default_factory=dict)
    group_uuid: str | None = None
    group_policy: str | None = None
    group_rules: Mapping[str, Any] = field(default_factory=dict)
    group_hosts: frozenset[str] = frozenset()
    ignore_hosts: frozenset[str] = frozenset()
    force_host: str | None = None
    force_node: str | None = None
    instance_uuids: tuple[str, ...] = ()

    @classmethod
    def from_flavor(
        cls,
        instance_uuid: str,
        project_id: str,
        flavor: Mapping[str, Any],
        *,
        boot_from_volume: bool = False,
        availability_zone: str | None = None,
        **kwargs: Any,
    ) -> RequestSpec:
        """A spec from a flavor dict (``vcpus``, ``memory_mb``, ``root_gb``, ``ephemeral_gb``,
        ``swap`` in MiB, ``extra_specs``), as Nova sizes the disk: root (none when booting
        from a volume) + ephemeral + swap rounded up to GiB. ``availability_zone`` may be
        ``az``, ``az:host`` or ``az:host:node`` (forcing a host is for admins: the caller
        checks the policy)."""
        swap_gb = math.ceil(int(flavor.get("swap") or 0) / 1024)
        root = 0 if boot_from_volume else int(flavor.get("root_gb") or 0)
        disk = root + int(flavor.get("ephemeral_gb") or 0) + swap_gb
        az, force_host, force_node = parse_availability_zone(availability_zone)
        kwargs.setdefault("extra_specs", dict(flavor.get("extra_specs") or {}))
        return cls(
            instance_uuid=instance_uuid,
            project_id=project_id,
            vcpus=int(flavor["vcpus"]),
            memory_mb=int(flavor["memory_mb"]),
            disk_gb=disk,
            availability_zone=az,
            force_host=force_host,
            force_node=force_node,
            **kwargs,
        )

    def consumers(self, count: int) -> tuple[str, ...]:
        """The consumer uuid of each of ``count`` instances."""
        if count == 1 and not self.instance_uuids:
            return (self.instance_uuid,)
        if len(self.instance_uuids) != count:
            raise ValueError(f"{count} instances asked for, {len(self.instance_uuids)} uuids given")
        return self.instance_uuids


def parse_availability_zone(value: str | None) -> tuple[str | None, str | None, str | None]:
    """``az``, ``az:host``, ``az:host:node`` or ``az::node`` -> (zone, host, node)."""
    if not value:
        return None, None, None
    zone, _, rest = value.partition(":")
    host, _, node = rest.partition(":")
    return zone or None, host or None, node or None


class NoValidHost(OneStackError):
    """No host can take the instance. ``message`` is the server's fault, as Nova's; ``reason``
    (which filter eliminated the last hosts) is for the logs."""

    code = 500
    title = "No Valid Host"
    template = "No valid host was found. There are not enough hosts available."
    default_reason: ClassVar[str] = "no hosts"

    def __init__(self, reason: str = "", message: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason


class MaxRetriesExceeded(NoValidHost):
    """Every attempt at booting the instance failed (Nova's fault on a last reschedule)."""

    template = (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        "build failures for instance {instance_uuid}."
    )

    def __init__(self, instance_uuid: str, reason: str = "") -> None:
        super().__init__(reason, self.template.format(instance_uuid=instance_uuid))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an instance went (its allocation is claimed on ``node_uuid``)."""

    instance_uuid: str
    node_uuid: str
    host: str
    hypervisor_hostname: str
