"""QoS policies and rules, and the DHCP and L3 agent schedulers, through `openstack network
qos ...`, `openstack network agent ...` and openstacksdk against the shared cloud: admins make
policies, a project sees its own and shared ones, a port's policy is set and unset, the rule
types show what the Linux bridge driver accepts; agents list the networks and routers they
host and take more or fewer on an administrator's word."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique
from tests.support.waiting import wait_for

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


@pytest.fixture
def policy(cloud: Cloud) -> Iterator[dict[str, Any]]:
    made = cloud.openstack("network", "qos", "policy", "create", "--share", unique("qos"))
    yield made
    cloud.openstack("network", "qos", "policy", "delete", made["id"], check=False)


def test_policy_rules_and_port_from_the_command_line(
    cloud: Cloud, admin: Any, policy: dict[str, Any]
) -> None:
    assert policy["shared"] is True and policy["rules"] == []
    bw = cloud.openstack(
        "network", "qos", "rule", "create", "--type", "bandwidth-limit", "--max-kbps", "1000",
        "--max-burst-kbits", "800", "--egress", policy["id"],
    )  # fmt: skip
    assert (bw["max_kbps"], bw["max_burst_kbps"], bw["direction"]) == (1000, 800, "egress")
    dscp = cloud.openstack(
        "network", "qos", "rule", "create", "--type", "dscp-marking", "--dscp-mark", "26",
        policy["id"],
    )  # fmt: skip
    assert dscp["dscp_mark"] == 26
    net = admin.network.create_network(name=unique("qosnet"))
    try:
        port = admin.network.create_port(network_id=net.id)
        cloud.openstack("port", "set", "--qos-policy", policy["name"], port.id, json_output=False)
        assert admin.network.get_port(port.id).qos_policy_id == policy["id"]
        with pytest.raises(exceptions.ConflictException):  # in use
            admin.network.delete_qos_policy(policy["id"])
        admin.network.update_port(port, qos_policy_id=None)
        admin.network.update_network(net, qos_policy_id=policy["id"])
        assert admin.network.get_network(net.id).qos_policy_id == policy["id"]
        admin.network.update_network(net, qos_policy_id=None)
        admin.network.delete_port(port)
    finally:
        admin.network.delete_network(net)


def test_rules_through_the_sdk(admin: Any) -> None:
    policy = admin.network.create_qos_policy(name=unique("qos"))
    try:
        egress = admin.network.create_qos_bandwidth_limit_rule(policy, max_kbps=1000)
        assert (egress.direction, egress.max_burst_kbps) == ("egress", 0)
        ingress = admin.network.create_qos_bandwidth_limit_rule(
            policy, max_kbps=2000, direction="ingress"
        )
        with pytest.raises(exceptions.ConflictException):  # one limit per direction
            admin.network.create_qos_bandwidth_limit_rule(policy, max_kbps=5)
        with pytest.raises(exceptions.BadRequestException):  # not a DiffServ code point
            admin.network.create_qos_dscp_marking_rule(policy, dscp_mark=7)
        dscp = admin.network.create_qos_dscp_marking_rule(policy, dscp_mark=46)
        admin.network.update_qos_bandwidth_limit_rule(egress, policy, max_kbps=1500)
        assert admin.network.get_qos_bandwidth_limit_rule(egress, policy).max_kbps == 1500
        limits = {r.id for r in admin.network.qos_bandwidth_limit_rules(policy)}
        assert limits == {egress.id, ingress.id}
        admin.network.delete_qos_dscp_marking_rule(dscp, policy)
        shown = admin.network.get_qos_policy(policy.id)
        assert sorted((r["type"], r["direction"]) for r in shown.rules) == [
            ("bandwidth_limit", "egress"), ("bandwidth_limit", "ingress")
        ]  # fmt: skip
        renamed = policy.name + "-renamed"
        admin.network.update_qos_policy(policy, name=renamed, shared=True)
        assert admin.network.find_qos_policy(renamed) is not None
        admin.network.set_tags(shown, ["blue"])  # /v2.0/policies/{id}/tags
        assert admin.network.get_qos_policy(policy.id).tags == ["blue"]
        admin.network.set_tags(shown, [])
        assert admin.network.get_qos_policy(policy.id).tags == []
        types = sorted(t.type for t in admin.network.qos_rule_types())
        assert types == ["bandwidth_limit", "dscp_marking", "minimum_bandwidth"]
        details = admin.network.get_qos_rule_type("bandwidth_limit")
        assert details.drivers[0]["name"] == "linuxbridge"
    finally:
        admin.network.delete_qos_policy(policy)


def test_minimum_bandwidth_rules_are_kept_not_enforced(cloud: Cloud, admin: Any) -> None:
    """Neutron's ``minimum_bandwidth_rules`` (egress and, with qos-bw-minimum-ingress, ingress)
    are stored and shown; the agent's host state carries only the rules it enforces."""
    assert admin.network.find_extension("qos-bw-minimum-ingress") is not None
    policy = admin.network.create_qos_policy(name=unique("qos"))
    try:
        egress = cloud.openstack(
            "network", "qos", "rule", "create", "--type", "minimum-bandwidth", "--min-kbps",
            "1200", "--egress", policy.id,
        )  # fmt: skip
        assert (egress["min_kbps"], egress["direction"]) == (1200, "egress")
        ingress = admin.network.create_qos_minimum_bandwidth_rule(
            policy, min_kbps=300, direction="ingress"
        )
        with pytest.raises(exceptions.ConflictException):  # one per direction
            admin.network.create_qos_minimum_bandwidth_rule(policy, min_kbps=5)
        with pytest.raises(exceptions.BadRequestException):
            admin.network.create_qos_minimum_bandwidth_rule(policy, max_kbps=5)
        admin.network.update_qos_minimum_bandwidth_rule(egress["id"], policy, min_kbps=1800)
        found = admin.network.find_qos_minimum_bandwidth_rule(egress["id"], policy.id)
        assert (found.min_kbps, found.direction) == (1800, "egress")
        listed = {r.id for r in admin.network.qos_minimum_bandwidth_rules(policy)}
        assert listed == {egress["id"], ingress.id}
        assert not list(admin.network.qos_bandwidth_limit_rules(policy))
        shown = admin.network.get_qos_policy(policy.id)
        assert {(r["type"], r["direction"], r["min_kbps"]) for r in shown.rules} == {
            ("minimum_bandwidth", "egress", 1800), ("minimum_bandwidth", "ingress", 300)
        }  # fmt: skip
        assert admin.network.get_qos_rule_type("minimum_bandwidth").drivers == []
        admin.network.delete_qos_minimum_bandwidth_rule(ingress, policy)
        with pytest.raises(exceptions.NotFoundException):
            admin.network.get_qos_minimum_bandwidth_rule(ingress.id, policy)
    finally:
        admin.network.delete_qos_policy(policy)


