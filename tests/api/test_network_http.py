"""The Networking API over raw HTTP: exact shapes, Neutron's error bodies and status codes,
list semantics (filters, fields, sort, pages, tags), policy and project isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from onestack.network.typedrivers import kernel_has_vlan
from tests.support.cloud import Cloud
from tests.support.fixtures import http_client, unique

V2 = "/network/v2.0"


demo = http_client("onestack-demo")


def project_id(client: httpx.Client, name: str) -> str:
    projects = client.get("/identity/v3/projects", params={"name": name}).json()["projects"]
    return str(projects[0]["id"])


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.http(cloud.token()) as client:
        for name in ("admin", "demo"):
            body = {"quota": {"router": -1, "security_group": -1, "floatingip": -1}}
            client.put(f"{V2}/quotas/{project_id(client, name)}", json=body)
        yield client


@pytest.fixture(scope="module")
def reader(cloud: Cloud, admin: httpx.Client) -> Iterator[httpx.Client]:
    """A user with only the reader role on the demo project."""
    name, password = unique("reader"), uuid.uuid4().hex
    user = admin.post(
        "/identity/v3/users",
        json={"user": {"name": name, "password": password, "domain_id": "default"}},
    ).json()["user"]
    roles = admin.get("/identity/v3/roles", params={"name": "reader"}).json()["roles"]
    demo_id = project_id(admin, "demo")
    admin.put(f"/identity/v3/projects/{demo_id}/users/{user['id']}/roles/{roles[0]['id']}")
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": user["id"], "password": password}},
            },
            "scope": {"project": {"id": demo_id}},
        }
    }
    token = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30).headers[
        "X-Subject-Token"
    ]
    with cloud.http(token) as client:
        yield client


def create(client: httpx.Client, kind: str, body: dict[str, Any], status: int = 201) -> Any:
    plural = {
        "security_group": "security-groups",
        "security_group_rule": "security-group-rules",
        "rbac_policy": "rbac-policies",
    }.get(kind, f"{kind}s")
    resp = client.post(f"{V2}/{plural}", json={kind: body})
    assert resp.status_code == status, resp.text
    return resp.json()[kind] if status == 201 else resp.json()


def network_with_subnet(client: httpx.Client, cidr: str, **subnet: Any) -> tuple[Any, Any]:
    net = create(client, "network", {"name": unique("n")})
    sub = create(client, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                    **subnet})  # fmt: skip
    return net, sub


def error(resp: httpx.Response, status: int, kind: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()["NeutronError"]
    assert body["type"] == kind, body
    assert set(body) == {"type", "message", "detail"}
    return str(body["message"])


# Shapes ----------------------------------------------------------------------------------

NETWORK_KEYS = {
    "id", "name", "tenant_id", "project_id", "admin_state_up", "mtu", "status", "subnets",
    "shared", "availability_zone_hints", "availability_zones", "ipv4_address_scope",
    "ipv6_address_scope", "router:external", "description", "port_security_enabled", "tags",
    "created_at", "updated_at", "revision_number", "qos_policy_id",
}  # fmt: skip
PROVIDER = {"provider:network_type", "provider:physical_network", "provider:segmentation_id"}
PORT_KEYS = {
    "id", "name", "tenant_id", "project_id", "network_id", "mac_address", "admin_state_up",
    "status", "device_id", "device_owner", "fixed_ips", "allowed_address_pairs", "extra_dhcp_opts",
    "security_groups", "port_security_enabled", "binding:vnic_type", "description", "tags",
    "created_at", "updated_at", "revision_number", "qos_policy_id",
}  # fmt: skip
BINDING = {"binding:host_id", "binding:vif_type", "binding:vif_details", "binding:profile"}


def test_network_and_port_shapes_by_role(admin: httpx.Client, demo: httpx.Client) -> None:
    net = create(demo, "network", {"name": unique("shape")})
    assert set(net) == NETWORK_KEYS  # a member never sees provider attributes
    as_admin = admin.get(f"{V2}/networks/{net['id']}").json()["network"]
    assert set(as_admin) == NETWORK_KEYS | PROVIDER
    assert as_admin["provider:segmentation_id"] >= 1
    create(demo, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.60.0.0/24"})
    port = create(demo, "port", {"network_id": net["id"]})
    assert set(port) == PORT_KEYS
    full = admin.get(f"{V2}/ports/{port['id']}").json()["port"]
    assert set(full) == PORT_KEYS | BINDING
    assert full["binding:vif_type"] == "unbound" and full["binding:host_id"] == ""
    assert port["created_at"].endswith("Z") and port["revision_number"] == 0


def test_versions_root_and_extensions(cloud: Cloud, admin: httpx.Client) -> None:
    versions = httpx.get(f"{cloud.url}/network", timeout=30).json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "CURRENT"
    collections = {r["collection"] for r in admin.get(f"{V2}").json()["resources"]}
    assert {"networks", "subnets", "ports", "routers", "floatingips"} <= collections
    aliases = {e["alias"] for e in admin.get(f"{V2}/extensions").json()["extensions"]}
    wanted = {"router", "external-net", "security-group", "quotas", "rbac-policies", "binding",
              "allowed-address-pairs", "standard-attr-tag", "agent", "provider", "qos"}  # fmt: skip
    assert wanted <= aliases
    # l3-ha as Neutron's L3 plugin lists it (the ``ha`` attribute); no dvr: no distributed routers.
    assert "l3-ha" in aliases and "dvr" not in aliases
    one = admin.get(f"{V2}/extensions/router").json()["extension"]
    assert set(one) == {"alias", "name", "description", "updated", "links"}
    error(admin.get(f"{V2}/extensions/nope"), 404, "NotFound")


def test_no_token_is_401(cloud: Cloud) -> None:
    resp = httpx.get(f"{cloud.url}{V2}/networks", timeout=30)
    assert resp.status_code == 401


# Bad input --------------------------------------------------------------------------------


def test_overlapping_subnets_are_400(admin: httpx.Client) -> None:
    net, _ = network_with_subnet(admin, "10.61.0.0/24")
    resp = admin.post(f"{V2}/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.61.0.128/25"}})  # fmt: skip
    assert "overlaps" in error(resp, 400, "InvalidInput")
    # Host bits set are accepted and cleared, as Neutron stores the network address.
    resp = admin.post(f"{V2}/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.61.1.7/24"}})  # fmt: skip
    assert resp.status_code == 201 and resp.json()["subnet"]["cidr"] == "10.61.1.0/24"


def test_fixed_ip_outside_subnet_or_taken(admin: httpx.Client) -> None:
    net, sub = network_with_subnet(admin, "10.62.0.0/24")
    outside = {"network_id": net["id"],
               "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.99.0.5"}]}  # fmt: skip
    error(admin.post(f"{V2}/ports", json={"port": outside}), 400, "InvalidIpForSubnet")
    nowhere = {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.99.0.5"}]}
    error(admin.post(f"{V2}/ports", json={"port": nowhere}), 400, "InvalidIpForNetwork")
    wanted = {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.62.0.20"}]}
    first = create(admin, "port", wanted)
    assert first["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.62.0.20"}]
    message = error(admin.post(f"{V2}/ports", json={"port": wanted}), 409,
                    "IpAddressAlreadyAllocated")  # fmt: skip
    assert "10.62.0.20" in message
    # Moving another port onto the taken address is refused the same way.
    other = create(admin, "port", {"network_id": net["id"]})
    resp = admin.put(f"{V2}/ports/{other['id']}",
                     json={"port": {"fixed_ips": [{"ip_address": "10.62.0.20"}]}})  # fmt: skip
    error(resp, 409, "IpAddressAlreadyAllocated")


def test_pool_exhaustion_is_409(admin: httpx.Client) -> None:
    net, _ = network_with_subnet(admin, "10.63.0.0/30", enable_dhcp=False)
    create(admin, "port", {"network_id": net["id"]})  # .2: the only address left
    resp = admin.post(f"{V2}/ports", json={"port": {"network_id": net["id"]}})
    error(resp, 409, "IpAddressGenerationFailure")


def test_delete_network_or_subnet_in_use_is_409(admin: httpx.Client) -> None:
    net, sub = network_with_subnet(admin, "10.64.0.0/24")
    port = create(admin, "port", {"network_id": net["id"]})
    error(admin.delete(f"{V2}/networks/{net['id']}"), 409, "NetworkInUse")
    error(admin.delete(f"{V2}/subnets/{sub['id']}"), 409, "SubnetInUse")
    assert admin.delete(f"{V2}/ports/{port['id']}").status_code == 204
    # Only the DHCP port is left: the network goes, with it.
    assert admin.delete(f"{V2}/networks/{net['id']}").status_code == 204
    error(admin.get(f"{V2}/networks/{net['id']}"), 404, "NetworkNotFound")


def test_router_interface_twice_is_400(admin: httpx.Client) -> None:
    _, sub = network_with_subnet(admin, "10.65.0.0/24")
    router = create(admin, "router", {"name": unique("r")})
    url = f"{V2}/routers/{router['id']}"
    added = admin.put(f"{url}/add_router_interface", json={"subnet_id": sub["id"]})
    assert added.status_code == 200
    info = added.json()
    assert set(info) == {"id", "tenant_id", "project_id", "port_id", "network_id", "subnet_id",
                         "subnet_ids"}  # fmt: skip
    again = admin.put(f"{url}/add_router_interface", json={"subnet_id": sub["id"]})
    assert "already has a port" in error(again, 400, "BadRequest")
    error(admin.delete(f"{V2}/routers/{router['id']}"), 409, "RouterInUse")
    error(admin.delete(f"{V2}/ports/{info['port_id']}"), 409, "ServicePortInUse")
    removed = admin.put(f"{url}/remove_router_interface", json={"subnet_id": sub["id"]})
    assert removed.status_code == 200 and removed.json()["port_id"] == info["port_id"]
    missing = admin.put(f"{url}/remove_router_interface", json={"subnet_id": sub["id"]})
    error(missing, 404, "RouterInterfaceNotFoundForSubnet")


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
         "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 1, "port_range_max": 70000},
         "SecurityGroupInvalidPortValue"),
        ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 80},
         "SecurityGroupInvalidPortValue"),
        ({"protocol": "bogus"}, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": "300"}, "SecurityGroupRuleInvalidProtocol"),
        ({"ethertype": "IPv5"}, "SecurityGroupRuleInvalidEtherType"),
        ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"},
         "SecurityGroupRuleParameterConflict"),
        ({"protocol": "icmp", "port_range_max": 3}, "SecurityGroupMissingIcmpType"),
        ({"protocol": "icmp", "port_range_min": 300}, "SecurityGroupInvalidIcmpValue"),
        ({"port_range_min": 80, "port_range_max": 80}, "InvalidInput"),
        ({"protocol": "gre", "port_range_min": 80, "port_range_max": 80}, "InvalidInput"),
        ({"direction": "sideways"}, "InvalidInput"),
    ],
)  # fmt: skip
def test_bad_security_group_rules_are_400(
    admin: httpx.Client, rule: dict[str, Any], kind: str
) -> None:
    group = create(admin, "security_group", {"name": unique("sg")})
    body = {"security_group_id": group["id"], "direction": "ingress", **rule}
    resp = admin.post(f"{V2}/security-group-rules", json={"security_group_rule": body})
    error(resp, 400, kind)


def test_duplicate_rule_is_409_and_rule_shape(admin: httpx.Client) -> None:
    group = create(admin, "security_group", {"name": unique("sg")})
    body = {"security_group_id": group["id"], "direction": "ingress", "protocol": "udp",
            "port_range_min": 53, "port_range_max": 53,
            "remote_ip_prefix": "10.0.0.0/8"}  # fmt: skip
    rule = create(admin, "security_group_rule", body)
    assert set(rule) == {
        "id", "tenant_id", "project_id", "security_group_id", "direction", "ethertype",
        "protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id",
        "normalized_cidr", "description", "created_at", "updated_at", "revision_number",
    }  # fmt: skip
    again = admin.post(f"{V2}/security-group-rules", json={"security_group_rule": body})
    error(again, 409, "SecurityGroupRuleExists")


def test_a_rules_prefix_is_kept_as_given_beside_its_normalized_cidr(admin: httpx.Client) -> None:
    group = create(admin, "security_group", {"name": unique("sg")})
    body = {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
            "remote_ip_prefix": "10.2.3.124/24"}  # fmt: skip
    rule = create(admin, "security_group_rule", body)
    assert (rule["remote_ip_prefix"], rule["normalized_cidr"]) == ("10.2.3.124/24", "10.2.3.0/24")
    # The same network written another way is the same rule (Neutron compares normalized).
    same = {**body, "remote_ip_prefix": "10.2.3.0/24"}
    again = admin.post(f"{V2}/security-group-rules", json={"security_group_rule": same})
    error(again, 409, "SecurityGroupRuleExists")


def test_another_projects_resources_are_404_unless_shared(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    net, _ = network_with_subnet(admin, "10.66.0.0/24")
    port = create(admin, "port", {"network_id": net["id"]})
    error(demo.get(f"{V2}/networks/{net['id']}"), 404, "NetworkNotFound")
    error(demo.get(f"{V2}/ports/{port['id']}"), 404, "PortNotFound")
    error(demo.put(f"{V2}/ports/{port['id']}", json={"port": {"name": "x"}}), 404, "PortNotFound")
    error(demo.delete(f"{V2}/networks/{net['id']}"), 404, "NetworkNotFound")
    resp = demo.post(f"{V2}/ports", json={"port": {"network_id": net["id"]}})
    error(resp, 404, "NetworkNotFound")
    assert net["id"] not in {n["id"] for n in demo.get(f"{V2}/networks").json()["networks"]}
    assert port["id"] not in {p["id"] for p in demo.get(f"{V2}/ports").json()["ports"]}

    demo_project = project_id(admin, "demo")
    rbac = create(admin, "rbac_policy", {"object_type": "network", "object_id": net["id"],
                                         "action": "access_as_shared",
                                         "target_tenant": demo_project})  # fmt: skip
    assert set(rbac) == {"id", "tenant_id", "project_id", "object_type", "object_id", "action",
                         "target_tenant"}  # fmt: skip
    shared = demo.get(f"{V2}/networks/{net['id']}").json()["network"]
    assert shared["shared"] is True  # shared with the caller, as Neutron reports it
    assert admin.get(f"{V2}/networks/{net['id']}").json()["network"]["shared"] is False
    mine = create(demo, "port", {"network_id": net["id"]})
    assert mine["project_id"] == demo_project
    error(demo.get(f"{V2}/ports/{port['id']}"), 404, "PortNotFound")  # still not theirs
    # A shared network is visible, not writable.
    resp = demo.put(f"{V2}/networks/{net['id']}", json={"network": {"name": "mine"}})
    assert resp.status_code == 403
    error(admin.delete(f"{V2}/rbac-policies/{rbac['id']}"), 409, "RbacPolicyInUse")


def test_attribute_and_role_policies(
    admin: httpx.Client, demo: httpx.Client, reader: httpx.Client
) -> None:
    resp = demo.post(f"{V2}/networks", json={"network": {"name": "x", "shared": True}})
    assert resp.status_code == 403 and resp.json()["NeutronError"]["type"] == "Forbidden"
    resp = demo.post(f"{V2}/networks", json={"network": {"provider:network_type": "flat"}})
    assert resp.status_code == 403
    other = project_id(admin, "admin")
    resp = demo.post(f"{V2}/networks", json={"network": {"name": "x", "project_id": other}})
    assert resp.status_code == 403
    resp = demo.post(f"{V2}/networks", json={"network": {"name": "x", "bogus": 1}})
    assert "Unrecognized attribute" in error(resp, 400, "HTTPBadRequest")
    resp = demo.post(f"{V2}/networks", json={"network": {"admin_state_up": "maybe"}})
    error(resp, 400, "InvalidInput")
    # A reader reads but never writes.
    assert reader.get(f"{V2}/networks").status_code == 200
    assert reader.post(f"{V2}/networks", json={"network": {"name": "r"}}).status_code == 403
    # Admins create in any project with either key, and see every project.
    demo_project = project_id(admin, "demo")
    net = create(admin, "network", {"name": unique("for-demo"), "tenant_id": demo_project})
    assert net["project_id"] == demo_project == net["tenant_id"]
    assert demo.get(f"{V2}/networks/{net['id']}").status_code == 200
    # Non-admins cannot bind ports to hosts.
    port = create(demo, "port", {"network_id": net["id"]})
    resp = demo.put(f"{V2}/ports/{port['id']}", json={"port": {"binding:host_id": "h1"}})
    assert resp.status_code == 403
    bound = admin.put(f"{V2}/ports/{port['id']}", json={"port": {"binding:host_id": "h1"}})
    assert bound.json()["port"]["binding:host_id"] == "h1"


# List semantics ---------------------------------------------------------------------------


def test_filters_fields_sort_and_pages(admin: httpx.Client) -> None:
    tag = unique("batch")
    names = [f"{tag}-{i}" for i in range(5)]
    ids = {}
    for i, name in enumerate(names):
        net = create(admin, "network", {"name": name, "admin_state_up": i % 2 == 0})
        admin.put(f"{V2}/networks/{net['id']}/tags", json={"tags": [tag, f"n{i}"]})
        ids[name] = net["id"]
    both = admin.get(f"{V2}/networks", params=[("name", names[0]), ("name", names[3])])
    assert sorted(n["name"] for n in both.json()["networks"]) == [names[0], names[3]]
    down = admin.get(f"{V2}/networks", params={"tags": tag, "admin_state_up": "false"})
    assert sorted(n["name"] for n in down.json()["networks"]) == [names[1], names[3]]
    only = admin.get(f"{V2}/networks", params=[("name", names[2]), ("fields", "id"),
                                               ("fields", "name")]).json()["networks"]  # fmt: skip
    assert only == [{"id": ids[names[2]], "name": names[2]}]
    params = {"tags": tag, "sort_key": "name", "sort_dir": "desc"}
    ordered = admin.get(f"{V2}/networks", params=params).json()["networks"]
    assert [n["name"] for n in ordered] == sorted(names, reverse=True)

    page1 = admin.get(f"{V2}/networks", params={"tags": tag, "sort_key": "name",
                                                "sort_dir": "asc", "limit": 2}).json()  # fmt: skip
    assert [n["name"] for n in page1["networks"]] == names[:2]
    links = {link["rel"]: link["href"] for link in page1["networks_links"]}
    assert set(links) == {"next"}
    page2 = admin.get(links["next"]).json()
    assert [n["name"] for n in page2["networks"]] == names[2:4]
    links2 = {link["rel"]: link["href"] for link in page2["networks_links"]}
    assert set(links2) == {"next", "previous"}
    back = admin.get(links2["previous"]).json()
    assert [n["name"] for n in back["networks"]] == names[:2]
    last = admin.get(links2["next"]).json()
    assert [n["name"] for n in last["networks"]] == names[4:]
    assert [link["rel"] for link in last["networks_links"]] == ["previous"]

    any_of = admin.get(f"{V2}/networks", params={"tags-any": "n1,n2"}).json()["networks"]
    assert sorted(n["name"] for n in any_of) == [names[1], names[2]]
    not_any = admin.get(f"{V2}/networks", params={"tags": tag, "not-tags-any": "n0,n4"})
    assert sorted(n["name"] for n in not_any.json()["networks"]) == names[1:4]
    not_all = admin.get(f"{V2}/networks", params={"tags": tag, "not-tags": f"{tag},n0"})
    assert sorted(n["name"] for n in not_all.json()["networks"]) == names[1:]

    error(admin.get(f"{V2}/networks", params={"bogus": "1"}), 400, "InvalidFilter")
    error(admin.get(f"{V2}/networks", params={"sort_key": "bogus"}), 400, "InvalidSortKey")
    resp = admin.get(f"{V2}/networks", params={"router:external": "true"}).json()["networks"]
    assert "public" in {n["name"] for n in resp} and all(n["router:external"] for n in resp)


def test_tags_api_and_revisions(admin: httpx.Client) -> None:
    net = create(admin, "network", {"name": unique("tagged")})
    url = f"{V2}/networks/{net['id']}"
    assert admin.put(f"{url}/tags", json={"tags": ["b", "a"]}).json() == {"tags": ["a", "b"]}
    assert admin.put(f"{url}/tags/c").status_code == 201
    assert admin.get(f"{url}/tags/c").status_code == 204
    assert admin.get(f"{url}/tags").json() == {"tags": ["a", "b", "c"]}
    assert admin.delete(f"{url}/tags/a").status_code == 204
    error(admin.get(f"{url}/tags/a"), 404, "TagNotFound")
    error(admin.delete(f"{url}/tags/a"), 404, "TagNotFound")
    assert admin.delete(f"{url}/tags").status_code == 204
    assert admin.get(url).json()["network"]["tags"] == []
    before = admin.get(url).json()["network"]["revision_number"]
    after = admin.put(url, json={"network": {"name": "renamed"}}).json()["network"]
    assert after["revision_number"] > before and after["name"] == "renamed"
    error(admin.get(f"{V2}/networks/{uuid.uuid4()}/tags"), 404, "TagResourceNotFound")


def test_port_filters_on_fixed_ips_and_groups(admin: httpx.Client) -> None:
    net, sub = network_with_subnet(admin, "10.67.0.0/24")
    group = create(admin, "security_group", {"name": unique("sg")})
    a = create(admin, "port", {"network_id": net["id"], "security_groups": [group["id"]],
                               "fixed_ips": [{"ip_address": "10.67.0.77"}]})  # fmt: skip
    create(admin, "port", {"network_id": net["id"]})
    by_ip = admin.get(f"{V2}/ports", params={"fixed_ips": "ip_address=10.67.0.77"})
    assert [p["id"] for p in by_ip.json()["ports"]] == [a["id"]]
    by_sub = admin.get(f"{V2}/ports", params=[("fixed_ips", f"subnet_id={sub['id']}"),
                                              ("fixed_ips", "ip_address_substr=.77")])  # fmt: skip
    assert [p["id"] for p in by_sub.json()["ports"]] == [a["id"]]
    by_group = admin.get(f"{V2}/ports", params={"security_groups": group["id"]})
    assert [p["id"] for p in by_group.json()["ports"]] == [a["id"]]
    # A group in use cannot go.
    error(admin.delete(f"{V2}/security-groups/{group['id']}"), 409, "SecurityGroupInUse")


def test_quotas_api_and_over_quota(admin: httpx.Client) -> None:
    project = uuid.uuid4().hex
    shown = admin.get(f"{V2}/quotas/{project}").json()["quota"]
    assert shown["network"] == 100 and shown["port"] == 500 and shown["router"] == 10
    updated = admin.put(f"{V2}/quotas/{project}", json={"quota": {"network": 1}}).json()
    assert updated["quota"]["network"] == 1
    create(admin, "network", {"name": unique("q"), "project_id": project})
    resp = admin.post(f"{V2}/networks", json={"network": {"project_id": project}})
    assert "network" in error(resp, 409, "OverQuota")
    details = admin.get(f"{V2}/quotas/{project}/details").json()["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    listed = admin.get(f"{V2}/quotas").json()["quotas"]
    assert any(q["project_id"] == project and q["network"] == 1 for q in listed)
    assert admin.delete(f"{V2}/quotas/{project}").status_code == 204
    assert admin.get(f"{V2}/quotas/{project}").json()["quota"]["network"] == 100
    resp = admin.put(f"{V2}/quotas/{project}", json={"quota": {"bogus": 1}})
    error(resp, 400, "InvalidInput")


def test_floating_ip_needs_a_route_to_the_port(admin: httpx.Client) -> None:
    public = admin.get(f"{V2}/networks", params={"name": "public"}).json()["networks"][0]
    net, _ = network_with_subnet(admin, "10.68.0.0/24")
    port = create(admin, "port", {"network_id": net["id"]})
    fip = create(admin, "floatingip", {"floating_network_id": public["id"]})
    assert set(fip) == {
        "id", "tenant_id", "project_id", "floating_network_id", "floating_ip_address",
        "fixed_ip_address", "port_id", "router_id", "status", "port_details",
        "port_forwardings", "description", "tags", "created_at", "updated_at",
        "revision_number",
    }  # fmt: skip
    resp = admin.put(f"{V2}/floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}})
    error(resp, 404, "ExternalGatewayForFloatingIPNotFound")
    resp = admin.post(f"{V2}/floatingips", json={"floatingip": {"floating_network_id": net["id"]}})
    error(resp, 400, "BadRequest")


def test_floating_ip_leads_only_to_the_projects_own_ports(
    admin: httpx.Client, demo: httpx.Client
) -> None:
    """The owner of a network sees another project's port on it, but may neither associate
    its floating IP with that port nor forward a port of its floating IP to it (404)."""
    public = demo.get(f"{V2}/networks", params={"name": "public"}).json()["networks"][0]
    net, sub = network_with_subnet(demo, "10.72.0.0/24")
    gateway = {"network_id": public["id"]}
    router = create(demo, "router", {"name": unique("r"), "external_gateway_info": gateway})
    resp = demo.put(f"{V2}/routers/{router['id']}/add_router_interface",
                    json={"subnet_id": sub["id"]})  # fmt: skip
    assert resp.status_code == 200, resp.text
    theirs = create(admin, "port", {"network_id": net["id"]})
    assert (
        theirs["project_id"]
        != demo.get(f"{V2}/networks/{net['id']}").json()["network"]["project_id"]
    )
    assert demo.get(f"{V2}/ports/{theirs['id']}").status_code == 200  # visible to the owner
    fip = create(demo, "floatingip", {"floating_network_id": public["id"]})
    forwardings = f"{V2}/floatingips/{fip['id']}/port_forwardings"

    def forwarding(port: Any, external: int) -> dict[str, Any]:
        return {"port_forwarding": {
            "internal_port_id": port["id"],
            "internal_ip_address": port["fixed_ips"][0]["ip_address"],
            "internal_port": 80, "external_port": external, "protocol": "tcp",
        }}  # fmt: skip

    error(demo.post(forwardings, json=forwarding(theirs, 8080)), 404, "PortNotFound")
    resp = demo.put(f"{V2}/floatingips/{fip['id']}", json={"floatingip": {"port_id": theirs["id"]}})
    error(resp, 404, "PortNotFound")
    assert demo.get(forwardings).json()["port_forwardings"] == []
    # The project's own port: allowed; and an update may not retarget it to the other port.
    mine = create(demo, "port", {"network_id": net["id"]})
    resp = demo.post(forwardings, json=forwarding(mine, 8080))
    assert resp.status_code == 201, resp.text
    pf = resp.json()["port_forwarding"]
    resp = demo.put(f"{forwardings}/{pf['id']}", json=forwarding(theirs, 8080))
    error(resp, 404, "PortNotFound")
    shown = demo.get(f"{forwardings}/{pf['id']}").json()["port_forwarding"]
    assert shown["internal_port_id"] == mine["id"]


def test_concurrent_port_creates_get_distinct_addresses(cloud: Cloud, admin: httpx.Client) -> None:
    """Twenty creates at once on one small subnet: no address twice, no error (the unique key
    on (network, address) and the retried transaction settle the races)."""
    import asyncio

    net, _ = network_with_subnet(admin, "10.69.0.0/27", enable_dhcp=False)
    token = admin.headers["X-Auth-Token"]

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=cloud.url, headers={"X-Auth-Token": token},
                                     timeout=60) as client:  # fmt: skip
            body = {"port": {"network_id": net["id"]}}
            return list(await asyncio.gather(
                *[client.post(f"{V2}/ports", json=body) for _ in range(20)]
            ))  # fmt: skip

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [201] * 20, [
        r.text for r in responses if r.status_code != 201
    ][:3]
    addresses = [r.json()["port"]["fixed_ips"][0]["ip_address"] for r in responses]
    assert len(set(addresses)) == 20


def test_vlan_networks_only_where_the_host_has_8021q(admin: httpx.Client) -> None:
    """The cloud runs on this host: `type_drivers = auto` offers vlan only if its kernel can."""
    body = {
        "name": unique("vlan"),
        "provider:network_type": "vlan",
        "provider:physical_network": "physnet1",
    }
    if kernel_has_vlan():
        net = create(admin, "network", body)
        assert net["provider:network_type"] == "vlan"
        assert 1000 <= net["provider:segmentation_id"] <= 1999
    else:
        resp = admin.post(f"{V2}/networks", json={"network": body})
        assert "vlan" in error(resp, 400, "InvalidInput")
    # vxlan is always there (this kernel and every stock one have it).
    vxlan = create(admin, "network", {"name": unique("vx"), "provider:network_type": "vxlan"})
    assert vxlan["provider:network_type"] == "vxlan"
