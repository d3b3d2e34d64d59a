"""Compute benchmark: boot latency with the fake driver, concurrent boots, ``server list`` with
1,000 servers, and with QEMU the time to a running process and to the guest's ready line beside
a bare QEMU started with the same command line.

Each part gets a private ``onestack up`` (temporary data directory, free port) driven over HTTP
with keep-alive admin clients (the latency a CLI user sees, without the CLI's start-up):

- fake (compute and network drivers fake): ``POST /servers`` to ACTIVE, one boot at a time, with
  networks ``none`` and with one network (on the fake network driver: its agent marks the port
  ACTIVE after its change debounce, which the compute agent waits for). Measured from the
  client's clock when it sends the POST to the server's ``OS-SRV-USG:launched_at`` (the same
  host's clock, microseconds; set as the agent finishes, just before the ACTIVE state
  commits): the target's figure, not slowed by the watching, whose ``GET /servers/{id}``
  polls come every 100 ms (the API, the boot and the agent share one event loop: a GET every
  10 ms took 13-15 ms off a one-network boot's loop, #19). Then, in boots of their own, from
  sending the POST to the first ``GET /servers/{id}`` answering ACTIVE, polled every 10 ms,
  and those boots' ``launched_at`` beside, for reference (the boot as such a watcher slows
  it). Then 20
  boots sent at once (20 concurrent POSTs, and one POST with ``min_count=20``): from sending
  them to the last server seen ACTIVE by ``GET /servers/detail`` polls. Then
  1,000 servers (``max_count`` batches, networks ``none``, quotas lifted to -1), once the
  cloud is idle again (``settle``): ``GET /servers/detail`` (what ``openstack server list``
  calls, at microversion 2.1 and 2.96) and ``GET /servers``.
- qemu (root, QEMU installed): the cached test image (``onestack.image.testimage``) booted with
  a config drive and networks ``none``, the network driver fake. From ``POST /servers`` to the
  QEMU process running (its pid file names a live QEMU of the instance) and to the guest's
  ``onestack-guest ready`` line on the console log, both polled every 2 ms on the files; beside
  a bare QEMU of the same image launched with the driver's own ``build_command`` (same
  accelerator, same options, the same disk: an overlay of the image converted to raw, as the
  driver's image cache holds it), timed from its exec to the same two events (its overlay and
  config drive made beforehand, as the cloud makes them after the POST). The runs alternate.
  Every QEMU started is killed at the end, also on errors and Ctrl-C.

    .venv/bin/python bench/compute.py                     # everything that can run here
    .venv/bin/python bench/compute.py --part fake --boots 50 --servers 1000 --json
    .venv/bin/python bench/compute.py --part qemu --qemu-runs 5

Prints figures, not test results: medians and p95 beside the issue's targets (PASS or MISS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from figures import figure, load, ms_since, print_table
from localcloud import LocalCloud
from onestack.compute.drivers import configdrive
from onestack.compute.drivers.base import BootSource, InstanceSpec
from onestack.compute.drivers.qemu import (
    InstancePaths,
    LaunchOptions,
    build_command,
    choose_accelerator,
    host_tsc_khz,
)
from onestack.compute.drivers.qemu import process as qemu_process
from onestack.image.testimage import READY_MARKER, cached_image

BOOT_TARGET_MS = 50.0  # POST /servers -> ACTIVE, fake driver
CONCURRENT_TARGET_MS = 2000.0  # 20 concurrent boots, all ACTIVE
LIST_TARGET_MS = 50.0  # server list with 1,000 servers
QEMU_OVERHEAD_TARGET_MS = 150.0  # above a bare QEMU, to a running process
POLL_S = 0.002  # file and list polls
# GET /servers/{id} polls while one server boots (the API, the boot and the agent share one
# event loop): to see ACTIVE soon, and, sparse, to read launched_at without slowing the boot.
ACTIVE_POLL_S = 0.01
LAUNCHED_POLL_S = 0.1
LATEST = "compute 2.96"
QEMU_TOOLS = ("qemu-system-x86_64", "qemu-img")
GUEST_MEMORY_MB = 256


# -- HTTP ------------------------------------------------------------------------------------
def checked(resp: httpx.Response, *expect: int) -> httpx.Response:
    if resp.status_code not in expect:
        raise SystemExit(
            f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text[:300]}"
        )
    return resp


# -- the cloud -------------------------------------------------------------------------------
def local_cloud(settings: dict[str, str], prefix: str) -> LocalCloud:
    """A private cloud with cheap password hashes, the network driver fake, logging at WARNING
    (a log line per request would be part of the figures); in its own session: a Ctrl-C
    reaches this script only, which stops it in order."""
    env = {"ONESTACK_NETWORK_DRIVER": "fake", "ONESTACK_LOGGING_LEVEL": "WARNING", **settings}
    return LocalCloud(hash_rounds=4, env=env, own_session=True, prefix=prefix)


class Admin:
    """Keep-alive clients of the compute, network and image APIs with an admin token."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.token = cloud.token()
        self.headers = {"X-Auth-Token": self.token}
        base = cloud.url
        self.compute = httpx.Client(
            base_url=f"{base}/compute/v2.1", headers=self.headers, timeout=120
        )
        self.network = httpx.Client(
            base_url=f"{base}/network/v2.0", headers=self.headers, timeout=60
        )
        self.image = httpx.Client(base_url=f"{base}/image", headers=self.headers, timeout=300)
        auth = {**self.headers, "X-Subject-Token": self.token}
        body = checked(httpx.get(f"{cloud.auth_url}/auth/tokens", headers=auth), 200).json()
        self.project_id: str = body["token"]["project"]["id"]

    def close(self) -> None:
        for client in (self.compute, self.network, self.image):
            client.close()

    def lift_quotas(self) -> None:
        quota = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        checked(self.compute.put(f"/os-quota-sets/{self.project_id}", json=quota), 200)
        checked(self.network.put(f"/quotas/{self.project_id}", json={"quota": {"port": -1}}), 200)

    def flavor(self, name: str, vcpus: int, ram: int, disk: int) -> str:
        body = {"flavor": {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}}
        flavor_id: str = checked(self.compute.post("/flavors", json=body), 200).json()["flavor"][
            "id"
        ]
        return flavor_id

    def upload_image(self, name: str, path: Path, disk_format: str) -> str:
        body = {"name": name, "disk_format": disk_format, "container_format": "bare"}
        image_id: str = checked(self.image.post("/v2/images", json=body), 201).json()["id"]
        headers = {"Content-Type": "application/octet-stream"}
        with path.open("rb") as f:
            checked(self.image.put(f"/v2/images/{image_id}/file", content=f, headers=headers), 204)
        return image_id

    def network_with_subnet(self, cidr: str) -> str:
        net = checked(self.network.post("/networks", json={"network": {"name": "bench"}}), 201)
        net_id: str = net.json()["network"]["id"]
        subnet = {"network_id": net_id, "ip_version": 4, "cidr": cidr}
        checked(self.network.post("/subnets", json={"subnet": subnet}), 201)
        return net_id

    def status(self, server_id: str) -> str:
        server = checked(self.compute.get(f"/servers/{server_id}"), 200).json()["server"]
        if server["status"] == "ERROR":
            raise SystemExit(f"server {server_id} went to ERROR: {server.get('fault')}")
        return str(server["status"])

    def delete_all(self, timeout: float = 300.0) -> None:
        """Delete every server of the project, and wait until none is left."""
        servers = checked(self.compute.get("/servers", params={"limit": 1000}), 200).json()
        for server in servers["servers"]:
            checked(self.compute.delete(f"/servers/{server['id']}"), 204, 404)
        deadline = time.monotonic() + timeout
        while checked(self.compute.get("/servers", params={"limit": 1}), 200).json()["servers"]:
            if time.monotonic() > deadline:
                raise SystemExit(f"servers still there {timeout:.0f}s after their delete")
            time.sleep(0.1)


