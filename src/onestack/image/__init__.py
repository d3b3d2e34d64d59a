"""Image (Glance v2): the disk images servers boot from, in a pluggable store."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import ServiceSpec
from onestack.image.api import build_app
from onestack.image.policies import RULES

SPEC = ServiceSpec(
    name="image",
    catalog_type="image",
    catalog_name="glance",
    prefix="/image",
    endpoint_path="/image",
    build_app=build_app,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
)
