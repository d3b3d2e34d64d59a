"""Deletes are exclusive (#12): of 10 concurrent DELETEs of one resource exactly one succeeds
and the others answer 404 (or 409), for every kind of resource, on every database engine
(servers: exactly one delete is carried out, the others answer 204 as Nova's repeats do)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.compute import C
from tests.support.fixtures import unique

N = "/network/v2.0"
I = "/identity/v3"  # noqa: E741
RACERS = 10
ROUNDS = int(os.environ.get("DELETE_ROUNDS", "2"))  # per kind; more for a longer run


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    client = httpx.Client(
        base_url=cloud.url,
        headers={"X-Auth-Token": cloud.token(), "OpenStack-API-Version": "compute 2.37"},
        timeout=60,
        limits=httpx.Limits(max_connections=RACERS + 5),
    )
    yield client
    client.close()


def made(resp: httpx.Response, key: str | None = None) -> dict[str, Any]:
    assert resp.status_code in (200, 201, 202), resp.text
    body: dict[str, Any] = resp.json()
    return body[key] if key else body


@pytest.fixture(scope="module")
def world(admin: httpx.Client) -> dict[str, str]:
    net = made(admin.post(f"{N}/networks", json={"network": {"name": unique("x")}}), "network")
    sub = {"network_id": net["id"], "cidr": "10.93.0.0/24", "ip_version": 4}
    made(admin.post(f"{N}/subnets", json={"subnet": sub}))
    public = admin.get(f"{N}/networks", params={"router:external": "true"}).json()["networks"]
    image = made(admin.post("/image/v2/images", json={"name": unique("x"), "disk_format": "raw",
                                                      "container_format": "bare"}))  # fmt: skip
    resp = admin.put(
        f"/image/v2/images/{image['id']}/file",
        content=b"\0" * 1024,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status_code == 204, resp.text
    project, user = token_info_of(admin)
    metric = made(admin.post("/metric/v1/metric", json={"archive_policy_name": "low"}))
    return {"net": net["id"], "public": public[0]["id"], "image": image["id"],
            "project": project, "user": user, "metric": metric["id"]}  # fmt: skip


def token_info_of(admin: httpx.Client) -> tuple[str, str]:
    """The project and user of the admin's token."""
    token = admin.headers["X-Auth-Token"]
    body = admin.get(f"{I}/auth/tokens", headers={"X-Subject-Token": token}).json()["token"]
    return str(body["project"]["id"]), str(body["user"]["id"])


