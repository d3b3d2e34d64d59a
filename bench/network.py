"""Networking benchmark: port create/delete with the fake and the Linux bridge drivers, ``port
list`` on a network of 1,000 ports, and the time from a port create (or bind) to DHCP.

Each driver gets a private ``onestack up`` (temporary data directory, free port) driven over
HTTP with one keep-alive admin client (the latency a CLI user sees, without the CLI's start-up):

- fake: port create and delete (API latency), then ``port list`` with 1,000 ports on one network.
- linuxbridge (root): a cloud with its own device prefix and host name. Ports are created bound
  to that host (``binding:host_id``, ``device_owner=compute:nova``): the API latency, and the
  time until the agent has built the tap, firewall chains and DHCP entry (status ACTIVE); then
  deleted: the API latency, and the time until the tap is gone. The time from a port create
  to its DHCP host entry being served: a listener namespace on the network's bridge sends
  DHCPDISCOVER every 20 ms with the MAC the (unbound) port is created with, until dnsmasq offers
  the port's address. Then guests (namespaces whose eth0 is the veth peer of a device named like
  the port's tap, as QEMU's) on those ports: the time from the bind (a PUT of
  ``binding:host_id``) to the first offer in the guest, and to a ``busybox udhcpc`` lease there.
  The agent runs with its default change debounce (``--debounce`` to vary it) and no periodic
  resync during the run. Everything is torn down at the end, also on errors and Ctrl-C.

    .venv/bin/python bench/network.py                     # all drivers as root, else fake
    .venv/bin/python bench/network.py --driver linuxbridge --bound-ports 30 --json
    .venv/bin/python bench/network.py --db-url postgresql+asyncpg://postgres@127.0.0.1/bench

Prints figures, not test results: medians and p95 beside the issue's targets (PASS or MISS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from figures import figure, load, ms_since, print_table
from localcloud import LocalCloud
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from onestack.network.drivers.linuxbridge.names import Names

FAKE_TARGET_MS = 20.0  # port create / delete, fake driver
LINUXBRIDGE_TARGET_MS = 150.0  # port create -> ACTIVE / delete -> tap gone
LIST_TARGET_MS = 100.0  # port list, 1,000 ports on one network
LINUXBRIDGE_TOOLS = ("ip", "dnsmasq", "iptables", "iptables-restore", "ipset", "busybox")
POLL_S = 0.01  # how often port status is asked for while waiting for ACTIVE

UDHCPC_SCRIPT = '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > "$0.lease"\nexit 0\n'

# Run in a guest: DHCPDISCOVER for MAC (broadcast flag set, so the offer comes back to
# 255.255.255.255 without an address on eth0) every 20 ms until an offer (of WANT, if given);
# prints "ready" once sending, then the CLOCK_MONOTONIC time of the offer and its address.
DHCP_PROBE = r"""
import os, select, socket, struct, sys, time
mac, want, timeout = bytes.fromhex(sys.argv[1].replace(":", "")), sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("0.0.0.0", 68))
xid = int.from_bytes(os.urandom(4), "big")
discover = struct.pack("!BBBBIHH16s16s64s128sI", 1, 1, 6, 0, xid, 0, 0x8000, b"", mac, b"", b"",
                       0x63825363) + bytes([53, 1, 1, 255])
print("ready", flush=True)
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        s.sendto(discover, ("255.255.255.255", 67))
    except OSError:
        pass  # no carrier until the agent puts the host end of the veth up
    end = time.monotonic() + 0.02
    while (left := end - time.monotonic()) > 0 and select.select([s], [], [], left)[0]:
        reply = s.recv(4096)
        if len(reply) >= 20 and reply[0] == 2 and reply[4:8] == discover[4:8]:
            offered = socket.inet_ntoa(reply[16:20])
            if offered == want or not want:
                print(time.monotonic(), offered, flush=True)
                sys.exit(0)
sys.exit(1)
"""


# -- the cloud -------------------------------------------------------------------------------
def local_cloud(db_url: str, settings: dict[str, str]) -> LocalCloud:
    """A private cloud with cheap password hashes (the network API is measured) on ``db_url``
    (SQLite when empty); in its own session: a Ctrl-C reaches this script only, which stops it
    in order."""
    env = dict(settings)
    if db_url:
        env["ONESTACK_DATABASE_URL"] = db_url
    return LocalCloud(hash_rounds=4, env=env, own_session=True, prefix="onestack-bench-net-")


@contextmanager
def admin_client(cloud: LocalCloud) -> Iterator[httpx.Client]:
    """A keep-alive client of ``cloud``'s network API with an admin token."""
    headers = {"X-Auth-Token": cloud.token()}
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers=headers, timeout=60) as client:
        yield client