def server_body(
    name: str, image_id: str, flavor_id: str, networks: Any, **extra: Any
) -> dict[str, Any]:
    server = {"name": name, "imageRef": image_id, "flavorRef": flavor_id, "networks": networks}
    return {"server": {**server, **extra}}


# -- fake driver -----------------------------------------------------------------------------
def boot_to_active(
    admin: Admin, body: dict[str, Any], poll_s: float = ACTIVE_POLL_S
) -> tuple[float, float, float]:
    """(ms of the POST, ms from sending it to the server's ``launched_at``, ms from sending it
    to the first GET answering ACTIVE, polled every ``poll_s``)."""
    sent_at = datetime.now(UTC)
    started = time.perf_counter()
    resp = checked(admin.compute.post("/servers", json=body), 202)
    post_ms = ms_since(started)
    server_id = resp.json()["server"]["id"]
    while True:
        server = checked(admin.compute.get(f"/servers/{server_id}"), 200).json()["server"]
        if server["status"] == "ACTIVE":
            seen_ms = ms_since(started)
            break
        if server["status"] == "ERROR":
            raise SystemExit(f"server {server_id} went to ERROR: {server.get('fault')}")
        if time.perf_counter() - started > 30:
            raise SystemExit(f"server {server_id} not ACTIVE within 30 s")
        time.sleep(poll_s)
    launched = datetime.fromisoformat(server["OS-SRV-USG:launched_at"]).replace(tzinfo=UTC)
    return post_ms, (launched - sent_at).total_seconds() * 1000, seen_ms


