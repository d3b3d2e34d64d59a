"""Host filters, named as Nova's. Each takes the hosts left so far and the request and returns
those that pass (a list in, a list out: one comprehension per filter rather than one call
per host keeps a 1,000-host pass cheap). ``applies`` says whether a filter has anything to do
for a request, so filters without work are skipped.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import NamedTuple

from onestack.compute.scheduler.hosts import (
    AFFINITY,
    ANTI_AFFINITY,
    HostCandidate,
    NoValidHost,
    RequestSpec,
)

Hosts = list[HostCandidate]
AGGREGATE_SCOPE = "aggregate_instance_extra_specs"


def ComputeFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """Hosts whose nova-compute service is enabled and up."""
    return [h for h in hosts if h.usable]


def IgnoreHostsFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """Not the hosts already tried (a reschedule) or excluded by the caller."""
    ignore = spec.ignore_hosts
    return [h for h in hosts if h.host not in ignore]


def ForceHostsFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """Only the host (and node) forced with ``az:host[:node]``."""
    host, node = spec.force_host, spec.force_node
    return [
        h
        for h in hosts
        if (host is None or h.host == host) and (node is None or h.hypervisor_hostname == node)
    ]


def AvailabilityZoneFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """Hosts in the requested availability zone."""
    zone = spec.availability_zone
    return [h for h in hosts if h.availability_zone == zone]


def ComputeCapacityFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """Hosts with room for the VCPUs, RAM and disk (Nova's CoreFilter, RamFilter and
    DiskFilter in one pass; Placement's allocation candidates): see ``HostCandidate.fits``."""
    v, m, d = spec.vcpus, spec.memory_mb, spec.disk_gb
    if v > 0 and m > 0 and d > 0:  # the usual case, inlined
        return [
            h for h in hosts if m <= h.room_memory_mb and v <= h.room_vcpus and d <= h.room_disk_gb
        ]
    return [h for h in hosts if h.fits(v, m, d)]


def capacity_shortfall(hosts: Hosts, spec: RequestSpec) -> str:
    """Which resources none of ``hosts`` has room for (for NoValidHost's reason)."""
    short = []
    for name, amount, room in (
        ("VCPU", spec.vcpus, "room_vcpus"),
        ("MEMORY_MB", spec.memory_mb, "room_memory_mb"),
        ("DISK_GB", spec.disk_gb, "room_disk_gb"),
    ):
        if amount > 0 and not any(amount <= getattr(h, room) for h in hosts):
            short.append(f"{name}={amount}")
    return ", ".join(short) or "no single host has room for all of them"


# Nova's extra_specs_ops: the operators a flavor's extra spec may compare aggregate values with.
_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda x, y: float(x) >= float(y),
    "<in>": lambda x, y: y in x,
    "==": lambda x, y: float(x) == float(y),
    "!=": lambda x, y: float(x) != float(y),
    ">=": lambda x, y: float(x) >= float(y),
    "<=": lambda x, y: float(x) <= float(y),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
}


def match(value: str, req: str) -> bool:
    """Whether an aggregate's ``value`` satisfies a flavor's requirement ``req``: a plain
    string compares equal; else ``<op> operand`` with Nova's operators, ``<or> a <or> b``,
    ``<all-in> a b``."""
    words = req.split()
    op = words.pop(0) if words else None
    if op == "<or>":
        # "<or> v1 <or> v2": every other word is a candidate value.
        return value in words[::2]
    if op == "<all-in>":
        return bool(words) and all(w in value for w in words)
    method = _OPS.get(op) if op is not None else None
    if method is None:
        return value == req
    if not words:
        return False
    try:
        return method(value, words[0])
    except ValueError:
        return False


def aggregate_requirements(extra_specs: Mapping[str, str]) -> list[tuple[str, str]]:
    """The extra specs that aggregates must satisfy: ``aggregate_instance_extra_specs:KEY``
    and unscoped keys (other namespaces, e.g. ``hw:``, ``quota:``, are not the filter's)."""
    out = []
    for key, req in extra_specs.items():
        scope, sep, rest = key.partition(":")
        if not sep:
            out.append((key, req))
        elif scope == AGGREGATE_SCOPE:
            out.append((rest, req))
    return out


