"""Nova parity through the network and block storage services: the floating IP proxy
(os-floating-ips, os-floating-ip-pools below 2.36) and the addFloatingIp/removeFloatingIp actions
(below 2.44), the network proxies, the usage audit log, external events, servers' security group
names, block device mappings that cannot be honoured, and the volume proxies (os-volumes,
os-snapshots below 2.36)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import member_of_new_project, new_member, sdk_as
from tests.support.keystone import unique

FIPS = "/compute/v2.1/os-floating-ips"


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Iterator[tuple[Any, httpx.Client]]:
    """A member's SDK connection and raw client, with a network routed to ``public``."""
    user, project, token = new_member(cloud)
    conn = sdk_as(cloud, user, project)
    public = conn.network.find_network("public")
    net = conn.network.create_network(name=unique("fipnet"))
    sub = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.64.0.0/24")
    router = conn.network.create_router(external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=sub.id)
    conn.test_network = net
    with cloud.http(token) as client:
        yield conn, client
    conn.close()


def _server(conn: Any) -> Any:
    image = conn.image.create_image(
        name=unique("img"), disk_format="raw", container_format="bare", data=b"\0" * 1024
    )
    flavor = conn.compute.find_flavor("m1.nano")
    server = conn.compute.create_server(
        name=unique("fip"), image_id=image.id, flavor_id=flavor.id,
        networks=[{"uuid": conn.test_network.id}],
    )  # fmt: skip
    return conn.compute.wait_for_server(server, interval=0.1, wait=60)