async def concurrent_boots(cloud: LocalCloud, token: str, bodies: list[dict[str, Any]]) -> float:
    """ms from sending the POSTs (all at once) to the last of their servers seen ACTIVE."""
    headers = {"X-Auth-Token": token}
    limits = httpx.Limits(max_connections=len(bodies) + 1)
    async with httpx.AsyncClient(
        base_url=f"{cloud.url}/compute/v2.1", headers=headers, limits=limits, timeout=60
    ) as client:
        started = time.perf_counter()
        for resp in await asyncio.gather(*(client.post("/servers", json=b) for b in bodies)):
            checked(resp, 202)
        wanted = sum(int(b["server"].get("max_count", 1)) for b in bodies)
        names = {b["server"]["name"] for b in bodies}
        while True:
            resp = checked(await client.get("/servers/detail", params={"limit": 1000}), 200)
            mine = [
                s
                for s in resp.json()["servers"]
                if s["name"] in names or s["name"].rsplit("-", 1)[0] in names
            ]
            if any(s["status"] == "ERROR" for s in mine):
                faults = {
                    s["name"]: s.get("fault", {}).get("message")
                    for s in mine
                    if s["status"] == "ERROR"
                }
                raise SystemExit(f"concurrent boots went to ERROR: {faults}")
            active = [s for s in mine if s["status"] == "ACTIVE"]
            if len(active) >= wanted:
                return ms_since(started)
            if time.perf_counter() - started > 60:
                raise SystemExit(f"{len(active)} of {wanted} servers ACTIVE after 60 s")
            await asyncio.sleep(POLL_S)


def make_servers(admin: Admin, image_id: str, flavor_id: str, count: int, batch: int) -> float:
    """``count`` servers (networks none) in ``max_count`` batches, all ACTIVE: the seconds."""
    started = time.perf_counter()
    made = 0
    while made < count:
        n = min(batch, count - made)
        body = server_body(
            f"list-{made:04d}", image_id, flavor_id, "none", min_count=n, max_count=n
        )
        checked(admin.compute.post("/servers", json=body), 202)
        made += n
    deadline = time.monotonic() + 600
    while True:
        building = checked(
            admin.compute.get("/servers", params={"status": "BUILD", "limit": 1000}), 200
        ).json()["servers"]
        if not building:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(building)} servers still building after 600 s")
        time.sleep(0.2)
    errored = checked(admin.compute.get("/servers", params={"status": "ERROR"}), 200).json()
    if errored["servers"]:
        one = checked(admin.compute.get(f"/servers/{errored['servers'][0]['id']}"), 200).json()
        fault = one["server"].get("fault")
        raise SystemExit(f"{len(errored['servers'])} servers went to ERROR, one with {fault}")
    return time.perf_counter() - started


