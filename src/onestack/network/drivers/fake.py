"""The fake driver: remembers the last state it was given and reports every port ACTIVE.

For API tests and hosts without the tools; it touches nothing on the host.
"""

from __future__ import annotations

import asyncio

from onestack.network.drivers.base import HostState, LabelCount, NetworkDriver, PortStatus


class FakeDriver(NetworkDriver):
    name = "fake"

    def __init__(self, prefix: str = "os") -> None:
        self.prefix = prefix
        self.state: HostState | None = None
        self.applied = 0  # how many times apply ran (tests watch it)
        self._lock = asyncio.Lock()
        # label id -> (packets, bytes) the next ``meter`` answers for it (tests set it).
        self.traffic: dict[str, tuple[int, int]] = {}

    def tap_name(self, port_id: str) -> str:
        return f"{self.prefix}t{port_id.replace('-', '')[:11]}"

    async def apply(self, state: HostState) -> list[PortStatus]:
        async with self._lock:
            self.state = state
            self.applied += 1
            ports = [*state.ports, *state.dhcp_ports]
            for router in state.routers:
                ports += router.interfaces
                if router.gateway is not None:
                    ports.append(router.gateway.port)
            return [
                PortStatus(p.id, "ACTIVE" if p.admin_state_up else "DOWN")
                for p in sorted(ports, key=lambda p: p.id)
            ]

    async def meter(self) -> list[LabelCount]:
        labels = {
            label.id: label
            for router in (self.state.routers if self.state else ())
            if router.gateway is not None
            for label in router.metering_labels
        }
        out = []
        for label_id, label in sorted(labels.items()):
            pkts, size = self.traffic.pop(label_id, (0, 0))
            out.append(LabelCount(label_id, label.project_id, pkts, size))
        return out

    async def teardown(self) -> None:
        self.state = None
