"""What the host has lost since the last apply: the cheap check between full reconciles.

Neutron's DHCP agent notices a dead dnsmasq on its periodic ``resync``; here the agent asks the
driver every ``[network] check_interval`` seconds what of the last applied state is gone (a
dnsmasq or metadata listener that died, a namespace, device or the jump into our rules that
someone deleted) and reconciles at once when anything is. The checks read /proc, /sys and
/run/netns and run one ``iptables -C``: no rule dump, no netlink session.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from onestack.network.drivers.base import HostState
from onestack.network.drivers.linuxbridge.dhcp import dhcp_subnets, pid_alive
from onestack.network.drivers.linuxbridge.l2 import list_netns

if TYPE_CHECKING:
    from onestack.network.drivers.linuxbridge.driver import LinuxBridgeDriver

SYS_NET = Path("/sys/class/net")
FORWARD_JUMP = "the FORWARD jump to"


def _links() -> set[str]:
    try:
        return set(os.listdir(SYS_NET))
    except FileNotFoundError:
        return set()


def _forward_jump_present(chain: str) -> bool:
    done = subprocess.run(
        ["iptables", "-w", "-C", "FORWARD", "-j", chain],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def missing(driver: LinuxBridgeDriver, state: HostState, supported: tuple[str, ...]) -> list[str]:
    """Each thing of ``state`` (as the driver applied it) that the host no longer has."""
    names = driver.names
    links, namespaces = _links(), set(list_netns())
    networks = {n.id: n for n in state.networks if n.network_type in supported}
    lost = [f"bridge {names.bridge(i)}" for i in networks if names.bridge(i) not in links]
    lost += [f"tap {names.tap(p.id)}" for p in state.ports
             if p.network_id in networks and names.tap(p.id) not in links]  # fmt: skip
    for port in state.dhcp_ports:
        network = networks.get(port.network_id)
        if network is None:
            continue
        ns = names.dhcp_ns(network.id)
        if ns not in namespaces:
            lost.append(f"namespace {ns}")
        if names.dhcp_veth(port.id) not in links:
            lost.append(f"veth {names.dhcp_veth(port.id)}")
        if dhcp_subnets(network) and pid_alive(driver.dnsmasq.files(network.id).pid) is None:
            lost.append(f"dnsmasq of network {network.id}")
        if not driver.metadata.serving(network.id):
            lost.append(f"metadata proxy of network {network.id}")
    lost += [f"namespace {names.router_ns(r.id)}" for r in state.routers
             if r.admin_state_up and names.router_ns(r.id) not in namespaces]  # fmt: skip
    if state.ports and not _forward_jump_present(names.forward_chain):
        lost.append(f"{FORWARD_JUMP} {names.forward_chain}")
    return lost
