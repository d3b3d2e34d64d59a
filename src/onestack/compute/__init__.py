"""Compute (Nova v2.1): servers as QEMU virtual machines, the scheduler, the metadata API."""

from __future__ import annotations

from pathlib import Path

from onestack.common.errors import nova_body
from onestack.common.runtime import ServiceSpec
from onestack.compute import api, metadata_mount
from onestack.compute.api.versioning import negotiate
from onestack.compute.bootstrap import data_plane, start, stop
from onestack.compute.console_proxy import build_console_app, mount_path
from onestack.compute.policies import RULES

SPEC = ServiceSpec(
    name="compute",
    catalog_type="compute",
    catalog_name="nova",
    prefix="/compute",
    endpoint_path="/compute/v2.1",
    routes=api.routes,
    error_body=nova_body,
    public=api.PUBLIC,
    middleware=(negotiate,),
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
    data_plane=data_plane,
    extra_mounts=(
        (metadata_mount.PATH, metadata_mount.build),
        (mount_path, build_console_app),
    ),
)
