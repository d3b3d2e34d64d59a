"""The network agent: reconcile at start, on bus events (coalesced), periodically; retries."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from onestack.common.bus import MemoryBus
from onestack.network.agent import CHANGED_TOPIC, NetworkAgent
from onestack.network.drivers.base import FixedIP, HostState, Network, Port, PortStatus
from onestack.network.drivers.fake import FakeDriver

NET = Network("n1", "p1", "vxlan", 7, None, 1450, False, True)


def port(pid: str, up: bool = True) -> Port:
    return Port(pid, "n1", "p1", "fa:16:3e:00:00:01", (FixedIP("s1", "10.0.0.5"),),
                "compute:nova", "vm-" + pid, admin_state_up=up)  # fmt: skip


class Source:
    def __init__(self) -> None:
        self.state = HostState("h1", (NET,), (port("a"),))
        self.asked = 0
        self.fail = 0  # how many host_state calls fail before it works again
        self.statuses: list[list[PortStatus]] = []
        self.reports: list[tuple[str, str, dict[str, Any]]] = []

    async def host_state(self, host: str) -> HostState:
        self.asked += 1
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database is down")
        return self.state

    async def set_port_statuses(self, host: str, statuses: list[PortStatus]) -> None:
        self.statuses.append(list(statuses))

    async def port_for_address(self, network_id: str, ip: str) -> Port | None:
        return port("a") if ip == "10.0.0.5" else None

    async def report_agent(
        self, host: str, agent_type: str, binary: str, configurations: dict[str, Any]
    ) -> None:
        self.reports.append((agent_type, binary, configurations))


class LookupDriver(FakeDriver):
    def __init__(self) -> None:
        super().__init__()
        self.lookup: Any = None

    def set_port_lookup(self, lookup: Any) -> None:
        self.lookup = lookup


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    b = MemoryBus()
    yield b
    await b.stop()


async def make(bus: MemoryBus, **kw: Any) -> tuple[NetworkAgent, FakeDriver, Source]:
    driver, source = LookupDriver(), Source()
    options = {"resync_interval": 30.0, "debounce": 0.05, "report_interval": 30.0} | kw
    agent = NetworkAgent("h1", driver, source, bus, **options)
    await agent.start()
    return agent, driver, source


async def test_reconciles_at_start_and_reports(bus: MemoryBus) -> None:
    agent, driver, source = await make(bus)
    try:
        await agent.wait_rounds(1, timeout=10)
        assert driver.state == source.state
        assert source.statuses == [[PortStatus("a", "ACTIVE")]]
        assert {r[0] for r in source.reports} == {
            "Linux bridge agent", "DHCP agent", "L3 agent", "Metadata agent"}  # fmt: skip
        assert source.reports[0][2]["driver"] == "fake"
    finally:
        await agent.stop()


async def test_a_burst_of_changes_costs_one_round(bus: MemoryBus) -> None:
    agent, driver, _source = await make(bus, debounce=0.2)
    try:
        await agent.wait_rounds(1, timeout=10)
        # The burst is published without yielding: spread over wall-clock time, a loaded
        # machine stretched it past the debounce and it honestly cost more rounds.
        for _ in range(10):
            await bus.publish(CHANGED_TOPIC, "port.update", {"port_id": "a"})
        await agent.wait_rounds(2, timeout=10)
        await asyncio.sleep(0.4)
        assert driver.applied == 2
    finally:
        await agent.stop()


class SlowDriver(LookupDriver):
    """Each apply takes ``delay`` seconds; records when each began and ended."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.spans: list[tuple[float, float]] = []
        self.began = 0

    async def apply(self, state: HostState) -> list[PortStatus]:
        began = time.monotonic()
        self.began += 1
        await asyncio.sleep(self.delay)
        statuses = await super().apply(state)
        self.spans.append((began, time.monotonic()))
        return statuses


async def test_a_change_that_waited_out_a_round_is_applied_right_after_it(
    bus: MemoryBus,
) -> None:
    """A change that comes while a round runs is older than the debounce when that round
    ends: the next round begins at once, not a debounce after the end (#19). A change that
    comes right after a round still waits the debounce, with whatever follows it."""
    driver, source = SlowDriver(0.4), Source()
    agent = NetworkAgent("h1", driver, source, bus, debounce=0.25, report_interval=30.0)
    await agent.start()
    try:
        await agent.wait_rounds(1, timeout=10)
        agent.trigger()
        async with asyncio.timeout(10):
            while driver.began < 2:
                await asyncio.sleep(0.01)
        agent.trigger()  # while the second round runs
        await agent.wait_rounds(3, timeout=10)
        (_, second_end), (third_begin, third_end) = driver.spans[1], driver.spans[2]
        assert third_begin - second_end < 0.15
        agent.trigger()  # right after the third round: it waits the debounce
        await agent.wait_rounds(4, timeout=10)
        assert driver.spans[3][0] - third_end >= 0.2
    finally:
        await agent.stop()


