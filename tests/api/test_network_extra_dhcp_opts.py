"""Extra DHCP options on ports (Neutron's extra_dhcp_opt) through `openstack port` and
openstacksdk: set on create, merged on update (a null value removes one), validated; the
linuxbridge driver's rendering into dnsmasq is in tests/unit/test_linuxbridge_render.py."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique

demo = sdk_connection("onestack-demo")


def _opts(port: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {(o["opt_name"], o["opt_value"], o["ip_version"]) for o in port["extra_dhcp_opts"]}


def test_port_options_from_the_command_line(cloud: Cloud) -> None:
    net = unique("pxe-net")
    cloud.openstack("network", "create", net, cloud="onestack-demo")
    cloud.openstack(
        "subnet", "create", "--network", net, "--subnet-range", "10.77.0.0/24", unique("s"),
        cloud="onestack-demo",
    )  # fmt: skip
    created = cloud.openstack(
        "port", "create", "--network", net,
        "--extra-dhcp-option", "name=bootfile-name,value=pxelinux.0",
        "--extra-dhcp-option", "name=tftp-server,value=10.77.0.9",
        unique("pxe"), cloud="onestack-demo",
    )  # fmt: skip
    assert _opts(created) == {("bootfile-name", "pxelinux.0", 4), ("tftp-server", "10.77.0.9", 4)}

    cloud.openstack(
        "port", "set", "--extra-dhcp-option", "name=bootfile-name,value=ipxe.efi",
        "--extra-dhcp-option", "name=bootfile-url,value=http://boot/x,ip-version=6",
        created["id"], cloud="onestack-demo", json_output=False,
    )  # fmt: skip
    shown = cloud.openstack("port", "show", created["id"], cloud="onestack-demo")
    assert _opts(shown) == {
        ("bootfile-name", "ipxe.efi", 4),
        ("tftp-server", "10.77.0.9", 4),
        ("bootfile-url", "http://boot/x", 6),
    }
    cloud.openstack("port", "delete", created["id"], cloud="onestack-demo", json_output=False)
    cloud.openstack("network", "delete", net, cloud="onestack-demo", json_output=False)


def test_null_value_removes_an_option_and_bad_ones_are_refused(demo: Any) -> None:
    net = demo.network.create_network(name=unique("pxe-net"))
    try:
        port = demo.network.create_port(
            network_id=net.id,
            extra_dhcp_opts=[{"opt_name": "bootfile-name", "opt_value": "pxelinux.0"}],
        )
        port = demo.network.update_port(
            port, extra_dhcp_opts=[{"opt_name": "bootfile-name", "opt_value": None}]
        )
        assert port.extra_dhcp_opts == []
        for bad in (
            [{"opt_value": "x"}],
            [{"opt_name": "a", "opt_value": "x", "color": "red"}],
            [{"opt_name": "a", "opt_value": "x", "ip_version": 5}],
            [{"opt_name": "a", "opt_value": "x\nevil"}],
        ):
            with pytest.raises(exceptions.BadRequestException):
                demo.network.update_port(port, extra_dhcp_opts=bad)
        demo.network.delete_port(port)
    finally:
        demo.network.delete_network(net)