def settle(cloud: LocalCloud, quiet_s: int = 3, timeout: float = 300.0) -> float:
    """Wait until the cloud is idle: ``quiet_s`` seconds in a row in which its process used
    under a tenth of a core. The seconds waited.

    Servers are ACTIVE before the cloud is done with them: their ``create.end`` notifications
    make metering resources, and the agent's first poll of the new guests (every 30 s) makes
    each one's metrics; with 1,000 new servers that kept the process busy for about 45 s, on
    the event loop the lists are served from, so lists timed at once measured that work as
    much as their own (and one that met the poll waited behind it)."""
    started = time.monotonic()
    quiet = 0
    while quiet < quiet_s:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"the cloud still busy {timeout:.0f} s after its servers were made")
        before = cloud.cpu_seconds()
        time.sleep(1.0)
        quiet = quiet + 1 if cloud.cpu_seconds() - before < 0.1 else 0
    return time.monotonic() - started


def timed_get(
    client: httpx.Client, path: str, expect: int, rounds: int, headers: dict[str, str] | None = None
) -> list[float]:
    samples = []
    for _ in range(rounds + 2):  # two warm-up rounds
        started = time.perf_counter()
        resp = checked(client.get(path, headers=headers), 200)
        samples.append(ms_since(started))
        got = len(resp.json()["servers"])
        if got != expect:
            raise SystemExit(f"GET {path}: {got} servers, expected {expect}")
    return samples[2:]


def measure_fake(admin: Admin, cloud: LocalCloud, args: argparse.Namespace) -> list[dict[str, Any]]:
    admin.lift_quotas()
    flavor_id = admin.flavor("bench.nano", 1, 64, 0)
    image_file = cloud.root / "fake.img"
    image_file.write_bytes(os.urandom(64 * 1024))  # the fake driver never reads it
    image_id = admin.upload_image("bench-fake", image_file, "raw")
    net_id = admin.network_with_subnet("10.78.0.0/20")
    with_net = [{"uuid": net_id}]

    for n in range(5):  # warm-up: caches, connections, the default security group
        boot_to_active(admin, server_body(f"warm-{n}", image_id, flavor_id, "none"))
        boot_to_active(admin, server_body(f"warmnet-{n}", image_id, flavor_id, with_net))

    # Per kind: the POST's answer and launched_at (sparse watcher), then the first GET seeing
    # ACTIVE and launched_at (a GET every 10 ms), from boots of their own, alternating.
    samples: dict[str, list[list[float]]] = {k: [[], [], [], []] for k in ("none", "net")}
    for n in range(args.boots):
        for kind, networks in (("none", "none"), ("net", with_net)):
            body = server_body(f"{kind}-{n}", image_id, flavor_id, networks)
            post_ms, launched_ms, _ = boot_to_active(admin, body, LAUNCHED_POLL_S)
            body = server_body(f"{kind}-seen-{n}", image_id, flavor_id, networks)
            _, watched_ms, seen_ms = boot_to_active(admin, body, ACTIVE_POLL_S)
            for series, value in zip(
                samples[kind], (post_ms, launched_ms, seen_ms, watched_ms), strict=True
            ):
                series.append(value)

    parallel: list[float] = []
    batched: list[float] = []
    for round_ in range(args.concurrent_rounds):
        bodies = [
            server_body(f"c{round_}x{n}", image_id, flavor_id, "none")
            for n in range(args.concurrent)
        ]
        parallel.append(asyncio.run(concurrent_boots(cloud, admin.token, bodies)))
        body = server_body(
            f"m{round_}",
            image_id,
            flavor_id,
            "none",
            min_count=args.concurrent,
            max_count=args.concurrent,
        )
        batched.append(asyncio.run(concurrent_boots(cloud, admin.token, [body])))
        admin.delete_all()

    admin.delete_all()
    made_s = make_servers(admin, image_id, flavor_id, args.servers, args.batch)
    print(f"  ({args.servers} servers made and ACTIVE in {made_s:.1f} s)", file=sys.stderr)
    print(f"  (the cloud idle {settle(cloud):.1f} s later)", file=sys.stderr)
    latest = {"OpenStack-API-Version": LATEST}
    detail = timed_get(admin.compute, "/servers/detail", args.servers, args.list_rounds)
    detail_latest = timed_get(
        admin.compute, "/servers/detail", args.servers, args.list_rounds, latest
    )
    summary = timed_get(admin.compute, "/servers", args.servers, args.list_rounds)
    n = args.servers
    c = args.concurrent
    return [
        figure("POST /servers (API answer), networks none", samples["none"][0], None),
        figure("POST /servers -> launched_at, networks none", samples["none"][1], BOOT_TARGET_MS),
        figure("POST /servers -> GET sees ACTIVE, networks none", samples["none"][2], None),
        figure(
            "POST /servers -> launched_at, GET every 10 ms, networks none", samples["none"][3], None
        ),
        figure("POST /servers (API answer), one network", samples["net"][0], None),
        figure("POST /servers -> launched_at, one network", samples["net"][1], BOOT_TARGET_MS),
        figure("POST /servers -> GET sees ACTIVE, one network", samples["net"][2], None),
        figure(
            "POST /servers -> launched_at, GET every 10 ms, one network", samples["net"][3], None
        ),
        figure(f"{c} concurrent POSTs -> all ACTIVE", parallel, CONCURRENT_TARGET_MS),
        figure(f"one POST min_count={c} -> all ACTIVE", batched, CONCURRENT_TARGET_MS),
        figure(f"GET /servers/detail, {n} servers (2.1)", detail, LIST_TARGET_MS),
        figure(f"GET /servers/detail, {n} servers ({LATEST})", detail_latest, LIST_TARGET_MS),
        figure(f"GET /servers (summary), {n} servers", summary, LIST_TARGET_MS),
    ]