async def test_only_changed_statuses_are_reported_between_full_rounds(bus: MemoryBus) -> None:
    agent, _driver, source = await make(bus)
    try:
        await agent.wait_rounds(1, timeout=10)
        source.state = HostState("h1", (NET,), (port("a"), port("b", up=False)))
        agent.trigger()
        await agent.wait_rounds(2, timeout=10)
        assert source.statuses[-1] == [PortStatus("b", "DOWN")]
        agent.trigger()
        await agent.wait_rounds(3, timeout=10)
        assert len(source.statuses) == 2  # nothing changed: nothing sent
    finally:
        await agent.stop()


async def test_a_status_the_database_lost_is_reported_again(bus: MemoryBus) -> None:
    """Unbound and bound again between two rounds: the port is DOWN in the database, while
    for the agent nothing changed; the next round sets it ACTIVE again."""
    agent, _driver, source = await make(bus)
    try:
        await agent.wait_rounds(1, timeout=10)
        again = dataclasses.replace(port("a"), status="DOWN")
        source.state = HostState("h1", (NET,), (again,))
        agent.trigger()
        await agent.wait_rounds(2, timeout=10)
        assert source.statuses[-1] == [PortStatus("a", "ACTIVE")]
    finally:
        await agent.stop()


async def test_a_change_on_another_host_wakes_the_agent_too(bus: MemoryBus) -> None:
    """A port bound elsewhere still changes the DHCP hosts of the networks served here."""
    agent, driver, _source = await make(bus, debounce=0.0)
    try:
        await agent.wait_rounds(1, timeout=10)
        await bus.publish(CHANGED_TOPIC, "port.update", {"host": "h2"})
        await agent.wait_rounds(2, timeout=10)
        assert driver.applied == 2
    finally:
        await agent.stop()


async def test_periodic_resync_reports_everything_again(bus: MemoryBus) -> None:
    agent, driver, source = await make(bus, resync_interval=0.2)
    try:
        await agent.wait_rounds(3, timeout=10)
        assert driver.applied >= 3
        assert len(source.statuses) >= 3
    finally:
        await agent.stop()


async def test_a_failed_round_is_retried_and_nothing_is_lost(bus: MemoryBus) -> None:
    driver, source = LookupDriver(), Source()
    source.fail = 2
    agent = NetworkAgent("h1", driver, source, bus, resync_interval=30.0, debounce=0,
                         retry_delay=0.05)  # fmt: skip
    await agent.start()
    try:
        await agent.wait_rounds(1, timeout=10)
        assert agent.last_error == "RuntimeError: database is down"
        assert driver.applied == 0
        await agent.wait_rounds(3, timeout=10)
        assert agent.last_error is None and agent.failures == 0
        assert driver.state == source.state
        assert source.statuses == [[PortStatus("a", "ACTIVE")]]
    finally:
        await agent.stop()


async def test_the_driver_gets_the_metadata_lookup(bus: MemoryBus) -> None:
    agent, driver, _source = await make(bus)
    try:
        assert isinstance(driver, LookupDriver)
        found = await driver.lookup("n1", "10.0.0.5")
        assert found is not None and found.id == "a"
        assert await driver.lookup("n1", "10.0.0.6") is None
    finally:
        await agent.stop()


async def test_stop_ends_the_loops(bus: MemoryBus) -> None:
    agent, driver, _source = await make(bus, debounce=0.0)
    await agent.wait_rounds(1, timeout=10)
    await agent.stop()
    await bus.publish(CHANGED_TOPIC, "port.update", {})
    await asyncio.sleep(0.1)
    assert driver.applied == 1


def test_load_driver_and_the_metadata_secret(tmp_path: Any) -> None:
    from onestack.common import errors
    from onestack.common.secrets import metadata_secret
    from onestack.config import load_settings
    from onestack.network.dataplane import load_driver

    settings = load_settings(data_dir=tmp_path, environ={"ONESTACK_NETWORK_DRIVER": "fake"})
    driver = load_driver(settings)
    assert isinstance(driver, FakeDriver)
    secret = metadata_secret(settings)
    assert len(secret) == 64 and metadata_secret(settings) == secret
    assert (tmp_path / "metadata_secret").stat().st_mode & 0o777 == 0o600
    settings.network.metadata_secret = "configured"
    assert metadata_secret(settings) == "configured"
    settings.network.driver = "openvswitch"
    with pytest.raises(errors.ServiceUnavailable):
        load_driver(settings)


def test_processes_starting_together_agree_on_one_metadata_secret(tmp_path: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from onestack.common.secrets import metadata_secret
    from onestack.config import load_settings

    settings = load_settings(data_dir=tmp_path, environ={})
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: metadata_secret(settings), range(32)))
    assert len(secrets) == 1 and len(secrets.pop()) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metadata_secret"]  # no leftovers


class LosingDriver(LookupDriver):
    """Reports what the host lost until the next apply brings it back (or never)."""

    def __init__(self, repairable: bool = True) -> None:
        super().__init__()
        self.lost: list[str] = []
        self.repairable = repairable
        self.applies = 0

    async def apply(self, state: HostState) -> list[PortStatus]:
        self.applies += 1
        if self.repairable:
            self.lost = []
        return await super().apply(state)

    async def drift(self, state: HostState) -> list[str]:
        return list(self.lost)