def test_members_see_shared_policies_and_may_not_make_them(admin: Any, demo: Any) -> None:
    shared = admin.network.create_qos_policy(name=unique("qos"), shared=True)
    private = admin.network.create_qos_policy(name=unique("qos"))
    try:
        seen = {p.id for p in demo.network.qos_policies()}
        assert shared.id in seen and private.id not in seen
        with pytest.raises(exceptions.ForbiddenException):
            demo.network.create_qos_policy(name=unique("qos"))
        with pytest.raises(exceptions.ForbiddenException):
            demo.network.create_qos_bandwidth_limit_rule(shared.id, max_kbps=10)
        net = demo.network.create_network(name=unique("qosnet"))
        try:
            with pytest.raises(exceptions.NotFoundException):
                demo.network.create_port(network_id=net.id, qos_policy_id=private.id)
            port = demo.network.create_port(network_id=net.id, qos_policy_id=shared.id)
            assert port.qos_policy_id == shared.id
            demo.network.delete_port(port)
        finally:
            demo.network.delete_network(net)
        with pytest.raises(exceptions.ForbiddenException):
            list(demo.network.qos_rule_types())
    finally:
        admin.network.delete_qos_policy(shared)
        admin.network.delete_qos_policy(private)


def test_default_policy_goes_to_new_networks(admin: Any) -> None:
    project = admin.current_project_id
    default = admin.network.create_qos_policy(name=unique("qos"), is_default=True)
    try:
        with pytest.raises(exceptions.ConflictException):
            admin.network.create_qos_policy(name=unique("qos"), is_default=True)
        net = admin.network.create_network(name=unique("qosnet"), project_id=project)
        assert net.qos_policy_id == default.id
        admin.network.delete_network(net)
        assert admin.network.get_qos_policy(default.id).is_default is True
    finally:
        admin.network.update_qos_policy(default, is_default=False)
        admin.network.delete_qos_policy(default)


