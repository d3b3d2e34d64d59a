"""What a guest is made of, from the database and the network service: the
``InstanceMetadata`` the config drive and the metadata API serve, and the volumes attached to it
(the agent turns these into the virt driver's ``InstanceSpec``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import or_, select

from onestack.compute import models
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
from onestack.compute.service.networking import Networking
from onestack.compute.service.records import touch
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

    async def _row(self, uuid: str) -> models.Instance | None:
        async with self.context.db.session() as s:
            row: models.Instance | None = await s.scalar(
                select(models.Instance).where(
                    models.Instance.uuid == uuid, models.Instance.deleted.is_(False)
                )
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

    async def metadata_of(self, row: models.Instance) -> InstanceMetadata:
        ports = (await self.networking.ports_of([row.uuid])).get(row.uuid, [])
        subnets = await self._subnets(
            {ip["subnet_id"] for p in ports for ip in p.get("fixed_ips") or []}
        )
        async with self.context.db.session() as s:
            meta = {
                md.key: md.value
                for md in await s.scalars(
                    select(models.InstanceMetadata).where(
                        models.InstanceMetadata.instance_uuid == row.uuid
                    )
                )
            }
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
            key=await self._key(row),
            user_data=decode_user_data(row.user_data),
            metadata=meta,
            ports=tuple(port_info(p, subnets) for p in ports),
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
            password=str((row.request or {}).get("password") or ""),
            **local_devices(row.flavor),
        )

    # -- the password a guest posts to the metadata service (Nova keeps it in the instance's
    # system metadata; here in the row's request document) -------------------------------------
    async def set_password(self, instance_uuid: str, password: str) -> bool:
        """Store what the guest posted; False when one is already set (Nova: 409)."""
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(models.Instance).where(models.Instance.uuid == instance_uuid)
            )
            if row is None or (row.request or {}).get("password"):
                return False
            row.request = {**(row.request or {}), "password": password}
            touch(row)
        return True

    async def clear_password(self, instance_uuid: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(models.Instance).where(models.Instance.uuid == instance_uuid)
            )
            if row is not None and (row.request or {}).get("password"):
                row.request = {k: v for k, v in row.request.items() if k != "password"}
                touch(row)

    async def _key(self, row: models.Instance) -> KeyInfo | None:
        """The server's SSH key, of the type its key pair had (ssh when that pair is gone)."""
        if not row.key_data:
            return None
        kind = "ssh"
        if row.key_name:
            kp = None
            try:
                kp = await self._keypair(row.user_id, row.key_name)
            except Exception:  # the key pair was deleted since: the server keeps its key
                kp = None
            if kp is not None:
                kind = kp.type
        return KeyInfo(name=row.key_name or "", public_key=row.key_data, type=kind)

    async def _keypair(self, user_id: str, name: str) -> models.KeyPair | None:
        async with self.context.db.session() as s:
            kp: models.KeyPair | None = await s.scalar(
                select(models.KeyPair).where(
                    models.KeyPair.user_id == user_id, models.KeyPair.name == name
                )
            )
            return kp

    async def attached_volumes(self, uuid: str) -> list[models.VolumeAttachment]:
        """The volumes attached to the server besides its root disk."""
        async with self.context.db.session() as s:
            return list(
                await s.scalars(
                    select(models.VolumeAttachment).where(
                        models.VolumeAttachment.instance_uuid == uuid,
                        or_(
                            models.VolumeAttachment.boot_index.is_(None),
                            models.VolumeAttachment.boot_index != 0,
                        ),
                    )
                )
            )


def port_info(port: dict[str, Any], subnets: dict[str, dict[str, Any]]) -> PortInfo:
    """A port as the metadata shows it, with the subnets of its fixed IPs."""
    fixed = []
    for ip in port.get("fixed_ips") or []:
        sn = subnets.get(ip["subnet_id"])
        if sn is None:
            continue
        subnet = SubnetInfo(
            id=sn["id"],
            cidr=sn["cidr"],
            ip_version=sn["ip_version"],
            gateway_ip=sn.get("gateway_ip"),
            dns_nameservers=tuple(sn.get("dns_nameservers") or ()),
            host_routes=tuple(
                HostRoute(r["destination"], r["nexthop"]) for r in sn.get("host_routes") or ()
            ),
            enable_dhcp=bool(sn.get("enable_dhcp", True)),
            ipv6_address_mode=sn.get("ipv6_address_mode"),
        )
        fixed.append(FixedIPInfo(ip_address=ip["ip_address"], subnet=subnet))
    return PortInfo(
        port_id=port["id"],
        network_id=port["network_id"],
        mac_address=port["mac_address"],
        fixed_ips=tuple(fixed),
        mtu=port.get("mtu"),
    )


def local_devices(flavor: dict[str, Any]) -> dict[str, Any]:
    """Where the compute driver puts the flavor's ephemeral and swap disks (after the root
    disk, as Nova's libvirt driver does), for the metadata's block device mapping."""
    found: dict[str, Any] = {}
    letters = iter("bcd")
    if int(flavor.get("ephemeral_gb") or 0):
        found["ephemeral_devices"] = (f"/dev/vd{next(letters)}",)
    if int(flavor.get("swap") or 0):
        found["swap_device"] = f"/dev/vd{next(letters)}"
    return found