async def test_a_lost_dnsmasq_is_repaired_at_the_next_check_not_the_next_change(
    bus: MemoryBus,
) -> None:
    driver, source = LosingDriver(), Source()
    agent = NetworkAgent("h1", driver, source, bus, resync_interval=30.0, check_interval=0.05)
    await agent.start()
    try:
        await agent.wait_rounds(1, timeout=10)
        before = driver.applies
        driver.lost = ["dnsmasq of network n1"]
        async with asyncio.timeout(2):
            while driver.applies == before:
                await asyncio.sleep(0.01)
        assert driver.lost == []
    finally:
        await agent.stop()


async def test_what_a_repair_cannot_bring_back_is_not_retried_every_check(bus: MemoryBus) -> None:
    driver, source = LosingDriver(repairable=False), Source()
    agent = NetworkAgent("h1", driver, source, bus, resync_interval=30.0, check_interval=0.02)
    await agent.start()
    try:
        await agent.wait_rounds(1, timeout=10)
        driver.lost = ["namespace os-dhcp-n1"]
        assert await agent.check_drift() == ["namespace os-dhcp-n1"]
        repaired_once = driver.applies
        await asyncio.sleep(0.2)  # ten checks
        assert driver.applies == repaired_once
    finally:
        await agent.stop()


async def test_a_loss_after_a_repair_is_repaired_at_the_next_check(bus: MemoryBus) -> None:
    """What is lost while a repair runs (the test's namespace deleted once the dnsmasq was
    back) is no loss that repair could not bring back: the next check repairs it."""
    driver, source = LosingDriver(), Source()
    agent = NetworkAgent("h1", driver, source, bus, resync_interval=30.0, check_interval=30.0)
    await agent.start()
    try:
        await agent.wait_rounds(1, timeout=10)
        repair = driver.apply

        async def then_lose_the_namespace(state: HostState) -> list[PortStatus]:
            statuses = await repair(state)
            driver.lost = ["namespace os-dhcp-n1"]
            return statuses

        driver.lost = ["dnsmasq of network n1"]
        driver.apply = then_lose_the_namespace  # type: ignore[method-assign]
        assert await agent.check_drift() == ["dnsmasq of network n1"]
        driver.apply = repair  # type: ignore[method-assign]
        assert await agent.check_drift() == ["namespace os-dhcp-n1"]
        assert driver.lost == []
    finally:
        await agent.stop()


class NewPortsSource(Source):
    """A source that can add new ports to the agent's last state (the network service's
    ``host_state_with``); ``refuse``: it answers None, the agent must read it all."""

    def __init__(self) -> None:
        super().__init__()
        self.added: list[set[str]] = []
        self.refuse = False

    async def host_state_with(self, last: HostState, created_ports: Any) -> HostState | None:
        self.added.append(set(created_ports))
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database is down")
        if self.refuse:
            return None
        new = tuple(port(p) for p in sorted(created_ports))
        return dataclasses.replace(last, ports=(*last.ports, *new))


async def test_port_creates_are_added_to_the_last_state_other_changes_read_it_all(
    bus: MemoryBus,
) -> None:
    driver, source = LookupDriver(), NewPortsSource()
    agent = NetworkAgent("h1", driver, source, bus, debounce=0.0, report_interval=30.0)
    await agent.start()
    try:
        await agent.wait_rounds(1, timeout=10)
        assert source.asked == 1
        await bus.publish(CHANGED_TOPIC, "network.changed", {"host": "h1", "created_ports": ["b"]})
        await agent.wait_rounds(2, timeout=10)
        assert (source.asked, source.added) == (1, [{"b"}])  # not read again
        assert driver.state is not None and [p.id for p in driver.state.ports] == ["a", "b"]
        assert source.statuses[-1] == [PortStatus("b", "ACTIVE")]
        # Any other change (no created_ports) reads the whole host.
        await bus.publish(CHANGED_TOPIC, "network.changed", {"host": ""})
        await agent.wait_rounds(3, timeout=10)
        assert (source.asked, len(source.added)) == (2, 1)
        assert [p.id for p in driver.state.ports] == ["a"]  # what the database says
        # A source that cannot add them: the agent reads it all.
        source.refuse = True
        await bus.publish(CHANGED_TOPIC, "network.changed", {"host": "h1", "created_ports": ["c"]})
        await agent.wait_rounds(4, timeout=10)
        assert (source.asked, len(source.added)) == (3, 2)
        # After a failed round, the next one reads it all even when woken by a create.
        source.refuse, source.fail = False, 1
        await bus.publish(CHANGED_TOPIC, "network.changed", {"host": "h1", "created_ports": ["d"]})
        await agent.wait_rounds(5, timeout=10)
        assert agent.failures == 1 and len(source.added) == 3
        await bus.publish(CHANGED_TOPIC, "network.changed", {"host": "h1", "created_ports": ["e"]})
        await agent.wait_rounds(6, timeout=10)
        assert agent.failures == 0 and len(source.added) == 3 and source.asked == 4
    finally:
        await agent.stop()
