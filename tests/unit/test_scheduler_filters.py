"""The scheduler's pure parts: capacity accounting, every filter, and NoValidHost's reason."""

from __future__ import annotations

import pytest

from onestack.compute.scheduler import filters as f
from onestack.compute.scheduler.hosts import (
    HostCandidate,
    NoValidHost,
    RequestSpec,
    parse_availability_zone,
)
from tests.support.scheduler import host, spec


def names(hosts: list[HostCandidate]) -> list[str]:
    return [h.host for h in hosts]


# --- capacity accounting -------------------------------------------------------------------


def test_capacity_applies_reserved_then_ratio() -> None:
    h = host(
        total_vcpus=8,
        cpu_allocation_ratio=4.0,
        reserved_vcpus=2,
        total_memory_mb=16384,
        ram_allocation_ratio=1.5,
        reserved_memory_mb=1024,
        total_disk_gb=100,
        disk_allocation_ratio=1.0,
        reserved_disk_gb=10,
        used_vcpus=5,
        used_memory_mb=2048,
        used_disk_gb=30,
    )
    assert (h.capacity_vcpus, h.capacity_memory_mb, h.capacity_disk_gb) == (24, 23040, 90)
    assert (h.free_vcpus, h.free_memory_mb, h.free_disk_gb) == (19, 20992, 60)


def test_fits_caps_one_allocation_at_the_physical_total() -> None:
    h = host(total_vcpus=4, cpu_allocation_ratio=16.0)
    assert h.free_vcpus == 64
    assert h.fits(4, 1024, 10)
    assert not h.fits(5, 1024, 10)  # Placement's max_unit: no 5-VCPU guest on 4 cores


def test_consume_and_unconsume_keep_free_amounts_right() -> None:
    h = host()
    h.consume("i-1", 2, 4096, 20, "g1")
    assert (h.free_vcpus, h.free_memory_mb, h.free_disk_gb) == (30, 12288, 80)
    assert h.instances == {"i-1"} and h.group_members == {"g1": 1}
    h.unconsume("i-1", 2, 4096, 20, "g1")
    assert (h.free_vcpus, h.free_memory_mb, h.free_disk_gb) == (32, 16384, 100)
    assert h.instances == set() and h.group_members == {"g1": 0}


