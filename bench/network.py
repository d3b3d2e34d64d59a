"""Networking API benchmark with the fake data plane: port create/delete latency, and
``port list`` on a network of 1,000 ports.

Starts a private ``onestack up`` (``ONESTACK_NETWORK_DRIVER=fake``) in a temporary data
directory on a free port, drives it over HTTP with one keep-alive client (the latency a CLI
user sees, without the CLI's own start-up), prints the figures beside their targets, stops.

    .venv/bin/python bench/network.py
    .venv/bin/python bench/network.py --ports 1000 --rounds 200 --json
    .venv/bin/python bench/network.py --db-url postgresql+asyncpg://postgres@127.0.0.1/bench

Prints figures, not test results: each beside its target with PASS or MISS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
PORT_CREATE_TARGET_MS = 20.0
PORT_DELETE_TARGET_MS = 20.0
PORT_LIST_TARGET_MS = 100.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalCloud:
    """``python -m onestack up`` with the fake network driver; stopped by SIGINT."""

    def __init__(self, db_url: str, timeout: float = 60.0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="onestack-bench-net-"))
        self.data_dir = self.root / "data"
        self.home = self.root / "home"
        self.home.mkdir()
        self.port = free_port()
        self.log = self.root / "onestack.log"
        self.db_url = db_url
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ONESTACK_"))}
        env["HOME"] = str(self.home)
        env.pop("XDG_CONFIG_HOME", None)
        env.pop("XDG_DATA_HOME", None)
        env["ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS"] = "4"  # the network API is measured
        env["ONESTACK_NETWORK_DRIVER"] = "fake"
        if self.db_url:
            env["ONESTACK_DATABASE_URL"] = self.db_url
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p
        )
        return env

    def start(self) -> str:
        argv = [sys.executable, "-m", "onestack", "up"]
        argv += ["--data-dir", str(self.data_dir), "--port", str(self.port)]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, env=self.env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if "OneStack is up at" in self.log.read_text(errors="replace"):
                break
            if self.process.poll() is not None:
                raise SystemExit(f"onestack up exited {self.process.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        else:
            tail = self.tail()
            self.stop()
            raise SystemExit(f"onestack up did not start within {self.timeout:.0f}s:\n{tail}")
        secrets = json.loads((self.data_dir / "bootstrap.json").read_text())
        return str(secrets["admin_password"])

    def tail(self, lines: int = 20) -> str:
        try:
            return "".join(self.log.read_text(errors="replace").splitlines(True)[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def token(base: str, password: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    resp = httpx.post(f"{base}/identity/v3/auth/tokens", json=body)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


def timed(fn: Callable[[], httpx.Response], expect: int) -> float:
    started = time.perf_counter()
    resp = fn()
    elapsed = time.perf_counter() - started
    if resp.status_code != expect:
        raise SystemExit(f"unexpected {resp.status_code}: {resp.text[:300]}")
    return elapsed * 1000


def figure(name: str, samples: list[float], target: float) -> dict[str, Any]:
    median = statistics.median(samples)
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    return {
        "name": name,
        "median_ms": round(median, 2),
        "p95_ms": round(p95, 2),
        "samples": len(samples),
        "target_ms": target,
        "verdict": "PASS" if median < target else "MISS",
    }


def measure(base: str, password: str, ports: int, rounds: int) -> list[dict[str, Any]]:
    headers = {"X-Auth-Token": token(base, password)}
    with httpx.Client(base_url=f"{base}/network/v2.0", headers=headers, timeout=60) as client:
        project = client.get("/networks", params={"name": "public"}).json()["networks"][0]
        project_id = project["project_id"]
        client.put(f"/quotas/{project_id}", json={"quota": {"port": -1}})
        net = client.post("/networks", json={"network": {"name": "bench"}}).json()["network"]
        client.post(
            "/subnets",
            json={"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": "10.77.0.0/20"}},
        ).raise_for_status()
        for _ in range(10):  # warm-up: caches, connection, default security group
            pid = client.post("/ports", json={"port": {"network_id": net["id"]}}).json()["port"]
            client.delete(f"/ports/{pid['id']}")

        creates: list[float] = []
        deletes: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            resp = client.post("/ports", json={"port": {"network_id": net["id"]}})
            creates.append((time.perf_counter() - started) * 1000)
            resp.raise_for_status()
            port_id = resp.json()["port"]["id"]
            started = time.perf_counter()
            gone = client.delete(f"/ports/{port_id}")
            deletes.append((time.perf_counter() - started) * 1000)
            if gone.status_code != 204:
                raise SystemExit(f"unexpected {gone.status_code}: {gone.text[:300]}")

        have = len(client.get("/ports", params={"network_id": net["id"]}).json()["ports"])
        for _ in range(ports - have):
            client.post("/ports", json={"port": {"network_id": net["id"]}}).raise_for_status()
        listed = client.get("/ports", params={"network_id": net["id"]}).json()["ports"]
        if len(listed) != ports:
            raise SystemExit(f"expected {ports} ports on the network, found {len(listed)}")
        lists = [
            timed(lambda: client.get("/ports", params={"network_id": net["id"]}), 200)
            for _ in range(20)
        ]
        all_ports = [timed(lambda: client.get("/ports"), 200) for _ in range(20)]
    return [
        figure("port create", creates, PORT_CREATE_TARGET_MS),
        figure("port delete", deletes, PORT_DELETE_TARGET_MS),
        figure(f"port list ({ports} ports, network_id filter)", lists, PORT_LIST_TARGET_MS),
        figure(f"port list ({ports}+ ports, no filter)", all_ports, PORT_LIST_TARGET_MS),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=1000, help="ports on the listed network")
    parser.add_argument("--rounds", type=int, default=200, help="port create/delete pairs")
    parser.add_argument("--db-url", default="", help="database URL (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    cloud = LocalCloud(args.db_url)
    try:
        password = cloud.start()
        figures = measure(f"http://127.0.0.1:{cloud.port}", password, args.ports, args.rounds)
    finally:
        cloud.stop()
    if args.json:
        print(json.dumps({"database": args.db_url or "sqlite", "figures": figures}, indent=2))
        return 0
    print(f"network API, fake driver, database {args.db_url or 'sqlite'}")
    for f in figures:
        print(
            f"  {f['name']:<45} median {f['median_ms']:8.2f} ms  p95 {f['p95_ms']:8.2f} ms"
            f"  (target < {f['target_ms']:.0f} ms)  {f['verdict']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
