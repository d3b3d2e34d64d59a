"""``POST /servers`` in the service layer: the request's names and references looked up (flavor,
image, networks, security groups, key pair, zone, server group), the project's quotas checked,
the BUILD rows made and their boots started in the background.

The API hands over a ``CreateRequest`` already checked for shape; what needs the database or
another service is checked here, with Nova's answers (400 for what cannot be found, 403 past a
quota)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute import models
from onestack.compute.service import image_mappings
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.block_devices import check as check_block_devices
from onestack.compute.service.boot import Boot
from onestack.compute.service.flavors import Flavors
from onestack.compute.service.groups import Groups
from onestack.compute.service.hosts import Hosts
from onestack.compute.service.imagefit import check_flavor_fits_image
from onestack.compute.service.kernels import check_boot_images
from onestack.compute.service.keypairs import Keypairs
from onestack.compute.service.networking import Networking
from onestack.compute.service.quotas import Quotas
from onestack.compute.service.servers import BootRequest, Servers

NO_VOLUME_SERVICE = (
    "Volumes in block_device_mapping_v2 need the block storage service, which this cloud does "
    "not run."
)


@dataclass
class CreateRequest:
    """``POST /servers`` checked for shape: what the caller asked, names and references not
    yet looked up."""

    name: str
    flavor_ref: str
    image_ref: str  # "" when not given; beside a root volume, the boot metadata
    boot_volume: bool
    block_devices: list[dict[str, Any]]  # the volume mappings
    networks: str | list[dict[str, Any]] | None  # "auto", "none", a list, or not given
    security_groups: list[str]
    key_name: str | None = None
    user_data: str | None = None
    config_drive: bool = False
    metadata: dict[str, str] | None = None
    min_count: int = 1
    max_count: int = 1
    availability_zone: str | None = None
    forced_host: str | None = None
    group: str | None = None
    tags: list[str] | None = None
    description: str | None = None
    hostname: str | None = None
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    disk_config: str = "MANUAL"
    files: list[dict[str, str]] | None = None  # personality (before 2.57), base64 contents


@dataclass(frozen=True)
class Created:
    rows: list[models.Instance]
    security_groups: list[str]  # names, as the new servers show them


async def boot_image(
    context: ComputeContext, ctx: RequestContext, ref: str, flavor: dict[str, Any]
) -> dict[str, Any]:
    """The image ``ref`` names, if the caller may boot it with ``flavor`` (a boot, a rebuild
    or a rescue): 400 when it cannot be found, is not active, does not fit the flavor, or
    names a kernel or ramdisk the caller cannot see."""
    image_id = ref.rstrip("/").rsplit("/", 1)[-1]
    try:
        rec = await context.image.get_image(ctx, image_id)
    except errors.NotFound:
        raise errors.BadRequest(f"Image {image_id} could not be found.") from None
    if rec.status != "active":
        raise errors.BadRequest(f"Image {image_id} is not active.")
    check_flavor_fits_image(flavor, rec)
    properties = dict(getattr(rec, "properties", {}) or {})
    await check_boot_images(context.image, ctx, rec.id, properties)
    return {
        "id": rec.id,
        "min_disk": rec.min_disk,
        "min_ram": rec.min_ram,
        "disk_format": rec.disk_format,
        "properties": properties,
    }


def check_injected_files(files: list[dict[str, str]], limits: dict[str, int]) -> None:
    """Personality files against the project's injected-file quotas: Nova's 403s."""
    if 0 <= limits["injected_files"] < len(files):
        raise errors.Forbidden("Personality file limit exceeded")
    for item in files:
        if 0 <= limits["injected_file_path_bytes"] < len(item["path"].encode()):
            raise errors.Forbidden("Personality file path exceeds maximum 255")
        if 0 <= limits["injected_file_content_bytes"] < len(base64.b64decode(item["contents"])):
            raise errors.Forbidden("Personality file content exceeds maximum")


class Creation:
    def __init__(
        self,
        context: ComputeContext,
        *,
        flavors: Flavors,
        quotas: Quotas,
        keypairs: Keypairs,
        hosts: Hosts,
        groups: Groups,
        networking: Networking,
        servers: Servers,
        boot: Boot,
    ) -> None:
        self.context = context
        self.flavors = flavors
        self.quotas = quotas
        self.keypairs = keypairs
        self.hosts = hosts
        self.groups = groups
        self.networking = networking
        self.servers = servers
        self.boot = boot

    async def create_servers(self, ctx: RequestContext, req: CreateRequest) -> Created:
        """Between ``min_count`` and ``max_count`` new servers (as many as the quota allows),
        each booting in the background."""
        boot, limits = await self._resolve(ctx, req)
        cap = self.context.settings.compute.max_count
        if req.min_count > cap:
            raise errors.BadRequest(
                f"min_count {req.min_count} is more than the {cap} servers one request may create."
            )
        project = ctx.project_id or ""

        async def within_quota(session: AsyncSession) -> int:
            await self.quotas.lock(session, project)
            return await self.quotas.instances_within(
                project,
                req.min_count,
                min(req.max_count, cap),
                boot.flavor["vcpus"],
                boot.flavor["memory_mb"],
                limits,
                session,
            )

        await self._check_placement(ctx, req)
        if req.files is not None:
            check_injected_files(req.files, limits)
        # Counted and written in one transaction under the project's quota lock: concurrent
        # boots of a project count one after the other.
        rows = await self.servers.create_rows(ctx, boot, within_quota)
        for row in rows:
            self.context.runtime.spawn(self.boot.run(row.uuid), f"boot {row.uuid}")
        return Created(rows, boot.security_groups)

    async def _resolve(
        self, ctx: RequestContext, req: CreateRequest
    ) -> tuple[BootRequest, dict[str, int]]:
        """The request with its references looked up, and the project's quota limits."""
        project = ctx.project_id or ""
        flavor = await self.flavors.for_boot(ctx, req.flavor_ref)
        image = None
        if req.image_ref and not req.boot_volume:
            image = await boot_image(self.context, ctx, req.image_ref, flavor)
        block_devices = await self._with_image_mappings(ctx, req, image)
        if block_devices:
            backend = self.context.volume
            if backend is None:
                raise errors.BadRequest(NO_VOLUME_SERVICE)
            # An imageRef beside a root volume is checked as the boot metadata, as Nova does,
            # and kept as the server's image (Nova's image_ref, shown in its view); the guest
            # still boots from the volume (the root mapping decides, not the image).
            meta_ref = req.image_ref if req.boot_volume else ""
            await check_block_devices(self.context, ctx, backend, block_devices, flavor, meta_ref)
            if meta_ref:
                image = {"id": meta_ref.rstrip("/").rsplit("/", 1)[-1]}
        nics = await self.networking.resolve(ctx, project, req.networks)
        sg_ids = None
        if req.security_groups:
            sg_ids = await self.networking.security_group_ids(ctx, project, req.security_groups)
        key_data = None
        if req.key_name is not None:
            try:
                key_data = (await self.keypairs.get(ctx.user_id, req.key_name)).public_key
            except errors.NotFound:
                raise errors.BadRequest("Invalid key_name provided.") from None
        metadata = req.metadata or {}
        limits = await self.quotas.limits(project)
        if 0 <= limits["metadata_items"] < len(metadata):
            raise errors.Forbidden(
                "Quota exceeded for metadata_items: Maximum number of metadata "
                "items exceeds " + str(limits["metadata_items"])
            )
        boot = BootRequest(
            name=req.name,
            flavor=flavor,
            image=image,
            nics=nics,
            security_groups=req.security_groups or ["default"] if nics else req.security_groups,
            security_group_ids=sg_ids,
            availability_zone=req.availability_zone,
            forced_host=req.forced_host,
            key_name=req.key_name,
            key_data=key_data,
            user_data=req.user_data,
            config_drive=req.config_drive,
            metadata=metadata,
            min_count=req.min_count,
            max_count=req.max_count,
            group=req.group or None,
            tags=req.tags or [],
            description=req.description,
            hostname=req.hostname,
            access_ip_v4=req.access_ip_v4,
            access_ip_v6=req.access_ip_v6,
            block_devices=block_devices,
            disk_config=req.disk_config,
            files=req.files or [],
        )
        return boot, limits

    async def _with_image_mappings(
        self, ctx: RequestContext, req: CreateRequest, image: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The request's volume mappings merged with those the boot image defines (a
        snapshot of a server booted from volumes): the image named by ``imageRef``, or the
        one a client wrote into a new root volume (``--boot-from-volume``)."""
        if image is not None:
            return image_mappings.merge(
                image_mappings.defined_by(image["properties"]), req.block_devices
            )
        root = next((m for m in req.block_devices if m["boot_index"] == 0), None)
        if root is None or root["source_type"] != "image":
            return req.block_devices
        try:
            rec = await self.context.image.get_image(ctx, str(root["uuid"]))
        except errors.NotFound:
            return req.block_devices  # the mappings' check says so, with Nova's words
        defined = image_mappings.defined_by(dict(getattr(rec, "properties", {}) or {}))
        return image_mappings.merge(defined, req.block_devices)

    async def _check_placement(self, ctx: RequestContext, req: CreateRequest) -> None:
        """The zone and the server group the request names exist (400 otherwise)."""
        zone = req.availability_zone
        if zone is not None and zone not in await self.hosts.zones():
            raise errors.BadRequest("The requested availability zone is not available")
        if req.group is not None:
            try:
                await self.groups.get(ctx, req.group)
            except errors.NotFound:
                raise errors.BadRequest(f"Invalid server group {req.group}") from None