def checked(resp: httpx.Response, expect: int) -> httpx.Response:
    if resp.status_code != expect:
        raise SystemExit(
            f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text[:300]}"
        )
    return resp


def make_network(client: httpx.Client, cidr: str) -> str:
    """An admin network with one subnet, the admin project's port quota lifted."""
    public = checked(client.get("/networks", params={"name": "public"}), 200).json()["networks"]
    project_id = public[0]["project_id"]
    checked(client.put(f"/quotas/{project_id}", json={"quota": {"port": -1}}), 200)
    net = checked(client.post("/networks", json={"network": {"name": "bench"}}), 201)
    net_id: str = net.json()["network"]["id"]
    subnet = {"network_id": net_id, "ip_version": 4, "cidr": cidr}
    checked(client.post("/subnets", json={"subnet": subnet}), 201)
    return net_id


# -- fake driver -----------------------------------------------------------------------------
def measure_fake(client: httpx.Client, ports: int, rounds: int) -> list[dict[str, Any]]:
    net_id = make_network(client, "10.77.0.0/20")
    new_port = {"port": {"network_id": net_id}}
    for _ in range(10):  # warm-up: caches, connection, default security group
        port_id = checked(client.post("/ports", json=new_port), 201).json()["port"]["id"]
        checked(client.delete(f"/ports/{port_id}"), 204)

    creates: list[float] = []
    deletes: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        resp = checked(client.post("/ports", json=new_port), 201)
        creates.append(ms_since(started))
        started = time.perf_counter()
        checked(client.delete(f"/ports/{resp.json()['port']['id']}"), 204)
        deletes.append(ms_since(started))

    on_net = {"network_id": net_id}
    have = len(checked(client.get("/ports", params=on_net), 200).json()["ports"])
    for _ in range(ports - have):
        checked(client.post("/ports", json=new_port), 201)
    listed = checked(client.get("/ports", params=on_net), 200).json()["ports"]
    if len(listed) != ports:
        raise SystemExit(f"expected {ports} ports on the network, found {len(listed)}")

    def timed_list(params: dict[str, str] | None) -> float:
        started = time.perf_counter()
        checked(client.get("/ports", params=params), 200)
        return ms_since(started)

    lists = [timed_list(on_net) for _ in range(20)]
    all_ports = [timed_list(None) for _ in range(20)]
    return [
        figure("port create (API)", creates, FAKE_TARGET_MS),
        figure("port delete (API)", deletes, FAKE_TARGET_MS),
        figure(f"port list ({ports} ports, network_id filter)", lists, LIST_TARGET_MS),
        figure(f"port list ({ports}+ ports, no filter)", all_ports, LIST_TARGET_MS),
    ]


