"""The network agent of one host: makes the host's data plane match the database.

It reconciles at start, after every ``network.changed`` event (waiting ``debounce`` seconds so
a burst of changes costs one round) and every ``resync_interval`` seconds, each round asking
the network service for the host's ``HostState``, handing it to the driver and reporting the
port statuses that changed (all of them on periodic rounds). A failed round loses nothing: the
state is asked for afresh, so the agent retries soon (backing off to the resync interval).
A round woken only by port creates (the events name them) is incremental when the source
can do it (``SupportsNewPorts``): the new ports are added to the last applied state instead
of the whole host being read again, which a boot with a network waits for (#19). The driver
is still handed the whole state and reconciles the whole host. The periodic round, a round
after any other change or after a failure, and every repair read everything.
Between rounds, every ``check_interval`` seconds, it asks the driver what the host has lost
since (a dnsmasq killed, a namespace or device deleted) and reconciles at once when anything
is: repaired within seconds, not at the next change.
Every ``meter_interval`` seconds it reads what each metering label counted on the host and
publishes it as Neutron's metering agent does: an ``l3.meter`` notification per label on
``METER_TOPIC`` (``label_id``, ``tenant_id``, ``pkts``, ``bytes``, ``time``, ``first_update``,
``last_update``, ``host``), the counts being what passed since the previous one.
It also reports its heartbeat, and gives the driver's metadata proxy the lookup of a guest's
port by address.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from onestack.common.agent import Periodic
from onestack.common.bus import Bus
from onestack.common.logging import get_logger
from onestack.config import Settings
from onestack.network.dataplane import load_driver
from onestack.network.drivers.base import HostState, NetworkDriver, Port, PortStatus

log = get_logger(__name__)

CHANGED_TOPIC = "network.changed"
METER_TOPIC = "notifications.network"
# One process does what Neutron's four agents do; each is reported so `network agent list`
# shows what this host offers.
AGENT_TYPES = (
    ("Linux bridge agent", "neutron-linuxbridge-agent"),
    ("DHCP agent", "neutron-dhcp-agent"),
    ("L3 agent", "neutron-l3-agent"),
    ("Metadata agent", "neutron-metadata-agent"),
)


class NetworkSource(Protocol):
    """What the agent needs of the network service (its service object provides it)."""

    async def host_state(self, host: str) -> HostState: ...

    async def set_port_statuses(self, host: str, statuses: list[PortStatus]) -> None: ...

    async def port_for_address(self, network_id: str, ip: str) -> Port | None: ...

    async def report_agent(
        self, host: str, agent_type: str, binary: str, configurations: dict[str, Any]
    ) -> object: ...  # the agent's row, which the agent does not read


@runtime_checkable
class SupportsNewPorts(Protocol):
    async def host_state_with(
        self, last: HostState, created_ports: Collection[str]
    ) -> HostState | None:
        """``last`` with the ports ``created_ports`` added; None: read the whole state."""
        ...


@runtime_checkable
class SupportsPortLookup(Protocol):
    def set_port_lookup(self, lookup: Callable[[str, str], Awaitable[Port | None]]) -> None: ...


class NetworkAgent:
    def __init__(
        self,
        host: str,
        driver: NetworkDriver,
        source: NetworkSource,
        bus: Bus,
        *,
        resync_interval: float = 30.0,
        debounce: float = 0.02,
        report_interval: float = 10.0,
        retry_delay: float = 1.0,
        check_interval: float = 3.0,
        meter_interval: float = 30.0,
    ) -> None:
        self.host = host
        self.driver = driver
        self.source = source
        self.bus = bus
        self.resync_interval = resync_interval
        self.debounce = debounce
        self.report_interval = report_interval
        self.retry_delay = retry_delay
        self.check_interval = check_interval
        self.meter_interval = meter_interval
        self._last_meter = time.time()
        self._unrepaired: list[str] = []  # what a repair round could not bring back
        self._round = asyncio.Lock()
        self._last_round_end = float("-inf")
        self.rounds = 0  # completed reconciles (successful or not)
        self.failures = 0  # consecutive failed reconciles
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._woken_at = float("-inf")
        self._done = asyncio.Condition()
        self._reported: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.periodic = Periodic()  # heartbeat, drift check, meter report
        self._running = False
        self._subscribed = False
        self._last_state: HostState | None = None
        # The ports created since the last round began, which an incremental round adds to
        # ``_last_state``; None when something else changed: the next round reads it all.
        self._created: set[str] | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        if not self._subscribed:  # the bus has no unsubscribe: once per agent object
            self.bus.subscribe(CHANGED_TOPIC, self._on_change)
            self._subscribed = True
        if isinstance(self.driver, SupportsPortLookup):
            self.driver.set_port_lookup(self.source.port_for_address)
        self._wake.set()  # reconcile at start
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._reconcile_loop(), name=f"network-agent-{self.host}"),
        ]
        # The intervals are read each round: a test may shorten them on a running agent.
        every = self.periodic.every
        every(lambda: self.report_interval, self.report, f"network-heartbeat-{self.host}",
              at_start=True)  # fmt: skip
        every(lambda: self.check_interval, self.check_drift, f"network-drift-{self.host}")
        every(lambda: self.meter_interval, self.report_meters, f"network-meter-{self.host}")

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.periodic.stop()
        await self.driver.close()

    # -- triggers -------------------------------------------------------------------------
    async def _on_change(self, event_type: str, payload: dict[str, Any]) -> None:
        # Every change wakes every agent: a port anywhere on a network changes the DHCP hosts
        # of whoever serves it, and a round with nothing to do costs no process.
        if self._running:
            created = payload.get("created_ports")
            if self._created is not None and isinstance(created, list) and created:
                self._created.update(str(p) for p in created)
            else:
                self._created = None
            self._wake_up()

    def trigger(self) -> None:
        """Ask for a reconcile soon (what a ``network.changed`` event does)."""
        self._created = None
        self._wake_up()

    def _wake_up(self) -> None:
        if not self._wake.is_set():
            self._woken_at = time.monotonic()  # the first change the next round applies
            self._wake.set()

    async def wait_rounds(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` reconciles have completed since the agent was made."""
        async with asyncio.timeout(timeout), self._done:
            await self._done.wait_for(lambda: self.rounds >= count)

    # -- work -----------------------------------------------------------------------------
    async def _reconcile_loop(self) -> None:
        delay = self.resync_interval
        while True:
            full = False
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
                # The first change of a quiet spell is applied at once; one that arrives
                # while a round runs, or right after it, is applied once it is ``debounce``
                # old, with whatever came meanwhile: a burst costs a round or two, not one
                # per change. (Counted from the round's end, a change that had waited out a
                # whole round waited the debounce again: 20 ms of every busy delete, #19.)
                now = time.monotonic()
                if now - self._last_round_end < self.debounce:
                    waited = now - self._woken_at
                    if waited < self.debounce:
                        await asyncio.sleep(self.debounce - waited)
            except TimeoutError:
                full = True  # the periodic round: report every status again
            self._wake.clear()
            # What changed since the last round began: taken with the wake-up, so a change
            # after this point wakes the next round.
            created, self._created = self._created, set()
            ok = await self.reconcile(full=full or self.rounds == 0, created=created)
            if ok:
                delay = self.resync_interval
            else:
                delay = min(self.resync_interval, self.retry_delay * 2 ** min(self.failures, 6))

    async def reconcile(self, full: bool = False, created: set[str] | None = None) -> bool:
        """One round; returns whether it succeeded (a failure is logged and retried).
        ``full``: report every status again. ``created``: the ports created since the last
        round, all that changed (an incremental round); None: read the whole state."""
        async with self._round:  # the loop's rounds and the drift check's repairs, one by one
            return await self._reconcile(full, None if full else created)

    async def _state(self, created: set[str] | None) -> tuple[HostState, set[str] | None]:
        """The state to apply, and the ports read afresh for it (None: all of them)."""
        last = self._last_state
        if created and last is not None and isinstance(self.source, SupportsNewPorts):
            state = await self.source.host_state_with(last, created)
            if state is not None:
                return state, created
        return await self.source.host_state(self.host), None

    async def _reconcile(self, full: bool, created: set[str] | None) -> bool:
        try:
            state, fresh = await self._state(created)
            statuses = self._with_devnames(state, await self.driver.apply(state))
            self._last_state = state
            # The database may have moved since the last report (a port unbound and bound
            # again between two rounds is DOWN there but unchanged here): report it too. An
            # incremental round read only its new ports: the others' statuses are the last
            # read's, which the reports since have changed.
            stored = {
                p.id: p.status
                for p in (*state.ports, *state.dhcp_ports)
                if p.status and (fresh is None or p.id in fresh)
            }
            changed = [
                s
                for s in statuses
                if full
                or self._reported.get(s.port_id) != s.status
                or stored.get(s.port_id, s.status) != s.status
            ]
            if changed:
                await self.source.set_port_statuses(self.host, changed)
                self._reported = {s.port_id: s.status for s in statuses}
            self.failures = 0
            self.last_error = None
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._created = None  # what the failed round was to add: read it all next time
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception(
                "network agent %s: reconcile failed (%d in a row)", self.host, self.failures
            )
            return False
        finally:
            self._last_round_end = time.monotonic()
            async with self._done:
                self.rounds += 1
                self._done.notify_all()

    def _with_devnames(self, state: HostState, statuses: list[PortStatus]) -> list[PortStatus]:
        """A VM port's status carries its tap's name: the port's binding tells the hypervisor
        (``binding:vif_details`` ``devname``, as Nova's VIF does)."""
        vm_ports = {p.id for p in state.ports}
        return [
            replace(s, devname=self.driver.tap_name(s.port_id)) if s.port_id in vm_ports else s
            for s in statuses
        ]

    async def check_drift(self) -> list[str]:
        """Reconcile now if the host lost something of the last applied state; what it lost.

        What one repair round could not bring back is not retried on every check (the round
        logged why): the periodic resync tries again."""
        state = self._last_state
        if state is None or self.failures:
            return []
        try:
            lost = await self.driver.drift(state)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("network agent %s: drift check failed", self.host)
            return []
        if self._last_state is not state:
            return []  # a round applied a newer state meanwhile: what it removed is not lost
        if lost and lost != self._unrepaired:
            log.warning("network agent %s: repairing %s", self.host, "; ".join(lost))
            await self.reconcile(full=True)
            # Only what was lost before the repair and is still lost is what it could not
            # bring back: a loss that came after it (a namespace deleted once the dnsmasq was
            # back, while this slow check ran) is repaired at the next check. Counted as
            # unrepaired, it waited for the periodic resync (30 s): the flaky repair test.
            still = await self.driver.drift(state) if self.failures == 0 else lost
            self._unrepaired = [x for x in still if x in lost]
        elif not lost:
            self._unrepaired = []
        return lost

    async def report_meters(self) -> int:
        """Publish what each label counted since the last report; how many labels."""
        try:
            counts = await self.driver.meter()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("network agent %s: reading the metering counters failed", self.host)
            return 0
        now = time.time()
        first, self._last_meter = self._last_meter, now
        for count in counts:
            await self.bus.publish(
                METER_TOPIC,
                "l3.meter",
                {
                    "label_id": count.label_id,
                    "tenant_id": count.project_id,
                    "pkts": count.pkts,
                    "bytes": count.bytes,
                    "time": int(now - first),
                    "first_update": int(first),
                    "last_update": int(now),
                    "host": self.host,
                },
            )
        return len(counts)

    def configurations(self) -> dict[str, Any]:
        state = self._last_state
        return {
            "driver": self.driver.name,
            "devices": len(state.ports) if state else 0,
            "networks": len(state.networks) if state else 0,
            "routers": len(state.routers) if state else 0,
            "in_sync": self.failures == 0 and self.rounds > 0,
        }

    async def report(self) -> None:
        configurations = self.configurations()
        for agent_type, binary in AGENT_TYPES:
            try:
                await self.source.report_agent(self.host, agent_type, binary, configurations)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("network agent %s: heartbeat failed", self.host)
                return


def agent_host(settings: Settings) -> str:
    return settings.network.host or socket.gethostname()


async def start_agent(
    settings: Settings, source: NetworkSource, bus: Bus, driver: NetworkDriver | None = None
) -> NetworkAgent:
    """Build this host's agent from the settings (driver from ``load_driver``) and start it."""
    net = settings.network
    agent = NetworkAgent(
        agent_host(settings),
        driver or load_driver(settings),
        source,
        bus,
        resync_interval=net.resync_interval,
        debounce=net.change_debounce,
        report_interval=net.report_interval,
        check_interval=net.check_interval,
        meter_interval=net.meter_interval,
    )
    await agent.start()
    return agent
