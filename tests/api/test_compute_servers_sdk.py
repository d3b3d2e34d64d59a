"""The servers API through openstacksdk: the compute proxy and the cloud layer."""

from __future__ import annotations

from typing import Any

import openstack.exceptions
import openstack.utils
import pytest

from tests.support.fixtures import member_sdk_with_image_and_network, unique


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cloud layer's waits poll every 2 s; the fake data plane is done in 0.1 s."""
    real = openstack.utils.iterate_timeout

    def quick(timeout: float, message: str, wait: float = 2) -> Any:
        return real(timeout, message, wait=min(wait, 0.05))

    monkeypatch.setattr(openstack.utils, "iterate_timeout", quick)


conn = member_sdk_with_image_and_network("sdk", "10.63.0.0/24")


def test_compute_proxy_lifecycle(conn: Any) -> None:
    name = unique("sdk")
    flavor = conn.compute.find_flavor("m1.nano")
    server = conn.compute.create_server(
        name=name,
        image_id=conn.test_image.id,
        flavor_id=flavor.id,
        networks=[{"uuid": conn.test_network.id}],
        metadata={"role": "web"},
    )
    assert server.admin_password
    server = conn.compute.wait_for_server(server, interval=0.05, wait=30)
    assert server.status == "ACTIVE" and server.power_state == 1
    assert server.metadata == {"role": "web"}
    assert server.flavor.original_name == "m1.nano" and server.flavor.ram == 64
    assert server.image.id == conn.test_image.id
    (address,) = server.addresses["sdk-net"]
    assert address["addr"].startswith("10.63.0.") and address["OS-EXT-IPS:type"] == "fixed"

    found = list(conn.compute.servers(details=True, name=f"^{name}$"))
    assert [s.id for s in found] == [server.id] and found[0].status == "ACTIVE"
    assert [s.name for s in conn.compute.servers(details=False, name=name)] == [name]

    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.05, wait=30)
    conn.compute.start_server(server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", interval=0.05, wait=30)
    actions = [a.action for a in conn.compute.server_actions(server)]
    assert actions[:3] == ["start", "stop", "create"]

    output = conn.compute.get_server_console_output(server)["output"]
    assert f"onestack-guest ready {name}" in output

    conn.compute.create_server_image(server, name=f"{name}-snap", wait=True, timeout=30)
    snap = conn.image.find_image(f"{name}-snap")
    assert snap.status == "active" and snap.instance_uuid == server.id

    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.05, wait=30)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server(server.id)
    assert list(conn.network.ports(device_id=server.id)) == []


def test_cloud_layer_create_server(conn: Any) -> None:
    name = unique("cloud")
    server = conn.create_server(
        name,
        image=conn.test_image.id,
        flavor="m1.nano",
        network=conn.test_network.id,
        wait=True,
        auto_ip=False,
        timeout=30,
    )
    assert server.status == "ACTIVE" and server.name == name
    assert server.private_v4.startswith("10.63.0.")
    assert conn.get_server(name).id == server.id
    assert conn.get_server_console(server)
    assert conn.delete_server(name, wait=True, timeout=30) is True
    assert conn.get_server(name) is None


def test_sdk_errors(conn: Any) -> None:
    with pytest.raises(openstack.exceptions.BadRequestException, match="could not be found"):
        conn.compute.create_server(
            name="bad",
            image_id="00000000-0000-0000-0000-000000000000",
            flavor_id="0",
            networks="none",
        )
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server("00000000-0000-0000-0000-000000000000")
