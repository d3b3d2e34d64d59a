"""Block Storage (Cinder v3): volumes on backend pools, types, quotas, and their host agent."""

from __future__ import annotations

from pathlib import Path

from onestack.common.errors import nova_body
from onestack.common.runtime import ServiceSpec
from onestack.volume import api
from onestack.volume.bootstrap import data_plane, start, stop
from onestack.volume.microversions import negotiate
from onestack.volume.policies import RULES

SPEC = ServiceSpec(
    name="volume",
    catalog_type="block-storage",
    catalog_name="cinder",
    catalog_aliases=(("volumev3", "cinderv3"),),
    prefix="/volume",
    endpoint_path="/volume/v3/$(project_id)s",
    routes=api.routes,
    error_body=nova_body,
    public=api.PUBLIC,
    middleware=(negotiate,),
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
    data_plane=data_plane,
)
