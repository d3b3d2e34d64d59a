"""What the linuxbridge driver reports lost between reconciles (``drift.missing``): read from
stand-ins for /sys/class/net, /run/netns, the dnsmasq pid files and the metadata listeners."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from onestack.network.drivers.base import FixedIP, HostState, Network, Port, Router, Subnet
from onestack.network.drivers.linuxbridge import drift
from onestack.network.drivers.linuxbridge.dhcp import Dnsmasq
from onestack.network.drivers.linuxbridge.names import Names

NET = Network("n1", "p", "vxlan", 7, None, 1450, False, True,
              (Subnet("s1", "n1", "10.0.0.0/24", 4, "10.0.0.1", True),))  # fmt: skip
VM = Port("vm", "n1", "p", "fa:16:3e:00:00:01", (FixedIP("s1", "10.0.0.5"),), "compute:nova", "x")
DHCP = Port("dh", "n1", "p", "fa:16:3e:00:00:02", (FixedIP("s1", "10.0.0.2"),), "network:dhcp", "d")
STATE = HostState("h", (NET,), (VM,), (DHCP,))
NAMES = Names("os")


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """Everything of STATE present: the test takes pieces away."""
    present = SimpleNamespace(
        links={NAMES.bridge("n1"), NAMES.tap("vm"), NAMES.dhcp_veth("dh")},
        netns={NAMES.dhcp_ns("n1")},
        dnsmasq=True,
        metadata=True,
        jump=True,
    )
    monkeypatch.setattr(drift, "_links", lambda: set(present.links))
    monkeypatch.setattr(drift, "list_netns", lambda: sorted(present.netns))
    monkeypatch.setattr(drift, "pid_alive", lambda path: 42 if present.dnsmasq else None)
    monkeypatch.setattr(drift, "_forward_jump_present", lambda chain: present.jump)
    present.driver = SimpleNamespace(
        names=NAMES,
        dnsmasq=Dnsmasq(tmp_path, "openstacklocal", 600),
        metadata=SimpleNamespace(serving=lambda network_id: present.metadata),
    )
    return present


def missing(host: SimpleNamespace, state: HostState = STATE) -> list[str]:
    return drift.missing(host.driver, state, ("flat", "vxlan", "local"))


def test_nothing_is_missing_when_all_is_there(host: SimpleNamespace) -> None:
    assert missing(host) == []


def test_a_dead_dnsmasq_and_a_closed_metadata_listener(host: SimpleNamespace) -> None:
    host.dnsmasq = False
    host.metadata = False
    assert missing(host) == ["dnsmasq of network n1", "metadata proxy of network n1"]


def test_deleted_devices_namespaces_and_rules(host: SimpleNamespace) -> None:
    host.links = set()
    host.netns = set()
    host.jump = False
    router = Router("r1", "p", True, None)
    lost = missing(host, HostState("h", (NET,), (VM,), (DHCP,), routers=(router,)))
    assert lost == [
        f"bridge {NAMES.bridge('n1')}",
        f"tap {NAMES.tap('vm')}",
        f"namespace {NAMES.dhcp_ns('n1')}",
        f"veth {NAMES.dhcp_veth('dh')}",
        f"namespace {NAMES.router_ns('r1')}",
        "the FORWARD jump to OS-FWD",
    ]
