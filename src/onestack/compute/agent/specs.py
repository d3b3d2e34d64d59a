"""The ``InstanceSpec`` the virt driver starts a guest from: the server's flavor, its image
(and a rescue image) as files on this host, its ports' taps, its volumes and config drive,
gathered from the service layer and the image, network and volume services."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute import models
from onestack.compute.drivers.base import NIC, BootSource, InstanceSpec, Volume
from onestack.compute.metadata import content
from onestack.compute.service.block_devices import owner_context
from onestack.compute.service.boot import BuildRefused
from onestack.compute.service.kernels import boot_images
from onestack.compute.service.networking import plugged_tap

if TYPE_CHECKING:
    from onestack.compute.service import ComputeService

# What a guest boots (its root volume's file, else its image), the image's properties, and the
# root volume when there is one.
Source = tuple[BootSource, dict[str, str], Volume | None]


class Specs:
    def __init__(self, svc: ComputeService) -> None:
        self.svc = svc

    async def instance_spec(
        self,
        row: models.Instance,
        *,
        flavor: dict[str, Any] | None = None,
        image_id: str | None = None,
        rescue_image_id: str | None = None,
        source: Source | None = None,
    ) -> InstanceSpec:
        """Everything the driver needs to start ``row``'s guest on this host (in rescue mode
        from ``rescue_image_id`` when given)."""
        flavor = flavor or row.flavor
        boot, props, root_volume = source or await self.source(row, image_id)
        rescue = None
        if rescue_image_id:
            rescue = (await self.boot_source(rescue_image_id, row))[0]
        drive = None
        if row.config_drive or self.svc.context.settings.compute.force_config_drive:
            drive = content.config_drive_files(await self.svc.guests.metadata_of(row))
        return InstanceSpec(
            uuid=row.uuid,
            name=f"instance-{row.id:08x}",
            hostname=row.hostname,
            vcpus=int(flavor["vcpus"]),
            memory_mb=int(flavor["memory_mb"]),
            root_gb=int(flavor["root_gb"]),
            boot=boot,
            nics=await self.nics(row),
            volumes=await self.volumes(row.uuid),
            config_drive=drive,
            extra={**{f"image:{k}": v for k, v in props.items()}, **flavor.get("extra_specs", {})},
            rescue=rescue,
            root_volume=root_volume,
            ephemeral_gb=int(flavor.get("ephemeral_gb") or 0),
            swap_mb=int(flavor.get("swap") or 0),
        )

    async def source(self, row: models.Instance, image_id: str | None = None) -> Source:
        """What ``row``'s guest boots: its root volume, else ``image_id`` (its own image when
        None), and the image's properties."""
        root_volume = await self.root_volume(row.uuid) if not image_id else None
        if root_volume is not None:
            return root_volume
        boot, props = await self.boot_source(image_id or row.image_ref, row)
        return boot, props, None

    async def nics(self, row: models.Instance) -> tuple[NIC, ...]:
        # A server's ports are those of its network info (as Nova's VIFs are): none there,
        # none to look up.
        if not row.network_info:
            return ()
        return tuple(
            NIC(
                port_id=p["id"],
                mac_address=p["mac_address"],
                tap=plugged_tap(p),
                mtu=int(p.get("mtu") or 1500),
            )
            for p in await self.svc.networking.vifs_of(row.uuid)
        )

    async def boot_source(
        self, image_id: str, row: models.Instance
    ) -> tuple[BootSource, dict[str, str]]:
        """What boots from image ``image_id`` on this host, and the image's properties: its
        disk, and the kernel and ramdisk its ``kernel_id``/``ramdisk_id`` name (Nova's direct
        kernel boot, with ``os_command_line``), as ``row``'s project may see them."""
        image_svc = self.svc.context.image
        rec, path = await image_svc.open_image(image_id)
        props: dict[str, str] = dict(getattr(rec, "properties", {}) or {})
        kernel_id, ramdisk_id = boot_images(props)
        owner = owner_context(row)
        kernel = await self.boot_file(owner, image_id, "kernel", kernel_id)
        # A ramdisk alone boots nothing: the disk's own boot loader loads its own.
        ramdisk = await self.boot_file(owner, image_id, "ramdisk", ramdisk_id) if kernel else None
        boot = BootSource(
            image_id=image_id,
            image_path=path,
            image_format=rec.disk_format or "qcow2",
            kernel_path=kernel,
            ramdisk_path=ramdisk,
            cmdline=props.get("os_command_line") if kernel else None,
            kernel_id=(kernel_id or "") if kernel else "",
            ramdisk_id=(ramdisk_id or "") if ramdisk else "",
        )
        return boot, props

    async def boot_file(
        self, owner: RequestContext, image_id: str, what: str, file_id: str | None
    ) -> Path | None:
        """The local file of image ``image_id``'s kernel or ramdisk (``what``) ``file_id``;
        ``BuildRefused`` when the owner cannot see it or it holds no data: no host would do
        better, so the build ends there with the reason as the server's fault."""
        if not file_id:
            return None
        image_svc = self.svc.context.image
        try:
            await image_svc.get_image(owner, file_id)
            return await image_svc.open_image_data(file_id)
        except errors.NotFound:
            reason = "could not be found"
        except errors.OneStackError as exc:
            reason = f"cannot be used: {exc.message}"
        raise BuildRefused(f"The {what} image {file_id} ({what}_id of image {image_id}) {reason}.")

    async def root_volume(self, uuid: str) -> tuple[BootSource, dict[str, str], Volume] | None:
        """A server booted from a volume: what boots (the volume's file), the properties of
        the image the volume was made from (Nova reads a volume's image metadata as the
        server's image), and the volume."""
        volume_svc = self.svc.context.volume
        att = await self.svc.block_devices.root(uuid)
        if volume_svc is None or att is None:
            return None
        where = await volume_svc.local_attachment(att.volume_id)
        info = await volume_svc.get(None, att.volume_id)
        props = {k: str(v) for k, v in info.get("image_metadata", {}).items()}
        vol = Volume(
            volume_id=att.volume_id,
            path=Path(where["path"]),
            format=where.get("format", "raw"),
            serial=att.volume_id,
            device=att.device_name or "/dev/vda",
        )
        boot = BootSource(image_id=props.get("image_id", ""), image_path=vol.path,
                          image_format=vol.format)  # fmt: skip
        return boot, props, vol

    async def volumes(self, uuid: str) -> tuple[Volume, ...]:
        """Attached volumes as files on this host, once the volume service says where."""
        volume_svc = self.svc.context.volume
        if volume_svc is None:
            return ()
        out: list[Volume] = []
        for a in await self.svc.guests.attached_volumes(uuid):
            where = await volume_svc.local_attachment(a.volume_id)
            out.append(
                Volume(
                    volume_id=a.volume_id,
                    path=Path(where["path"]),
                    format=where.get("format", "raw"),
                    serial=a.volume_id,
                    device=a.device_name or "",
                )
            )
        return tuple(out)
