"""Cross-project isolation of the Networking API, over raw HTTP: where a project may attach its
routers, which ports it may create on networks it does not own, and which port attributes only
the network's owner may set (Neutron's ``network:tenant_id`` rules)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.fixtures import Caller, alt_project, http_client, unique

V2 = "/network/v2.0"


admin = http_client("onestack")
demo = http_client("onestack-demo")
other = alt_project()


def project_id(client: httpx.Client, name: str) -> str:
    projects = client.get("/identity/v3/projects", params={"name": name}).json()["projects"]
    return str(projects[0]["id"])


def create(client: httpx.Client, kind: str, body: dict[str, Any], status: int = 201) -> Any:
    plural = {"rbac_policy": "rbac-policies"}.get(kind, f"{kind}s")
    resp = client.post(f"{V2}/{plural}", json={kind: body})
    assert resp.status_code == status, resp.text
    return resp.json()[kind] if status == 201 else resp.json()["NeutronError"]


def network_with_subnet(
    client: httpx.Client, cidr: str, **network: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    net = create(client, "network", {"name": unique("iso"), **network})
    sub = create(client, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr})
    return net, sub


def add_interface(client: httpx.Client, router_id: str, body: dict[str, str]) -> httpx.Response:
    return client.put(f"{V2}/routers/{router_id}/add_router_interface", json=body)


def public(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    net = client.get(f"{V2}/networks", params={"name": "public"}).json()["networks"][0]
    sub = client.get(f"{V2}/subnets/{net['subnets'][0]}").json()["subnet"]
    return net, sub


def ports_with_ip(admin: httpx.Client, network_id: str, ip: str) -> list[dict[str, Any]]:
    ports = admin.get(f"{V2}/ports", params={"network_id": network_id}).json()["ports"]
    return [p for p in ports if ip in {f["ip_address"] for f in p["fixed_ips"]}]


# S1: router interfaces ------------------------------------------------------------------


def test_member_cannot_put_a_router_interface_on_the_external_network(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    pub, pub_sub = public(demo)
    router = create(demo, "router", {"name": unique("r")})
    resp = add_interface(demo, router["id"], {"subnet_id": pub_sub["id"]})
    assert resp.status_code == 400, resp.text
    assert resp.json()["NeutronError"]["type"] == "BadRequest"
    assert ports_with_ip(admin, pub["id"], pub_sub["gateway_ip"]) == []
    assert demo.delete(f"{V2}/routers/{router['id']}").status_code == 204
    # Nor by a port: the member cannot even make one there (404, as Neutron hides it).
    err = create(demo, "port", {"network_id": pub["id"]}, status=404)
    assert err["type"] == "HTTPNotFound"
    assert err["message"] == "The resource could not be found."


def test_the_external_gateway_address_is_never_allocated(admin: httpx.Client) -> None:
    pub, pub_sub = public(admin)
    gw = pub_sub["gateway_ip"]
    fixed = [{"subnet_id": pub_sub["id"], "ip_address": gw}]
    err = create(admin, "port", {"network_id": pub["id"], "fixed_ips": fixed}, status=409)
    assert err["type"] == "IpAddressAlreadyAllocated"
    # Not even as an admin's router interface: the host's bridge holds it.
    router = create(admin, "router", {"name": unique("r")})
    resp = add_interface(admin, router["id"], {"subnet_id": pub_sub["id"]})
    assert resp.status_code == 409, resp.text
    # Floating IPs on public keep working for members, and never get the gateway.
    fip = create(admin, "floatingip", {"floating_network_id": pub["id"]})
    assert fip["floating_ip_address"] != gw
    assert admin.delete(f"{V2}/floatingips/{fip['id']}").status_code == 204
    assert admin.delete(f"{V2}/routers/{router['id']}").status_code == 204
    assert ports_with_ip(admin, pub["id"], gw) == []


def test_member_cannot_take_the_gateway_of_a_globally_shared_network(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    net, sub = network_with_subnet(admin, "10.231.0.0/24", shared=True)
    router = create(demo, "router", {"name": unique("r")})
    resp = add_interface(demo, router["id"], {"subnet_id": sub["id"]})
    assert resp.status_code == 400, resp.text
    assert "not owned by project making the request" in resp.json()["NeutronError"]["message"]
    # Nor by choosing the address on a port of its own there (only the owner picks addresses).
    fixed = [{"subnet_id": sub["id"], "ip_address": sub["gateway_ip"]}]
    err = create(demo, "port", {"network_id": net["id"], "fixed_ips": fixed}, status=403)
    assert err["type"] == "Forbidden"
    # Its own port with an address from the pool may go on the shared network, not its router.
    port = create(demo, "port", {"network_id": net["id"]})
    resp = add_interface(demo, router["id"], {"port_id": port["id"]})
    assert resp.status_code == 400, resp.text
    assert ports_with_ip(admin, net["id"], sub["gateway_ip"]) == []
    assert demo.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert demo.delete(f"{V2}/routers/{router['id']}").status_code == 204
    assert admin.delete(f"{V2}/networks/{net['id']}").status_code == 204


def test_member_may_attach_a_network_shared_with_its_project_by_rbac(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    net, sub = network_with_subnet(admin, "10.232.0.0/24")
    router = create(demo, "router", {"name": unique("r")})
    resp = add_interface(demo, router["id"], {"subnet_id": sub["id"]})
    assert resp.status_code == 404 and resp.json()["NeutronError"]["type"] == "SubnetNotFound"
    rbac = create(admin, "rbac_policy", {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": project_id(admin, "demo"),
    })  # fmt: skip
    resp = add_interface(demo, router["id"], {"subnet_id": sub["id"]})
    assert resp.status_code == 200, resp.text
    port_id = resp.json()["port_id"]
    resp = demo.put(f"{V2}/routers/{router['id']}/remove_router_interface",
                    json={"port_id": port_id})  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert demo.delete(f"{V2}/routers/{router['id']}").status_code == 204
    assert admin.delete(f"{V2}/rbac-policies/{rbac['id']}").status_code == 204
    assert admin.delete(f"{V2}/networks/{net['id']}").status_code == 204


# S2: network device owners --------------------------------------------------------------


def test_a_project_cannot_plug_its_network_into_another_projects_router(
    demo: httpx.Client, other: Caller
) -> None:
    client = other.client
    their_router = create(client, "router", {"name": unique("r")})
    net, _sub = network_with_subnet(demo, "10.233.0.0/24")
    body = {"network_id": net["id"], "device_owner": "network:router_interface",
            "device_id": their_router["id"]}  # fmt: skip
    err = create(demo, "port", body, status=409)
    assert err["type"] == "DeviceIDNotOwnedByTenant"
    port = create(demo, "port", {"network_id": net["id"]})
    resp = demo.put(
        f"{V2}/ports/{port['id']}",
        json={
            "port": {"device_owner": "network:router_interface", "device_id": their_router["id"]}
        },
    )
    assert resp.status_code == 409, resp.text
    # The router's owner still sees no interface and may delete it.
    assert client.delete(f"{V2}/routers/{their_router['id']}").status_code == 204
    assert demo.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert demo.delete(f"{V2}/networks/{net['id']}").status_code == 204


def test_network_device_owners_are_for_the_network_owner(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    net, _sub = network_with_subnet(admin, "10.234.0.0/24", shared=True)
    for owner in ("network:router_interface", "network:router_gateway", "network:dhcp",
                  "network:floatingip"):  # fmt: skip
        err = create(demo, "port", {"network_id": net["id"], "device_owner": owner}, status=403)
        assert err["type"] == "Forbidden", owner
    # An ordinary device owner is fine, and an update cannot turn it into a network device.
    port = create(demo, "port", {"network_id": net["id"], "device_owner": "compute:nova"})
    resp = demo.put(f"{V2}/ports/{port['id']}",
                    json={"port": {"device_owner": "network:dhcp"}})  # fmt: skip
    assert resp.status_code == 403, resp.text
    assert demo.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert admin.delete(f"{V2}/networks/{net['id']}").status_code == 204


# S3: anti-spoofing belongs to the network's owner ----------------------------------------


def test_port_security_on_a_shared_network_is_the_network_owners(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    net, sub = network_with_subnet(admin, "10.235.0.0/24", shared=True)
    denied = [
        {"port_security_enabled": False},
        {"allowed_address_pairs": [{"ip_address": "10.235.0.0/24"}]},
        {"mac_address": "fa:16:3e:00:11:22"},
        {"fixed_ips": [{"ip_address": "10.235.0.50"}]},
    ]
    for extra in denied:
        err = create(demo, "port", {"network_id": net["id"], **extra}, status=403)
        assert err["type"] == "Forbidden", extra
    # A subnet alone may be named on a shared network (Neutron's rule:shared).
    port = create(demo, "port", {"network_id": net["id"], "fixed_ips": [{"subnet_id": sub["id"]}]})
    assert port["port_security_enabled"] is True
    for change in ({"port_security_enabled": False, "security_groups": []},
                   {"allowed_address_pairs": [{"ip_address": "0.0.0.0/0"}]},
                   {"fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.235.0.60"}]},
                   {"mac_address": "fa:16:3e:00:11:23"}):  # fmt: skip
        resp = demo.put(f"{V2}/ports/{port['id']}", json={"port": change})
        assert resp.status_code == 403, (change, resp.text)
    shown = demo.get(f"{V2}/ports/{port['id']}").json()["port"]
    assert shown["port_security_enabled"] is True and shown["allowed_address_pairs"] == []
    # The network's owner (admin here) may, on the member's port too.
    resp = admin.put(
        f"{V2}/ports/{port['id']}",
        json={"port": {"allowed_address_pairs": [{"ip_address": "10.235.0.70"}]}},
    )
    assert resp.status_code == 200, resp.text
    assert demo.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert admin.delete(f"{V2}/networks/{net['id']}").status_code == 204


def test_the_network_owner_keeps_its_port_controls(demo: httpx.Client) -> None:
    net, sub = network_with_subnet(demo, "10.236.0.0/24")
    port = create(demo, "port", {
        "network_id": net["id"], "port_security_enabled": False,
        "mac_address": "fa:16:3e:00:33:44",
        "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.236.0.40"}],
    })  # fmt: skip
    assert port["port_security_enabled"] is False
    assert port["fixed_ips"][0]["ip_address"] == "10.236.0.40"
    resp = demo.put(
        f"{V2}/ports/{port['id']}",
        json={
            "port": {
                "port_security_enabled": True,
                "allowed_address_pairs": [{"ip_address": "10.9.9.9"}],
            }
        },
    )
    assert resp.status_code == 200, resp.text
    assert demo.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert demo.delete(f"{V2}/networks/{net['id']}").status_code == 204
