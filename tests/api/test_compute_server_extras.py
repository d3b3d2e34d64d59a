"""Nova's per-server sub-resources on the fake drivers: metadata, tags, interfaces, volume
attachments, security groups, diagnostics, password and remote consoles (with the websocket
proxy against a unix socket of the test's own)."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.support.cloud import Cloud
from tests.support.fixtures import http_client, sdk_connection, unique

C = "/compute/v2.1"
HEX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

demo_sdk = sdk_connection("onestack-demo")


admin = http_client("onestack")
demo = http_client("onestack-demo")


def mv(minor: int) -> dict[str, str]:
    return {"OpenStack-API-Version": f"compute 2.{minor}"}


@pytest.fixture(scope="module")
def image_id(admin: httpx.Client) -> str:
    body = {
        "name": unique("extras-img"),
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": "public",
    }
    resp = admin.post("/image/v2/images", json=body)
    assert resp.status_code == 201, resp.text
    image = resp.json()["id"]
    put = admin.put(
        f"/image/v2/images/{image}/file",
        content=b"\0" * 4096,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    return str(image)


@pytest.fixture(scope="module")
def network(demo: httpx.Client) -> dict[str, Any]:
    net = demo.post("/network/v2.0/networks", json={"network": {"name": unique("xnet")}})
    assert net.status_code == 201, net.text
    net_id = net.json()["network"]["id"]
    sub = demo.post(
        "/network/v2.0/subnets",
        json={"subnet": {"network_id": net_id, "ip_version": 4, "cidr": "10.71.0.0/24"}},
    )
    assert sub.status_code == 201, sub.text
    return {"id": net_id, "subnet_id": sub.json()["subnet"]["id"]}


def wait_status(client: httpx.Client, uuid: str, status: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        server = client.get(f"{C}/servers/{uuid}").json()["server"]
        if server["status"] == status and server["OS-EXT-STS:task_state"] is None:
            return server
        assert server["status"] != "ERROR", server
        assert time.monotonic() < deadline, f"server {uuid} stayed {server['status']}"
        time.sleep(0.1)


def boot(client: httpx.Client, image_id: str, network_id: str | None) -> str:
    networks: Any = [{"uuid": network_id}] if network_id else "none"
    body = {
        "server": {
            "name": unique("extras"),
            "imageRef": image_id,
            "flavorRef": "1",
            "networks": networks,
        }
    }
    resp = client.post(f"{C}/servers", json=body, headers=mv(37))
    assert resp.status_code == 202, resp.text
    uuid = str(resp.json()["server"]["id"])
    wait_status(client, uuid, "ACTIVE")
    return uuid


@pytest.fixture(scope="module")
def server(demo: httpx.Client, image_id: str, network: dict[str, Any]) -> Iterator[str]:
    uuid = boot(demo, image_id, network["id"])
    yield uuid
    demo.delete(f"{C}/servers/{uuid}")


# -- metadata -------------------------------------------------------------------------------
def test_metadata_http(demo: httpx.Client, admin: httpx.Client, server: str) -> None:
    base = f"{C}/servers/{server}/metadata"
    assert demo.post(base, json={"metadata": {"a": "1", "b": "2"}}).json() == {
        "metadata": {"a": "1", "b": "2"}
    }
    merged = demo.post(base, json={"metadata": {"c": "3"}})
    assert merged.status_code == 200
    assert merged.json()["metadata"] == {"a": "1", "b": "2", "c": "3"}
    assert demo.put(base, json={"metadata": {"x": "y"}}).json() == {"metadata": {"x": "y"}}
    assert demo.get(base).json() == {"metadata": {"x": "y"}}
    assert demo.get(f"{base}/x").json() == {"meta": {"x": "y"}}
    assert demo.get(f"{base}/nope").status_code == 404
    item = demo.put(f"{base}/k", json={"meta": {"k": "v"}})
    assert (item.status_code, item.json()) == (200, {"meta": {"k": "v"}})
    mismatch = demo.put(f"{base}/k", json={"meta": {"other": "v"}})
    assert mismatch.status_code == 400
    assert "mismatch" in mismatch.json()["badRequest"]["message"]
    assert demo.put(f"{base}/k", json={"meta": {"k": "v", "j": "w"}}).status_code == 400
    assert demo.post(base, json={"metadata": {"a": "x" * 256}}).status_code == 400
    assert demo.post(base, json={"metadata": {"bad/key": "1"}}).status_code == 400
    assert demo.post(base, json={"metadata": ["a"]}).status_code == 400
    assert demo.delete(f"{base}/k").status_code == 204
    assert demo.delete(f"{base}/k").status_code == 404
    # The quota counts the items the server would have.
    many = {f"k{i}": "v" for i in range(129)}
    over = demo.put(base, json={"metadata": many})
    assert over.status_code == 403, over.text
    assert "metadata_items" in over.json()["forbidden"]["message"]
    # Locked: the owner gets 409, an admin goes through.
    assert demo.post(f"{C}/servers/{server}/action", json={"lock": None}).status_code == 202
    try:
        locked = demo.post(base, json={"metadata": {"l": "1"}})
        assert locked.status_code == 409, locked.text
        assert demo.delete(f"{base}/x").status_code == 409
        assert admin.post(base, json={"metadata": {"l": "1"}}).status_code == 200
    finally:
        admin.post(f"{C}/servers/{server}/action", json={"unlock": None})
    assert demo.get(base).json()["metadata"] == {"x": "y", "l": "1"}


def test_metadata_cli(cloud: Cloud, server: str) -> None:
    cloud.openstack(
        "server", "set", "--property", "cli=yes", "--property", "two=2", server,
        cloud="onestack-demo", json_output=False,
    )  # fmt: skip
    shown = cloud.openstack("server", "show", server, cloud="onestack-demo")
    assert shown["properties"]["cli"] == "yes"
    assert shown["properties"]["two"] == "2"
    cloud.openstack(
        "server", "unset", "--property", "cli", server, cloud="onestack-demo", json_output=False
    )
    shown = cloud.openstack("server", "show", server, cloud="onestack-demo")
    assert "cli" not in shown["properties"]
    assert shown["properties"]["two"] == "2"


def test_other_project_cannot_see_sub_resources(
    admin: httpx.Client, demo: httpx.Client, image_id: str
) -> None:
    theirs = boot(admin, image_id, None)
    try:
        for path in ("metadata", "os-interface", "os-volume_attachments", "os-security-groups"):
            resp = demo.get(f"{C}/servers/{theirs}/{path}")
            assert resp.status_code == 404, (path, resp.text)
            assert (
                resp.json()["itemNotFound"]["message"] == f"Instance {theirs} could not be found."
            )
        assert demo.get(f"{C}/servers/{theirs}/tags", headers=mv(26)).status_code == 404
        assert admin.get(f"{C}/servers/{theirs}/metadata").status_code == 200
    finally:
        admin.delete(f"{C}/servers/{theirs}")


# -- tags ----------------------------------------------------------------------------------
def test_tags_http(demo: httpx.Client, server: str) -> None:
    base = f"{C}/servers/{server}/tags"
    assert demo.get(base).status_code == 404  # 2.1: no such resource
    assert demo.put(f"{base}/a", headers=mv(25)).status_code == 404
    h = mv(26)
    created = demo.put(f"{base}/blue", headers=h)
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith(f"/servers/{server}/tags/blue")
    again = demo.put(f"{base}/blue", headers=h)
    assert again.status_code == 204 and "location" in again.headers
    assert demo.get(f"{base}/blue", headers=h).status_code == 204
    assert demo.get(f"{base}/red", headers=h).status_code == 404
    assert demo.get(base, headers=h).json() == {"tags": ["blue"]}
    replaced = demo.put(base, json={"tags": ["b", "a", "b"]}, headers=h)
    assert (replaced.status_code, replaced.json()) == (200, {"tags": ["a", "b"]})
    assert demo.get(f"{C}/servers/{server}", headers=h).json()["server"]["tags"] == ["a", "b"]
    assert demo.put(base, json={"tags": ["x,y"]}, headers=h).status_code == 400
    assert demo.put(base, json={"tags": ["x" * 61]}, headers=h).status_code == 400
    assert demo.put(f"{base}/a%2Cb", headers=h).status_code == 400
    too_many = demo.put(base, json={"tags": [f"t{i}" for i in range(51)]}, headers=h)
    assert too_many.status_code == 400
    assert "50" in too_many.json()["badRequest"]["message"]
    demo.put(base, json={"tags": [f"t{i}" for i in range(50)]}, headers=h)
    assert demo.put(f"{base}/one-more", headers=h).status_code == 400
    assert demo.delete(f"{base}/t0", headers=h).status_code == 204
    assert demo.delete(f"{base}/t0", headers=h).status_code == 404
    assert demo.delete(base, headers=h).status_code == 204
    assert demo.get(base, headers=h).json() == {"tags": []}


def test_tags_cli(cloud: Cloud, server: str) -> None:
    cloud.openstack(
        "--os-compute-api-version", "2.26", "server", "set", "--tag", "from-cli", server,
        cloud="onestack-demo", json_output=False,
    )  # fmt: skip
    shown = cloud.openstack(
        "--os-compute-api-version", "2.26", "server", "show", server, cloud="onestack-demo"
    )
    assert "from-cli" in shown["tags"]


# -- interfaces ----------------------------------------------------------------------------
def iface_keys(minor: int) -> set[str]:
    keys = {"port_state", "fixed_ips", "port_id", "net_id", "mac_addr"}
    return keys | {"tag"} if minor >= 70 else keys


def test_interfaces_http(demo: httpx.Client, server: str, network: dict[str, Any]) -> None:
    base = f"{C}/servers/{server}/os-interface"
    listed = demo.get(base).json()["interfaceAttachments"]
    assert len(listed) == 1 and set(listed[0]) == iface_keys(1)
    assert listed[0]["net_id"] == network["id"]
    assert listed[0]["fixed_ips"][0]["subnet_id"] == network["subnet_id"]
    body = {"interfaceAttachment": {"net_id": network["id"], "tag": "second"}}
    assert demo.post(base, json=body).status_code == 400  # tag needs 2.49
    made = demo.post(
        base,
        json={
            "interfaceAttachment": {
                "net_id": network["id"],
                "fixed_ips": [{"ip_address": "10.71.0.77"}],
                "tag": "second",
            }
        },
        headers=mv(70),
    )
    assert made.status_code == 200, made.text
    att = made.json()["interfaceAttachment"]
    assert set(att) == iface_keys(70)
    assert att["tag"] == "second"
    assert att["fixed_ips"] == [{"subnet_id": network["subnet_id"], "ip_address": "10.71.0.77"}]
    port_id = att["port_id"]
    shown = demo.get(f"{base}/{port_id}", headers=mv(70)).json()["interfaceAttachment"]
    assert shown["tag"] == "second" and shown["mac_addr"] == att["mac_addr"]
    server_body = demo.get(f"{C}/servers/{server}").json()["server"]
    addrs = [a["addr"] for nets in server_body["addresses"].values() for a in nets]
    assert "10.71.0.77" in addrs
    # Bad requests.
    both = {"interfaceAttachment": {"net_id": network["id"], "port_id": port_id}}
    assert demo.post(base, json=both).status_code == 400
    ip_only = {"interfaceAttachment": {"fixed_ips": [{"ip_address": "10.71.0.9"}]}}
    assert demo.post(base, json=ip_only).status_code == 400
    missing_port = {"interfaceAttachment": {"port_id": "00000000-0000-4000-8000-000000000000"}}
    assert demo.post(base, json=missing_port).status_code == 404
    in_use = demo.post(base, json={"interfaceAttachment": {"port_id": port_id}})
    assert in_use.status_code == 409, in_use.text
    assert demo.get(f"{base}/00000000-0000-4000-8000-000000000000").status_code == 404
    # Detach: the port the server made is gone.
    assert demo.delete(f"{base}/{port_id}").status_code == 202
    assert demo.get(f"{base}/{port_id}").status_code == 404
    assert demo.get(f"/network/v2.0/ports/{port_id}").status_code == 404
    assert demo.delete(f"{base}/{port_id}").status_code == 404
    # A suspended server cannot take one.
    action = f"{C}/servers/{server}/action"
    assert demo.post(action, json={"suspend": None}).status_code == 202
    wait_status(demo, server, "SUSPENDED")
    try:
        busy = demo.post(base, json={"interfaceAttachment": {"net_id": network["id"]}})
        assert busy.status_code == 409, busy.text
    finally:
        demo.post(action, json={"resume": None})
        wait_status(demo, server, "ACTIVE")


def test_interfaces_sdk_and_cli(
    cloud: Cloud, demo: httpx.Client, demo_sdk: Any, server: str, network: dict[str, Any]
) -> None:
    port = demo.post(
        "/network/v2.0/ports", json={"port": {"network_id": network["id"], "name": unique("p")}}
    ).json()["port"]
    cloud.openstack(
        "server", "add", "port", server, port["id"], cloud="onestack-demo", json_output=False
    )
    ids = [i.port_id for i in demo_sdk.compute.server_interfaces(server)]
    assert port["id"] in ids
    bound = demo.get(f"/network/v2.0/ports/{port['id']}").json()["port"]
    assert bound["device_id"] == server and bound["device_owner"].startswith("compute:")
    cloud.openstack(
        "server", "remove", "port", server, port["id"], cloud="onestack-demo", json_output=False
    )
    assert port["id"] not in [i.port_id for i in demo_sdk.compute.server_interfaces(server)]
    # A port the user brought survives its detach, unbound.
    kept = demo.get(f"/network/v2.0/ports/{port['id']}").json()["port"]
    assert kept["device_id"] == ""
    cloud.openstack(
        "server", "add", "network", server, network["id"], cloud="onestack-demo",
        json_output=False,
    )  # fmt: skip
    interfaces = list(demo_sdk.compute.server_interfaces(server))
    assert len(interfaces) == 2
    extra = next(i for i in interfaces if i.port_id not in ids)
    demo_sdk.compute.delete_server_interface(extra, server=server)
    deadline = time.monotonic() + 10
    while len(list(demo_sdk.compute.server_interfaces(server))) != 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)


# -- volume attachments, security groups, diagnostics, password ------------------------------
def test_volume_attachments_of_unknown_volumes(demo: httpx.Client, server: str) -> None:
    base = f"{C}/servers/{server}/os-volume_attachments"
    assert demo.get(base).json() == {"volumeAttachments": []}
    vol = "11111111-2222-4333-8444-555555555555"
    attach = demo.post(base, json={"volumeAttachment": {"volumeId": vol}})
    assert attach.status_code == 404
    assert vol in attach.json()["itemNotFound"]["message"]
    detach = demo.delete(f"{base}/{vol}")
    assert detach.status_code == 404
    assert "is not attached" in detach.json()["itemNotFound"]["message"]
    assert demo.get(f"{base}/{vol}").status_code == 404
    assert demo.post(base, json={"volumeAttachment": {}}).status_code == 400
    assert demo.post(base, json={"volumeAttachment": {"volumeId": "nope"}}).status_code == 400


def test_server_security_groups(demo: httpx.Client, server: str) -> None:
    groups = demo.get(f"{C}/servers/{server}/os-security-groups").json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    group = groups[0]
    assert set(group) == {"id", "name", "description", "tenant_id", "rules"}
    assert group["rules"], "the default group lets its own members in"
    for rule in group["rules"]:
        assert set(rule) == {
            "id", "parent_group_id", "ip_protocol", "from_port", "to_port", "group", "ip_range",
        }  # fmt: skip
        assert rule["parent_group_id"] == group["id"]
        assert rule["group"] == {"name": "default", "tenant_id": group["tenant_id"]} or (
            rule["group"] == {} and "cidr" in rule["ip_range"]
        )


def test_diagnostics_and_password(admin: httpx.Client, demo: httpx.Client, server: str) -> None:
    diag = admin.get(f"{C}/servers/{server}/diagnostics", headers=mv(48))
    assert diag.status_code == 200, diag.text
    body = diag.json()
    assert set(body) == {
        "state", "driver", "hypervisor", "hypervisor_os", "uptime", "config_drive",
        "num_cpus", "num_nics", "num_disks", "memory_details", "cpu_details", "nic_details",
        "disk_details",
    }  # fmt: skip
    assert body["state"] == "running" and body["driver"] == "libvirt"
    assert set(body["memory_details"]) == {"maximum", "used"}
    assert demo.get(f"{C}/servers/{server}/diagnostics").status_code == 403
    assert demo.get(f"{C}/servers/{server}/os-server-password").json() == {"password": ""}
    assert demo.delete(f"{C}/servers/{server}/os-server-password").status_code == 204


# -- consoles -----------------------------------------------------------------------------
def test_console_urls(cloud: Cloud, demo: httpx.Client, server: str) -> None:
    action = f"{C}/servers/{server}/action"
    vnc = demo.post(action, json={"os-getVNCConsole": {"type": "novnc"}})
    assert vnc.status_code == 200, vnc.text
    console = vnc.json()["console"]
    assert console["type"] == "novnc"
    assert re.match(
        rf"^{re.escape(cloud.url)}/compute-console/vnc_lite\.html\?path="
        r"compute-console/websockify%3Ftoken%3D[\w-]+$",
        console["url"],
    ), console["url"]
    serial = demo.post(action, json={"os-getSerialConsole": {"type": "serial"}}).json()
    assert serial["console"]["url"].startswith(
        f"ws://127.0.0.1:{cloud.port}/compute-console/serial?token="
    )
    assert demo.post(action, json={"os-getVNCConsole": {"type": "xvpvnc"}}).status_code == 400
    assert demo.post(action, json={"os-getVNCConsole": {"type": "bogus"}}).status_code == 400
    remote = f"{C}/servers/{server}/remote-consoles"
    body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    assert demo.post(remote, json=body).status_code == 404  # 2.1: no such resource
    made = demo.post(remote, json=body, headers=mv(6))
    assert made.status_code == 200, made.text
    rc = made.json()["remote_console"]
    assert set(rc) == {"protocol", "type", "url"} and rc["protocol"] == "vnc"
    for protocol, kind in (("rdp", "rdp-html5"), ("spice", "spice-html5"), ("mks", "webmks")):
        refused = demo.post(
            remote, json={"remote_console": {"protocol": protocol, "type": kind}}, headers=mv(8)
        )
        assert refused.status_code == 400, (protocol, refused.text)
    mixed = {"remote_console": {"protocol": "vnc", "type": "serial"}}
    assert demo.post(remote, json=mixed, headers=mv(6)).status_code == 400
    page = httpx.get(console["url"], timeout=30)
    assert page.status_code == 200 and "websocket" in page.text.lower()
    cli = cloud.openstack("console", "url", "show", "--novnc", server, cloud="onestack-demo")
    assert "/compute-console/vnc_lite.html?path=" in cli["url"]
    cli = cloud.openstack("console", "url", "show", "--serial", server, cloud="onestack-demo")
    assert cli["url"].startswith("ws://") and "/compute-console/serial?token=" in cli["url"]


class EchoServer:
    """A unix socket that echoes what it gets, upper-cased (a stand-in guest console)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"RFB 003.008\n")
                while data := conn.recv(4096):
                    conn.sendall(data.upper())

    def close(self) -> None:
        self.sock.close()