def test_request_spec_from_flavor_sizes_disk_and_parses_the_zone() -> None:
    flavor = {"vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 5, "swap": 1500}
    s = RequestSpec.from_flavor("i-1", "p1", flavor, availability_zone="az1:h7")
    assert (s.vcpus, s.memory_mb, s.disk_gb) == (2, 2048, 27)
    assert (s.availability_zone, s.force_host, s.force_node) == ("az1", "h7", None)
    bfv = RequestSpec.from_flavor("i-1", "p1", flavor, boot_from_volume=True)
    assert bfv.disk_gb == 7 and bfv.availability_zone is None
    assert parse_availability_zone("az1::n1") == ("az1", None, "n1")
    assert parse_availability_zone(":h1:n1") == (None, "h1", "n1")


def test_consumers_of_a_multi_create() -> None:
    assert spec().consumers(1) == ("i-1",)
    assert spec(instance_uuids=("a", "b")).consumers(2) == ("a", "b")
    with pytest.raises(ValueError):
        spec().consumers(2)


# --- filters -------------------------------------------------------------------------------


def test_compute_filter_drops_disabled_and_down_hosts() -> None:
    hosts = [host("ok"), host("off", enabled=False), host("down", up=False)]
    assert names(f.ComputeFilter(hosts, spec())) == ["ok"]


def test_availability_zone_filter() -> None:
    hosts = [host("a", availability_zone="az1"), host("b")]
    assert names(f.AvailabilityZoneFilter(hosts, spec(availability_zone="az1"))) == ["a"]
    assert names(f.AvailabilityZoneFilter(hosts, spec(availability_zone="nova"))) == ["b"]


@pytest.mark.parametrize(
    ("req", "fits"),
    [
        ({"memory_mb": 15360}, True),  # exactly what is left
        ({"memory_mb": 15361}, False),
        ({"vcpus": 8}, True),
        ({"vcpus": 9}, False),  # free (16 with ratio 2) but over the 8 physical cores
        ({"disk_gb": 80}, True),
        ({"disk_gb": 81}, False),
        ({"disk_gb": 0, "memory_mb": 1}, True),  # boot from volume on a full disk
    ],
)
def test_compute_capacity_filter(req: dict[str, int], fits: bool) -> None:
    h = host(cpu_allocation_ratio=2.0, reserved_memory_mb=512, used_memory_mb=512, used_disk_gb=20)
    assert f.ComputeCapacityFilter([h], spec(**req)) == ([h] if fits else [])


def test_zero_amount_ignores_an_overcommitted_resource() -> None:
    full = host(used_disk_gb=150)  # a lowered ratio left the disk overcommitted
    assert f.ComputeCapacityFilter([full], spec(disk_gb=0)) == [full]
    assert f.ComputeCapacityFilter([full], spec(disk_gb=1)) == []


@pytest.mark.parametrize(
    ("value", "req", "ok"),
    [
        ("true", "true", True),
        ("true", "false", False),
        ("16", ">= 8", True),
        ("4", ">= 8", False),
        ("8", "= 8", True),  # Nova's "=" means at least
        ("8", "== 8.0", True),
        ("8", "!= 8", False),
        ("4", "<= 8", True),
        ("abc", "s== abc", True),
        ("abc", "s!= abc", False),
        ("b", "s> a", True),
        ("ssd,nvme", "<in> nvme", True),
        ("ssd", "<in> nvme", False),
        ("a b c", "<all-in> a c", True),
        ("a b", "<all-in> a c", False),
        ("gold", "<or> silver <or> gold", True),
        ("bronze", "<or> silver <or> gold", False),
        ("x", ">= 8", False),  # not a number
    ],
)
def test_extra_spec_operators(value: str, req: str, ok: bool) -> None:
    assert f.match(value, req) is ok


def test_aggregate_instance_extra_specs_filter() -> None:
    ssd = host("ssd", aggregate_metadata={"ssd": {"true"}, "gpus": {"2", "4"}})
    plain = host("plain", aggregate_metadata={"ssd": {"false"}})
    none = host("none")
    hosts = [ssd, plain, none]
    run = f.AggregateInstanceExtraSpecsFilter
    assert names(run(hosts, spec(extra_specs={"ssd": "true"}))) == ["ssd"]
    scoped = {"aggregate_instance_extra_specs:ssd": "false"}
    assert names(run(hosts, spec(extra_specs=scoped))) == ["plain"]
    # Any of the values the host's aggregates give satisfies the spec.
    assert names(run(hosts, spec(extra_specs={"gpus": ">= 3"}))) == ["ssd"]
    # Other namespaces are not the filter's business.
    others = {"hw:cpu_policy": "dedicated", "quota:disk_read_bytes_sec": "1"}
    assert names(run(hosts, spec(extra_specs=others))) == ["ssd", "plain", "none"]
    assert f.aggregate_requirements({**others, "aggregate_instance_extra_specs:a": "1"}) == [
        ("a", "1")
    ]


def test_affinity_filter() -> None:
    hosts = [host("a"), host("b")]
    # No member placed yet: any host.
    assert names(f.ServerGroupAffinityFilter(hosts, spec(group_policy="affinity"))) == ["a", "b"]
    with_members = spec(group_policy="affinity", group_hosts=frozenset({"b"}))
    assert names(f.ServerGroupAffinityFilter(hosts, with_members)) == ["b"]


def test_anti_affinity_filter_and_max_server_per_host() -> None:
    a = host("a", group_members={"g1": 1})
    b = host("b", group_members={"g1": 2, "other": 5})
    c = host("c", group_members={"other": 3})
    d = host("d")
    hosts = [a, b, c, d]
    anti = spec(group_uuid="g1", group_policy="anti-affinity")
    assert names(f.ServerGroupAntiAffinityFilter(hosts, anti)) == ["c", "d"]
    two = spec(
        group_uuid="g1", group_policy="anti-affinity", group_rules={"max_server_per_host": 2}
    )
    assert names(f.ServerGroupAntiAffinityFilter(hosts, two)) == ["a", "c", "d"]
    # Hosts known only from the spec (no counts loaded) count as holding one member.
    by_hosts = spec(group_policy="anti-affinity", group_hosts=frozenset({"d"}))
    assert names(f.ServerGroupAntiAffinityFilter(hosts, by_hosts)) == ["a", "b", "c"]
    bad_rule = spec(
        group_uuid="g1", group_policy="anti-affinity", group_rules={"max_server_per_host": "x"}
    )
    assert f.max_server_per_host(bad_rule) == 1


def test_ignore_and_force_hosts() -> None:
    hosts = [host("a"), host("b", hypervisor_hostname="b.n2")]
    assert names(f.IgnoreHostsFilter(hosts, spec(ignore_hosts=frozenset({"a"})))) == ["b"]
    assert names(f.ForceHostsFilter(hosts, spec(force_host="b"))) == ["b"]
    assert names(f.ForceHostsFilter(hosts, spec(force_node="a.node"))) == ["a"]


def test_forced_host_skips_filters_but_capacity() -> None:
    down = host("down", up=False, availability_zone="other")
    assert names(
        f.filter_hosts([host("a"), down], spec(force_host="down", availability_zone="az"))
    ) == ["down"]
    with pytest.raises(NoValidHost) as err:
        f.filter_hosts([down], spec(force_host="down", memory_mb=10**6))
    assert "ComputeCapacityFilter" in err.value.reason


def test_filter_hosts_runs_only_applicable_filters_in_order() -> None:
    hosts = [
        host("a", availability_zone="az1", aggregate_metadata={"ssd": {"true"}}),
        host("b", availability_zone="az1"),
        host("c", enabled=False, availability_zone="az1"),
        host("d"),
    ]
    s = spec(availability_zone="az1", extra_specs={"ssd": "true"})
    assert names(f.filter_hosts(hosts, s)) == ["a"]
    assert names(f.filter_hosts(hosts, spec())) == ["a", "b", "d"]


def test_no_valid_host_names_the_filter_that_eliminated_the_last_hosts() -> None:
    hosts = [host("a", availability_zone="az1"), host("b", enabled=False)]
    with pytest.raises(NoValidHost) as err:
        f.filter_hosts(hosts, spec(availability_zone="az2"))
    assert err.value.message == "No valid host was found. There are not enough hosts available."
    assert str(err.value) == err.value.message and err.value.code == 500
    assert err.value.reason.startswith("Filter AvailabilityZoneFilter returned 0 hosts")
    assert "ComputeFilter: 2 -> 1" in err.value.reason

    with pytest.raises(NoValidHost) as err:
        f.filter_hosts([host("a")], spec(memory_mb=20000, vcpus=2))
    assert "ComputeCapacityFilter" in err.value.reason and "MEMORY_MB=20000" in err.value.reason
    assert "VCPU" not in err.value.reason

    with pytest.raises(NoValidHost) as err:
        f.filter_hosts([], spec())
    assert "no compute nodes" in err.value.reason
