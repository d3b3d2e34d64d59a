"""A crash leaves nothing half-done (#12): ``kill -9`` of the cloud while 20 servers boot, then
a restart: within 60 s every server is ACTIVE or ERROR (with a fault), none in a task, and
once they are deleted no port of theirs is left; the same for ports being made. (Image
uploads: tests/api/test_image_recovery.py.)"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.compute import C
from tests.support.keystone import token_info

BOOTS = 20
SETTLE = 60.0  # seconds after the restart


@pytest.fixture
def own(fresh_cloud: Cloud) -> Iterator[Cloud]:
    """A cloud of the test's own, stopped whatever the test's end."""
    yield fresh_cloud
    if fresh_cloud.process is not None:
        fresh_cloud.stop()


def client(cloud: Cloud) -> httpx.Client:
    return httpx.Client(
        base_url=cloud.url,
        headers={"X-Auth-Token": cloud.token(), "OpenStack-API-Version": "compute 2.37"},
        timeout=30,
    )


def servers(api: httpx.Client) -> list[dict[str, Any]]:
    resp = api.get(f"{C}/servers/detail", params={"all_tenants": "1"})
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()["servers"]
    return found


def test_a_crash_during_boots_leaves_every_server_final(own: Cloud) -> None:
    fresh_cloud = own
    fresh_cloud.start()
    with client(fresh_cloud) as api:
        project = token_info(fresh_cloud, str(api.headers["X-Auth-Token"]))["project"]["id"]
        quota = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        assert api.put(f"{C}/os-quota-sets/{project}", json=quota).status_code == 200
        image = api.post("/image/v2/images", json={"name": "crash", "disk_format": "raw",
                                                   "container_format": "bare"}).json()  # fmt: skip
        resp = api.put(
            f"/image/v2/images/{image['id']}/file",
            content=b"\0" * 4096,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert resp.status_code == 204, resp.text
        net = api.post("/network/v2.0/networks", json={"network": {"name": "crash"}}).json()
        net_id = net["network"]["id"]
        sub = {"network_id": net_id, "cidr": "10.94.0.0/24", "ip_version": 4}
        assert api.post("/network/v2.0/subnets", json={"subnet": sub}).status_code == 201
        body = {"server": {"name": "crash", "imageRef": image["id"], "flavorRef": "0",
                           "networks": [{"uuid": net_id}], "min_count": BOOTS,
                           "max_count": BOOTS}}  # fmt: skip
        resp = api.post(f"{C}/servers", json=body)
        assert resp.status_code == 202, resp.text
    fresh_cloud.stop(signal.SIGKILL)  # mid-boot: most are still being placed

    fresh_cloud.start()
    restarted = time.monotonic()
    with client(fresh_cloud) as api:
        while True:
            found = servers(api)
            assert len(found) == BOOTS
            busy = [s for s in found if s["status"] == "BUILD" or s["OS-EXT-STS:task_state"]]
            if not busy:
                break
            assert time.monotonic() - restarted < SETTLE, [
                (s["id"], s["status"], s["OS-EXT-STS:task_state"]) for s in busy
            ]
            time.sleep(0.5)
        for server in found:
            assert server["status"] in ("ACTIVE", "ERROR"), server
            if server["status"] == "ERROR":
                assert server["fault"]["message"], server
        print(f"\nall {BOOTS} final {time.monotonic() - restarted:.1f} s after the restart:",
              sorted(s["status"] for s in found))  # fmt: skip

        # Nothing of theirs is orphaned: once they are deleted, no port is left on the network.
        for server in found:
            assert api.delete(f"{C}/servers/{server['id']}").status_code == 204
        deadline = time.monotonic() + 30
        while servers(api):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        ports = api.get("/network/v2.0/ports", params={"network_id": net_id}).json()["ports"]
        left = [p for p in ports if p["device_owner"].startswith("compute:")]
        assert not left, left
    fresh_cloud.stop()


def test_a_crash_during_port_creates_leaves_whole_ports(own: Cloud) -> None:
    """``kill -9`` while 40 ports are being made: after the restart each port that exists
    has its address (no half-made port), addresses are not shared, and more can be made."""
    fresh_cloud = own
    fresh_cloud.start()
    with client(fresh_cloud) as api:
        net = api.post("/network/v2.0/networks", json={"network": {"name": "crash"}}).json()
        net_id = net["network"]["id"]
        sub = {"network_id": net_id, "cidr": "10.96.0.0/24", "ip_version": 4}
        assert api.post("/network/v2.0/subnets", json={"subnet": sub}).status_code == 201
        url, token = fresh_cloud.url, str(api.headers["X-Auth-Token"])

    def create(_: int) -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{url}/network/v2.0/ports", json={"port": {"network_id": net_id}},
                       headers={"X-Auth-Token": token}, timeout=10)  # fmt: skip

    with ThreadPoolExecutor(40) as pool:
        futures = [pool.submit(create, i) for i in range(40)]
        time.sleep(0.3)
        fresh_cloud.stop(signal.SIGKILL)
        for future in futures:
            future.result()

    fresh_cloud.start()
    with client(fresh_cloud) as api:
        ports = api.get("/network/v2.0/ports", params={"network_id": net_id}).json()["ports"]
        addresses = [ip["ip_address"] for p in ports for ip in p["fixed_ips"]]
        assert all(len(p["fixed_ips"]) == 1 for p in ports), ports
        assert len(addresses) == len(set(addresses)), addresses
        assert all(p["status"] in ("DOWN", "ACTIVE") for p in ports), ports
        resp = api.post("/network/v2.0/ports", json={"port": {"network_id": net_id}})
        assert resp.status_code == 201, resp.text
        print(f"\n{len(ports)} of 40 ports made before the kill")
    fresh_cloud.stop()