def volume(a: httpx.Client, w: dict[str, str]) -> str:
    """An available volume's path."""
    base = f"/volume/v3/{w['project']}"
    uuid = made(a.post(f"{base}/volumes", json={"volume": {"size": 1}}), "volume")["id"]
    deadline = time.monotonic() + 30
    while a.get(f"{base}/volumes/{uuid}").json()["volume"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return f"{base}/volumes/{uuid}"


def snapshot(a: httpx.Client, w: dict[str, str]) -> str:
    base = f"/volume/v3/{w['project']}"
    vol = volume(a, w).rsplit("/", 1)[1]
    snap = made(a.post(f"{base}/snapshots", json={"snapshot": {"volume_id": vol}}), "snapshot")
    deadline = time.monotonic() + 30
    while a.get(f"{base}/snapshots/{snap['id']}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return f"{base}/snapshots/{snap['id']}"


def backup(a: httpx.Client, w: dict[str, str]) -> str:
    base = f"/volume/v3/{w['project']}"
    vol = volume(a, w).rsplit("/", 1)[1]
    made_ = made(a.post(f"{base}/backups", json={"backup": {"volume_id": vol}}), "backup")
    deadline = time.monotonic() + 30
    while a.get(f"{base}/backups/{made_['id']}").json()["backup"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return f"{base}/backups/{made_['id']}"


def container(a: httpx.Client, w: dict[str, str], with_object: bool = False) -> str:
    path = f"/object/v1/AUTH_{w['project']}/{unique('c')}"
    assert a.put(path).status_code in (201, 202), path
    if with_object:
        assert a.put(f"{path}/o", content=b"data").status_code == 201
        return f"{path}/o"
    return path


def alarm(a: httpx.Client, w: dict[str, str]) -> str:
    body = {
        "name": unique("a"),
        "type": "gnocchi_aggregation_by_metrics_threshold",
        "gnocchi_aggregation_by_metrics_threshold_rule": {
            "metrics": [w["metric"]],
            "threshold": 1,
            "aggregation_method": "mean",
        },
    }
    return "/alarming/v2/alarms/" + made(a.post("/alarming/v2/alarms", json=body))["alarm_id"]


def stack(a: httpx.Client, w: dict[str, str]) -> str:
    """A complete stack of one network (a delete has a resource to remove)."""
    base = f"/orchestration/v1/{w['project']}/stacks"
    name = unique("s")
    template = {"heat_template_version": "2018-08-31",
                "resources": {"net": {"type": "OS::Neutron::Net"}}}  # fmt: skip
    uuid = made(a.post(base, json={"stack_name": name, "template": template}), "stack")["id"]
    path = f"{base}/{name}/{uuid}"
    deadline = time.monotonic() + 30
    while (status := a.get(path).json()["stack"]["stack_status"]) != "CREATE_COMPLETE":
        assert time.monotonic() < deadline and "FAILED" not in status, status
        time.sleep(0.05)
    return path


def server(admin: httpx.Client, w: dict[str, str]) -> str:
    body = {"server": {"name": unique("x"), "imageRef": w["image"], "flavorRef": "0",
                       "networks": "none"}}  # fmt: skip
    uuid = str(made(admin.post(f"{C}/servers", json=body), "server")["id"])
    deadline = time.monotonic() + 30
    while admin.get(f"{C}/servers/{uuid}").json()["server"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return uuid


def secgroup(a: httpx.Client) -> str:
    body = {"security_group": {"name": unique("x")}}
    return str(made(a.post(f"{N}/security-groups", json=body), "security_group")["id"])


# kind -> make(admin, world) -> the path to DELETE
MAKERS: dict[str, Callable[[httpx.Client, dict[str, str]], str]] = {
    "network": lambda a, w: (
        f"{N}/networks/"
        + made(a.post(f"{N}/networks", json={"network": {"name": "d"}}), "network")["id"]
    ),
    "port": lambda a, w: (
        f"{N}/ports/"
        + made(a.post(f"{N}/ports", json={"port": {"network_id": w["net"]}}), "port")["id"]
    ),
    "router": lambda a, w: (
        f"{N}/routers/"
        + made(a.post(f"{N}/routers", json={"router": {"name": "d"}}), "router")["id"]
    ),
    "security_group": lambda a, w: f"{N}/security-groups/{secgroup(a)}",
    "security_group_rule": lambda a, w: (
        f"{N}/security-group-rules/"
        + made(
            a.post(
                f"{N}/security-group-rules",
                json={
                    "security_group_rule": {
                        "security_group_id": secgroup(a),
                        "direction": "ingress",
                        "protocol": "tcp",
                    }
                },
            ),
            "security_group_rule",
        )["id"]
    ),
    "floatingip": lambda a, w: (
        f"{N}/floatingips/"
        + made(
            a.post(f"{N}/floatingips", json={"floatingip": {"floating_network_id": w["public"]}}),
            "floatingip",
        )["id"]
    ),
    "keypair": lambda a, w: (
        f"{C}/os-keypairs/"
        + made(a.post(f"{C}/os-keypairs", json={"keypair": {"name": unique("k")}}), "keypair")[
            "name"
        ]
    ),
    "server_group": lambda a, w: (
        f"{C}/os-server-groups/"
        + made(
            a.post(
                f"{C}/os-server-groups",
                json={"server_group": {"name": "g", "policies": ["affinity"]}},
            ),
            "server_group",
        )["id"]
    ),
    "flavor": lambda a, w: (
        f"{C}/flavors/"
        + made(
            a.post(
                f"{C}/flavors",
                json={"flavor": {"name": unique("f"), "ram": 64, "vcpus": 1, "disk": 1}},
            ),
            "flavor",
        )["id"]
    ),
    "aggregate": lambda a, w: (
        f"{C}/os-aggregates/"
        + str(
            made(
                a.post(f"{C}/os-aggregates", json={"aggregate": {"name": unique("a")}}), "aggregate"
            )["id"]
        )
    ),
    "image": lambda a, w: (
        "/image/v2/images/"
        + made(
            a.post(
                "/image/v2/images",
                json={"name": "d", "disk_format": "raw", "container_format": "bare"},
            )
        )["id"]
    ),
    "user": lambda a, w: (
        f"{I}/users/"
        + made(a.post(f"{I}/users", json={"user": {"name": unique("u")}}), "user")["id"]
    ),
    "project": lambda a, w: (
        f"{I}/projects/"
        + made(a.post(f"{I}/projects", json={"project": {"name": unique("p")}}), "project")["id"]
    ),
    "role": lambda a, w: (
        f"{I}/roles/"
        + made(a.post(f"{I}/roles", json={"role": {"name": unique("r")}}), "role")["id"]
    ),
    "server": lambda a, w: f"{C}/servers/{server(a, w)}",
    "subnet": lambda a, w: (
        f"{N}/subnets/"
        + made(
            a.post(
                f"{N}/subnets",
                json={"subnet": {"network_id": w["net"], "cidr": "10.92.0.0/24", "ip_version": 4}},
            ),
            "subnet",
        )["id"]
    ),
    "subnetpool": lambda a, w: (
        f"{N}/subnetpools/"
        + made(
            a.post(
                f"{N}/subnetpools",
                json={"subnetpool": {"name": unique("sp"), "prefixes": ["10.91.0.0/16"]}},
            ),
            "subnetpool",
        )["id"]
    ),
    "group": lambda a, w: (
        f"{I}/groups/"
        + made(a.post(f"{I}/groups", json={"group": {"name": unique("g")}}), "group")["id"]
    ),
    "region": lambda a, w: (
        f"{I}/regions/"
        + made(a.post(f"{I}/regions", json={"region": {"id": unique("r")}}), "region")["id"]
    ),
    "volume": volume,
    "volume_snapshot": snapshot,
    "volume_backup": backup,
    "metering_resource": lambda a, w: (
        "/metric/v1/resource/generic/"
        + made(a.post("/metric/v1/resource/generic", json={"id": unique("res")}))["id"]
    ),
    "credential": lambda a, w: (
        f"{I}/credentials/"
        + made(
            a.post(
                f"{I}/credentials",
                json={"credential": {"type": "totp", "user_id": w["user"], "blob": "s3"}},
            ),
            "credential",
        )["id"]
    ),
    "service": lambda a, w: (
        f"{I}/services/"
        + made(a.post(f"{I}/services", json={"service": {"type": unique("t")}}), "service")["id"]
    ),
    "container": container,
    "object": lambda a, w: container(a, w, with_object=True),
    "alarm": alarm,
    "stack": stack,
    "metric": lambda a, w: (
        "/metric/v1/metric/"
        + made(a.post("/metric/v1/metric", json={"archive_policy_name": "low"}))["id"]
    ),
    "server_metadata_key": lambda a, w: (
        lambda uuid: (
            made(a.put(f"{C}/servers/{uuid}/metadata/k", json={"meta": {"k": "v"}})),
            f"{C}/servers/{uuid}/metadata/k",
        )[1]
    )(server(a, w)),
}


def gone(resp: httpx.Response) -> bool:
    """404; a deleted stack is still shown by its id, DELETE_COMPLETE (Heat's)."""
    if resp.status_code == 404:
        return True
    return resp.status_code == 200 and "DELETE_COMPLETE" in resp.text


def race(admin: httpx.Client, path: str) -> Counter[int]:
    gate = threading.Barrier(RACERS)

    def one(_: int) -> int:
        gate.wait()
        return admin.delete(path).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        return Counter(pool.map(one, range(RACERS)))


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_concurrent_deletes_of_one_resource_succeed_once(
    admin: httpx.Client, world: dict[str, str], kind: str
) -> None:
    for _ in range(ROUNDS):
        path = MAKERS[kind](admin, world)
        codes = race(admin, path)
        # Cinder answers 400 (InvalidVolume/InvalidSnapshot) to a delete of one already
        # being deleted.
        refused = {400} if kind.startswith("volume") else set()
        assert set(codes) <= {200, 202, 204, 404, 409} | refused, (kind, codes)
        wins = sum(n for code, n in codes.items() if code < 300)
        if kind == "server":
            # Nova answers 204 to a delete of a server already being deleted; what must
            # not happen is a second delete carried out (one ``delete`` action).
            actions = admin.get(
                f"{path}/os-instance-actions", headers={"OpenStack-API-Version": "compute 2.21"}
            )
            assert actions.status_code == 200, actions.text
            done = [a for a in actions.json()["instanceActions"] if a["action"] == "delete"]
            assert len(done) == 1, (codes, done)
        else:
            assert wins == 1, (kind, codes)
            deadline = time.monotonic() + 10  # volumes, snapshots, backups: once the agent is done
            while not gone(admin.get(path)):
                assert time.monotonic() < deadline, path
                time.sleep(0.05)
