"""What a guest is made of, from the database and the image and network services: the
``InstanceSpec`` the virt driver starts, and the ``InstanceMetadata`` the config drive and the
metadata API serve."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onestack.compute import models as m
from onestack.compute.drivers.base import NIC, BootSource, InstanceSpec, Volume
from onestack.compute.metadata import content
from onestack.compute.metadata.source import (
    FixedIPInfo,
    HostRoute,
    InjectedFile,
    InstanceMetadata,
    KeyInfo,
    PortInfo,
    SubnetInfo,
)
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.networking import Networking, devname
from onestack.network.facade import ADMIN


def decode_user_data(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


class Guests:
    def __init__(self, context: ComputeContext, networking: Networking) -> None:
        self.context = context
        self.networking = networking

    async def _row(self, uuid: str) -> m.Instance | None:
        async with self.context.db.session() as s:
            row: m.Instance | None = await s.scalar(
                select(m.Instance).where(m.Instance.uuid == uuid, m.Instance.deleted.is_(False))
            )
            return row

    async def _subnets(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        rows = await self.networking._list("subnets", ADMIN, id=sorted(ids))
        return {r["id"]: r for r in rows}

    async def metadata_for(self, instance_uuid: str) -> InstanceMetadata | None:
        """The metadata API's lookup (and the config drive's source)."""
        row = await self._row(instance_uuid)
        if row is None:
            return None
        return await self.metadata_of(row)

    async def metadata_of(self, row: m.Instance) -> InstanceMetadata:
        ports = (await self.networking.ports_of([row.uuid])).get(row.uuid, [])
        subnets = await self._subnets(
            {ip["subnet_id"] for p in ports for ip in p.get("fixed_ips") or []}
        )
        port_infos = []
        for p in ports:
            fixed = []
            for ip in p.get("fixed_ips") or []:
                sn = subnets.get(ip["subnet_id"])
                if sn is None:
                    continue
                fixed.append(
                    FixedIPInfo(
                        ip_address=ip["ip_address"],
                        subnet=SubnetInfo(
                            id=sn["id"],
                            cidr=sn["cidr"],
                            ip_version=sn["ip_version"],
                            gateway_ip=sn.get("gateway_ip"),
                            dns_nameservers=tuple(sn.get("dns_nameservers") or ()),
                            host_routes=tuple(
                                HostRoute(r["destination"], r["nexthop"])
                                for r in sn.get("host_routes") or ()
                            ),
                            enable_dhcp=bool(sn.get("enable_dhcp", True)),
                            ipv6_address_mode=sn.get("ipv6_address_mode"),
                        ),
                    )
                )
            port_infos.append(
                PortInfo(
                    port_id=p["id"],
                    network_id=p["network_id"],
                    mac_address=p["mac_address"],
                    fixed_ips=tuple(fixed),
                    mtu=p.get("mtu"),
                )
            )
        async with self.context.db.session() as s:
            meta = {
                md.key: md.value
                for md in await s.scalars(
                    select(m.InstanceMetadata).where(m.InstanceMetadata.instance_uuid == row.uuid)
                )
            }
        key = None
        if row.key_data:
            kind = "ssh"
            if row.key_name:
                kp = None
                try:
                    kp = await self._keypair(row.user_id, row.key_name)
                except Exception:  # the key pair was deleted since: the server keeps its key
                    kp = None
                if kp is not None:
                    kind = kp.type
            key = KeyInfo(name=row.key_name or "", public_key=row.key_data, type=kind)
        return InstanceMetadata(
            uuid=row.uuid,
            name=row.display_name,
            hostname=row.hostname,
            project_id=row.project_id,
            availability_zone=row.availability_zone
            or self.context.settings.compute.default_availability_zone,
            launch_index=row.launch_index,
            reservation_id=row.reservation_id,
            created_at=row.created_at.isoformat(),
            key=key,
            user_data=decode_user_data(row.user_data),
            metadata=meta,
            ports=tuple(port_infos),
            floating_ips=tuple(
                f["floating_ip_address"] for p in ports for f in p.get("floating_ips") or []
            ),
            security_groups=tuple(row.security_groups or ()),
            flavor_name=row.flavor.get("name", ""),
            image_id=row.image_ref,
            ec2_id=row.id,
            files=tuple(
                InjectedFile(f["path"], base64.b64decode(f["contents"]))
                for f in (row.request or {}).get("files") or ()
            ),
        )

    async def _keypair(self, user_id: str, name: str) -> m.KeyPair | None:
        async with self.context.db.session() as s:
            kp: m.KeyPair | None = await s.scalar(
                select(m.KeyPair).where(m.KeyPair.user_id == user_id, m.KeyPair.name == name)
            )
            return kp

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
        # A server's ports are those of its network info (as Nova's VIFs are): none there,
        # none to look up.
        ports: list[dict[str, Any]] = []
        if row.network_info:
            ports = (await self.networking.ports_of([row.uuid])).get(row.uuid, [])
        nics = tuple(
            NIC(
                port_id=p["id"],
                mac_address=p["mac_address"],
                tap=devname(p),
                mtu=int(p.get("mtu") or 1500),
            )
            for p in ports
        )
        drive = None
        if row.config_drive or self.context.settings.compute.force_config_drive:
            drive = content.config_drive_files(await self.metadata_of(row))
        async with self.context.db.session() as s:
            attachments = list(
                await s.scalars(
                    select(m.VolumeAttachment).where(
                        m.VolumeAttachment.instance_uuid == row.uuid,
                        m.VolumeAttachment.boot_index.is_(None),
                    )
                )
            )
        volumes = tuple(await self._volumes(attachments))
        return InstanceSpec(
            uuid=row.uuid,
            name=f"instance-{row.id:08x}",
            hostname=row.hostname,
            vcpus=int(flavor["vcpus"]),
            memory_mb=int(flavor["memory_mb"]),
            root_gb=int(flavor["root_gb"]),
            boot=boot,
            nics=nics,
            volumes=volumes,
            config_drive=drive,
            extra={**{f"image:{k}": v for k, v in props.items()}, **flavor.get("extra_specs", {})},
            rescue=rescue,
        )

    async def boot_source(self, image_id: str) -> tuple[BootSource, dict[str, str]]:
        """What boots from image ``image_id`` on this host, and the image's properties."""
        image_svc = self.context.image
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

    async def _volumes(self, attachments: list[m.VolumeAttachment]) -> list[Volume]:
        """Attached volumes as files on this host, once the volume service says where."""
        volume_svc = self.context.volume
        if volume_svc is None:
            return []
        out: list[Volume] = []
        for a in attachments:
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
        return out
