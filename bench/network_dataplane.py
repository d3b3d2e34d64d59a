"""Network data plane figures (Linux bridge driver, needs root).

1. ``apply`` after adding one port (tap, firewall chains, dnsmasq host entry): the port-create
   path end to end; target < 150 ms median.
2. ``apply`` of an unchanged state (the periodic reconcile).
3. From the start of ``apply`` to a lease for the new port: a DHCP request from a namespace
   standing in for the guest (busybox udhcpc), so the new host entry is served by dnsmasq.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from onestack.network.drivers.base import (
    FixedIP,
    HostState,
    Network,
    Port,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver

PREFIX = "b" + "".join(random.choices(string.ascii_lowercase + string.digits, k=2))
NET, SUB, SG = (str(uuid.uuid4()) for _ in range(3))
ROUNDS = 20
DHCP_ROUNDS = 5
UDHCPC_SCRIPT = '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > "$0.lease"\nexit 0\n'


def port(n: int, owner: str = "compute:nova") -> Port:
    return Port(
        str(uuid.uuid4()), NET, "p1", f"fa:16:3e:b0:{n // 256:02x}:{n % 256:02x}",
        (FixedIP(SUB, f"10.66.{n // 250}.{n % 250 + 3}"),), owner, f"vm-{n}",
        security_group_ids=(SG,), hostname=f"vm{n}",
    )  # fmt: skip


def state(ports: list[Port], dhcp: Port) -> HostState:
    network = Network(NET, "p1", "vxlan", 6600, None, 1450, False, True,
                      (Subnet(SUB, NET, "10.66.0.0/16", 4, "10.66.0.1", True),))  # fmt: skip
    group = SecurityGroup(SG, (
        SecurityGroupRule("r1", "ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0"),
        SecurityGroupRule("r2", "ingress", "IPv4", None, remote_group_id=SG),
        SecurityGroupRule("r3", "egress", "IPv4", None),
    ), tuple(p.fixed_ips[0].ip_address for p in ports))  # fmt: skip
    return HostState("bench", (network,), tuple(ports), (dhcp,), (), (group,),
                     {NET: (*ports, dhcp)})  # fmt: skip


def figures(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"{name:<52} median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ms)})")


def make_guest(ns: str, tap: str, mac: str) -> None:
    """A namespace whose eth0 is the peer of a veth named like the port's tap (as QEMU's)."""
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", ns],
                   check=True)  # fmt: skip
    subprocess.run(["ip", "-n", ns, "link", "set", "eth0", "address", mac, "up"], check=True)


def delete_guests(guests: list[str]) -> None:
    for ns in guests:
        subprocess.run(["ip", "netns", "del", ns], check=False)


async def main() -> None:
    if os.geteuid() != 0:
        sys.exit("bench/network_dataplane.py needs root")
    run_dir = Path(f"/run/onestack-bench/{PREFIX}")
    driver = LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=run_dir))
    tmp = Path(tempfile.mkdtemp(prefix="netbench-"))
    script = tmp / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    guests: list[str] = []
    dhcp = port(0, "network:dhcp")
    ports = [port(n) for n in range(1, 11)]  # ten ports already there
    try:
        await driver.apply(state(ports, dhcp))
        add: list[float] = []
        for n in range(ROUNDS):
            ports.append(port(100 + n))
            t0 = time.perf_counter()
            result = await driver.apply(state(ports, dhcp))
            add.append(time.perf_counter() - t0)
            assert {s.status for s in result} == {"ACTIVE"}
        steady = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            await driver.apply(state(ports, dhcp))
            steady.append(time.perf_counter() - t0)
        lease: list[float] = []
        apply_part: list[float] = []
        for n in range(DHCP_ROUNDS):
            new = replace(port(200 + n))
            ns = f"bench-{PREFIX}-g{n}"
            guests.append(ns)
            await asyncio.to_thread(make_guest, ns, driver.tap_name(new.id), new.mac_address)
            ports.append(new)
            t0 = time.perf_counter()
            await driver.apply(state(ports, dhcp))
            t1 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", "eth0", "-q", "-n", "-f",
                "-t", "20", "-T", "1", "-s", str(script),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await proc.wait()
            t2 = time.perf_counter()
            got = (await asyncio.to_thread(Path(f"{script}.lease").read_text)).strip()
            assert got == new.fixed_ips[0].ip_address, got
            lease.append(t2 - t0)
            apply_part.append(t1 - t0)
        print(f"network data plane, linuxbridge driver, prefix {PREFIX}, {len(ports)} ports")
        figures("apply after adding one port (target < 150 ms)", add)
        figures("apply of an unchanged state (periodic reconcile)", steady)
        figures("apply start -> DHCP lease for the new port", lease)
        figures("  of which apply", apply_part)
    finally:
        await driver.teardown()
        await asyncio.to_thread(delete_guests, guests)
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
