"""The consistent-hash ring (Swift's): where each object's replicas live when objects are
spread over several hosts.

- A name (``/account/container/object``) hashes (md5) to one of ``2**part_power``
  *partitions*; the partition, not the name, is what gets placed.
- Each partition has ``replicas`` copies, each on a different *device* (a disk of a host),
  in different *zones* whenever there are enough zones (a zone is what fails together: a
  host, a rack).
- A device holds partitions in proportion to its *weight* (its share of the capacity).
- ``rebalance`` after devices come, go or change weight moves as few partitions as it can:
  only those the changed devices gained or lost, never a partition between two devices
  that both kept their share.

One host today (every replica on it); the agents on several object hosts read this ring
when objects spread out (scale-out)."""

from __future__ import annotations

import hashlib
import random
import struct
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    zone: int
    weight: float
    host: str = ""
    name: str = ""


@dataclass
class Ring:
    part_power: int
    replicas: int
    devices: dict[int, Device] = field(default_factory=dict)
    # assignment[r][p]: the id of the device holding replica r of partition p (-1: none)
    assignment: list[list[int]] = field(default_factory=list)
    seed: int = 0

    @property
    def partitions(self) -> int:
        return int(2**self.part_power)

    # --- lookups -------------------------------------------------------------------------
    def partition(self, account: str, container: str = "", obj: str = "") -> int:
        path = "/" + "/".join(p for p in (account, container, obj) if p)
        digest = hashlib.md5(path.encode(), usedforsecurity=False).digest()
        (top,) = struct.unpack(">I", digest[:4])
        return int(top) >> (32 - self.part_power)

    def nodes(self, account: str, container: str = "", obj: str = "") -> tuple[int, list[Device]]:
        part = self.partition(account, container, obj)
        return part, [self.devices[row[part]] for row in self.assignment if row[part] >= 0]

    # --- building ------------------------------------------------------------------------
    def add_device(self, device: Device) -> None:
        if device.id in self.devices:
            raise ValueError(f"device {device.id} is already in the ring")
        self.devices[device.id] = device

    def remove_device(self, device_id: int) -> None:
        self.devices.pop(device_id)

    def set_weight(self, device_id: int, weight: float) -> None:
        old = self.devices[device_id]
        self.devices[device_id] = Device(old.id, old.zone, weight, old.host, old.name)

    def wanted(self) -> dict[int, float]:
        """How many partition replicas each device should hold."""
        total = sum(d.weight for d in self.devices.values() if d.weight > 0)
        if total <= 0:
            return {}
        slots = self.partitions * min(self.replicas, self._usable())
        return {d.id: slots * d.weight / total for d in self.devices.values() if d.weight > 0}

    def _usable(self) -> int:
        return sum(1 for d in self.devices.values() if d.weight > 0)

    def counts(self) -> Counter[int]:
        return Counter(dev for row in self.assignment for dev in row if dev >= 0)

    def rebalance(self) -> int:
        """Place every partition replica; returns how many replicas moved (or were new)."""
        rng = random.Random(self.seed)
        if not self.assignment:
            self.assignment = [[-1] * self.partitions for _ in range(self.replicas)]
        wanted = self.wanted()
        copies = min(self.replicas, self._usable())
        before = [list(row) for row in self.assignment]
        self._drop_gone(wanted, copies)
        self._drop_overloaded(wanted, rng)
        self._drop_zone_clashes()
        self._place(wanted, copies, rng)
        return sum(
            1
            for r, row in enumerate(self.assignment)
            for p, dev in enumerate(row)
            if dev >= 0 and dev != before[r][p]
        )

    def _drop_gone(self, wanted: dict[int, float], copies: int) -> None:
        for r, row in enumerate(self.assignment):
            for p, dev in enumerate(row):
                if dev >= 0 and (dev not in wanted or r >= copies):
                    row[p] = -1

    def _drop_overloaded(self, wanted: dict[int, float], rng: random.Random) -> None:
        """Free the replicas a device holds beyond its share, choosing those a device short
        of its share can take (its zone free in that partition): a freed replica then goes
        there, not to another device that already has its share."""
        held = self.counts()
        short = [self.devices[d] for d, want in wanted.items() if held[d] + 1 <= want]
        freed: set[int] = set()
        for dev, count in held.items():
            excess = count - int(wanted[dev] + 0.9999)
            if excess <= 0:
                continue
            spots = [
                (r, p)
                for r, row in enumerate(self.assignment)
                for p, d in enumerate(row)
                if d == dev
            ]
            # Only those: a replica nobody short can take stays (a little over is better
            # than moving it between two devices that both have their share).
            takers = [spot for spot in spots if spot[1] not in freed and self._taker(spot, short)]
            for r, p in rng.sample(takers, min(excess, len(takers))):
                self.assignment[r][p] = -1
                freed.add(p)  # one replica of a partition at a time: one taker each

    def _taker(self, spot: tuple[int, int], short: list[Device]) -> bool:
        r, part = spot
        holders = {row[part] for row in self.assignment if row[part] >= 0}
        zones = set(self._zones_of(part, skip=r))
        return any(d.id not in holders and d.zone not in zones for d in short)

    def _zones_of(self, part: int, skip: int = -1) -> list[int]:
        return [
            self.devices[row[part]].zone
            for r, row in enumerate(self.assignment)
            if r != skip and row[part] >= 0
        ]

    def _drop_zone_clashes(self) -> None:
        zones = {d.zone for d in self.devices.values() if d.weight > 0}
        for part in range(self.partitions):
            for r, row in enumerate(self.assignment):
                dev = row[part]
                if dev < 0:
                    continue
                others = self._zones_of(part, skip=r)
                # Two replicas share a zone while another zone has none: move one.
                if (
                    self.devices[dev].zone in others
                    and len(set(others)) + 1 < min(len(zones), self.replicas) + 1
                    and len(set(others) | {self.devices[dev].zone}) < len(zones)
                ):
                    row[part] = -1

    def _place(self, wanted: dict[int, float], copies: int, rng: random.Random) -> None:
        held = self.counts()
        devices = [self.devices[d] for d in wanted]
        for part in rng.sample(range(self.partitions), self.partitions):
            for r in range(copies):
                if self.assignment[r][part] >= 0:
                    continue
                taken = {row[part] for row in self.assignment if row[part] >= 0}
                zones = set(self._zones_of(part))
                candidates = [d for d in devices if d.id not in taken]
                fresh_zone = [d for d in candidates if d.zone not in zones]
                pool = fresh_zone or candidates
                best = max(pool, key=lambda d: (wanted[d.id] - held[d.id], d.weight, -d.id))
                self.assignment[r][part] = best.id
                held[best.id] += 1
