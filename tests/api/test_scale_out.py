"""Several `onestack api` processes on one database: shared nothing but the database and keys."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from onestack.common.db import Database, startup_lock
from tests.support.cloud import base_env, free_port, wait_serving
from tests.support.keystone import password_body

V3 = "/identity/v3"


async def test_startup_lock_lets_one_process_at_a_time(
    tmp_path: Path, fresh_database: str | None
) -> None:
    """What keeps two processes from migrating and bootstrapping the same database at once."""
    url = fresh_database or f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}"
    first, second = Database(url), Database(url)  # two engines: as two processes have
    lock_file = tmp_path / "startup.lock"
    order: list[str] = []

    async def hold(db: Database, name: str, seconds: float) -> None:
        async with startup_lock(db, lock_file):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    try:
        holder = asyncio.create_task(hold(first, "a", 0.5))
        await asyncio.sleep(0.1)
        await hold(second, "b", 0)
        await holder
    finally:
        await first.close()
        await second.close()
    assert order == ["a in", "a out", "b in", "b out"]


def test_two_api_processes_start_together_and_share_tokens(
    tmp_path: Path, fresh_database: str | None
) -> None:
    data_dir = tmp_path / "data"
    env = base_env(tmp_path, fresh_database)
    env["ONESTACK_IDENTITY_REVOCATION_REFRESH"] = "0.2"
    ports = [free_port(), free_port()]
    procs, logs = [], []
    for i, port in enumerate(ports):  # both race through migrations and bootstrap
        logs.append(tmp_path / f"api{i}.log")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "onestack",
                    "api",
                    "--data-dir",
                    str(data_dir),
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=logs[-1].open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url, proc, log in zip(urls, procs, logs, strict=True):
            wait_serving(url, proc, log)
        password = json.loads((data_dir / "bootstrap.json").read_text())["admin_password"]
        issued = httpx.post(
            f"{urls[0]}{V3}/auth/tokens", json=password_body(password, name="admin"), timeout=30
        )
        assert issued.status_code == 201
        token = issued.headers["X-Subject-Token"]
        # A token from one process is good at the other: no session state, shared keys.
        seen = httpx.get(f"{urls[1]}{V3}/projects", headers={"X-Auth-Token": token}, timeout=30)
        assert seen.status_code == 200
        assert {p["name"] for p in seen.json()["projects"]} >= {"admin", "demo"}
        # One bootstrap happened, not two.
        users = httpx.get(
            f"{urls[1]}{V3}/users?name=admin", headers={"X-Auth-Token": token}, timeout=30
        )
        assert len(users.json()["users"]) == 1
        # Revoked at one process, refused by the other once it reloads the events.
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        assert (
            httpx.delete(f"{urls[0]}{V3}/auth/tokens", headers=headers, timeout=30).status_code
            == 204
        )
        deadline = time.monotonic() + 10
        status = 200
        while time.monotonic() < deadline and status != 401:
            status = httpx.get(
                f"{urls[1]}{V3}/projects", headers={"X-Auth-Token": token}, timeout=30
            ).status_code
            time.sleep(0.1)
        assert status == 401
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def test_object_quota_holds_across_api_processes(tmp_path: Path) -> None:
    """Two `onestack api` processes over one store: 40 PUTs at once, split between them,
    against a container quota of 10 objects make exactly 10 (the account's commit lock is a
    file lock, not one process's)."""
    data_dir = tmp_path / "data"
    env = base_env(tmp_path, None)
    ports = [free_port(), free_port()]
    procs = []
    for i, port in enumerate(ports):
        log = (tmp_path / f"api{i}.log").open("wb")
        argv = [sys.executable, "-m", "onestack", "api", "--data-dir", str(data_dir)]
        procs.append(
            subprocess.Popen([*argv, "--port", str(port)], env=env, stdout=log, stderr=log)
        )
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for i, (url, proc) in enumerate(zip(urls, procs, strict=True)):
            wait_serving(url, proc, tmp_path / f"api{i}.log")
        password = json.loads((data_dir / "bootstrap.json").read_text())["admin_password"]
        scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
        body = password_body(password, name="admin", scope=scope)
        issued = httpx.post(f"{urls[0]}{V3}/auth/tokens", json=body, timeout=30)
        token = issued.headers["X-Subject-Token"]
        project = issued.json()["token"]["project"]["id"]
        headers = {"X-Auth-Token": token}
        container = f"/object/v1/AUTH_{project}/quota"
        assert httpx.put(urls[0] + container, headers=headers, timeout=30).status_code == 201
        quota = {**headers, "X-Container-Meta-Quota-Count": "10"}
        assert httpx.post(urls[0] + container, headers=quota, timeout=30).status_code == 204
        gate = threading.Barrier(40)

        def put(i: int) -> int:
            gate.wait()
            url = f"{urls[i % 2]}{container}/o{i}"
            return httpx.put(url, headers=headers, content=b"x" * 1024, timeout=60).status_code

        with ThreadPoolExecutor(40) as pool:
            codes = Counter(pool.map(put, range(40)))
        assert codes == {201: 10, 413: 30}, codes
        listed = httpx.get(
            urls[1] + container, headers=headers, params={"format": "json"}, timeout=30
        )
        assert len(listed.json()) == 10
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
