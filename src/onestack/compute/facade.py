"""What other services may ask of compute: ``runtime.service(ComputeAPI)``.

- ``get_server(ctx, server_id)``: one live server as the caller may see it (its project's, or
  any for an admin; ``ctx`` None: any, for the system itself); compute's 404
  (``InstanceNotFound``) otherwise. The block storage service checks the server a volume is
  attached to; the dashboard shows one.
- ``list_servers(ctx, all_projects=...)``: the caller's project's live servers (every
  project's for an admin who asks), newest first, at most ``limit``: the dashboard's list.
- ``create_server(ctx, req)`` / ``delete_server(ctx, id)``: boot and delete as ``ctx``, with
  the checks ``POST /servers`` and ``DELETE /servers/{id}`` make (orchestration's servers);
  ``flavor_id(ctx, ref)``: the flavor a name or id names, as ``ctx`` sees it.
- ``create_keypair`` / ``delete_keypair``: the caller's (``ctx`` user's) key pairs.
- ``server_action(ctx, id, op)`` (``suspend``, ``resume``, ``confirm_resize``),
  ``resize_server``, ``rebuild_server``, ``update_server`` (name, metadata),
  ``snapshot_server`` (createImage): as the server
  action API does them, with its state checks (orchestration's suspend, resume and update).
- ``create_flavor`` / ``delete_flavor`` and ``create_server_group`` /
  ``delete_server_group``: as the API makes them, under Nova's policy for ``ctx``.

Servers come back as ``ServerInfo``, plain values; what a server does is asked of compute's
REST API or published on the bus (``COMPUTE_NOTIFICATIONS``: ``compute.instance.create.end``,
...; ``SAMPLES_TOPIC``: the hosts' pollsters' samples), never read from its tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute import states
from onestack.compute.agent.pollsters import SAMPLES_TOPIC
from onestack.compute.console_proxy import mount_path
from onestack.compute.policies import P as POLICY_PREFIX
from onestack.compute.service import ComputeService
from onestack.compute.service.actions import RebuildRequest
from onestack.compute.service.base import NOTIFICATIONS as COMPUTE_NOTIFICATIONS
from onestack.compute.service.consoles import TYPES, ConsoleTypeUnavailable, console_link
from onestack.compute.service.create import CreateRequest
from onestack.compute.service.server_lists import ListFilters
from onestack.compute.service.servers import ServerRow

__all__ = [
    "COMPUTE_NOTIFICATIONS",
    "SAMPLES_TOPIC",
    "ComputeAPI",
    "ComputeFacade",
    "CreateRequest",
    "FlavorSpec",
    "NewKeypairInfo",
    "ServerInfo",
]


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
    flavor_id: str = ""  # the flavor's flavorid, as the pollsters' samples carry it


class ComputeAPI(Protocol):
    async def get_server(self, ctx: RequestContext | None, server_id: str) -> ServerInfo: ...

    async def list_servers(
        self, ctx: RequestContext, *, all_projects: bool = False, limit: int = 1000
    ) -> list[ServerInfo]: ...

    async def create_server(self, ctx: RequestContext, req: CreateRequest) -> str:
        """The new server's id (it builds in the background: poll ``get_server``)."""
        ...

    async def delete_server(self, ctx: RequestContext, server_id: str) -> None: ...

    async def flavor_id(self, ctx: RequestContext, ref: str) -> str:
        """The id of the flavor ``ref`` (an id, else a name) names; compute's 404 if none."""
        ...

    async def create_keypair(
        self, ctx: RequestContext, name: str, public_key: str | None, key_type: str = "ssh"
    ) -> NewKeypairInfo:
        """Import ``public_key`` or, when None, generate one (the private key returned once)."""
        ...

    async def delete_keypair(self, ctx: RequestContext, name: str) -> None: ...

    async def attach_volume(
        self, ctx: RequestContext, server_id: str, volume_id: str, device: str | None
    ) -> None:
        """Attach as ``POST /servers/{id}/os-volume_attachments`` does (the volume turns
        ``in-use`` once the guest has it: poll the volume service)."""
        ...

    async def detach_volume(self, ctx: RequestContext, server_id: str, volume_id: str) -> None: ...

    async def server_action(self, ctx: RequestContext, server_id: str, op: str) -> None:
        """``suspend``, ``resume`` or ``confirm_resize`` (compute's 409 in the wrong state;
        the server changes in the background: poll ``get_server``)."""
        ...

    async def resize_server(self, ctx: RequestContext, server_id: str, flavor_ref: str) -> None:
        """Resize (the server goes to VERIFY_RESIZE: then ``confirm_resize``)."""
        ...

    async def rebuild_server(self, ctx: RequestContext, server_id: str, image_ref: str) -> None: ...

    async def snapshot_server(self, ctx: RequestContext, server_id: str, name: str) -> str:
        """``createImage``: the new image's id (it turns active once the server is copied)."""
        ...

    async def update_server(
        self,
        ctx: RequestContext,
        server_id: str,
        *,
        name: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Rename, and/or replace the server's metadata with ``metadata``."""
        ...

    async def create_flavor(self, ctx: RequestContext, spec: FlavorSpec) -> str:
        """A new flavor's id, as ``POST /flavors`` makes it (admin only: Nova's policy)."""
        ...

    async def delete_flavor(self, ctx: RequestContext, flavor_id: str) -> None: ...

    async def create_server_group(
        self, ctx: RequestContext, name: str, policy: str, rules: dict[str, Any]
    ) -> str:
        """A new server group's id in the caller's project (Nova's checks and quota)."""
        ...

    async def delete_server_group(self, ctx: RequestContext, group_id: str) -> None: ...

    async def console_url(self, ctx: RequestContext, server_id: str, console_type: str) -> str:
        """A new URL (with a new short-lived token) of the server's ``console_type`` console,
        as ``os-getVNCConsole`` gives: 400 for a type this cloud does not offer, 409 while
        the guest does not run."""
        ...


@dataclass(frozen=True)
class FlavorSpec:
    name: str
    ram: int
    vcpus: int
    disk: int
    flavorid: str | None = None
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str | None = None
    extra_specs: dict[str, str] = field(default_factory=dict)
    tenants: list[str] = field(default_factory=list)  # access for a private flavor


@dataclass(frozen=True)
class NewKeypairInfo:
    name: str
    public_key: str
    fingerprint: str
    private_key: str | None


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
        flavor_id=str(row.flavor.get("flavorid", "")),
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

    async def create_server(self, ctx: RequestContext, req: CreateRequest) -> str:
        created = await self._svc.creation.create_servers(ctx, req)
        return created.rows[0].uuid

    async def delete_server(self, ctx: RequestContext, server_id: str) -> None:
        await self._svc.actions.delete(ctx, server_id)

    async def flavor_id(self, ctx: RequestContext, ref: str) -> str:
        try:
            return str((await self._svc.flavors.get(ctx, ref)).row.flavorid)
        except errors.NotFound as missing:
            for view in await self._svc.flavors.list(ctx, is_public=None):
                if view.row.name == ref:
                    return str(view.row.flavorid)
            raise missing from None

    async def create_keypair(
        self, ctx: RequestContext, name: str, public_key: str | None, key_type: str = "ssh"
    ) -> NewKeypairInfo:
        made = await self._svc.keypairs.create(
            ctx.user_id, ctx.project_id or "", name, key_type, public_key
        )
        row = made.row
        return NewKeypairInfo(row.name, row.public_key, row.fingerprint, made.private_key)

    async def delete_keypair(self, ctx: RequestContext, name: str) -> None:
        await self._svc.keypairs.delete(ctx.user_id, name)

    async def attach_volume(
        self, ctx: RequestContext, server_id: str, volume_id: str, device: str | None
    ) -> None:
        await self._svc.volumes.attach(
            ctx, server_id, volume_id, device=device, tag=None, delete_on_termination=False
        )

    async def detach_volume(self, ctx: RequestContext, server_id: str, volume_id: str) -> None:
        await self._svc.volumes.detach(ctx, server_id, volume_id)

    async def server_action(self, ctx: RequestContext, server_id: str, op: str) -> None:
        if op == "confirm_resize":
            await self._svc.actions.confirm_resize(ctx, server_id)
        elif op in ("suspend", "resume"):
            await self._svc.actions.power(ctx, server_id, op)
        else:
            raise ValueError(op)

    async def resize_server(self, ctx: RequestContext, server_id: str, flavor_ref: str) -> None:
        await self._svc.actions.resize(ctx, server_id, flavor_ref)

    async def rebuild_server(self, ctx: RequestContext, server_id: str, image_ref: str) -> None:
        await self._svc.actions.rebuild(ctx, server_id, RebuildRequest(image_ref, {}))

    async def update_server(
        self,
        ctx: RequestContext,
        server_id: str,
        *,
        name: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        if name is not None:
            await self._svc.servers.update(ctx, server_id, {"display_name": name})
        if metadata is not None:
            await self._svc.servers.set_metadata(ctx, server_id, metadata, replace=True)

    def _enforce(self, ctx: RequestContext, rule: str, target: dict[str, Any]) -> None:
        self._svc.context.runtime.enforcer.enforce(ctx, f"{POLICY_PREFIX}:{rule}", target)

    async def create_flavor(self, ctx: RequestContext, spec: FlavorSpec) -> str:
        self._enforce(ctx, "os-flavor-manage:create", {})
        made = await self._svc.flavors.create(
            name=spec.name, flavorid=spec.flavorid, ram=spec.ram, vcpus=spec.vcpus,
            disk=spec.disk, ephemeral=spec.ephemeral, swap=spec.swap,
            rxtx_factor=spec.rxtx_factor, is_public=spec.is_public,
            description=spec.description,
        )  # fmt: skip
        flavorid = str(made.row.flavorid)
        if spec.extra_specs:
            await self._svc.flavors.set_extra_specs(flavorid, spec.extra_specs)
        for project in spec.tenants:
            await self._svc.flavors.add_access(flavorid, project)
        return flavorid

    async def delete_flavor(self, ctx: RequestContext, flavor_id: str) -> None:
        self._enforce(ctx, "os-flavor-manage:delete", {})
        await self._svc.flavors.delete(flavor_id)

    async def create_server_group(
        self, ctx: RequestContext, name: str, policy: str, rules: dict[str, Any]
    ) -> str:
        self._enforce(ctx, "os-server-groups:create",
                      {"project_id": ctx.project_id, "user_id": ctx.user_id})  # fmt: skip
        return (await self._svc.groups.create(ctx, name, policy, rules)).uuid

    async def delete_server_group(self, ctx: RequestContext, group_id: str) -> None:
        self._enforce(ctx, "os-server-groups:delete",
                      {"project_id": ctx.project_id, "user_id": ctx.user_id})  # fmt: skip
        await self._svc.groups.delete(ctx, group_id)

    async def snapshot_server(self, ctx: RequestContext, server_id: str, name: str) -> str:
        return await self._svc.actions.create_image(ctx, server_id, name, {})

    async def console_url(self, ctx: RequestContext, server_id: str, console_type: str) -> str:
        protocol = TYPES.get(console_type)
        if protocol is None:
            raise ConsoleTypeUnavailable(type=console_type)
        row = await self._svc.servers.visible_row(ctx, server_id)
        token = await self._svc.consoles.open(ctx, row.uuid, protocol)
        base = self._svc.context.settings.public_url + mount_path(self._svc.context.settings)
        return console_link(base, token, protocol)