def _agent(admin: Any, agent_type: str) -> str:
    # As Tempest asks: Neutron's MySQL compares agent types regardless of case.
    return str(next(iter(admin.network.agents(agent_type=agent_type.title()))).id)


def _hosting(admin: Any, path: str) -> list[str]:
    return sorted(a["id"] for a in admin.network.get(path).json()["agents"])


def test_dhcp_agent_scheduler_from_the_command_line(cloud: Cloud, admin: Any) -> None:
    agent = _agent(admin, "DHCP agent")
    net = admin.network.create_network(name=unique("dhcpnet"))
    bare = admin.network.create_network(name=unique("dhcpnet"))
    try:
        admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.213.7.0/24")
        hosting = cloud.openstack("network", "agent", "list", "--network", net.id)
        assert [a["ID"] for a in hosting] == [agent]  # where its DHCP port is
        assert _hosting(admin, f"/networks/{bare.id}/dhcp-agents") == []
        cloud.openstack("network", "agent", "add", "network", "--dhcp", agent, bare.id,
                        json_output=False)  # fmt: skip
        hosted = {n.id for n in admin.network.dhcp_agent_hosting_networks(agent)}
        assert {net.id, bare.id} <= hosted
        cloud.openstack("network", "agent", "remove", "network", "--dhcp", agent, net.id,
                        json_output=False)  # fmt: skip
        assert _hosting(admin, f"/networks/{net.id}/dhcp-agents") == []
        assert _hosting(admin, f"/networks/{bare.id}/dhcp-agents") == [agent]
    finally:
        for n in (net, bare):
            admin.network.delete_network(n)


def test_l3_agent_scheduler_from_the_command_line(cloud: Cloud, admin: Any) -> None:
    agent = _agent(admin, "L3 agent")
    router = admin.network.create_router(name=unique("router"))
    try:
        assert _hosting(admin, f"/routers/{router.id}/l3-agents") == []
        cloud.openstack("network", "agent", "add", "router", "--l3", agent, router.id,
                        json_output=False)  # fmt: skip
        hosting = cloud.openstack("network", "agent", "list", "--router", router.id)
        assert [a["ID"] for a in hosting] == [agent]
        assert router.id in {r.id for r in admin.network.agent_hosted_routers(agent)}
        cloud.openstack("network", "agent", "remove", "router", "--l3", agent, router.id,
                        json_output=False)  # fmt: skip
        assert _hosting(admin, f"/routers/{router.id}/l3-agents") == []
    finally:
        admin.network.delete_router(router)


