"""The scheduler's weighers and choice: spread and pack, soft group policies, normalisation,
multi-instance placement consuming in memory, and all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest

from onestack.compute.scheduler import weighers as w
from onestack.compute.scheduler.hosts import HostCandidate, NoValidHost
from onestack.compute.scheduler.select import rank_hosts, select_hosts
from tests.support.scheduler import host as candidate
from tests.support.scheduler import spec


def host(name: str, **kw: Any) -> HostCandidate:
    """The weighers compare real cores: no overcommit unless a test asks for it."""
    return candidate(name, **{"cpu_allocation_ratio": 1.0, **kw})


def test_normalize_like_nova() -> None:
    assert w.normalize([]) == []
    assert w.normalize([5, 5, 5]) == [0.0, 0.0, 0.0]
    assert w.normalize([10, 20, 15]) == [0.0, 1.0, 0.5]


def test_raw_weighers_read_the_free_amounts() -> None:
    hosts = [host("a", used_memory_mb=1024, used_vcpus=3, used_disk_gb=40)]
    s = spec()
    assert w.RAMWeigher(hosts, s) == [15360]
    assert w.CPUWeigher(hosts, s) == [5]
    assert w.DiskWeigher(hosts, s) == [60]


def test_weigh_hosts_sums_normalised_weights_times_multipliers() -> None:
    # a: most RAM free; b: most CPU and disk free; c: least of everything.
    a = host("a", used_vcpus=4, used_disk_gb=50)
    b = host("b", used_memory_mb=8192)
    c = host("c", used_memory_mb=8192, used_vcpus=4, used_disk_gb=50)
    assert w.weigh_hosts([a, b, c], spec()) == pytest.approx([1.0, 2.0, 0.0])
    assert w.weigh_hosts([a, b, c], spec(), "pack") == pytest.approx([-1.0, -2.0, 0.0])
    # Equal hosts: every weigher normalises to 0.
    assert w.weigh_hosts([host("x"), host("y")], spec()) == [0.0, 0.0]
    with pytest.raises(ValueError):
        w.weigh_hosts([a], spec(), "random")


def test_spread_prefers_most_free_pack_least_free() -> None:
    small = host("small", used_memory_mb=12288, used_vcpus=6, used_disk_gb=80)
    big = host("big")
    assert select_hosts([small, host("big")], spec())[0].host == "big"
    assert (
        select_hosts(
            [host("small2", used_memory_mb=12288, used_vcpus=6, used_disk_gb=80), big],
            spec(),
            "pack",
        )[0].host
        == "small2"
    )
    assert small.used_memory_mb == 12288  # not chosen: untouched


def test_soft_affinity_weighers_only_weigh() -> None:
    # "a" holds members of g1 and has less free: spread alone would choose "b".
    a = host("a", used_memory_mb=4096, group_members={"g1": 2})
    b = host("b")
    soft_aff = spec(group_uuid="g1", group_policy="soft-affinity")
    assert w.ServerGroupSoftAffinityWeigher([a, b], soft_aff) == [2, 0]
    assert rank_hosts([a, b], soft_aff)[0].host == "a"
    soft_anti = spec(group_uuid="g1", group_policy="soft-anti-affinity")
    assert w.ServerGroupSoftAntiAffinityWeigher([a, b], soft_anti) == [-2, 0]
    packed = [host("a", group_members={"g1": 1}), host("b", used_memory_mb=8192)]
    assert select_hosts(packed, soft_anti, "pack")[0].host == "b"
    # The soft policies never filter: with only the members' host, it is still chosen.
    assert select_hosts([host("a", group_members={"g1": 5})], soft_anti)[0].host == "a"


def test_rank_hosts_orders_best_first_and_keeps_ties_stable() -> None:
    hosts = [host("x"), host("y", used_memory_mb=4096), host("z")]
    assert [h.host for h in rank_hosts(hosts, spec())] == ["x", "z", "y"]
    assert [h.host for h in rank_hosts(hosts, spec(), "pack")] == ["y", "x", "z"]
    assert hosts[0].used_memory_mb == 0  # ranking consumes nothing


def test_multi_create_spreads_and_consumes_in_memory() -> None:
    hosts = [host("a"), host("b"), host("c")]
    s = spec(instance_uuids=("i-1", "i-2", "i-3", "i-4"))
    chosen = select_hosts(hosts, s, count=4)
    assert sorted(h.host for h in chosen[:3]) == ["a", "b", "c"]
    assert sum(h.used_memory_mb for h in hosts) == 4096
    assert set().union(*(h.instances for h in hosts)) == {"i-1", "i-2", "i-3", "i-4"}
    packed = [host("a"), host("b")]
    assert [h.host for h in select_hosts(packed, s, "pack", count=4)] == ["a"] * 4


def test_multi_create_with_affinity_follows_the_first_member() -> None:
    hosts = [host("a", used_memory_mb=2048), host("b")]
    s = spec(group_uuid="g1", group_policy="affinity", instance_uuids=("i-1", "i-2", "i-3"))
    assert [h.host for h in select_hosts(hosts, s, count=3)] == ["b", "b", "b"]
    assert hosts[1].group_members == {"g1": 3}


def test_affinity_follows_loaded_members() -> None:
    hosts = [host("a"), host("b", used_memory_mb=8192, group_members={"g1": 1})]
    s = spec(group_uuid="g1", group_policy="affinity")
    assert select_hosts(hosts, s)[0].host == "b"


def test_multi_create_with_anti_affinity_and_max_per_host() -> None:
    hosts = [host("a"), host("b")]
    s = spec(group_uuid="g1", group_policy="anti-affinity", instance_uuids=("i-1", "i-2"))
    assert sorted(h.host for h in select_hosts(hosts, s, count=2)) == ["a", "b"]
    # A third member has nowhere to go: NoValidHost, and nothing stays consumed.
    hosts = [host("a"), host("b")]
    three = spec(group_uuid="g1", group_policy="anti-affinity", instance_uuids=("x", "y", "z"))
    with pytest.raises(NoValidHost) as err:
        select_hosts(hosts, three, count=3)
    assert "ServerGroupAntiAffinityFilter" in err.value.reason
    assert [(h.used_memory_mb, h.instances, h.group_members) for h in hosts] == [
        (0, set(), {"g1": 0}),
        (0, set(), {"g1": 0}),
    ]
    two_each = spec(
        group_uuid="g1",
        group_policy="anti-affinity",
        group_rules={"max_server_per_host": 2},
        instance_uuids=("w", "x", "y", "z"),
    )
    assert sorted(h.host for h in select_hosts(hosts, two_each, count=4)) == ["a", "a", "b", "b"]


def test_select_fills_a_host_exactly_then_no_valid_host() -> None:
    h = host("only", total_memory_mb=4096)
    for i in range(4):
        select_hosts([h], spec(instance_uuid=f"i-{i}"))
    assert h.free_memory_mb == 0
    with pytest.raises(NoValidHost):
        select_hosts([h], spec(instance_uuid="i-5"))
