"""Trunks (Neutron's trunk and trunk-details extensions) through `openstack network trunk` /
`network subport list` and openstacksdk: sub-ports added and removed, Neutron's rules on
parent and sub-ports and VLAN ids, another project's 404, and an honest status: the data plane
does not tag VLANs, so a bound trunk with sub-ports is DEGRADED, never ACTIVE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import member_of_new_project, sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


@pytest.fixture
def net(demo: Any) -> Iterator[Any]:
    network = demo.network.create_network(name=unique("trunk-net"))
    demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.204.0.0/24")
    yield network
    for port in demo.network.ports(network_id=network.id):
        for trunk in demo.network.trunks(port_id=port.id):
            demo.network.delete_trunk(trunk)
    for port in demo.network.ports(network_id=network.id):
        demo.network.delete_port(port)
    demo.network.delete_network(network)


@pytest.mark.cli
def test_trunk_from_the_command_line(cloud: Cloud, demo: Any, net: Any) -> None:
    def osc(*args: str, **kw: Any) -> Any:
        return cloud.openstack(*args, cloud="onestack-demo", **kw)

    parent, child1, child2 = (
        demo.network.create_port(network_id=net.id, name=unique(n))
        for n in ("parent", "child1", "child2")
    )
    name = unique("trunk")
    trunk = osc(
        "network", "trunk", "create", "--parent-port", parent.name, "--subport",
        f"port={child1.name},segmentation-type=vlan,segmentation-id=100", name,
    )  # fmt: skip
    assert trunk["port_id"] == parent.id and trunk["status"] == "DOWN"
    assert trunk["sub_ports"] == [
        {"port_id": child1.id, "segmentation_type": "vlan", "segmentation_id": 100}
    ]
    assert name in [t["Name"] for t in osc("network", "trunk", "list")]
    osc("network", "trunk", "set", "--subport",
        f"port={child2.name},segmentation-type=vlan,segmentation-id=200", name,
        json_output=False)  # fmt: skip
    subports = osc("network", "subport", "list", "--trunk", name)
    assert sorted((s["Port"], s["Segmentation ID"]) for s in subports) == sorted(
        [(child1.id, 100), (child2.id, 200)]
    )
    details = osc("port", "show", parent.id)["trunk_details"]
    assert details["trunk_id"] == trunk["id"] and len(details["sub_ports"]) == 2

    # Neutron's rules: a used VLAN id, a used port, a parent that is busy.
    clash = osc("network", "trunk", "set", "--subport",
                f"port={unique('none')},segmentation-type=vlan,segmentation-id=100", name,
                check=False, json_output=False)  # fmt: skip
    assert clash.returncode != 0
    busy = osc("port", "delete", child1.id, check=False, json_output=False)
    assert busy.returncode != 0 and f"is currently a subport for trunk {trunk['id']}" in busy.stderr

    osc("network", "trunk", "unset", "--subport", child2.name, name, json_output=False)
    osc("network", "trunk", "set", "--name", f"{name}-2", "--description", "vlans", "--disable",
        name, json_output=False)  # fmt: skip
    shown = osc("network", "trunk", "show", f"{name}-2")
    assert shown["is_admin_state_up"] is False and shown["description"] == "vlans"
    assert [s["port_id"] for s in shown["sub_ports"]] == [child1.id]
    osc("network", "trunk", "delete", f"{name}-2", json_output=False)
    assert "trunk_details" not in demo.network.get_port(parent.id).to_dict(computed=False) or (
        demo.network.get_port(parent.id).trunk_details is None
    )


def test_rules_status_and_isolation(admin: Any, demo: Any, net: Any) -> None:
    parent, a, b, c = (demo.network.create_port(network_id=net.id) for _ in range(4))
    trunk = demo.network.create_trunk(
        port_id=parent.id,
        sub_ports=[{"port_id": a.id, "segmentation_type": "vlan", "segmentation_id": 10}],
    )
    assert trunk.status == "DOWN"
    for bad in (
        {"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 0},
        {"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 4095},
        {"port_id": b.id, "segmentation_type": "vxlan", "segmentation_id": 10},
        {"port_id": b.id, "segmentation_type": "vlan"},
    ):
        with pytest.raises(exceptions.BadRequestException):
            demo.network.add_trunk_subports(trunk, [bad])
    for clash in (
        {"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 10},  # VLAN used
        {"port_id": a.id, "segmentation_type": "vlan", "segmentation_id": 11},  # a sub-port
        {"port_id": parent.id, "segmentation_type": "vlan", "segmentation_id": 12},
    ):
        with pytest.raises(exceptions.ConflictException):
            demo.network.add_trunk_subports(trunk, [clash])
    with pytest.raises(exceptions.ConflictException):
        demo.network.create_trunk(port_id=parent.id)  # already a parent
    with pytest.raises(exceptions.ConflictException):
        demo.network.create_trunk(port_id=a.id)  # a sub-port elsewhere
    demo.network.update_port(c, device_id=unique("vm"))
    with pytest.raises(exceptions.ConflictException):
        demo.network.add_trunk_subports(
            trunk, [{"port_id": c.id, "segmentation_type": "vlan", "segmentation_id": 13}]
        )
    with pytest.raises(exceptions.ConflictException):
        demo.network.delete_port(parent)
    with pytest.raises(exceptions.NotFoundException):
        demo.network.delete_trunk_subports(trunk, [{"port_id": b.id}])

    # Another project sees nothing; the admin sees it.
    other_project = admin.identity.create_project(name=unique("p"), domain_id="default")
    try:
        assert admin.network.get_trunk(trunk.id).port_id == parent.id
        assert trunk.id not in [t.id for t in admin.network.trunks(project_id=other_project.id)]
    finally:
        admin.identity.delete_project(other_project)

    # Bound to a host: sub-ports are not wired (no VLAN tagging), so DEGRADED, never ACTIVE;
    # without sub-ports the parent port works as any port.
    admin.network.update_port(parent, binding_host_id="host-a")
    assert demo.network.get_trunk(trunk.id).status == "DEGRADED"
    demo.network.delete_trunk_subports(trunk, [{"port_id": a.id}])
    assert demo.network.get_trunk(trunk.id).status == "ACTIVE"
    with pytest.raises(exceptions.ConflictException):
        demo.network.delete_trunk(trunk)  # in use: its parent port is bound
    admin.network.update_port(parent, binding_host_id="")
    assert demo.network.get_trunk(trunk.id).status == "DOWN"
    demo.network.delete_trunk(trunk)
    with pytest.raises(exceptions.NotFoundException):
        demo.network.get_trunk(trunk.id)


def test_another_project_gets_404(cloud: Cloud, demo: Any, net: Any) -> None:
    parent = demo.network.create_port(network_id=net.id)
    trunk = demo.network.create_trunk(port_id=parent.id)
    with member_of_new_project(cloud).client as client:
        base = "/network/v2.0/trunks"
        assert client.get(f"{base}/{trunk.id}").status_code == 404
        assert client.get(f"{base}/{trunk.id}/get_subports").status_code == 404
        assert client.delete(f"{base}/{trunk.id}").status_code == 404
        assert trunk.id not in [t["id"] for t in client.get(base).json()["trunks"]]
    demo.network.delete_trunk(trunk)
