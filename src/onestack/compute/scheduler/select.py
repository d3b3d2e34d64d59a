"""Filter, weigh, pick: the scheduler's decision, without the database."""

from __future__ import annotations

import dataclasses

from onestack.compute.scheduler.filters import filter_hosts
from onestack.compute.scheduler.hosts import (
    AFFINITY,
    ANTI_AFFINITY,
    SOFT_AFFINITY,
    SOFT_ANTI_AFFINITY,
    HostCandidate,
    NoValidHost,
    RequestSpec,
)
from onestack.compute.scheduler.weighers import weigh_hosts

_GROUP_POLICIES_NEEDING_HOSTS = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)


def with_group_hosts(candidates: list[HostCandidate], spec: RequestSpec) -> RequestSpec:
    """The spec with ``group_hosts`` completed from the candidates' member counts."""
    if spec.group_policy not in _GROUP_POLICIES_NEEDING_HOSTS or not spec.group_uuid:
        return spec
    gid = spec.group_uuid
    found = {h.host for h in candidates if h.group_members.get(gid)}
    if found <= spec.group_hosts:
        return spec
    return dataclasses.replace(spec, group_hosts=spec.group_hosts | found)


def rank_hosts(
    candidates: list[HostCandidate], spec: RequestSpec, weigher: str = "spread"
) -> list[HostCandidate]:
    """Every host that passes the filters, best first (no usage is consumed).
    Raises NoValidHost."""
    spec = with_group_hosts(candidates, spec)
    hosts = filter_hosts(candidates, spec)
    weights = weigh_hosts(hosts, spec, weigher)
    # Stable: among equal weights the candidates' own order decides.
    order = sorted(range(len(hosts)), key=weights.__getitem__, reverse=True)
    return [hosts[i] for i in order]


def _best(hosts: list[HostCandidate], spec: RequestSpec, weigher: str) -> HostCandidate:
    if len(hosts) == 1:
        return hosts[0]
    weights = weigh_hosts(hosts, spec, weigher)
    # index() finds the first of equal weights, like a stable sort best-first.
    return hosts[weights.index(max(weights))]


def select_hosts(
    candidates: list[HostCandidate],
    spec: RequestSpec,
    weigher: str = "spread",
    count: int = 1,
) -> list[HostCandidate]:
    """The host of each of ``count`` instances (``spec.consumers(count)`` order).

    Each pick is consumed in ``candidates`` (usage, instances, group members) before the next
    is chosen, so a multi-create spreads (or packs) as separate boots would and the group
    policies see the earlier instances. On NoValidHost for a later instance the earlier ones
    are given back: all or nothing. Callers that must not see the consumption load fresh
    candidates (``claims.load_candidates`` does on every call).
    """
    consumers = spec.consumers(count)
    spec = with_group_hosts(candidates, spec)
    chosen: list[HostCandidate] = []
    gid = spec.group_uuid
    try:
        for i, consumer in enumerate(consumers):
            if i:
                placed = {h.host for h in chosen}
                group_hosts = spec.group_hosts | placed if spec.group_policy else spec.group_hosts
                current = dataclasses.replace(spec, instance_uuid=consumer, group_hosts=group_hosts)
            else:
                current = dataclasses.replace(spec, instance_uuid=consumer) if count > 1 else spec
            best = _best(filter_hosts(candidates, current), current, weigher)
            best.consume(consumer, spec.vcpus, spec.memory_mb, spec.disk_gb, gid)
            chosen.append(best)
    except NoValidHost:
        for consumer, host in zip(consumers, chosen, strict=False):
            host.unconsume(consumer, spec.vcpus, spec.memory_mb, spec.disk_gb, gid)
        raise
    return chosen