# -- qemu driver -----------------------------------------------------------------------------
def qemu_missing() -> str:
    """Why the QEMU figures cannot be taken here; '' when they can."""
    if os.geteuid() != 0:
        return "needs root"
    missing = [tool for tool in QEMU_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    if cached_image() is None:
        return "no cached test image (build it: onestack image build-test)"
    return ""


def wait_until(what: str, done: Callable[[], bool], started: float, timeout: float) -> float:
    """Poll ``done`` every POLL_S; ms from ``started`` (perf_counter) to the first True."""
    while not done():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_S)
    return ms_since(started)


def has_marker(console: Path) -> bool:
    try:
        with console.open("rb") as f:
            return f"{READY_MARKER} ".encode() in f.read()
    except FileNotFoundError:
        return False


def kill_qemus(instances: Path) -> None:
    """Kill every QEMU whose pid file is under ``instances`` (the bare and the cloud's)."""
    for pidfile in instances.glob("*/qemu.pid"):
        pid = qemu_process.live_pid(pidfile, pidfile.parent.name)
        if pid is not None:
            asyncio.run(qemu_process.kill(pid, pidfile.parent.name))


class BareQemu:
    """A QEMU of the test image started by hand with the driver's ``build_command``, on the
    same disk as the driver's: an overlay of the image converted to raw (the driver's image
    cache, Nova's ``force_raw_images``). An overlay of the compressed qcow2 itself made the
    bare guest's firmware and boot loader inflate clusters under TCG: its ready line came
    about 2 s after ours, an overhead of -1,981 ms."""

    def __init__(self, root: Path, image: Path, accelerator: str) -> None:
        self.root = root
        self.image = image
        self.base = root / "base.raw"
        self.accelerator = accelerator
        self.tsc_khz = host_tsc_khz()

    def raw_base(self) -> Path:
        """The image as raw, once, as the driver's cache converts it."""
        if not self.base.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            argv = ["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw"]
            subprocess.run([*argv, str(self.image), str(self.base)], check=True)
        return self.base

    def run(self, hostname: str, timeout: float) -> tuple[float, float]:
        """(ms to the running process, ms to the marker) from the exec of QEMU."""
        server_id = str(uuid.uuid4())
        paths = InstancePaths.of(self.root, server_id)
        base = self.raw_base()
        paths.dir.mkdir(parents=True)
        overlay = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base)]
        subprocess.run([*overlay, str(paths.disk)], check=True)
        meta = {"uuid": server_id, "hostname": hostname, "name": hostname, "public_keys": {}}
        drive = {"openstack/latest/meta_data.json": json.dumps(meta).encode()}
        configdrive.write(drive, paths.config_drive)
        spec = InstanceSpec(
            uuid=server_id,
            name=f"bench-{hostname}",
            hostname=hostname,
            vcpus=1,
            memory_mb=GUEST_MEMORY_MB,
            root_gb=0,
            boot=BootSource(image_id="bench", image_path=self.image, image_format="qcow2"),
            config_drive=drive,
        )
        argv = build_command(spec, paths, self.accelerator, LaunchOptions(tsc_khz=self.tsc_khz))
        with paths.qemu_log.open("ab") as log:
            started = time.perf_counter()
            subprocess.Popen(
                argv,
                cwd=paths.dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            running = wait_until(
                "the bare QEMU process",
                lambda: qemu_process.live_pid(paths.pidfile, server_id) is not None,
                started,
                timeout,
            )
            marker = wait_until(
                "the bare guest's ready line",
                lambda: has_marker(paths.console_log),
                started,
                timeout,
            )
        finally:
            kill_qemus(self.root)
            shutil.rmtree(paths.dir, ignore_errors=True)
        return running, marker


def cloud_qemu_run(
    admin: Admin, instances: Path, image_id: str, flavor_id: str, name: str, timeout: float
) -> tuple[float, float, float]:
    """(ms to the running process, ms to ACTIVE, ms to the marker) from sending the POST."""
    body = server_body(name, image_id, flavor_id, "none", config_drive=True)
    started = time.perf_counter()
    resp = checked(admin.compute.post("/servers", json=body), 202)
    server_id = resp.json()["server"]["id"]
    paths = InstancePaths.of(instances, server_id)
    try:
        running = wait_until(
            f"the QEMU of server {server_id}",
            lambda: qemu_process.live_pid(paths.pidfile, server_id) is not None,
            started,
            timeout,
        )
        active = wait_until(
            f"server {server_id} ACTIVE",
            lambda: admin.status(server_id) == "ACTIVE",
            started,
            timeout,
        )
        marker = wait_until(
            f"server {server_id}'s ready line",
            lambda: has_marker(paths.console_log),
            started,
            timeout,
        )
    finally:
        checked(admin.compute.delete(f"/servers/{server_id}"), 204, 404)
        deadline = time.monotonic() + 60
        while checked(admin.compute.get(f"/servers/{server_id}"), 200, 404).status_code == 200:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    return running, active, marker


def measure_qemu(
    admin: Admin, cloud: LocalCloud, instances: Path, accelerator: str, runs: int, timeout: float
) -> list[dict[str, Any]]:
    built = cached_image()
    assert built is not None
    admin.lift_quotas()
    flavor_id = admin.flavor("bench.qemu", 1, GUEST_MEMORY_MB, 0)
    image_id = admin.upload_image("onestack-test", built.path, "qcow2")
    bare = BareQemu(cloud.root / "bare", built.path, accelerator)

    # Warm-up of both: the image cached on the host, page cache, the accelerator chosen.
    cloud_qemu_run(admin, instances, image_id, flavor_id, "warm", timeout)
    bare.run("warm", timeout)
    bare_running: list[float] = []
    bare_marker: list[float] = []
    ours_running: list[float] = []
    ours_active: list[float] = []
    ours_marker: list[float] = []
    for n in range(runs):
        running, marker = bare.run(f"bare{n}", timeout)
        bare_running.append(running)
        bare_marker.append(marker)
        running, active, marker = cloud_qemu_run(
            admin, instances, image_id, flavor_id, f"vm{n}", timeout
        )
        ours_running.append(running)
        ours_active.append(active)
        ours_marker.append(marker)
    over_running = statistics.median(ours_running) - statistics.median(bare_running)
    over_marker = statistics.median(ours_marker) - statistics.median(bare_marker)
    return [
        figure("bare QEMU exec -> QEMU running", bare_running, None),
        figure("POST /servers -> QEMU running", ours_running, None),
        figure(
            "POST -> QEMU running, overhead over bare exec (medians)",
            [over_running],
            QEMU_OVERHEAD_TARGET_MS,
        ),
        figure("POST /servers -> ACTIVE (API)", ours_active, None),
        figure("bare QEMU exec -> guest ready line", bare_marker, None),
        figure("POST /servers -> guest ready line", ours_marker, None),
        figure(
            "POST -> guest ready line, overhead over bare exec (medians)",
            [over_marker],
            QEMU_OVERHEAD_TARGET_MS,
        ),
    ]


# -- main ------------------------------------------------------------------------------------
@contextmanager
def running_cloud(cloud: LocalCloud) -> Iterator[Admin]:
    admin: Admin | None = None
    try:
        try:
            cloud.start()
            admin = Admin(cloud)
            yield admin
        except (Exception, SystemExit):
            print(f"onestack up log (tail):\n{cloud.tail()}", file=sys.stderr)
            raise
    finally:
        if admin is not None:
            admin.close()
        cloud.close()


def run_fake(args: argparse.Namespace) -> list[dict[str, Any]]:
    settings = {
        "ONESTACK_COMPUTE_DRIVER": "fake",
        # 1,000 one-VCPU servers on the fake host's 64 VCPUs.
        "ONESTACK_COMPUTE_CPU_ALLOCATION_RATIO": "64",
    }
    cloud = local_cloud(settings, "onestack-bench-compute-")
    with running_cloud(cloud) as admin:
        return measure_fake(admin, cloud, args)


def run_qemu(args: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    accelerator = asyncio.run(choose_accelerator("qemu-system-x86_64", "auto"))
    root = Path(tempfile.mkdtemp(prefix="onestack-bench-qemu-"))
    instances = root / "instances"
    settings = {
        "ONESTACK_COMPUTE_DRIVER": "qemu",
        "ONESTACK_COMPUTE_INSTANCES_DIR": str(instances),
        "ONESTACK_COMPUTE_SHUTDOWN_TIMEOUT": "0",
    }
    cloud = local_cloud(settings, "onestack-bench-compute-qemu-")
    try:
        with running_cloud(cloud) as admin:
            figures = measure_qemu(
                admin, cloud, instances, accelerator, args.qemu_runs, args.qemu_timeout
            )
        return accelerator, figures
    finally:
        kill_qemus(instances)
        kill_qemus(cloud.root / "bare")
        shutil.rmtree(root, ignore_errors=True)


def sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the clean-ups like a Ctrl-C


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        choices=("fake", "qemu", "all"),
        default="all",
        help="which figures (default: all; qemu only as root with QEMU)",
    )
    parser.add_argument("--boots", type=int, default=50, help="boots one at a time, each way")
    parser.add_argument("--concurrent", type=int, default=20, help="boots sent at once")
    parser.add_argument("--concurrent-rounds", type=int, default=3, help="rounds of those")
    parser.add_argument("--servers", type=int, default=1000, help="servers listed")
    parser.add_argument("--batch", type=int, default=100, help="max_count of their POSTs")
    parser.add_argument("--list-rounds", type=int, default=20, help="timed lists, each kind")
    parser.add_argument("--qemu-runs", type=int, default=5, help="QEMU boots, each way")
    parser.add_argument("--qemu-timeout", type=float, default=120.0, help="seconds per boot")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, sigterm)

    results: dict[str, Any] = {"load_before": load()}
    skipped: dict[str, str] = {}
    if args.part in ("fake", "all"):
        results["fake"] = run_fake(args)
    if args.part in ("qemu", "all"):
        why = qemu_missing()
        if why:
            skipped["qemu"] = why
        else:
            results["accelerator"], results["qemu"] = run_qemu(args)
    results["load_after"] = load()
    results["skipped"] = skipped

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("compute benchmark, database sqlite")
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    if "fake" in results:
        print_table("fake compute and network drivers", results["fake"], width=61)
    if "qemu" in results:
        title = (
            f"qemu driver ({results['accelerator']}, networks none, config drive, "
            f"{GUEST_MEMORY_MB} MiB guest; bare QEMU timed from its exec)"
        )
        print_table(title, results["qemu"], width=58)
    for part, why in skipped.items():
        print(f"{part} driver: skipped ({why})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted (every QEMU this run started is killed)")
