"""Image (Glance v2): the disk images servers boot from, in a pluggable store."""

from __future__ import annotations

from pathlib import Path

from onestack.common.errors import glance_body
from onestack.common.runtime import ServiceSpec
from onestack.image import api
from onestack.image.bootstrap import start
from onestack.image.policies import RULES

SPEC = ServiceSpec(
    name="image",
    catalog_type="image",
    catalog_name="glance",
    prefix="/image",
    endpoint_path="/image",
    routes=api.routes,
    error_body=glance_body,
    public=api.PUBLIC,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
)
