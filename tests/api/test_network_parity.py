"""Neutron behaviours that Tempest's network suite checks and a simpler server misses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.fixtures import http_client, unique

V2 = "/network/v2.0"


admin = http_client("onestack")
demo = http_client("onestack-demo")


def create(client: httpx.Client, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    plural = "security-groups" if kind == "security_group" else f"{kind}s"
    plural = "security-group-rules" if kind == "security_group_rule" else plural
    resp = client.post(f"{V2}/{plural}", json={kind: body})
    assert resp.status_code == 201, resp.text
    item: dict[str, Any] = resp.json()[kind]
    return item


def error(resp: httpx.Response, status: int, kind: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()["NeutronError"]
    assert body["type"] == kind, body
    return str(body["message"])


def test_member_lists_agents_as_an_empty_list(admin: httpx.Client, demo: httpx.Client) -> None:
    # Neutron filters lists by each item's read policy: no 403 on a collection.
    resp = demo.get(f"{V2}/agents")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"agents": []}
    assert admin.get(f"{V2}/agents").status_code == 200
    # Showing one is still refused.
    agents = admin.get(f"{V2}/agents").json()["agents"]
    if agents:
        assert demo.get(f"{V2}/agents/{agents[0]['id']}").status_code in (403, 404)


def test_default_security_group_name_is_reserved(demo: httpx.Client) -> None:
    for name in ("default", "Default"):
        resp = demo.post(f"{V2}/security-groups", json={"security_group": {"name": name}})
        assert "Default security group already exists" in error(
            resp, 409, "SecurityGroupDefaultAlreadyExists"
        )
    group = create(demo, "security_group", {"name": unique("sg")})
    resp = demo.put(f"{V2}/security-groups/{group['id']}",
                    json={"security_group": {"name": "default"}})  # fmt: skip
    error(resp, 409, "SecurityGroupDefaultAlreadyExists")
    assert demo.get(f"{V2}/security-groups/{group['id']}").json()["security_group"]["name"] != (
        "default"
    )
    default = demo.get(f"{V2}/security-groups", params={"name": "default"}).json()
    default_id = default["security_groups"][0]["id"]
    resp = demo.put(f"{V2}/security-groups/{default_id}",
                    json={"security_group": {"name": "renamed"}})  # fmt: skip
    error(resp, 409, "SecurityGroupCannotUpdateDefault")
    resp = demo.put(f"{V2}/security-groups/{default_id}",
                    json={"security_group": {"description": "still allowed"}})  # fmt: skip
    assert resp.status_code == 200, resp.text
    demo.delete(f"{V2}/security-groups/{group['id']}")


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (None, 6, "port_range_min must be <= port_range_max"),
        (6, None, "port_range_min must be <= port_range_max"),
        (80, 79, "port_range_min must be <= port_range_max"),
        (-16, 80, "Invalid value for port -16"),
    ],
)
def test_tcp_port_range_needs_both_ends(
    demo: httpx.Client, low: int | None, high: int | None, message: str
) -> None:
    group = create(demo, "security_group", {"name": unique("sg")})
    body = {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": low, "port_range_max": high}  # fmt: skip
    resp = demo.post(f"{V2}/security-group-rules", json={"security_group_rule": body})
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["NeutronError"]["message"]
    # One port is both ends equal.
    rule = create(demo, "security_group_rule", {**body, "port_range_min": 22, "port_range_max": 22})
    assert (rule["port_range_min"], rule["port_range_max"]) == (22, 22)
    demo.delete(f"{V2}/security-groups/{group['id']}")


def test_deleting_external_network_takes_its_floating_ips(admin: httpx.Client) -> None:
    net = create(admin, "network", {"name": unique("ext"), "router:external": True})
    subnet = create(admin, "subnet", {"network_id": net["id"], "cidr": "10.101.7.0/24",
                                      "ip_version": 4, "enable_dhcp": False})  # fmt: skip
    fip = create(admin, "floatingip", {"floating_network_id": net["id"]})
    listed = admin.get(f"{V2}/floatingips", params={"floating_network_id": net["id"]})
    assert [f["id"] for f in listed.json()["floatingips"]] == [fip["id"]]
    resp = admin.delete(f"{V2}/networks/{net['id']}")
    assert resp.status_code == 204, resp.text
    assert admin.get(f"{V2}/floatingips/{fip['id']}").status_code == 404
    assert admin.get(f"{V2}/subnets/{subnet['id']}").status_code == 404
    assert admin.get(f"{V2}/ports", params={"network_id": net["id"]}).json()["ports"] == []


def test_a_port_in_use_still_blocks_network_delete(admin: httpx.Client) -> None:
    net = create(admin, "network", {"name": unique("ext"), "router:external": True})
    create(admin, "subnet", {"network_id": net["id"], "cidr": "10.101.8.0/24", "ip_version": 4})
    port = create(admin, "port", {"network_id": net["id"], "device_owner": "compute:nova"})
    error(admin.delete(f"{V2}/networks/{net['id']}"), 409, "NetworkInUse")
    assert admin.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert admin.delete(f"{V2}/networks/{net['id']}").status_code == 204


def test_subnets_say_whether_their_network_is_external(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    aliases = {e["alias"] for e in demo.get(f"{V2}/extensions").json()["extensions"]}
    assert "subnet-external-network" in aliases
    public = demo.get(f"{V2}/networks", params={"name": "public"}).json()["networks"][0]
    # Tempest: with subnet-external-network, a member sees the subnets of an external network.
    subnets = demo.get(f"{V2}/subnets", params={"network_id": public["id"]}).json()["subnets"]
    assert subnets and all(s["router:external"] is True for s in subnets)
    net = create(demo, "network", {"name": unique("int")})
    mine = create(demo, "subnet", {"network_id": net["id"], "cidr": "10.101.9.0/24",
                                   "ip_version": 4})  # fmt: skip
    assert mine["router:external"] is False
    external = demo.get(f"{V2}/subnets", params={"router:external": "true"}).json()["subnets"]
    ids = {s["id"] for s in external}
    assert {s["id"] for s in subnets} <= ids and mine["id"] not in ids
    internal = demo.get(f"{V2}/subnets", params={"router:external": "false"}).json()["subnets"]
    assert mine["id"] in {s["id"] for s in internal}
    assert demo.get(f"{V2}/subnets", params={"router:external": "maybe"}).status_code == 400
    demo.delete(f"{V2}/networks/{net['id']}")


def test_bulk_create_is_all_or_nothing(admin: httpx.Client) -> None:
    """Neutron's bulk create: one bad item, and none of the others is left behind."""
    net = create(admin, "network", {"name": unique("bulk")})
    ports = [{"network_id": net["id"], "name": unique("ok")} for _ in range(2)]
    ports.append({"network_id": net["id"], "mac_address": "not-a-mac"})
    resp = admin.post(f"{V2}/ports", json={"ports": ports})
    assert resp.status_code == 400, resp.text
    left = admin.get(f"{V2}/ports", params={"network_id": net["id"]}).json()["ports"]
    assert [p for p in left if p["name"].startswith("ok-")] == []
    good = admin.post(f"{V2}/ports", json={"ports": ports[:2]})
    assert good.status_code == 201
    assert len(good.json()["ports"]) == 2
