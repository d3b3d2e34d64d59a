"""QoS on the Linux bridge data plane: a 1 Mbit/s limit on a port measurably caps a TCP
stream, in either direction, and goes when the policy does; a DSCP marking rule marks what the
guest sends. Two guests (network namespaces plugged to their ports' taps, as in
``test_network_dataplane``) on one local network, the driver applied directly; no agent, no
QEMU.

  net 10.63.1.0/24 (local): vm1 .11, vm2 .12, no port security (nothing but QoS in the way)
"""

from __future__ import annotations

import asyncio
import random
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest_asyncio

from onestack.network.drivers.base import FixedIP, HostState, Network, Port, QosRule, Subnet
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from tests.support.guests import (
    DATAPLANE_MARKS,
    add_guest,
    device_prefix,
    must,
    owned_leftovers,
    sh,
)

pytestmark = [*DATAPLANE_MARKS]

PREFIX = device_prefix("q")
LIMIT_KBPS = 1000
SECONDS = 2.0

# The receiver counts what arrives in the SECONDS after the connection opens and prints it;
# the sender pushes for longer. Counting at the receiver over a fixed window: what the
# sender's socket buffer still held when it stopped would arrive later, at the limited rate.
RECEIVER = (
    "import socket,sys,time\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(); print('ready', flush=True)\n"
    "c,_=s.accept(); c.settimeout(0.2); n=0; end=time.monotonic()+float(sys.argv[2])\n"
    "while time.monotonic()<end:\n"
    "    try: b=c.recv(65536)\n"
    "    except socket.timeout: continue\n"
    "    if not b: break\n"
    "    n+=len(b)\n"
    "print(n, flush=True)\n"
)
SENDER = (
    "import socket,sys,time\n"
    "s=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
    "s.settimeout(0.2); buf=b'x'*16384; end=time.monotonic()+float(sys.argv[3])\n"
    "while time.monotonic()<end:\n"
    "    try: s.send(buf)\n"
    "    except socket.timeout: pass\n"
    "    except OSError: break\n"
)
# Receives one UDP datagram and prints its TOS byte (IP_RECVTOS).
TOS_RECEIVER = (
    "import socket,sys\n"
    "s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[1]))); s.settimeout(5); print('ready', flush=True)\n"
    "_, anc, _, _ = s.recvmsg(100, 64)\n"
    "print([d[0] for lvl, t, d in anc if t == socket.IP_TOS][0], flush=True)\n"
)


def new_id() -> str:
    return str(uuid.uuid4())


def mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


@dataclass
class Lab:
    driver: LinuxBridgeDriver
    network: Network
    vm1: Port
    vm2: Port
    guests: dict[str, str]  # port id -> namespace

    def state(self, vm1: tuple[QosRule, ...] = (), vm2: tuple[QosRule, ...] = ()) -> HostState:
        return HostState(
            host="qos-host",
            networks=(self.network,),
            ports=(replace(self.vm1, qos=vm1), replace(self.vm2, qos=vm2)),
        )

    async def apply(self, **rules: tuple[QosRule, ...]) -> None:
        statuses = await self.driver.apply(self.state(**rules))
        assert {s.status for s in statuses} == {"ACTIVE"}, statuses


async def _reader(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), 15)).decode().strip()


async def throughput_kbps(lab: Lab, sender: Port, receiver: Port, port: int) -> float:
    """kbit/s of a TCP stream from ``sender``'s guest to ``receiver``'s over SECONDS."""
    rx = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", lab.guests[receiver.id], sys.executable, "-c", RECEIVER, str(port),
        str(SECONDS), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert await _reader(rx) == "ready"
        ip = receiver.fixed_ips[0].ip_address
        sender_proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", lab.guests[sender.id], sys.executable, "-c", SENDER, ip,
            str(port), str(SECONDS + 1),
        )  # fmt: skip
        received = int(await _reader(rx))
        await asyncio.wait_for(sender_proc.wait(), SECONDS + 10)
    finally:
        if rx.returncode is None:
            rx.kill()
        await rx.wait()
    return received * 8 / 1000 / SECONDS


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab() -> AsyncIterator[Lab]:
    net_id, sub_id = new_id(), new_id()
    network = Network(
        net_id, "p", "local", None, None, 1500, False, True,
        (Subnet(sub_id, net_id, "10.63.1.0/24", 4, None, False),),
    )  # fmt: skip

    def port(ip: str) -> Port:
        return Port(id=new_id(), network_id=net_id, project_id="p", mac_address=mac(),
                    fixed_ips=(FixedIP(sub_id, ip),), device_owner="compute:nova",
                    device_id=new_id(), port_security_enabled=False)  # fmt: skip

    vm1, vm2 = port("10.63.1.11"), port("10.63.1.12")
    run_dir = Path(f"/run/onestack-test/{PREFIX}")
    driver = LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=run_dir))
    guests: dict[str, str] = {}
    try:
        for vm in (vm1, vm2):
            ns = guests[vm.id] = f"test-{PREFIX}-{vm.fixed_ips[0].ip_address.split('.')[-1]}"
            await add_guest(ns, driver.tap_name(vm.id), vm.mac_address, mtu=1500)
            await must("ip", "-n", ns, "addr", "add", f"{vm.fixed_ips[0].ip_address}/24",
                       "dev", "eth0")  # fmt: skip
        lab = Lab(driver, network, vm1, vm2, guests)
        await lab.apply()
        yield lab
    finally:
        await driver.teardown()
        for ns in guests.values():
            await sh("ip", "netns", "del", ns)
    assert owned_leftovers(PREFIX) == []


