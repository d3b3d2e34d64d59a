"""What other services may ask of compute: ``runtime.service(ComputeAPI)``.

- ``get_server(ctx, server_id)``: one live server as the caller may see it (its project's, or
  any for an admin; ``ctx`` None: any, for the system itself); compute's 404
  (``InstanceNotFound``) otherwise. The block storage service checks the server a volume is
  attached to; the dashboard shows one.
- ``list_servers(ctx, all_projects=...)``: the caller's project's live servers (every
  project's for an admin who asks), newest first, at most ``limit``: the dashboard's list.

Servers come back as ``ServerInfo``, plain values; what a server does is asked of compute's
REST API or published on the bus (``notifications.compute``), never read from its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onestack.common.context import RequestContext
from onestack.compute import states
from onestack.compute.service import ComputeService
from onestack.compute.service.server_lists import ListFilters
from onestack.compute.service.servers import ServerRow

__all__ = ["ComputeAPI", "ComputeFacade", "ServerInfo"]


@dataclass(frozen=True)
class ServerInfo:
    id: str
    name: str
    project_id: str
    user_id: str
    status: str  # as the API shows it: ACTIVE, SHUTOFF, BUILD, ERROR...
    task_state: str | None
    host: str | None  # the compute host it runs on, None before it is placed
    availability_zone: str | None
    flavor_name: str
    image_id: str  # "" for a server booted from a volume
    created_at: datetime


class ComputeAPI(Protocol):
    async def get_server(self, ctx: RequestContext | None, server_id: str) -> ServerInfo: ...

    async def list_servers(
        self, ctx: RequestContext, *, all_projects: bool = False, limit: int = 1000
    ) -> list[ServerInfo]: ...


def server_info(row: ServerRow) -> ServerInfo:
    return ServerInfo(
        id=row.uuid,
        name=row.display_name,
        project_id=row.project_id,
        user_id=row.user_id,
        status=states.status(row.vm_state, row.task_state),
        task_state=row.task_state,
        host=row.host,
        availability_zone=row.availability_zone,
        flavor_name=row.flavor.get("name", ""),
        image_id=row.image_ref,
        created_at=row.created_at,
    )


class ComputeFacade:
    """``ComputeAPI`` over the compute service layer."""

    def __init__(self, svc: ComputeService) -> None:
        self._svc = svc

    async def get_server(self, ctx: RequestContext | None, server_id: str) -> ServerInfo:
        return server_info(await self._svc.servers.visible_row(ctx, server_id))

    async def list_servers(
        self, ctx: RequestContext, *, all_projects: bool = False, limit: int = 1000
    ) -> list[ServerInfo]:
        found = await self._svc.servers.listing(
            ctx, ListFilters(all_projects=all_projects), [], limit, None, detail=True
        )
        return [server_info(srv.row) for srv in found]