def test_scheduler_errors_and_admin_only_views(admin: Any, demo: Any) -> None:
    agents = {a.agent_type: a.id for a in admin.network.agents()}
    dhcp, l3 = agents["DHCP agent"], agents["L3 agent"]
    router = admin.network.create_router(name=unique("router"))
    try:
        status = {
            "member reads": demo.network.get(f"/agents/{dhcp}/dhcp-networks").status_code,
            "no such network": admin.network.post(
                f"/agents/{dhcp}/dhcp-networks", json={"network_id": "no-such"}
            ).status_code,
            "not a DHCP agent": admin.network.post(
                f"/agents/{l3}/dhcp-networks", json={"network_id": router.id}
            ).status_code,
            "first": admin.network.post(
                f"/agents/{l3}/l3-routers", json={"router_id": router.id}
            ).status_code,
            "twice": admin.network.post(
                f"/agents/{l3}/l3-routers", json={"router_id": router.id}
            ).status_code,
            "removed": admin.network.delete(f"/agents/{l3}/l3-routers/{router.id}").status_code,
            "not hosted": admin.network.delete(f"/agents/{l3}/l3-routers/{router.id}").status_code,
        }
        assert status == {
            "member reads": 403,
            "no such network": 404,
            "not a DHCP agent": 404,
            "first": 201,
            "twice": 409,
            "removed": 204,
            "not hosted": 409,
        }
    finally:
        admin.network.delete_router(router)


def _status(cloud: Cloud, *show: str) -> str:
    return str(cloud.openstack(*show, "-c", "status")["status"])


def test_agents_serve_only_what_they_host(cloud: Cloud, admin: Any) -> None:
    """Taking a router off its L3 agent takes it off the data plane (its ports and floating
    IP DOWN, the agent no longer plugs it), and giving it back rebuilds it; the same for a
    network's DHCP. The agent reports what it plugs ACTIVE again on every round where the
    database says otherwise, so a port that stays DOWN across a round is one it left out."""
    l3, dhcp = _agent(admin, "L3 agent"), _agent(admin, "DHCP agent")
    public = admin.network.find_network("public")
    net = admin.network.create_network(name=unique("schednet"))
    router = admin.network.create_router(
        name=unique("schedrouter"), external_gateway_info={"network_id": public.id}
    )
    fip = vm = None
    try:
        sub = admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.213.9.0/24")
        admin.network.add_interface_to_router(router, subnet_id=sub.id)
        owners = {p.device_owner: p.id for p in admin.network.ports(network_id=net.id)}
        interface, dhcp_port = owners["network:router_interface"], owners["network:dhcp"]
        vm = admin.network.create_port(network_id=net.id, name=unique("schedvm"))
        fip = admin.network.create_ip(floating_network_id=public.id, port_id=vm.id)
        wait_for(
            "an ACTIVE interface", lambda: _status(cloud, "port", "show", interface) == "ACTIVE"
        )
        assert _status(cloud, "floating", "ip", "show", fip.id) == "ACTIVE"

        cloud.openstack("network", "agent", "remove", "router", "--l3", l3, router.id,
                        json_output=False)  # fmt: skip
        assert _status(cloud, "port", "show", interface) == "DOWN"
        assert _status(cloud, "floating", "ip", "show", fip.id) == "DOWN"
        cloud.openstack("network", "agent", "remove", "network", "--dhcp", dhcp, net.id,
                        json_output=False)  # fmt: skip
        assert _status(cloud, "port", "show", dhcp_port) == "DOWN"
        cloud.openstack("network", "agent", "add", "network", "--dhcp", dhcp, net.id,
                        json_output=False)  # fmt: skip
        wait_for(
            "an ACTIVE DHCP port", lambda: _status(cloud, "port", "show", dhcp_port) == "ACTIVE"
        )
        # That round (and the ones the removals began) left the router out.
        assert _status(cloud, "port", "show", interface) == "DOWN"

        cloud.openstack("network", "agent", "add", "router", "--l3", l3, router.id,
                        json_output=False)  # fmt: skip
        assert _status(cloud, "floating", "ip", "show", fip.id) == "ACTIVE"
        wait_for(
            "an ACTIVE interface", lambda: _status(cloud, "port", "show", interface) == "ACTIVE"
        )
        hosting = cloud.openstack("network", "agent", "list", "--router", router.id)
        assert [a["ID"] for a in hosting] == [l3]
    finally:
        if fip is not None:
            admin.network.delete_ip(fip)
        if vm is not None:
            admin.network.delete_port(vm)
        for port in admin.network.ports(device_id=router.id, network_id=net.id):
            admin.network.remove_interface_from_router(router, port_id=port.id)
        admin.network.delete_router(router)
        admin.network.delete_network(net)