def test_console_proxy_round_trip(cloud: Cloud, demo: httpx.Client, server: str) -> None:
    sock_path = cloud.data_dir / "instances" / server / "vnc.sock"
    if len(str(sock_path)) >= 104:
        pytest.skip("the test's data dir is too deep for a unix socket path")
    sock_path.parent.mkdir(parents=True, exist_ok=True)
    echo = EchoServer(sock_path)
    try:
        url = demo.post(
            f"{C}/servers/{server}/action", json={"os-getVNCConsole": {"type": "novnc"}}
        ).json()["console"]["url"]
        token = url.rsplit("%3D", 1)[1]
        ws_url = f"ws://127.0.0.1:{cloud.port}/compute-console/websockify?token={token}"

        async def talk() -> list[bytes]:
            async with websockets.connect(ws_url, subprotocols=["binary"]) as ws:  # type: ignore[list-item]
                assert ws.subprotocol == "binary"
                got = [await asyncio.wait_for(ws.recv(), 30)]
                await ws.send(b"hello guest")
                got.append(await asyncio.wait_for(ws.recv(), 30))
                return [g if isinstance(g, bytes) else g.encode() for g in got]

        assert asyncio.run(talk()) == [b"RFB 003.008\n", b"HELLO GUEST"]
        # The token stays good until it expires: noVNC reconnects with the same URL.
        assert asyncio.run(talk())[1] == b"HELLO GUEST"

        async def refused(target: str) -> None:
            with pytest.raises(websockets.exceptions.InvalidStatus):
                async with websockets.connect(target):
                    pass

        asyncio.run(refused(ws_url.replace(token, "not-a-token")))
        # A serial token does not open the VNC console.
        serial = demo.post(
            f"{C}/servers/{server}/action", json={"os-getSerialConsole": {"type": "serial"}}
        ).json()["console"]["url"]
        serial_token = serial.rsplit("=", 1)[1]
        asyncio.run(refused(ws_url.replace(token, serial_token)))
    finally:
        echo.close()
        sock_path.unlink(missing_ok=True)