# -- linuxbridge driver ----------------------------------------------------------------------
def linuxbridge_missing() -> str:
    """Why the linuxbridge figures cannot be taken here; '' when they can."""
    if os.geteuid() != 0:
        return "needs root"
    missing = [tool for tool in LINUXBRIDGE_TOOLS if shutil.which(tool) is None]
    return f"missing {', '.join(missing)}" if missing else ""


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@dataclass
class LinuxBridgeLab:
    """The devices this run owns: everything carries ``prefix`` and is removed by ``teardown``."""

    prefix: str = field(
        default_factory=lambda: "b" + "".join(random.choices(string.ascii_lowercase, k=2))
    )
    guests: list[str] = field(default_factory=list)
    first_vni: int = field(default_factory=lambda: random.randrange(2, 16_000) * 1000)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="netbench-")))

    @property
    def host(self) -> str:
        return f"bench-{self.prefix}"

    @property
    def run_dir(self) -> Path:
        return Path(f"/run/onestack-bench/{self.prefix}")

    def env(self) -> dict[str, str]:
        return {
            "ONESTACK_NETWORK_DRIVER": "linuxbridge",
            "ONESTACK_NETWORK_DEVICE_PREFIX": self.prefix,
            "ONESTACK_NETWORK_HOST": self.host,
            "ONESTACK_NETWORK_RUN_DIR": str(self.run_dir),
            # A VXLAN id is unique per host: another cloud here may hold the default range.
            "ONESTACK_NETWORK_VNI_RANGES": f"{self.first_vni}:{self.first_vni + 999}",
            # No periodic full reconcile during the run: rounds follow changes only, so the
            # figures are not the luck of a resync and guests can be added while it is idle.
            "ONESTACK_NETWORK_RESYNC_INTERVAL": "600",
        }

    def tap(self, port_id: str) -> str:
        return Names(self.prefix).tap(port_id)

    def add_guest(self, port: dict[str, Any]) -> str:
        """A namespace whose eth0 (the port's MAC) is the peer of a veth named like the port's
        tap, as QEMU's tap would be (``tests/support/guests.py`` ``add_guest``)."""
        netns = f"{self.prefix}-guest{len(self.guests)}"
        run("ip", "netns", "add", netns)
        self.guests.append(netns)
        run("ip", "link", "add", self.tap(port["id"]), "type", "veth", "peer", "name", "eth0",
            "netns", netns)  # fmt: skip
        run("ip", "-n", netns, "link", "set", "eth0", "address", port["mac_address"], "up")
        return netns

    def add_listener(self, bridge: str) -> str:
        """A namespace whose eth0 is the peer of a veth straight on ``bridge`` (no port, no
        tap, so the agent leaves it alone): it asks for leases with any port's MAC."""
        netns = f"{self.prefix}-listener"
        run("ip", "netns", "add", netns)
        self.guests.append(netns)
        outer = f"{self.prefix}v0"  # not a name the driver owns (Names.owns_link)
        run("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", netns)
        run("ip", "link", "set", outer, "master", bridge, "up")
        run("ip", "-n", netns, "link", "set", "eth0", "up")
        return netns

    def start_probe(self, netns: str, mac: str, want: str = "") -> subprocess.Popen[str]:
        """DHCP_PROBE in ``netns``, sending once this returns."""
        argv = ["ip", "netns", "exec", netns, sys.executable, "-c", DHCP_PROBE, mac, want, "20"]
        probe = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert probe.stdout is not None
        if probe.stdout.readline().strip() != "ready":
            probe.kill()
            probe.wait()
            raise SystemExit(f"the DHCP probe in {netns} did not start")
        return probe

    @staticmethod
    def offer(probe: subprocess.Popen[str]) -> tuple[float, str]:
        """The monotonic time of the probe's offer and the address offered."""
        try:
            assert probe.stdout is not None
            line = probe.stdout.readline().split()
            if probe.wait(30) != 0 or len(line) != 2:
                raise SystemExit("no DHCP offer within 20 s")
            return float(line[0]), line[1]
        finally:
            if probe.poll() is None:
                probe.kill()
                probe.wait()

    def udhcpc(self, netns: str, timeout: float = 10.0) -> str:
        """A lease with busybox udhcpc in the guest: the address it was given."""
        script = self.workdir / "udhcpc.sh"
        if not script.exists():
            script.write_text(UDHCPC_SCRIPT)
            script.chmod(0o755)
        lease = Path(f"{script}.lease")
        lease.unlink(missing_ok=True)
        argv = ["ip", "netns", "exec", netns, "busybox", "udhcpc", "-i", "eth0", "-q", "-n", "-f"]
        argv += ["-t", "5", "-T", "1", "-s", str(script)]
        subprocess.run(argv, capture_output=True, timeout=timeout)
        return lease.read_text().strip() if lease.exists() else ""

    def teardown(self) -> None:
        driver = LinuxBridgeDriver(DriverOptions(prefix=self.prefix, run_dir=self.run_dir))
        asyncio.run(driver.teardown())
        for netns in self.guests:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)
        with suppress(OSError):
            self.run_dir.parent.rmdir()  # when no other run is using it

    def leftovers(self) -> list[str]:
        """Links, namespaces, ipsets and iptables chains of this prefix still on the host."""
        p = self.prefix

        def out(*argv: str) -> str:
            return subprocess.run(argv, capture_output=True, text=True).stdout

        found = [n for n in os.listdir("/sys/class/net") if n.startswith(p)]
        found += [n.split()[0] for n in out("ip", "netns", "list").splitlines() if n.startswith(p)]
        found += [s for s in out("ipset", "list", "-n").split() if s.startswith(p)]
        rules = out("iptables-save") + out("ip6tables-save")
        found += [r for r in rules.splitlines() if r.startswith((f":{p}", f":{p.upper()}-"))]
        return found


