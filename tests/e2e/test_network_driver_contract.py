"""One contract, every network driver: what the agent may rely on whichever driver runs."""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from onestack.network.drivers.base import (
    FixedIP,
    HostState,
    Network,
    NetworkDriver,
    Port,
    Router,
    RouterGateway,
    Subnet,
)
from onestack.network.drivers.fake import FakeDriver
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from tests.support.guests import device_prefix

PREFIX = device_prefix("x")
CAN_RUN_LINUXBRIDGE = os.geteuid() == 0 and all(
    shutil.which(t) for t in ("ip", "dnsmasq", "iptables", "ipset")
)


def new_id() -> str:
    return str(uuid.uuid4())


NET, SUB, PUB, PUBSUB = new_id(), new_id(), new_id(), new_id()


def port(ip: str, owner: str = "compute:nova", network: str = NET, subnet: str = SUB) -> Port:
    mac = f"fa:16:3e:7e:{random.randrange(256):02x}:{int(ip.rsplit('.', 1)[1]):02x}"
    return Port(new_id(), network, "p1", mac, (FixedIP(subnet, ip),), owner, new_id())


VM1, VM2 = port("10.63.0.11"), port("10.63.0.12")
DHCP = port("10.63.0.2", "network:dhcp")
RIF = port("10.63.0.1", "network:router_interface")
RGW = port("10.64.0.10", "network:router_gateway", PUB, PUBSUB)


def state(*ports: Port) -> HostState:
    net = Network(NET, "p1", "vxlan", 6300, None, 1450, False, True,
                  (Subnet(SUB, NET, "10.63.0.0/24", 4, "10.63.0.1", True),))  # fmt: skip
    pub = Network(PUB, "", "flat", None, "public", 1500, True, True,
                  (Subnet(PUBSUB, PUB, "10.64.0.0/24", 4, "10.64.0.1", False),))  # fmt: skip
    router = Router(new_id(), "p1", True, RouterGateway(PUB, RGW), (RIF,))
    return HostState("h", (net, pub), tuple(ports), (DHCP,), (router,), (),
                     {NET: (*ports, DHCP, RIF)})  # fmt: skip


@pytest.fixture(
    params=[
        "fake",
        pytest.param(
            "linuxbridge",
            marks=[
                pytest.mark.root,
                pytest.mark.netns,
                pytest.mark.skipif(not CAN_RUN_LINUXBRIDGE, reason="needs root and the tools"),
            ],
        ),
    ]
)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[NetworkDriver]:
    run_dir = Path(f"/run/onestack-test/{PREFIX}")
    d: NetworkDriver
    if request.param == "fake":
        d = FakeDriver(PREFIX)
    else:
        d = LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=run_dir))
    try:
        yield d
    finally:
        await d.teardown()
        await d.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def statuses(result: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {s.port_id: s.status for s in result}


async def test_every_port_of_the_state_is_reported(driver: NetworkDriver) -> None:
    result = statuses(await driver.apply(state(VM1, VM2)))
    assert result == {p.id: "ACTIVE" for p in (VM1, VM2, DHCP, RIF, RGW)}


async def test_apply_is_idempotent(driver: NetworkDriver) -> None:
    first = await driver.apply(state(VM1, VM2))
    assert await driver.apply(state(VM1, VM2)) == first


async def test_an_administratively_down_port_is_down(driver: NetworkDriver) -> None:
    result = statuses(await driver.apply(state(VM1, replace(VM2, admin_state_up=False))))
    assert result[VM1.id] == "ACTIVE"
    assert result[VM2.id] == "DOWN"


async def test_a_removed_port_is_no_longer_reported(driver: NetworkDriver) -> None:
    await driver.apply(state(VM1, VM2))
    result = statuses(await driver.apply(state(VM1)))
    assert VM2.id not in result and result[VM1.id] == "ACTIVE"


async def test_tap_names_are_short_stable_and_prefixed(driver: NetworkDriver) -> None:
    a, b = driver.tap_name(VM1.id), driver.tap_name(VM2.id)
    assert a == driver.tap_name(VM1.id) and a != b
    assert len(a) <= 15 and a.startswith(PREFIX)


async def test_teardown_then_apply_builds_again(driver: NetworkDriver) -> None:
    await driver.apply(state(VM1))
    await driver.teardown()
    result = statuses(await driver.apply(state(VM1)))
    assert result[VM1.id] == "ACTIVE"
