"""The metadata API on the API port at ``/compute-metadata``, where the network's metadata
proxy forwards guests' requests (signed with the shared secret)."""

from __future__ import annotations

from starlette.types import ASGIApp

from onestack.common.runtime import Runtime
from onestack.common.secrets import metadata_secret
from onestack.compute.metadata.api import build_metadata_app
from onestack.compute.metadata.source import InstanceMetadata
from onestack.compute.service import ComputeService

PATH = "/compute-metadata"


class _Lookup:
    """Looks the guest up through the compute service once it has started."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def metadata_for(self, instance_uuid: str) -> InstanceMetadata | None:
        compute = self.runtime.optional(ComputeService)
        if compute is None:
            return None
        return await compute.guests.metadata_for(instance_uuid)

    async def set_password(self, instance_uuid: str, password: str) -> bool:
        compute = self.runtime.optional(ComputeService)
        return compute is not None and await compute.guests.set_password(instance_uuid, password)


def build(runtime: Runtime) -> ASGIApp:
    lookup = _Lookup(runtime)
    return build_metadata_app(lambda: metadata_secret(runtime.settings), lookup, lookup)