def _tc(tap: str, kind: str) -> list[str]:
    import subprocess

    out = subprocess.run(["tc", kind, "show", "dev", tap], capture_output=True, text=True)
    return out.stdout.splitlines()


async def test_bandwidth_limit_caps_a_tcp_stream_each_way_and_goes_with_the_policy(
    lab: Lab,
) -> None:
    free = await throughput_kbps(lab, lab.vm1, lab.vm2, 5601)
    assert free > 20 * LIMIT_KBPS, f"unlimited: {free:.0f} kbit/s"
    # vm1's egress: redirected from its tap to its ifb and shaped there.
    await lab.apply(vm1=(QosRule("bandwidth_limit", "egress", LIMIT_KBPS),))
    capped = await throughput_kbps(lab, lab.vm1, lab.vm2, 5602)
    # The 64 KiB bucket lets a little more through in 2 s than the rate alone.
    assert capped < 2.5 * LIMIT_KBPS, f"egress limit: {capped:.0f} kbit/s"
    back = await throughput_kbps(lab, lab.vm2, lab.vm1, 5603)
    assert back > 20 * LIMIT_KBPS, f"the other way is free: {back:.0f} kbit/s"
    # vm1's ingress: shaped on its tap's root qdisc; the egress limit changes to ingress.
    await lab.apply(vm1=(QosRule("bandwidth_limit", "ingress", LIMIT_KBPS),))
    tap = lab.driver.tap_name(lab.vm1.id)
    assert not any("ffff:" in line for line in _tc(tap, "qdisc"))
    ifb = lab.driver.names.qos_ifb(lab.vm1.id)
    assert (await sh("ip", "link", "show", ifb)).rc != 0, "the egress ifb stays"
    shaped = await throughput_kbps(lab, lab.vm2, lab.vm1, 5604)
    assert shaped < 2.5 * LIMIT_KBPS, f"ingress limit: {shaped:.0f} kbit/s"
    # The policy goes: so do the qdiscs, and the stream is free again.
    await lab.apply()
    assert not any("tbf" in line for line in _tc(tap, "qdisc"))
    again = await throughput_kbps(lab, lab.vm2, lab.vm1, 5605)
    assert again > 20 * LIMIT_KBPS, f"after removal: {again:.0f} kbit/s"
    print(f"kbit/s: free {free:.0f}, egress-limited {capped:.0f}, reverse {back:.0f}, "
          f"ingress-limited {shaped:.0f}, after removal {again:.0f}")  # fmt: skip


async def test_dscp_marking_marks_what_the_guest_sends(lab: Lab) -> None:
    async def tos_seen(port: int) -> int:
        rx = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", lab.guests[lab.vm2.id], sys.executable, "-c", TOS_RECEIVER,
            str(port), stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert await _reader(rx) == "ready"
            code = (
                "import socket,sys\n"
                "s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.sendto(b'hi', (sys.argv[1], int(sys.argv[2])))\n"
            )
            ip = lab.vm2.fixed_ips[0].ip_address
            await must(sys.executable, "-c", code, ip, str(port), netns=lab.guests[lab.vm1.id])
            return int(await _reader(rx))
        finally:
            if rx.returncode is None:
                rx.kill()
            await rx.wait()

    assert await tos_seen(5701) == 0
    await lab.apply(vm1=(QosRule("dscp_marking", dscp_mark=26),))
    assert await tos_seen(5702) == 26 << 2  # DSCP is the TOS byte's upper six bits
    await lab.apply()
    assert await tos_seen(5703) == 0
