"""The consistent-hash ring: balanced placement by weight, replicas in distinct zones, and
rebalances that move only what the changed devices gained or lost."""

from __future__ import annotations

from collections import Counter

import pytest

from onestack.object.ring import Device, Ring


def ring(devices: list[Device], replicas: int = 3, part_power: int = 10) -> Ring:
    r = Ring(part_power=part_power, replicas=replicas)
    for d in devices:
        r.add_device(d)
    r.rebalance()
    return r


def spread(zones: int, per_zone: int = 1, weight: float = 100.0) -> list[Device]:
    return [
        Device(id=z * per_zone + i, zone=z, weight=weight)
        for z in range(zones)
        for i in range(per_zone)
    ]


def test_every_partition_has_its_replicas_on_distinct_devices_and_zones() -> None:
    r = ring(spread(zones=4, per_zone=2))
    for part in range(r.partitions):
        devs = [row[part] for row in r.assignment]
        assert -1 not in devs
        assert len(set(devs)) == 3
        assert len({r.devices[d].zone for d in devs}) == 3


def test_equal_weights_hold_equal_shares() -> None:
    r = ring(spread(zones=4, per_zone=2))
    counts = r.counts()
    expected = r.partitions * 3 / 8
    assert all(abs(c - expected) <= 1 for c in counts.values()), counts


def test_weights_set_the_shares() -> None:
    devices = [Device(0, 0, 100), Device(1, 1, 100), Device(2, 2, 200), Device(3, 3, 400)]
    r = ring(devices, replicas=2)
    counts = r.counts()
    assert counts[3] == pytest.approx(2 * counts[2], rel=0.02)
    assert counts[2] == pytest.approx(2 * counts[0], rel=0.02)


def test_lookup_is_stable_and_names_the_replicas() -> None:
    r = ring(spread(zones=3))
    part, nodes = r.nodes("AUTH_p", "c", "o")
    assert part == r.partition("AUTH_p", "c", "o")
    assert 0 <= part < r.partitions
    assert len(nodes) == 3 and len({n.zone for n in nodes}) == 3
    assert r.nodes("AUTH_p", "c", "o") == (part, nodes)
    names = [r.partition("AUTH_p", "c", f"o{i}") for i in range(2000)]
    assert len(set(names)) > r.partitions * 0.8  # names spread over the partitions


def test_adding_a_device_moves_only_its_share() -> None:
    r = ring(spread(zones=4, per_zone=2), replicas=3)
    before = [list(row) for row in r.assignment]
    r.add_device(Device(id=100, zone=1, weight=100))
    moved = r.rebalance()
    share = r.partitions * 3 / 9
    # At most its share moves (less where zones forbid: replicas stay in distinct zones).
    assert share * 0.8 <= moved <= share * 1.05
    # Every replica that moved went to the new device.
    for row_before, row_after in zip(before, r.assignment, strict=True):
        for old, new in zip(row_before, row_after, strict=True):
            assert old == new or new == 100
    assert r.counts()[100] == moved


def test_removing_a_device_moves_only_its_partitions() -> None:
    r = ring(spread(zones=4, per_zone=2), replicas=3)
    before = [list(row) for row in r.assignment]
    lost = r.counts()[5]
    r.remove_device(5)
    moved = r.rebalance()
    assert moved == lost
    for row_before, row_after in zip(before, r.assignment, strict=True):
        for old, new in zip(row_before, row_after, strict=True):
            assert old == new or old == 5
    assert 5 not in r.counts()


def test_fewer_zones_than_replicas_still_places_every_replica() -> None:
    r = ring(spread(zones=2, per_zone=2), replicas=3)
    for part in range(r.partitions):
        devs = [row[part] for row in r.assignment]
        assert len(set(devs)) == 3
        assert len({r.devices[d].zone for d in devs}) == 2


def test_a_single_host_holds_one_copy_of_each_partition() -> None:
    r = ring([Device(0, 0, 1)], replicas=3, part_power=6)
    assert Counter(
        len([x for x in (row[p] for row in r.assignment) if x >= 0]) for p in range(r.partitions)
    ) == {1: r.partitions}


def test_changing_a_weight_moves_partitions_towards_it() -> None:
    r = ring(spread(zones=4), replicas=2)
    before = r.counts()[0]
    r.set_weight(0, 200)
    r.rebalance()
    assert r.counts()[0] > before * 1.3
    assert r.counts().most_common(1)[0][0] == 0