def wait_for(what: str, done: Callable[[], bool], timeout: float, interval: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def port_status(client: httpx.Client, port_id: str) -> str:
    return str(checked(client.get(f"/ports/{port_id}"), 200).json()["port"]["status"])


def wait_active(client: httpx.Client, port_id: str, timeout: float = 30.0) -> None:
    wait_for(f"port {port_id} ACTIVE", lambda: port_status(client, port_id) == "ACTIVE",
             timeout, POLL_S)  # fmt: skip


def measure_linuxbridge(
    client: httpx.Client, lab: LinuxBridgeLab, bound_ports: int, dhcp_rounds: int
) -> list[dict[str, Any]]:
    cidr = f"10.{random.randint(60, 90)}.{random.randint(0, 255)}.0/24"
    net_id = make_network(client, cidr)

    def compute_port(bound: bool) -> dict[str, Any]:
        port: dict[str, Any] = {
            "network_id": net_id,
            "device_owner": "compute:nova",
            "device_id": str(uuid.uuid4()),
        }
        if bound:
            port["binding:host_id"] = lab.host
        return {"port": port}

    def tap_exists(port_id: str) -> bool:
        return os.path.exists(f"/sys/class/net/{lab.tap(port_id)}")

    # Warm-up: the network's bridge, DHCP namespace and dnsmasq exist before anything is timed.
    warm = checked(client.post("/ports", json=compute_port(True)), 201).json()["port"]["id"]
    wait_active(client, warm, timeout=60)
    dhcp = {"network_id": net_id, "device_owner": "network:dhcp"}
    wait_for("the DHCP port ACTIVE", lambda: all(
        p["status"] == "ACTIVE" for p in client.get("/ports", params=dhcp).json()["ports"]
    ), 60, 0.1)  # fmt: skip
    checked(client.delete(f"/ports/{warm}"), 204)
    wait_for("the warm-up tap gone", lambda: not tap_exists(warm), 30, 0.01)

    create_api: list[float] = []
    create_active: list[float] = []
    made: list[str] = []
    for _ in range(bound_ports):
        started = time.perf_counter()
        resp = checked(client.post("/ports", json=compute_port(True)), 201)
        create_api.append(ms_since(started))
        port_id = resp.json()["port"]["id"]
        made.append(port_id)
        wait_active(client, port_id)
        create_active.append(ms_since(started))
        if not tap_exists(port_id):
            raise SystemExit(f"port {port_id} is ACTIVE but its tap {lab.tap(port_id)} is missing")

    delete_api: list[float] = []
    delete_gone: list[float] = []
    for port_id in made:
        started = time.perf_counter()
        checked(client.delete(f"/ports/{port_id}"), 204)
        delete_api.append(ms_since(started))
        tap = f"/sys/class/net/{lab.tap(port_id)}"
        wait_for(f"{tap} gone", lambda: not os.path.exists(tap), 30, 0.002)  # noqa: B023
        delete_gone.append(ms_since(started))

    # Port create -> its host entry served: a listener on the network's bridge asks for a
    # lease with the MAC the port is about to be created with (unbound: no tap involved).
    listener = lab.add_listener(Names(lab.prefix).bridge(net_id))
    served: list[float] = []
    unbound: list[dict[str, Any]] = []
    for n in range(dhcp_rounds + 1):  # the first round is a warm-up
        mac = "fa:16:3e:" + ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))
        probe = lab.start_probe(listener, mac)
        body = compute_port(False)
        body["port"]["mac_address"] = mac
        started = time.monotonic()
        port = checked(client.post("/ports", json=body), 201).json()["port"]
        offered_at, address = lab.offer(probe)
        if address != port["fixed_ips"][0]["ip_address"]:
            raise SystemExit(f"{mac}: offered {address}, the port has {port['fixed_ips']}")
        unbound.append(port)
        if n:
            served.append((offered_at - started) * 1000)

    # Port bind -> a lease in the guest on its tap, as compute binds a port and plugs a VM.
    # The guest's veth carries a name the driver owns before the port is bound here, so a
    # reconcile in between would delete it as an orphan: each guest is added while the agent
    # is idle (after a bound port went ACTIVE, the last step of a round, with no change since;
    # the periodic resync is pushed beyond the run).
    sentinel = checked(client.post("/ports", json=compute_port(True)), 201).json()["port"]["id"]
    wait_active(client, sentinel)
    offers: list[float] = []
    leases: list[float] = []
    for n, port in enumerate(unbound):  # the first round is a warm-up
        address = port["fixed_ips"][0]["ip_address"]
        netns = lab.add_guest(port)
        probe = lab.start_probe(netns, port["mac_address"], address)
        started = time.monotonic()
        bind = {"port": {"binding:host_id": lab.host}}
        checked(client.put(f"/ports/{port['id']}", json=bind), 200)
        offered_at, _ = lab.offer(probe)
        got = lab.udhcpc(netns)
        leased = time.monotonic()
        if got != address:
            raise SystemExit(f"udhcpc in {netns}: leased {got or 'nothing'}, expected {address}")
        if n:
            offers.append((offered_at - started) * 1000)
            leases.append((leased - started) * 1000)
        wait_active(client, port["id"])

    return [
        figure("port create, bound to this host (API)", create_api, None),
        figure("port create -> ACTIVE (tap, chains, DHCP entry)", create_active,
               LINUXBRIDGE_TARGET_MS),
        figure("port delete (API)", delete_api, None),
        figure("port delete -> tap gone", delete_gone, LINUXBRIDGE_TARGET_MS),
        figure("port create -> its DHCP host entry served (offer)", served, None),
        figure("port bind -> DHCP offer in the guest on its tap", offers, None),
        figure("port bind -> busybox udhcpc lease in guest", leases, None),
    ]  # fmt: skip


