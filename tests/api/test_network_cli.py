"""Acceptance of the Networking API through the real `openstack` command line.

Every line of the issue's CLI acceptance list is a command here, run against the shared cloud
with the fake data plane. Names carry a random suffix: the cloud is shared by the session.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique

pytestmark = pytest.mark.cli


def project_id(cloud: Cloud, name: str) -> str:
    with cloud.http(cloud.token()) as client:
        projects = client.get("/identity/v3/projects", params={"name": name}).json()["projects"]
    return str(projects[0]["id"])


@pytest.fixture(scope="module", autouse=True)
def roomy_quotas(cloud: Cloud) -> Iterator[None]:
    """The session's admin and demo projects make many resources: lift their limits."""
    admin = cloud.token()
    with cloud.http(admin) as client:
        for name in ("admin", "demo"):
            project = project_id(cloud, name)
            body = {"quota": {"router": -1, "security_group": -1, "floatingip": -1}}
            assert client.put(f"/network/v2.0/quotas/{project}", json=body).status_code == 200
    yield


def os(cloud: Cloud, *args: str, demo: bool = False) -> Any:
    return cloud.openstack(*args, cloud="onestack-demo" if demo else "onestack")


def test_network_subnet_port_lifecycle(cloud: Cloud) -> None:
    net = unique("private")
    created = os(cloud, "network", "create", net)
    assert created["name"] == net and created["status"] == "ACTIVE"
    assert created["router:external"] is False and created["mtu"] == 1450
    assert created["provider:network_type"] == "vxlan"

    sub = unique("private-subnet")
    subnet = os(cloud, "subnet", "create", "--network", net, "--subnet-range", "10.42.0.0/24",
                "--dns-nameserver", "10.42.0.53", sub)  # fmt: skip
    assert subnet["cidr"] == "10.42.0.0/24" and subnet["gateway_ip"] == "10.42.0.1"
    assert subnet["dns_nameservers"] == ["10.42.0.53"]
    assert subnet["allocation_pools"] == [{"start": "10.42.0.2", "end": "10.42.0.254"}]
    assert subnet["enable_dhcp"] is True

    port = os(cloud, "port", "create", "--network", net,
              "--fixed-ip", f"subnet={sub},ip-address=10.42.0.10", unique("p"))  # fmt: skip
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.42.0.10"}]
    assert port["mac_address"].startswith("fa:16:3e:")
    assert port["status"] == "DOWN"
    assert len(port["security_group_ids"]) == 1  # the project's default group

    cloud.openstack("port", "set", "--allowed-address", "ip-address=10.42.0.200", port["id"],
                    json_output=False)  # fmt: skip
    shown = os(cloud, "port", "show", port["id"])
    assert shown["allowed_address_pairs"] == [
        {"ip_address": "10.42.0.200", "mac_address": port["mac_address"]}
    ]
    assert shown["revision_number"] > port["revision_number"]

    # The DHCP port of the network took the first free address.
    dhcp = os(cloud, "port", "list", "--network", net, "--device-owner", "network:dhcp")
    assert len(dhcp) == 1 and dhcp[0]["Fixed IP Addresses"][0]["ip_address"] == "10.42.0.2"

    long = os(cloud, "network", "list", "--long")
    row = next(r for r in long if r["Name"] == net)
    assert row["Network Type"] == "vxlan" and row["Router Type"] is False
    assert row["Subnets"] == [subnet["id"]]

    cloud.openstack("port", "delete", port["id"], json_output=False)
    cloud.openstack("subnet", "delete", sub, json_output=False)
    cloud.openstack("network", "delete", net, json_output=False)
    assert not [r for r in os(cloud, "network", "list") if r["Name"] == net]


