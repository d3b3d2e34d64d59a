"""Networking (Neutron v2): networks, subnets, ports, routers, floating IPs, security groups."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import ServiceSpec
from onestack.network.api import build_app
from onestack.network.bootstrap import start, stop
from onestack.network.policies import RULES

SPEC = ServiceSpec(
    name="network",
    catalog_type="network",
    catalog_name="neutron",
    prefix="/network",
    endpoint_path="/network",
    build_app=build_app,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
)
