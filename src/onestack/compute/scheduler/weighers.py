"""Host weighers, named and normalised as Nova's: each weigher's raw values over the filtered
hosts are scaled to [0, 1] (all equal: all 0), multiplied by the weigher's multiplier and
summed; the highest total wins.

``spread`` (the default) prefers the most free RAM, VCPUs and disk (multipliers +1); ``pack``
the least (-1), filling hosts one after the other. The soft server-group policies only weigh:
soft-affinity prefers hosts with more members of the group, soft-anti-affinity fewer. Their
multiplier is 10 rather than Nova's 1 so that, as users expect, the policy outweighs the three
resource weighers together instead of tying with one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from onestack.compute.scheduler.filters import group_members_on
from onestack.compute.scheduler.hosts import (
    SOFT_AFFINITY,
    SOFT_ANTI_AFFINITY,
    HostCandidate,
    RequestSpec,
)

Hosts = list[HostCandidate]
WEIGHERS_BY_NAME = ("spread", "pack")
SOFT_AFFINITY_MULTIPLIER = 10.0


def RAMWeigher(hosts: Hosts, spec: RequestSpec) -> list[float]:
    """Free RAM (MiB, of the usable amount after reserved and ratio)."""
    return [h.free_memory_mb_f for h in hosts]


def CPUWeigher(hosts: Hosts, spec: RequestSpec) -> list[float]:
    """Free VCPUs (of the usable amount after reserved and ratio)."""
    return [h.free_vcpus_f for h in hosts]


def DiskWeigher(hosts: Hosts, spec: RequestSpec) -> list[float]:
    """Free disk (GiB, of the usable amount after reserved and ratio)."""
    return [h.free_disk_gb_f for h in hosts]


def ServerGroupSoftAffinityWeigher(hosts: Hosts, spec: RequestSpec) -> list[float]:
    """Members of the group on the host."""
    return [float(group_members_on(h, spec)) for h in hosts]


def ServerGroupSoftAntiAffinityWeigher(hosts: Hosts, spec: RequestSpec) -> list[float]:
    """Minus the members of the group on the host."""
    return [-float(group_members_on(h, spec)) for h in hosts]


class Weigher(NamedTuple):
    name: str
    raw: Callable[[Hosts, RequestSpec], list[float]]
    multiplier: float


def normalize(values: list[float]) -> list[float]:
    """Nova's ``weights.normalize``: scale to [0, 1]; all equal -> all 0."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi == lo:
        return [0.0] * len(values)
    span = hi - lo
    return [(v - lo) / span for v in values]


def weighers_for(spec: RequestSpec, weigher: str = "spread") -> list[Weigher]:
    """The weighers that count for a request under the ``spread`` or ``pack`` strategy."""
    if weigher not in WEIGHERS_BY_NAME:
        raise ValueError(f"unknown weigher {weigher!r}: spread or pack")
    sign = 1.0 if weigher == "spread" else -1.0
    out = [
        Weigher("RAMWeigher", RAMWeigher, sign),
        Weigher("CPUWeigher", CPUWeigher, sign),
        Weigher("DiskWeigher", DiskWeigher, sign),
    ]
    if spec.group_policy == SOFT_AFFINITY:
        out.append(
            Weigher(
                "ServerGroupSoftAffinityWeigher",
                ServerGroupSoftAffinityWeigher,
                SOFT_AFFINITY_MULTIPLIER,
            )
        )
    elif spec.group_policy == SOFT_ANTI_AFFINITY:
        out.append(
            Weigher(
                "ServerGroupSoftAntiAffinityWeigher",
                ServerGroupSoftAntiAffinityWeigher,
                SOFT_AFFINITY_MULTIPLIER,
            )
        )
    return out


def weigh_hosts(hosts: Hosts, spec: RequestSpec, weigher: str = "spread") -> list[float]:
    """Each host's total weight (same order as ``hosts``); higher is better."""
    # sum(multiplier * (v - lo) / (hi - lo)) == sum(v * scale) - sum(lo * scale): one pass
    # over the hosts for the totals however many weighers count.
    columns: list[tuple[list[float], float]] = []
    offset = 0.0
    for w in weighers_for(spec, weigher):
        values = w.raw(hosts, spec)
        lo, hi = min(values, default=0.0), max(values, default=0.0)
        if hi == lo:
            continue  # normalised to all zeros: adds nothing
        scale = w.multiplier / (hi - lo)
        columns.append((values, scale))
        offset += lo * scale
    if not columns:
        return [0.0] * len(hosts)
    if len(columns) == 3:
        (a, sa), (b, sb), (c, sc) = columns
        return [x * sa + y * sb + z * sc - offset for x, y, z in zip(a, b, c, strict=True)]
    totals = [-offset] * len(hosts)
    for values, scale in columns:
        totals = [t + v * scale for t, v in zip(totals, values, strict=True)]
    return totals