def test_subnet_options(cloud: Cloud) -> None:
    net = unique("opts")
    os(cloud, "network", "create", net)
    pooled = os(cloud, "subnet", "create", "--network", net, "--subnet-range", "10.43.0.0/24",
                "--allocation-pool", "start=10.43.0.100,end=10.43.0.150", "--gateway", "none",
                "--no-dhcp", "--host-route", "destination=10.50.0.0/16,gateway=10.43.0.254",
                unique("s"))  # fmt: skip
    assert pooled["allocation_pools"] == [{"start": "10.43.0.100", "end": "10.43.0.150"}]
    assert pooled["gateway_ip"] is None and pooled["enable_dhcp"] is False
    assert pooled["host_routes"] == [{"destination": "10.50.0.0/16", "nexthop": "10.43.0.254"}]
    port = os(cloud, "port", "create", "--network", net, unique("p"))
    assert port["fixed_ips"][0]["ip_address"] == "10.43.0.100"
    # No DHCP on any subnet: no DHCP port.
    assert os(cloud, "port", "list", "--network", net, "--device-owner", "network:dhcp") == []

    slaac = os(cloud, "subnet", "create", "--network", net, "--ip-version", "6",
               "--ipv6-ra-mode", "slaac", "--ipv6-address-mode", "slaac",
               "--subnet-range", "fd00:42::/64", unique("v6"))  # fmt: skip
    assert slaac["ipv6_address_mode"] == "slaac" and slaac["ipv6_ra_mode"] == "slaac"
    stateful = os(cloud, "subnet", "create", "--network", net, "--ip-version", "6",
                  "--ipv6-address-mode", "dhcpv6-stateful", "--subnet-range", "fd00:43::/64",
                  unique("v6s"))  # fmt: skip
    assert stateful["ipv6_address_mode"] == "dhcpv6-stateful"
    p6 = os(cloud, "port", "create", "--network", net, unique("p6"))
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in p6["fixed_ips"]}
    mac = p6["mac_address"].split(":")
    eui = ipaddress.IPv6Address(
        f"fd00:42::{int(mac[0], 16) ^ 2:02x}{mac[1]}:{mac[2]}ff:fe{mac[3]}:{mac[4]}{mac[5]}"
    )
    assert ipaddress.IPv6Address(by_subnet[slaac["id"]]) == eui
    assert ipaddress.IPv6Address(by_subnet[stateful["id"]]) in ipaddress.ip_network("fd00:43::/64")


