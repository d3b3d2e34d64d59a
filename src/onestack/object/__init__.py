"""Object Storage (Swift v1): accounts, containers and objects on this host's disk, with
Swift's large objects, ACLs, CORS, temp URLs, form POST, versioning, quotas and expiry."""

from __future__ import annotations

from onestack.common.runtime import ServiceSpec
from onestack.object import api
from onestack.object.bootstrap import data_plane, start, stop
from onestack.object.errors import swift_body

SPEC = ServiceSpec(
    name="object",
    catalog_type="object-store",
    catalog_name="swift",
    prefix="/object",
    endpoint_path="/object/v1/AUTH_$(project_id)s",
    routes=api.routes,
    app=api.app,
    error_body=swift_body,
    public=api.PUBLIC,
    start=start,
    stop=stop,
    data_plane=data_plane,
    extra_mounts=(("/info", api.info_app), ("/healthcheck", api.healthcheck_app)),
)