def test_pools_allocate_show_release(member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    pools = c.get("/compute/v2.1/os-floating-ip-pools").json()["floating_ip_pools"]
    assert {"name": "public"} in pools
    fip = c.post(FIPS, json={"pool": "public"}).json()["floating_ip"]
    assert fip["pool"] == "public" and fip["instance_id"] is None and fip["fixed_ip"] is None
    assert conn.network.get_ip(fip["id"]).floating_ip_address == fip["ip"]
    assert fip["id"] in {f["id"] for f in c.get(FIPS).json()["floating_ips"]}
    assert c.get(f"{FIPS}/{fip['id']}").json()["floating_ip"]["ip"] == fip["ip"]
    assert c.post(FIPS, json={"pool": "no-such-pool"}).status_code == 404
    assert c.delete(f"{FIPS}/{fip['id']}").status_code == 202
    assert c.get(f"{FIPS}/{fip['id']}").status_code == 404
    assert c.delete(f"{FIPS}/{fip['id']}").status_code == 404
    assert c.get(FIPS, headers={"X-OpenStack-Nova-API-Version": "2.36"}).status_code == 404


def test_associate_and_disassociate(member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    server = _server(conn)
    first = c.post(FIPS, json={"pool": "public"}).json()["floating_ip"]
    second = c.post(FIPS, json={"pool": "public"}).json()["floating_ip"]
    action = f"/compute/v2.1/servers/{server.id}/action"
    r = c.post(action, json={"addFloatingIp": {"address": first["ip"]}})
    assert r.status_code == 202, r.text
    shown = c.get(f"{FIPS}/{first['id']}").json()["floating_ip"]
    assert shown["instance_id"] == server.id and shown["fixed_ip"].startswith("10.64.0.")
    # The server's only port has a floating IP already: a second is refused.
    assert c.post(action, json={"addFloatingIp": {"address": second["ip"]}}).status_code == 400
    assert c.post(action, json={"addFloatingIp": {"address": "10.255.255.1"}}).status_code == 404
    r = c.post(action, json={"removeFloatingIp": {"address": first["ip"]}})
    assert r.status_code == 202, r.text
    assert c.get(f"{FIPS}/{first['id']}").json()["floating_ip"]["instance_id"] is None
    # Not associated any more: a conflict.
    assert c.post(action, json={"removeFloatingIp": {"address": first["ip"]}}).status_code == 409
    # Removed at 2.44.
    r = c.post(
        action,
        json={"addFloatingIp": {"address": first["ip"]}},
        headers={"X-OpenStack-Nova-API-Version": "2.44"},
    )
    assert r.status_code == 404
    for fip in (first, second):
        c.delete(f"{FIPS}/{fip['id']}")
    conn.compute.delete_server(server)


def test_add_and_remove_fixed_ip(member: tuple[Any, httpx.Client]) -> None:
    """os-multinic below 2.44: one more address from the network on the server's port."""
    conn, c = member
    server = _server(conn)
    (before,) = [
        a["addr"] for a in conn.compute.get_server(server.id).addresses[conn.test_network.name]
    ]
    action = f"/compute/v2.1/servers/{server.id}/action"
    r = c.post(action, json={"addFixedIp": {"networkId": conn.test_network.id}})
    assert r.status_code == 202, r.text
    (port,) = conn.network.ports(device_id=server.id)
    ips = sorted(ip["ip_address"] for ip in port.fixed_ips)
    assert before in ips and len(ips) == 2, ips
    (added,) = set(ips) - {before}
    shown = conn.compute.get_server(server.id).addresses[conn.test_network.name]
    assert sorted(a["addr"] for a in shown) == ips
    assert c.post(action, json={"addFixedIp": {}}).status_code == 400
    other = conn.network.create_network(name=unique("nonic"))
    r = c.post(action, json={"addFixedIp": {"networkId": other.id}})
    assert r.status_code == 404, r.text
    r = c.post(action, json={"removeFixedIp": {"address": added}})
    assert r.status_code == 202, r.text
    (port,) = conn.network.ports(device_id=server.id)
    assert [ip["ip_address"] for ip in port.fixed_ips] == [before]
    r = c.post(action, json={"removeFixedIp": {"address": added}})
    assert r.status_code == 400 and "doesn't have fixed IP" in r.text
    late = {"X-OpenStack-Nova-API-Version": "2.44"}
    body = {"addFixedIp": {"networkId": conn.test_network.id}}
    assert c.post(action, json=body, headers=late).status_code == 404
    conn.compute.delete_server(server)
    conn.network.delete_network(other)


def test_network_proxies(member: tuple[Any, httpx.Client], cloud: Cloud) -> None:
    conn, c = member
    mine = conn.test_network
    listed = c.get("/compute/v2.1/os-tenant-networks").json()["networks"]
    entry = next(n for n in listed if n["id"] == mine.id)
    assert entry == {"id": mine.id, "label": mine.name, "cidr": "10.64.0.0/24"}
    shown = c.get(f"/compute/v2.1/os-tenant-networks/{mine.id}").json()["network"]
    assert shown == entry
    nets = c.get("/compute/v2.1/os-networks").json()["networks"]
    assert mine.name in {n["label"] for n in nets}
    one = c.get(f"/compute/v2.1/os-networks/{mine.id}").json()["network"]
    assert one["label"] == mine.name and one["cidr"] is None and "project_id" not in one
    assert c.post("/compute/v2.1/os-tenant-networks", json={"network": {}}).status_code == 410
    v236 = {"X-OpenStack-Nova-API-Version": "2.36"}
    assert c.get("/compute/v2.1/os-networks", headers=v236).status_code == 404
    with cloud.http(cloud.token()) as admin:
        row = admin.get(f"/compute/v2.1/os-networks/{mine.id}").json()["network"]
        assert row["project_id"] == mine.project_id


def test_instance_usage_audit_log(cloud: Cloud, member: tuple[Any, httpx.Client]) -> None:
    _conn, c = member
    assert c.get("/compute/v2.1/os-instance_usage_audit_log").status_code == 403
    with cloud.http(cloud.token()) as admin:
        logs = admin.get("/compute/v2.1/os-instance_usage_audit_log").json()
        body = logs["instance_usage_audit_logs"]
        assert body["num_hosts"] == body["num_hosts_not_run"] == len(body["hosts_not_run"]) >= 1
        assert body["overall_status"] == f"0 of {body['num_hosts']} hosts done. 0 errors."
        one = admin.get("/compute/v2.1/os-instance_usage_audit_log/2026-03-15 10:00:00").json()
        period = one["instance_usage_audit_log"]
        assert (period["period_beginning"], period["period_ending"]) == (
            "2026-02-01 00:00:00",
            "2026-03-01 00:00:00",
        )
        assert admin.get("/compute/v2.1/os-instance_usage_audit_log/nonsense").status_code == 400


def test_server_external_events(cloud: Cloud, member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    server = _server(conn)
    events = {"events": [{"name": "network-changed", "server_uuid": server.id}]}
    assert c.post("/compute/v2.1/os-server-external-events", json=events).status_code == 403
    # A user with the service role (Neutron's, say) sends them.
    with member_of_new_project(cloud, role="service").client as svc:
        r = svc.post("/compute/v2.1/os-server-external-events", json=events)
        assert r.status_code == 200, r.text
        assert r.json()["events"] == [
            {
                "name": "network-changed",
                "server_uuid": server.id,
                "status": "completed",
                "code": 200,
            }
        ]
        mixed = {"events": [*events["events"], {"name": "network-changed", "server_uuid": "x"}]}
        r = svc.post("/compute/v2.1/os-server-external-events", json=mixed)
        assert r.status_code == 207 and r.json()["events"][1]["code"] == 404
        bad = {"events": [{"name": "no-such-event", "server_uuid": server.id}]}
        assert svc.post("/compute/v2.1/os-server-external-events", json=bad).status_code == 400
    conn.compute.delete_server(server)


def test_server_shows_its_ports_security_group_names(member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    group = conn.network.create_security_group(name=unique("web"))
    port = conn.network.create_port(network_id=conn.test_network.id, security_group_ids=[group.id])
    image = conn.image.create_image(
        name=unique("img"), disk_format="raw", container_format="bare", data=b"\0" * 1024
    )
    flavor = conn.compute.find_flavor("m1.nano")
    on_port = conn.compute.create_server(
        name=unique("p"), image_id=image.id, flavor_id=flavor.id, networks=[{"port": port.id}]
    )
    on_port = conn.compute.wait_for_server(on_port, interval=0.1, wait=60)
    shown = c.get(f"/compute/v2.1/servers/{on_port.id}").json()["server"]
    assert shown["security_groups"] == [{"name": group.name}]
    # Asked for by id, shown by name.
    by_id = c.post(
        "/compute/v2.1/servers",
        json={"server": {
            "name": unique("i"), "imageRef": image.id, "flavorRef": flavor.id,
            "networks": [{"uuid": conn.test_network.id}],
            "security_groups": [{"name": group.id}],
        }},
    )  # fmt: skip
    assert by_id.status_code == 202, by_id.text
    server = conn.compute.wait_for_server(
        conn.compute.get_server(by_id.json()["server"]["id"]), interval=0.1, wait=60
    )
    shown = c.get(f"/compute/v2.1/servers/{server.id}").json()["server"]
    assert shown["security_groups"] == [{"name": group.name}]
    listed = c.get("/compute/v2.1/servers/detail").json()["servers"]
    assert next(s for s in listed if s["id"] == server.id)["security_groups"] == [
        {"name": group.name}
    ]
    for s in (on_port, server):
        conn.compute.delete_server(s)


def test_volume_mappings_are_never_dropped(member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    image = conn.image.create_image(
        name=unique("img"), disk_format="raw", container_format="bare", data=b"\0" * 1024
    )
    flavor = conn.compute.find_flavor("m1.nano")
    bdm = {"source_type": "image", "destination_type": "volume", "boot_index": 1,
           "uuid": image.id, "volume_size": 1, "delete_on_termination": True}  # fmt: skip
    body = {"server": {"name": unique("bdm"), "imageRef": image.id, "flavorRef": flavor.id,
                       "networks": "none", "block_device_mapping_v2": [bdm]}}  # fmt: skip
    resp = c.post(
        "/compute/v2.1/servers", json=body, headers={"X-OpenStack-Nova-API-Version": "2.37"}
    )
    assert resp.status_code == 202, resp.text
    # Honoured: the image written into a second disk, a volume attached to the server.
    server = conn.compute.wait_for_server(
        conn.compute.get_server(resp.json()["server"]["id"]), interval=0.1, wait=60
    )
    (volume,) = server.attached_volumes
    assert volume["delete_on_termination"] is True
    assert conn.block_storage.get_volume(volume["id"]).status == "in-use"
    conn.compute.delete_server(server)


def test_aggregate_may_take_the_internal_zone(cloud: Cloud) -> None:
    with cloud.sdk() as admin:
        agg = admin.compute.create_aggregate(name=unique("agg"))
        agg = admin.compute.update_aggregate(agg, availability_zone="internal")
        assert admin.compute.get_aggregate(agg.id).availability_zone == "internal"
        admin.compute.delete_aggregate(agg)


def test_server_topology(member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    server = _server(conn)
    path = f"/compute/v2.1/servers/{server.id}/topology"
    r = c.get(path, headers={"X-OpenStack-Nova-API-Version": "2.78"})
    assert r.status_code == 200 and r.json() == {"nodes": [], "pagesize_kb": None}
    assert c.get(path, headers={"X-OpenStack-Nova-API-Version": "2.77"}).status_code == 404
    conn.compute.delete_server(server)


VOLS = "/compute/v2.1/os-volumes"
SNAPS = "/compute/v2.1/os-snapshots"


def _until(c: httpx.Client, path: str, key: str, status: str | None) -> dict[str, Any]:
    """Poll ``path`` until its ``key`` has ``status`` (None: until it is gone)."""
    for _ in range(200):
        r = c.get(path)
        if status is None and r.status_code == 404:
            return {}
        if status is not None and r.json()[key]["status"] == status:
            return dict(r.json()[key])
        time.sleep(0.1)
    raise AssertionError(f"{path}: never {status}: {r.text}")


def test_volume_and_snapshot_proxies(cloud: Cloud, member: tuple[Any, httpx.Client]) -> None:
    conn, c = member
    body = {"size": 1, "display_name": unique("pv"), "display_description": "d",
            "metadata": {"k": "v"}}  # fmt: skip
    r = c.post(VOLS, json={"volume": body})
    assert r.status_code == 200, r.text
    vid = r.json()["volume"]["id"]
    vol = _until(c, f"{VOLS}/{vid}", "volume", "available")
    assert vol["displayName"] == body["display_name"] and vol["displayDescription"] == "d"
    assert vol["metadata"] == {"k": "v"} and vol["size"] == 1 and vol["attachments"] == [{}]
    assert vol["snapshotId"] is None and vol["volumeType"] and vol["availabilityZone"]
    # The block storage service's own volume.
    assert conn.block_storage.get_volume(vid).name == body["display_name"]
    for path in (VOLS, f"{VOLS}/detail"):
        assert vid in {v["id"] for v in c.get(path).json()["volumes"]}
    assert len(c.get(VOLS, params={"limit": 1}).json()["volumes"]) == 1
    for bad in ({"size": 0}, {"size": "#$%"}, {"display_name": "x"}, {"size": 1, "x": 1}):
        assert c.post(VOLS, json={"volume": bad}).status_code == 400, bad
    # Deprecated in 2.36: gone from there on, as in Nova.
    for v in ("2.36", "2.37"):
        hdr = {"X-OpenStack-Nova-API-Version": v}
        assert c.get(f"{VOLS}/{vid}", headers=hdr).status_code == 404
        assert c.get(SNAPS, headers=hdr).status_code == 404
    # Another project's member sees neither the volume nor its snapshots.
    with member_of_new_project(cloud).client as other:
        assert other.get(f"{VOLS}/{vid}").status_code == 404
        assert vid not in {v["id"] for v in other.get(VOLS).json()["volumes"]}
        assert other.delete(f"{VOLS}/{vid}").status_code == 404
        snap_bad = {"snapshot": {"volume_id": vid, "display_name": "s"}}
        assert other.post(SNAPS, json=snap_bad).status_code == 404

    # A server's volume shows the server.
    server = _server(conn)
    conn.compute.create_volume_attachment(server, volume_id=vid)
    vol = _until(c, f"{VOLS}/{vid}", "volume", "in-use")
    (att,) = vol["attachments"]
    assert att["serverId"] == server.id and att["volumeId"] == vid and att["device"]
    # An attached volume is snapshotted only with force.
    snap = {"volume_id": vid, "display_name": unique("ps"), "display_description": "sd"}
    assert c.post(SNAPS, json={"snapshot": snap}).status_code == 400
    r = c.post(SNAPS, json={"snapshot": {**snap, "force": True}})
    assert r.status_code == 200, r.text
    sid = r.json()["snapshot"]["id"]
    got = _until(c, f"{SNAPS}/{sid}", "snapshot", "available")
    assert got["volumeId"] == vid and got["displayName"] == snap["display_name"]
    assert got["displayDescription"] == "sd" and got["size"] == 1
    for path in (SNAPS, f"{SNAPS}/detail"):
        assert sid in {s["id"] for s in c.get(path).json()["snapshots"]}
    assert conn.block_storage.get_snapshot(sid).volume_id == vid
    assert c.delete(f"{SNAPS}/{sid}").status_code == 202
    _until(c, f"{SNAPS}/{sid}", "snapshot", None)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.1, wait=60)
    _until(c, f"{VOLS}/{vid}", "volume", "available")
    assert c.delete(f"{VOLS}/{vid}").status_code == 202
    _until(c, f"{VOLS}/{vid}", "volume", None)
    assert c.delete(f"{VOLS}/{vid}").status_code == 404