def test_router_floating_ip_and_external_network(cloud: Cloud) -> None:
    external = os(cloud, "network", "list", "--external")
    public = next(n for n in external if n["Name"] == "public")
    shown = os(cloud, "network", "show", "public")
    assert shown["router:external"] is True and shown["provider:network_type"] == "flat"
    public_cidr = ipaddress.ip_network(os(cloud, "subnet", "show", shown["subnets"][0])["cidr"])
    assert public_cidr.overlaps(ipaddress.ip_network("10.0.0.0/8"))
    assert not public_cidr.overlaps(ipaddress.ip_network("192.0.2.0/24"))

    net, sub, router = unique("rnet"), unique("rsub"), unique("r1")
    os(cloud, "network", "create", net)
    os(cloud, "subnet", "create", "--network", net, "--subnet-range", "10.44.0.0/24", sub)
    os(cloud, "router", "create", router)
    cloud.openstack("router", "set", router, "--external-gateway", "public", json_output=False)
    cloud.openstack("router", "add", "subnet", router, sub, json_output=False)
    info = os(cloud, "router", "show", router)
    gateway = info["external_gateway_info"]
    assert gateway["network_id"] == public["ID"] and gateway["enable_snat"] is True
    assert ipaddress.ip_address(gateway["external_fixed_ips"][0]["ip_address"]) in public_cidr
    assert [i["ip_address"] for i in info["interfaces_info"]] == ["10.44.0.1"]

    port = os(cloud, "port", "create", "--network", net, unique("vm"))
    fip = os(cloud, "floating", "ip", "create", "public")
    assert ipaddress.ip_address(fip["floating_ip_address"]) in public_cidr
    assert fip["port_id"] is None and fip["status"] == "DOWN"
    cloud.openstack("floating", "ip", "set", "--port", port["id"], fip["id"], json_output=False)
    associated = os(cloud, "floating", "ip", "show", fip["id"])
    assert associated["port_id"] == port["id"]
    assert associated["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert associated["router_id"] == info["id"]
    cloud.openstack("floating", "ip", "unset", "--port", fip["id"], json_output=False)
    assert os(cloud, "floating", "ip", "show", fip["id"])["port_id"] is None

    # Port forwarding on the (now free) floating IP.
    pf = os(cloud, "floating", "ip", "port", "forwarding", "create", "--internal-ip-address",
            port["fixed_ips"][0]["ip_address"], "--port", port["id"], "--internal-protocol-port",
            "22", "--external-protocol-port", "2222", "--protocol", "tcp", fip["id"])  # fmt: skip
    assert pf["external_port"] == 2222 and pf["internal_port"] == 22
    listed = os(cloud, "floating", "ip", "port", "forwarding", "list", fip["id"])
    assert [x["ID"] for x in listed] == [pf["id"]]

    cloud.openstack("floating", "ip", "delete", fip["id"], json_output=False)
    cloud.openstack("router", "remove", "subnet", router, sub, json_output=False)
    cloud.openstack("router", "unset", "--external-gateway", router, json_output=False)
    assert os(cloud, "router", "show", router)["external_gateway_info"] is None
    cloud.openstack("router", "delete", router, json_output=False)


def test_security_groups(cloud: Cloud) -> None:
    name = unique("web")
    group = os(cloud, "security", "group", "create", name)
    assert sorted((r["direction"], r["ethertype"]) for r in group["rules"]) == [
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    ]
    http = os(cloud, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port",
              "80", "--remote-ip", "0.0.0.0/0", name)  # fmt: skip
    assert (http["protocol"], http["port_range_min"], http["port_range_max"]) == ("tcp", 80, 80)
    assert http["remote_ip_prefix"] == "0.0.0.0/0" and http["direction"] == "ingress"
    # An admin sees every project's "default" group (as in Neutron): pick its own by id.
    mine = os(cloud, "security", "group", "list", "--project", "admin")
    default = next(g for g in mine if g["Name"] == "default")
    ssh = os(cloud, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port",
             "22", "--remote-group", default["ID"], name)  # fmt: skip
    assert ssh["remote_group_id"] == default["ID"] and ssh["remote_ip_prefix"] is None
    v6 = os(cloud, "security", "group", "rule", "create", "--ethertype", "IPv6", "--protocol",
            "tcp", "--dst-port", "443", name)  # fmt: skip
    assert v6["ether_type"] == "IPv6"
    rules = os(cloud, "security", "group", "rule", "list", name)
    assert {r["ID"] for r in rules} >= {http["id"], ssh["id"], v6["id"]}

    # Neutron's default group: all egress, ingress from its own members.
    shown = os(cloud, "security", "group", "show", default["ID"])
    assert sorted(
        (r["direction"], r["ethertype"], r["remote_group_id"]) for r in shown["rules"]
    ) == sorted(
        [
            ("egress", "IPv4", None),
            ("egress", "IPv6", None),
            ("ingress", "IPv4", shown["id"]),
            ("ingress", "IPv6", shown["id"]),
        ]
    )


def test_agents_quota_rbac(cloud: Cloud) -> None:
    agents = os(cloud, "network", "agent", "list")
    assert isinstance(agents, list)
    quota = os(cloud, "quota", "show", "--network")
    limits = {row["Resource"]: row["Limit"] for row in quota}
    assert limits["networks"] == 100 and limits["ports"] == 500

    net = unique("shared")
    os(cloud, "network", "create", net)
    assert net not in {n["Name"] for n in os(cloud, "network", "list", demo=True)}
    rbac = os(cloud, "network", "rbac", "create", "--target-project", "demo", "--action",
              "access_as_shared", "--type", "network", net)  # fmt: skip
    assert rbac["target_project_id"] == project_id(cloud, "demo")
    seen = {n["Name"]: n for n in os(cloud, "network", "list", demo=True)}
    assert net in seen
    os(cloud, "subnet", "create", "--network", net, "--subnet-range", "10.45.0.0/24",
       unique("s"))  # fmt: skip
    port = os(cloud, "port", "create", "--network", net, unique("dp"), demo=True)
    assert port["project_id"] == project_id(cloud, "demo")
    # Revoking the share while the demo project has a port on the network is refused.
    refused = cloud.openstack("network", "rbac", "delete", rbac["id"], check=False,
                              json_output=False)  # fmt: skip
    assert refused.returncode != 0 and "depend" in refused.stderr


def test_address_scope_and_subnet_pool(cloud: Cloud) -> None:
    scope = os(cloud, "address", "scope", "create", "--ip-version", "4", unique("scope"))
    assert scope["ip_version"] == 4
    pool = os(cloud, "subnet", "pool", "create", "--pool-prefix", "10.100.0.0/16",
              "--default-prefix-length", "26", "--address-scope", scope["id"],
              unique("pool"))  # fmt: skip
    assert pool["prefixes"] == ["10.100.0.0/16"] and pool["default_prefixlen"] == 26
    assert pool["address_scope_id"] == scope["id"]
    net = unique("pooled")
    os(cloud, "network", "create", net)
    first = os(cloud, "subnet", "create", "--network", net, "--subnet-pool", pool["id"],
               "--prefix-length", "28", unique("s"))  # fmt: skip
    second = os(cloud, "subnet", "create", "--network", net, "--subnet-pool", pool["id"],
                unique("s"))  # fmt: skip
    assert first["subnetpool_id"] == pool["id"]
    assert ipaddress.ip_network(first["cidr"]).prefixlen == 28
    assert ipaddress.ip_network(second["cidr"]).prefixlen == 26
    assert not ipaddress.ip_network(first["cidr"]).overlaps(ipaddress.ip_network(second["cidr"]))
    shown = os(cloud, "network", "show", net)
    assert shown["ipv4_address_scope"] == scope["id"] and shown["ipv6_address_scope"] is None
    assert shown["revision_number"] >= 2  # one per subnet added


def test_port_list_filters_like_the_cli(cloud: Cloud) -> None:
    net = unique("flt")
    os(cloud, "network", "create", net)
    os(cloud, "subnet", "create", "--network", net, "--subnet-range", "10.46.0.0/24", unique("s"))
    device = str(uuid.uuid4())
    port = os(cloud, "port", "create", "--network", net, "--device", device, unique("p"))
    other = os(cloud, "port", "create", "--network", net, unique("p"))
    by_device = os(cloud, "port", "list", "--device-id", device)
    assert [p["ID"] for p in by_device] == [port["id"]]
    by_ip = os(cloud, "port", "list", "--fixed-ip",
               f"ip-address={other['fixed_ips'][0]['ip_address']}")  # fmt: skip
    assert [p["ID"] for p in by_ip] == [other["id"]]


def test_quota_set_as_the_client_sends_it(cloud: Cloud) -> None:
    """#12 finding 8: `quota set` sends check_limit (or force with --force); Neutron accepts
    both, and check_limit refuses a limit below what the project uses."""
    project = os(cloud, "project", "create", unique("quota"))["id"]
    os(cloud, "network", "create", "--project", project, unique("n"))
    cloud.openstack("quota", "set", "--ports", "300", project, json_output=False)
    refused = cloud.openstack("quota", "set", "--networks", "0", project, check=False,
                              json_output=False)  # fmt: skip
    assert refused.returncode != 0 and "already used" in refused.stderr, refused.stderr
    forced = cloud.openstack("quota", "set", "--force", "--networks", "0", project,
                             check=False, json_output=False)  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    limits = {
        row["Resource"]: row["Limit"] for row in os(cloud, "quota", "show", "--network", project)
    }
    assert (limits["ports"], limits["networks"]) == (300, 0), limits
