"""The Networking API through openstacksdk: resources, filters, pagination, tags, security."""

from __future__ import annotations

from typing import Any

import openstack.exceptions
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Any:
    conn = cloud.sdk("onestack")
    for name in ("admin", "demo"):
        project = conn.identity.find_project(name)
        conn.network.update_quota(project.id, routers=-1, security_groups=-1, floating_ips=-1)
    return conn


demo = sdk_connection("onestack-demo")


def test_sdk_network_subnet_port(demo: Any) -> None:
    net = demo.network.create_network(name=unique("sdk"))
    assert net.status == "ACTIVE" and net.is_admin_state_up and not net.is_router_external
    sub = demo.network.create_subnet(
        network_id=net.id, ip_version=4, cidr="10.70.0.0/24", gateway_ip="10.70.0.254",
        allocation_pools=[{"start": "10.70.0.10", "end": "10.70.0.20"}],
    )  # fmt: skip
    assert sub.gateway_ip == "10.70.0.254"
    port = demo.network.create_port(network_id=net.id, name="a")
    assert port.fixed_ips[0]["ip_address"] == "10.70.0.11"  # .10 went to the DHCP port
    before = port.revision_number
    updated = demo.network.update_port(port.id, name="b", is_admin_state_up=False)
    assert updated.name == "b" and updated.is_admin_state_up is False
    assert updated.revision_number == before + 1
    assert [p.id for p in demo.network.ports(network_id=net.id, name="b")] == [port.id]
    assert demo.network.get_network(net.id).subnet_ids == [sub.id]
    demo.network.delete_port(port)
    demo.network.delete_subnet(sub)
    demo.network.delete_network(net)
    with pytest.raises(openstack.exceptions.NotFoundException):
        demo.network.get_network(net.id)


def test_sdk_pagination_and_tags(admin: Any) -> None:
    tag = unique("page")
    made = []
    for i in range(7):
        net = admin.network.create_network(name=f"{tag}-{i}")
        admin.network.set_tags(net, [tag])
        made.append(net.id)
    # The SDK follows the networks_links "next" pages itself.
    found = [n.id for n in admin.network.networks(tags=tag, limit=2)]
    assert sorted(found) == sorted(made)
    assert admin.network.get_network(made[0]).tags == [tag]


def test_sdk_router_and_floating_ip(admin: Any) -> None:
    public = admin.network.find_network("public")
    net = admin.network.create_network(name=unique("rt"))
    sub = admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.71.0.0/24")
    router = admin.network.create_router(
        name=unique("r"), external_gateway_info={"network_id": public.id}
    )
    admin.network.add_interface_to_router(router, subnet_id=sub.id)
    routes = [{"destination": "10.90.0.0/16", "nexthop": "10.71.0.50"}]
    router = admin.network.update_router(router, routes=routes)
    assert router.routes == routes
    with pytest.raises(openstack.exceptions.BadRequestException):
        admin.network.update_router(router, routes=[{"destination": "10.91.0.0/16",
                                                      "nexthop": "10.250.0.1"}])  # fmt: skip
    port = admin.network.create_port(network_id=net.id)
    fip = admin.network.create_ip(floating_network_id=public.id, port_id=port.id)
    assert fip.router_id == router.id and fip.status == "ACTIVE"
    # A router a floating IP needs cannot lose its interface.
    with pytest.raises(openstack.exceptions.ConflictException):
        admin.network.remove_interface_from_router(router, subnet_id=sub.id)
    admin.network.delete_ip(fip)
    admin.network.update_router(router, routes=[])
    admin.network.remove_interface_from_router(router, subnet_id=sub.id)
    admin.network.delete_router(router)


def test_sdk_router_ha_as_neutron_shows_it(admin: Any, demo: Any) -> None:
    """l3-ha: admins see ``ha`` false (get_router:ha is admin-only), members see no ``ha``;
    HA or distributed routers are refused, not stored and ignored."""
    router = demo.network.create_router(name=unique("r"))
    try:
        assert admin.network.get_router(router.id).is_ha is False
        assert demo.network.get_router(router.id).is_ha is None
        mine = [r for r in demo.network.routers() if r.id == router.id]
        assert mine and mine[0].is_ha is None
        assert router.id in {r.id for r in admin.network.routers(is_ha=False)}
        assert not list(admin.network.routers(is_ha=True))
        admin.network.update_router(router, is_ha=False)
        for wanted in ({"is_ha": True}, {"is_distributed": True}):
            with pytest.raises(openstack.exceptions.BadRequestException):
                admin.network.update_router(router, **wanted)
            with pytest.raises(openstack.exceptions.BadRequestException):
                admin.network.create_router(name=unique("r"), **wanted)
        with pytest.raises(openstack.exceptions.ForbiddenException):
            demo.network.update_router(router, is_ha=False)
    finally:
        demo.network.delete_router(router)


def test_sdk_security_groups_per_project(admin: Any, demo: Any) -> None:
    groups = list(demo.network.security_groups())
    defaults = [g for g in groups if g.name == "default"]
    assert len(defaults) == 1  # made lazily on first look, once
    assert len(list(demo.network.security_groups(name="default"))) == 1
    mine = demo.network.create_security_group(name=unique("sg"))
    rule = demo.network.create_security_group_rule(
        security_group_id=mine.id, direction="ingress", protocol="icmp", ether_type="IPv4",
        port_range_min=8, port_range_max=0,
    )  # fmt: skip
    assert (rule.protocol, rule.port_range_min, rule.port_range_max) == ("icmp", 8, 0)
    # The admin sees it; another member would not.
    assert admin.network.get_security_group(mine.id).id == mine.id
    with pytest.raises(openstack.exceptions.ConflictException):
        demo.network.delete_security_group(defaults[0])
    demo.network.delete_security_group_rule(rule)
    demo.network.delete_security_group(mine)


def test_sdk_agents_and_availability_zones(admin: Any, demo: Any) -> None:
    assert isinstance(list(admin.network.agents()), list)
    # As Neutron: a list is filtered by each item's read policy, so a member sees none.
    assert list(demo.network.agents()) == []
    zones = {(z.name, z.resource) for z in admin.network.availability_zones()}
    assert ("nova", "network") in zones and ("nova", "router") in zones
