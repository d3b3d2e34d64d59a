"""The ``InstanceSpec`` the virt driver starts a guest from: the server's flavor, its image
(and a rescue image) as files on this host, its ports' taps, its volumes and config drive,
gathered from the service layer and the image, network and volume services."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.compute import models as m
from onestack.compute.drivers.base import NIC, BootSource, InstanceSpec, Volume
from onestack.compute.metadata import content
from onestack.compute.service.networking import devname

if TYPE_CHECKING:
    from onestack.compute.service import ComputeService


class Specs:
    def __init__(self, svc: ComputeService) -> None:
        self.svc = svc

    async def instance_spec(
        self,
        row: m.Instance,
        *,
        flavor: dict[str, Any] | None = None,
        image_id: str | None = None,
        rescue_image_id: str | None = None,
    ) -> InstanceSpec:
        """Everything the driver needs to start ``row``'s guest on this host (in rescue mode
        from ``rescue_image_id`` when given)."""
        flavor = flavor or row.flavor
        boot, props = await self.boot_source(image_id if image_id is not None else row.image_ref)
        rescue = (await self.boot_source(rescue_image_id))[0] if rescue_image_id else None
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
        )

    async def nics(self, row: m.Instance) -> tuple[NIC, ...]:
        # A server's ports are those of its network info (as Nova's VIFs are): none there,
        # none to look up.
        if not row.network_info:
            return ()
        ports = (await self.svc.networking.ports_of([row.uuid])).get(row.uuid, [])
        return tuple(
            NIC(
                port_id=p["id"],
                mac_address=p["mac_address"],
                tap=devname(p),
                mtu=int(p.get("mtu") or 1500),
            )
            for p in ports
        )

    async def boot_source(self, image_id: str) -> tuple[BootSource, dict[str, str]]:
        """What boots from image ``image_id`` on this host, and the image's properties."""
        image_svc = self.svc.context.image
        rec, path = await image_svc.open_image(image_id)
        props: dict[str, str] = dict(getattr(rec, "properties", {}) or {})
        kernel = ramdisk = None
        if props.get("kernel_id"):
            kernel = await image_svc.open_image_data(props["kernel_id"])
        if props.get("ramdisk_id"):
            ramdisk = await image_svc.open_image_data(props["ramdisk_id"])
        boot = BootSource(
            image_id=image_id,
            image_path=path,
            image_format=rec.disk_format or "qcow2",
            kernel_path=kernel,
            ramdisk_path=ramdisk,
            cmdline=props.get("os_command_line"),
        )
        return boot, props

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
