"""Network set-ups the dashboard's network pages are tested on, made through the API."""

from __future__ import annotations

import time
from typing import Any

from tests.support.browser import api, server
from tests.support.cloud import Cloud

NET = "/network/v2.0"


def subnet(cloud: Cloud, tok: str, name: str, cidr: str) -> dict[str, Any]:
    """A network with one subnet."""
    network = api(cloud, "POST", f"{NET}/networks", tok, json={"network": {"name": name}})
    body = {"network_id": network["network"]["id"], "cidr": cidr, "ip_version": 4, "name": name}
    return dict(api(cloud, "POST", f"{NET}/subnets", tok, json={"subnet": body})["subnet"])


def router(cloud: Cloud, tok: str, name: str, subnet_id: str) -> dict[str, Any]:
    """A router with its gateway on ``public`` and an interface on ``subnet_id``."""
    public = api(cloud, "GET", f"{NET}/networks?name=public", tok)["networks"][0]
    body = {"name": name, "external_gateway_info": {"network_id": public["id"]}}
    made = api(cloud, "POST", f"{NET}/routers", tok, json={"router": body})["router"]
    path = f"{NET}/routers/{made['id']}/add_router_interface"
    api(cloud, "PUT", path, tok, json={"subnet_id": subnet_id})
    return dict(made)


def server_on(cloud: Cloud, tok: str, name: str, network_id: str) -> tuple[str, dict[str, Any]]:
    """A server with a port on ``network_id``: its id and that port."""
    made = server(cloud, tok, name, networks=[{"uuid": network_id}])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ports = api(cloud, "GET", f"{NET}/ports?device_id={made['id']}", tok)["ports"]
        if ports:
            return str(made["id"]), dict(ports[0])
        time.sleep(0.3)
    raise AssertionError(f"server {made['id']} got no port")
