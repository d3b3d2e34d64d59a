"""Server behaviours Tempest's compute tests found wrong, checked against its schemas: the
update and rebuild views, access IPs, disk config, /ips, personality, stopped servers
rebuilt or resized, console output tails, request ids."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.api.test_compute_catalog_api import check
from tests.api.test_compute_server_extras import C, boot, mv, wait_status
from tests.support.fixtures import http_client, unique

demo = http_client("onestack-demo")
admin = http_client("onestack")


@pytest.fixture(scope="module")
def image_id(admin: httpx.Client) -> str:
    body = {"name": unique("conf-img"), "disk_format": "raw", "container_format": "bare"}
    image = admin.post("/image/v2/images", json={**body, "visibility": "public"}).json()["id"]
    put = admin.put(
        f"/image/v2/images/{image}/file",
        content=b"\0" * 4096,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    return str(image)


@pytest.fixture(scope="module")
def network(demo: httpx.Client) -> str:
    net = demo.post("/network/v2.0/networks", json={"network": {"name": unique("cnet")}})
    net_id = str(net.json()["network"]["id"])
    sub = {"network_id": net_id, "ip_version": 4, "cidr": "10.72.0.0/24"}
    assert demo.post("/network/v2.0/subnets", json={"subnet": sub}).status_code == 201
    return net_id


def server_body(image_id: str, network: str, **extra: Any) -> dict[str, Any]:
    return {
        "server": {
            "name": unique("conf"),
            "imageRef": image_id,
            "flavorRef": "1",
            "networks": [{"uuid": network}],
            **extra,
        }
    }


def test_access_ips_disk_config_and_changed_views(
    demo: httpx.Client, image_id: str, network: str
) -> None:
    body = server_body(
        image_id,
        network,
        accessIPv4="1.1.1.1",
        accessIPv6="0000:0000:0000:0000:0000:babe:220.12.22.2",
        **{"OS-DCF:diskConfig": "AUTO"},
    )
    resp = demo.post(f"{C}/servers", json=body)
    assert resp.status_code == 202, resp.text
    assert resp.json()["server"]["OS-DCF:diskConfig"] == "AUTO"
    uuid = resp.json()["server"]["id"]
    assert resp.headers["x-compute-request-id"] == resp.headers["x-openstack-request-id"]
    try:
        shown = wait_status(demo, uuid, "ACTIVE")
        assert shown["accessIPv6"] == "::babe:dc0c:1602"
        assert shown["OS-DCF:diskConfig"] == "AUTO"

        upd = demo.put(
            f"{C}/servers/{uuid}", json={"server": {"name": "n2", "OS-DCF:diskConfig": "MANUAL"}}
        )
        server = check(upd, "v2_1", "servers", "update_server")["server"]
        assert "OS-EXT-STS:vm_state" not in server and server["OS-DCF:diskConfig"] == "MANUAL"
        full = demo.put(f"{C}/servers/{uuid}", json={"server": {"name": "n3"}}, headers=mv(75))
        check(full, "v2_75", "servers", "update_server")

        ips = check(demo.get(f"{C}/servers/{uuid}/ips"), "v2_1", "servers", "list_addresses")
        ((net_name, addrs),) = ips["addresses"].items()
        one = demo.get(f"{C}/servers/{uuid}/ips/{net_name}")
        assert one.json() == {net_name: addrs}
        assert demo.get(f"{C}/servers/{uuid}/ips/no-such").status_code == 404

        rebuild = {"rebuild": {"imageRef": image_id, "accessIPv4": "2.2.2.2"}}
        rb = demo.post(f"{C}/servers/{uuid}/action", json=rebuild)
        server = check(rb, "v2_1", "servers", "rebuild_server_with_admin_pass")["server"]
        assert server["adminPass"] and server["accessIPv4"] == "2.2.2.2"
        wait_status(demo, uuid, "ACTIVE")
        rb = demo.post(f"{C}/servers/{uuid}/action", json=rebuild, headers=mv(75))
        check(rb, "v2_75", "servers", "rebuild_server_with_admin_pass")
        wait_status(demo, uuid, "ACTIVE")

        out = demo.post(f"{C}/servers/{uuid}/action", json={"os-getConsoleOutput": {"length": 3}})
        assert len(out.json()["output"].split("\n")) == 3
    finally:
        demo.delete(f"{C}/servers/{uuid}")


@pytest.mark.parametrize(
    "extra",
    [
        {"accessIPv4": "1.1.1.1.1"},
        {"accessIPv6": "notvalid"},
        {"OS-DCF:diskConfig": "SOMETIMES"},
        {"min_count": 2.5},
        {"personality": [{"path": "/a", "contents": "not base64!"}]},
    ],
)
def test_bad_create_input(
    demo: httpx.Client, image_id: str, network: str, extra: dict[str, Any]
) -> None:
    resp = demo.post(f"{C}/servers", json=server_body(image_id, network, **extra))
    assert resp.status_code == 400, resp.text


def test_personality_quota(demo: httpx.Client, image_id: str, network: str) -> None:
    file = {"path": "/etc/x", "contents": base64.b64encode(b"x").decode()}
    body = server_body(image_id, network, personality=[file] * 6)  # the default quota is 5
    assert demo.post(f"{C}/servers", json=body).status_code == 403
    body = server_body(image_id, network, personality=[file])
    assert demo.post(f"{C}/servers", json=body, headers=mv(57)).status_code == 400


def test_stopped_server_stays_stopped_through_rebuild_and_resize(
    demo: httpx.Client, image_id: str, network: str
) -> None:
    uuid = boot(demo, image_id, network)
    try:
        assert demo.post(f"{C}/servers/{uuid}/action", json={"os-stop": None}).status_code == 202
        wait_status(demo, uuid, "SHUTOFF")
        rebuild = {"rebuild": {"imageRef": image_id}}
        assert demo.post(f"{C}/servers/{uuid}/action", json=rebuild).status_code == 202
        wait_status(demo, uuid, "SHUTOFF")
        resize = {"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "AUTO"}}
        assert demo.post(f"{C}/servers/{uuid}/action", json=resize).status_code == 202
        assert wait_status(demo, uuid, "VERIFY_RESIZE")["OS-DCF:diskConfig"] == "AUTO"
        confirm = demo.post(f"{C}/servers/{uuid}/action", json={"confirmResize": None})
        assert confirm.status_code == 204
        wait_status(demo, uuid, "SHUTOFF")
        restore = demo.post(f"{C}/servers/{uuid}/action", json={"restore": None})
        assert restore.status_code == 409
    finally:
        demo.delete(f"{C}/servers/{uuid}")


def test_tenant_filter_needs_all_tenants(
    admin: httpx.Client, demo: httpx.Client, image_id: str, network: str
) -> None:
    uuid = boot(demo, image_id, network)
    try:
        token = demo.headers["X-Auth-Token"]
        info = admin.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token}).json()
        project = info["token"]["project"]["id"]
        named = admin.get(f"{C}/servers", params={"tenant_id": project}).json()["servers"]
        assert uuid not in {s["id"] for s in named}
        params = {"tenant_id": project, "all_tenants": "1"}
        named = admin.get(f"{C}/servers", params=params).json()["servers"]
        assert uuid in {s["id"] for s in named}
    finally:
        demo.delete(f"{C}/servers/{uuid}")
