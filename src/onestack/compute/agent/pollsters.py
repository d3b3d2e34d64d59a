"""Metering's pollsters on the compute agent (Ceilometer's compute polling agent): every
``[metering] interval`` seconds, each running guest's counters through the driver's
``Statistics`` part, published as samples on ``SAMPLES_TOPIC`` for the metering service.

A poll runs beside the agent's other work (its own periodic task, guests read concurrently,
each read bounded by ``STATS_TIMEOUT`` or the interval) and a guest that vanishes mid-poll
or whose read hangs is skipped, not an error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from onestack.common.logging import get_logger
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import (
    DriverError,
    GuestBusy,
    GuestGone,
    GuestStats,
    Statistics,
)

log = get_logger(__name__)

SAMPLES_TOPIC = "notifications.metering"  # event "telemetry.polling": {"samples": [...]}
META_TTL = 60.0  # seconds a server's name, owner and flavor are reused between polls
MiB = 1024 * 1024
# Seconds one guest's counters may take: a hung read (a wedged QMP socket) must not hold back
# the other guests' samples nor the next poll, so a read never outlives the poll's interval.
STATS_TIMEOUT = 10.0


class Pollsters(AgentBase):
    _meta: dict[str, tuple[float, dict[str, Any]]]

    async def poll_guests(self) -> int:
        """One poll of every running guest; the number of samples published."""
        if not isinstance(self.driver, Statistics):
            return 0
        driver: Statistics = self.driver
        running = await driver.guests_to_poll()
        if not running:
            return 0
        timeout = min(self.runtime.settings.metering.interval, STATS_TIMEOUT)
        stats = await asyncio.gather(*(self._stats(driver, u, timeout) for u in running))
        now = time.time()
        samples: list[dict[str, Any]] = []
        for found in stats:
            if found is None:
                continue
            meta = await self._guest_meta(found.uuid, len(running))
            if meta is not None:
                samples.extend(guest_samples(found, meta, now))
        if samples:
            await self.runtime.bus.publish(SAMPLES_TOPIC, "telemetry.polling", {"samples": samples})
        return len(samples)

    @staticmethod
    async def _stats(driver: Statistics, uuid: str, timeout: float) -> GuestStats | None:
        try:
            return await asyncio.wait_for(driver.guest_stats(uuid), timeout)
        except TimeoutError:
            log.warning("pollster: %s gave no counters within %.0fs; skipped", uuid, timeout)
            return None
        except GuestBusy as exc:
            # Not gone: no sample this round (the metric keeps its last measures), read again
            # at the next poll.
            log.debug("pollster: %s skipped this round: %s", uuid, exc)
            return None
        except GuestGone:
            return None
        except DriverError as exc:
            log.debug("pollster: cannot read %s: %s", uuid, exc)
            return None

    async def instance_updated(self, event: str, payload: dict[str, Any]) -> None:
        """A renamed server's samples carry its new name from the next poll on: a stale
        cached name would undo the rename the metering listener just applied."""
        if event == "compute.instance.update":
            self.__dict__.get("_meta", {}).pop(str(payload.get("instance_id")), None)

    async def _guest_meta(self, uuid: str, guests: int) -> dict[str, Any] | None:
        cache = self.__dict__.setdefault("_meta", {})
        hit = cache.get(uuid)
        if hit is not None and time.monotonic() - hit[0] < META_TTL:
            cached: dict[str, Any] = hit[1]
            return cached
        row = await self.row(uuid)
        if row is None:
            cache.pop(uuid, None)
            return None
        meta = {
            "project_id": row.project_id,
            "user_id": row.user_id,
            "display_name": row.display_name,
            "host": row.host or self.host,
            "flavor_id": str(row.flavor.get("flavorid", "")),
            "flavor_name": str(row.flavor.get("name", "")),
            "image_ref": row.image_ref or None,
            "root_gb": int(row.flavor.get("root_gb", 0) or 0),
        }
        # Ceilometer's instance attribute from the server's ``metering.server_group``
        # metadata: Heat sets it on an autoscaling group's members, whose alarm selects
        # them by it.
        group = (await self.svc.servers.metadata_any(uuid)).get("metering.server_group")
        if group:
            meta["server_group"] = group
        cache[uuid] = (time.monotonic(), meta)
        if len(cache) > 4 * max(guests, 16):
            cache.clear()
        return meta


def _sample(
    name: str,
    unit: str,
    kind: str,
    value: float,
    resource: str,
    rtype: str,
    meta: dict[str, Any],
    when: float,
    attrs: dict[str, Any],
) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "type": kind,
        "volume": value,
        "resource_id": resource,
        "resource_type": rtype,
        "project_id": meta["project_id"],
        "user_id": meta["user_id"],
        "timestamp": when,
        "resource_metadata": attrs,
    }


def guest_samples(stats: GuestStats, meta: dict[str, Any], when: float) -> list[dict[str, Any]]:
    """Ceilometer's compute meters of one guest, for its instance, disks and NICs."""
    uuid = stats.uuid
    attrs = {k: meta[k] for k in ("display_name", "host", "flavor_id", "flavor_name", "image_ref")}
    if "server_group" in meta:
        attrs["server_group"] = meta["server_group"]
    out = [
        _sample("cpu", "ns", "cumulative", stats.cpu_time_ns, uuid, "instance", meta, when, attrs),
        _sample("vcpus", "vcpu", "gauge", stats.vcpus, uuid, "instance", meta, when, attrs),
        _sample("memory", "MB", "gauge", stats.memory_mb, uuid, "instance", meta, when, attrs),
        _sample(
            "disk.root.size", "GB", "gauge", meta["root_gb"], uuid, "instance", meta, when, attrs
        ),
    ]
    if stats.memory_used_mb is not None:
        out.append(
            _sample(
                "memory.usage",
                "MB",
                "gauge",
                stats.memory_used_mb,
                uuid,
                "instance",
                meta,
                when,
                attrs,
            )
        )
    for disk in stats.disks:
        rid = f"{uuid}-{disk.device}"
        dattrs = {"name": disk.device, "instance_id": uuid}
        for name, unit, value in (
            ("disk.device.read.bytes", "B", disk.read_bytes),
            ("disk.device.write.bytes", "B", disk.write_bytes),
            ("disk.device.read.requests", "request", disk.read_requests),
            ("disk.device.write.requests", "request", disk.write_requests),
        ):
            out.append(
                _sample(name, unit, "cumulative", value, rid, "instance_disk", meta, when, dattrs)
            )
    for nic in stats.nics:
        rid = f"{uuid}-{nic.tap}"
        nattrs = {"name": nic.tap, "instance_id": uuid}
        for name, unit, value in (
            ("network.incoming.bytes", "B", nic.incoming_bytes),
            ("network.outgoing.bytes", "B", nic.outgoing_bytes),
            ("network.incoming.packets", "packet", nic.incoming_packets),
            ("network.outgoing.packets", "packet", nic.outgoing_packets),
        ):
            out.append(
                _sample(
                    name,
                    unit,
                    "cumulative",
                    value,
                    rid,
                    "instance_network_interface",
                    meta,
                    when,
                    nattrs,
                )
            )
    return out
