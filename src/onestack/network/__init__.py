"""Networking (Neutron v2): networks, subnets, ports, routers, floating IPs, security groups."""

from __future__ import annotations

from pathlib import Path

from onestack.common.errors import neutron_body
from onestack.common.runtime import ServiceSpec
from onestack.network import api
from onestack.network.bootstrap import data_plane, start, stop
from onestack.network.policies import RULES

SPEC = ServiceSpec(
    name="network",
    catalog_type="network",
    catalog_name="neutron",
    prefix="/network",
    endpoint_path="/network",
    routes=api.routes,
    error_body=neutron_body,
    public=api.PUBLIC,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
    data_plane=data_plane,
)