def aggregate_passes(metadata: Mapping[str, set[str]], reqs: list[tuple[str, str]]) -> bool:
    for key, req in reqs:
        values = metadata.get(key)
        if not values or not any(match(v, req) for v in values):
            return False
    return True


def AggregateInstanceExtraSpecsFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """Hosts whose aggregates' metadata satisfies the flavor's extra specs."""
    reqs = aggregate_requirements(spec.extra_specs)
    if not reqs:
        return hosts
    return [h for h in hosts if aggregate_passes(h.aggregate_metadata, reqs)]


def group_members_on(host: HostCandidate, spec: RequestSpec) -> int:
    """Members of the request's server group on ``host``."""
    count = host.group_members.get(spec.group_uuid, 0) if spec.group_uuid else 0
    if count == 0 and host.host in spec.group_hosts:
        return 1
    return count


def max_server_per_host(spec: RequestSpec) -> int:
    try:
        return max(1, int(spec.group_rules.get("max_server_per_host", 1)))
    except (TypeError, ValueError):
        return 1


def ServerGroupAffinityFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """With the ``affinity`` policy, the hosts of the group's members (any host while the
    group has none yet). ``spec.group_hosts`` must already include the candidates' counts:
    ``select_hosts`` sees to it."""
    if not spec.group_hosts:
        return hosts
    group_hosts = spec.group_hosts
    return [h for h in hosts if h.host in group_hosts]


def ServerGroupAntiAffinityFilter(hosts: Hosts, spec: RequestSpec) -> Hosts:
    """With ``anti-affinity``, hosts with fewer than ``max_server_per_host`` (rule, default 1)
    members of the group."""
    limit = max_server_per_host(spec)
    return [h for h in hosts if group_members_on(h, spec) < limit]


class Filter(NamedTuple):
    name: str
    run: Callable[[Hosts, RequestSpec], Hosts]
    applies: Callable[[RequestSpec], bool]


def _always(spec: RequestSpec) -> bool:
    return True


# Cheapest and most selective first. A forced host (admin's ``az:host``) skips the filters but
# capacity, as Nova's forced hosts skip filtering (the claim would refuse it anyway).
FILTERS: tuple[Filter, ...] = (
    Filter("ForceHostsFilter", ForceHostsFilter, lambda s: bool(s.force_host or s.force_node)),
    Filter("IgnoreHostsFilter", IgnoreHostsFilter, lambda s: bool(s.ignore_hosts)),
    Filter("ComputeFilter", ComputeFilter, lambda s: not (s.force_host or s.force_node)),
    Filter(
        "AvailabilityZoneFilter",
        AvailabilityZoneFilter,
        lambda s: s.availability_zone is not None and not (s.force_host or s.force_node),
    ),
    Filter("ComputeCapacityFilter", ComputeCapacityFilter, _always),
    Filter(
        "AggregateInstanceExtraSpecsFilter",
        AggregateInstanceExtraSpecsFilter,
        lambda s: bool(s.extra_specs) and not (s.force_host or s.force_node),
    ),
    Filter(
        "ServerGroupAffinityFilter",
        ServerGroupAffinityFilter,
        lambda s: s.group_policy == AFFINITY and not (s.force_host or s.force_node),
    ),
    Filter(
        "ServerGroupAntiAffinityFilter",
        ServerGroupAntiAffinityFilter,
        lambda s: s.group_policy == ANTI_AFFINITY and not (s.force_host or s.force_node),
    ),
)


def filter_hosts(hosts: Hosts, spec: RequestSpec, filters: tuple[Filter, ...] = FILTERS) -> Hosts:
    """The hosts that pass every filter; NoValidHost (its reason naming the filter that
    eliminated the last hosts, and what each filter left) when none does."""
    if not hosts:
        raise NoValidHost(f"no compute nodes for instance {spec.instance_uuid}")
    trail: list[str] = []
    for f in filters:
        if not f.applies(spec):
            continue
        before = hosts
        hosts = f.run(hosts, spec)
        trail.append(f"{f.name}: {len(before)} -> {len(hosts)}")
        if not hosts:
            why = ""
            if f.run is ComputeCapacityFilter and before:
                why = f" (none has room for {capacity_shortfall(before, spec)})"
            raise NoValidHost(
                f"Filter {f.name} returned 0 hosts{why} for instance {spec.instance_uuid}; "
                + "; ".join(trail)
            )
    return hosts