# -- main ------------------------------------------------------------------------------------
def run_fake(args: argparse.Namespace) -> list[dict[str, Any]]:
    cloud = local_cloud(args.db_url, {"ONESTACK_NETWORK_DRIVER": "fake"})
    try:
        cloud.start()
        with admin_client(cloud) as client:
            return measure_fake(client, args.ports, args.rounds)
    finally:
        cloud.close()


def run_linuxbridge(args: argparse.Namespace, lab: LinuxBridgeLab) -> list[dict[str, Any]]:
    env = lab.env()
    if args.debounce is not None:
        env["ONESTACK_NETWORK_CHANGE_DEBOUNCE"] = str(args.debounce)
    cloud = local_cloud(args.db_url, env)
    try:
        try:
            cloud.start()
            with admin_client(cloud) as client:
                return measure_linuxbridge(client, lab, args.bound_ports, args.dhcp_rounds)
        except (Exception, SystemExit):
            print(f"onestack up log (tail):\n{cloud.tail()}", file=sys.stderr)
            raise
    finally:
        cloud.close()
        lab.teardown()
        left = lab.leftovers()
        if left:
            print(f"WARNING: left on the host after teardown: {left}", file=sys.stderr)


def sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the teardowns like a Ctrl-C


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--driver",
        choices=("fake", "linuxbridge", "all"),
        default="all" if os.geteuid() == 0 else "fake",
        help="which driver's figures (default: all as root, else fake)",
    )
    parser.add_argument("--ports", type=int, default=1000, help="ports on the listed network")
    parser.add_argument("--rounds", type=int, default=100, help="fake port create/delete pairs")
    parser.add_argument(
        "--bound-ports", type=int, default=30, help="linuxbridge ports created, then deleted"
    )
    parser.add_argument("--dhcp-rounds", type=int, default=10, help="guests leasing an address")
    parser.add_argument(
        "--debounce",
        type=float,
        default=None,
        help="the agent's network.change_debounce in seconds (default: the cloud's, 0.02)",
    )
    parser.add_argument("--db-url", default="", help="database URL (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, sigterm)

    results: dict[str, Any] = {"database": args.db_url or "sqlite", "load_before": load()}
    skipped: dict[str, str] = {}
    if args.driver in ("fake", "all"):
        results["fake"] = run_fake(args)
    if args.driver in ("linuxbridge", "all"):
        why = linuxbridge_missing()
        if why:
            skipped["linuxbridge"] = why
        else:
            lab = LinuxBridgeLab()
            results["linuxbridge_prefix"] = lab.prefix
            results["linuxbridge"] = run_linuxbridge(args, lab)
    results["load_after"] = load()
    results["skipped"] = skipped

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"network benchmark, database {results['database']}")
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    if "fake" in results:
        print_table("fake driver", results["fake"])
    if "linuxbridge" in results:
        debounce = "default" if args.debounce is None else f"{args.debounce:g} s"
        title = (
            f"linuxbridge driver (device prefix {results['linuxbridge_prefix']}, "
            f"agent change debounce {debounce})"
        )
        print_table(title, results["linuxbridge"])
    for driver, why in skipped.items():
        print(f"{driver} driver: skipped ({why})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted (everything this run made is torn down)")
