"""Networks and their segments (type, physical network, segmentation id from the ranges)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service import qos
from onestack.network.service.base import (
    Caller,
    NetworkContext,
    check_quota,
    drop_tags,
    network_visible,
    require_owner,
    touch,
)
from onestack.network.typedrivers import enabled_types

NETWORK_TYPES = ("flat", "vxlan", "vlan", "local")
# Ports whose presence does not keep a network alive (Neutron's auto-deleted owners).
AUTO_DELETE_OWNERS = ("network:dhcp",)
FIP_OWNER = "network:floatingip"


async def _check_default_external(
    session: AsyncSession, net: models.Network, request: dict[str, Any]
) -> None:
    """Neutron's auto-allocate callback: is_default counts only on an external network (it is
    dropped from the request otherwise), and one network at most is the default (409)."""
    if not request.get("external", net.external):
        request.pop("is_default", None)
        net.is_default = False
        return
    if request.get("is_default"):
        other = await session.scalar(
            select(models.Network.id).where(
                models.Network.external.is_(True),
                models.Network.is_default.is_(True),
                models.Network.id != net.id,
            )
        )
        if other is not None:
            raise nerr.DefaultExternalNetworkExists(net_id=other)


def parse_ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            low, high = part.split(":")
            out.append((int(low), int(high)))
    return out


def parse_vlan_ranges(text: str) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for part in (p.strip() for p in text.split(",")):
        if part:
            physnet, low, high = part.split(":")
            out.setdefault(physnet, []).append((int(low), int(high)))
    return out


async def get_visible_network(
    session: AsyncSession, caller: Caller, network_id: str
) -> models.Network:
    stmt = select(models.Network).where(models.Network.id == network_id)
    visible = network_visible(caller)
    if visible is not None:
        stmt = stmt.where(visible)
    row = await session.scalar(stmt)
    if row is None:
        raise nerr.NetworkNotFound(id=network_id)
    return row


class Networks:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    def physnets(self) -> list[str]:
        return [p.strip() for p in self.settings.physical_networks.split(",") if p.strip()]

    def mtu_for(self, network_type: str) -> int:
        overhead = 50 if network_type == "vxlan" else 0
        return self.settings.global_mtu - overhead

    async def _allocate_segment(
        self, session: AsyncSession, network: models.Network, provider: dict[str, Any]
    ) -> None:
        """Validate the provider attributes, or pick the tenant type and a free id."""
        ntype = provider.get("network_type") or self.settings.tenant_network_type
        seg_id = provider.get("segmentation_id")
        if ntype not in NETWORK_TYPES or ntype not in enabled_types(self.settings.type_drivers):
            raise nerr.InvalidInput(reason=f"network_type value '{ntype}' not supported")
        physnet = self._physical_network(ntype, provider)
        if ntype in ("flat", "local"):
            if seg_id is not None:
                raise nerr.InvalidInput(
                    reason=f"segmentation_id not allowed for {ntype} provider network"
                )
            if ntype == "flat":
                await self._flat_segment(session, network, physnet)
        else:
            seg_id = await self._numbered_segment(session, network, ntype, physnet, seg_id)
        network.network_type = ntype
        network.physical_network = physnet
        network.segmentation_id = int(seg_id) if seg_id is not None else None

    def _physical_network(self, ntype: str, provider: dict[str, Any]) -> str | None:
        """The provider's physical network checked against the type (flat and vlan need a
        known one; a vlan network of the tenant type takes the first with ranges)."""
        physnet = provider.get("physical_network")
        if ntype in ("flat", "vlan"):
            if not physnet and ntype == "vlan" and not provider.get("network_type"):
                physnet = next(iter(parse_vlan_ranges(self.settings.vlan_ranges)), None)
            if not physnet:
                raise nerr.InvalidInput(
                    reason=f"physical_network required for {ntype} provider network"
                )
            if physnet not in self.physnets():
                raise nerr.InvalidInput(
                    reason=f"physical_network '{physnet}' unknown for {ntype} provider network"
                )
        elif physnet:
            raise nerr.InvalidInput(
                reason=f"physical_network not allowed for {ntype} provider network"
            )
        return physnet

    async def _flat_segment(
        self, session: AsyncSession, network: models.Network, physnet: str | None
    ) -> None:
        """The one flat network of ``physnet``, unless another has it."""
        taken = await session.scalar(
            select(models.Segment.network_id).where(
                models.Segment.network_type == "flat", models.Segment.physical_network == physnet
            )
        )
        if taken is not None:
            raise nerr.Conflict(
                reason=f"Unable to create the flat network. Physical network {physnet} is in use."
            )
        session.add(
            models.Segment(network_id=network.id, network_type="flat",
                      physical_network=physnet, segmentation_id=0)
        )  # fmt: skip

    async def _numbered_segment(
        self,
        session: AsyncSession,
        network: models.Network,
        ntype: str,
        physnet: str | None,
        seg_id: Any,
    ) -> int:
        """A vxlan or vlan segment: the requested id when free and in range, else the first
        free one of the configured ranges."""
        if ntype == "vxlan":
            ranges = parse_ranges(self.settings.vni_ranges)
            limit = 2**24 - 1
        else:
            ranges = parse_vlan_ranges(self.settings.vlan_ranges).get(physnet or "", [])
            limit = 4094
        key = physnet or ""
        if seg_id is not None:
            if not 1 <= int(seg_id) <= limit:
                raise nerr.InvalidInput(
                    reason=f"segmentation_id {seg_id} out of range (1 to {limit})"
                )
            used = await session.scalar(
                select(models.Segment.network_id).where(
                    models.Segment.network_type == ntype,
                    models.Segment.physical_network == key,
                    models.Segment.segmentation_id == int(seg_id),
                )
            )
            if used is not None:
                raise nerr.Conflict(
                    reason=f"Unable to create the network. The {ntype} {seg_id} on physical network {physnet} is in use."  # noqa: E501
                )
        else:
            used_ids = set(
                (
                    await session.scalars(
                        select(models.Segment.segmentation_id).where(
                            models.Segment.network_type == ntype,
                            models.Segment.physical_network == key,
                        )
                    )
                ).all()
            )
            seg_id = next(
                (i for low, high in ranges for i in range(low, high + 1) if i not in used_ids),
                None,
            )
            if seg_id is None:
                raise nerr.NoNetworkAvailable()
        session.add(
            models.Segment(network_id=network.id, network_type=ntype,
                      physical_network=key, segmentation_id=int(seg_id))
        )  # fmt: skip
        return int(seg_id)

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.Network:
        async with self.ctx.db.session() as session:
            return await self.create_in(session, caller, body)

    async def create_in(
        self, session: AsyncSession, caller: Caller, body: dict[str, Any]
    ) -> models.Network:
        project_id = body.get("project_id") or caller.project_id
        await check_quota(session, project_id, "network")
        provider: dict[str, Any] = {
            k: body.pop(k)
            for k in ("network_type", "physical_network", "segmentation_id")
            if k in body
        }
        tags = body.pop("tags", None)
        body.pop("project_id", None)
        if "qos_policy_id" in body:
            await qos.check_attachable(session, caller, body["qos_policy_id"])
        else:
            # qos-default: a new network takes its project's default policy.
            body["qos_policy_id"] = await qos.default_policy_id(session, project_id)
        net = models.Network(project_id=project_id, **body)
        net.id = net.id or models.uuid_str()
        await _check_default_external(session, net, body)
        await self._allocate_segment(session, net, provider)
        session.add(net)
        if "mtu" not in body:
            net.mtu = self.mtu_for(net.network_type)
        elif net.mtu > self.mtu_for(net.network_type):
            raise nerr.InvalidInput(
                reason=f"Requested MTU is too big, maximum is {self.mtu_for(net.network_type)}"
            )
        for tag in tags or ():
            session.add(models.Tag(resource_id=net.id, tag=tag, resource_type="networks"))
        await session.flush()
        return net

    async def update(
        self, caller: Caller, network_id: str, changes: dict[str, Any]
    ) -> models.Network:
        async with self.ctx.db.session() as session:
            net = await get_visible_network(session, caller, network_id)
            if any(k in changes for k in ("network_type", "physical_network", "segmentation_id")):
                raise nerr.InvalidInput(
                    reason="Plugin does not support updating provider attributes"
                )
            if "mtu" in changes and changes["mtu"] > self.mtu_for(net.network_type):
                raise nerr.InvalidInput(
                    reason=f"Requested MTU is too big, maximum is {self.mtu_for(net.network_type)}"
                )
            if changes.get("qos_policy_id") not in (None, net.qos_policy_id):
                await qos.check_attachable(session, caller, changes["qos_policy_id"])
            if changes.get("shared") is False and net.shared:
                await self._check_unshare(session, net)
            if changes.get("external") is False and net.external:
                in_use = await session.scalar(
                    select(func.count())
                    .select_from(models.Port)
                    .where(
                        models.Port.network_id == net.id,
                        models.Port.device_owner.in_(
                            ("network:router_gateway", "network:floatingip")
                        ),
                    )
                )
                if in_use:
                    raise nerr.ExternalNetworkInUse(
                        reason=f"External network {net.id} cannot be updated to be non-external, "
                        "since it has existing gateway ports."
                    )
            await _check_default_external(session, net, changes)
            changed = False
            for key, value in changes.items():
                if getattr(net, key) != value:
                    setattr(net, key, value)
                    changed = True
            if changed:
                touch(net)
        await self.ctx.changed()
        return net

    async def _check_unshare(self, session: AsyncSession, net: models.Network) -> None:
        others = await session.scalar(
            select(func.count())
            .select_from(models.Port)
            .where(
                models.Port.network_id == net.id,
                models.Port.project_id != net.project_id,
                models.Port.project_id != "",
                models.Port.device_owner.not_in(AUTO_DELETE_OWNERS),
            )
        )
        if others:
            raise nerr.InUse(
                reason=f"Unable to reconfigure sharing settings for network {net.id}. "
                "Multiple tenants are using it."
            )

    async def delete(self, caller: Caller, network_id: str) -> None:
        async with self.ctx.db.session() as session:
            net = await get_visible_network(session, caller, network_id)
            require_owner(caller, net.project_id, "delete_network")
            busy = await session.scalar(
                select(func.count())
                .select_from(models.Port)
                .where(
                    models.Port.network_id == net.id,
                    models.Port.device_owner.not_in((*AUTO_DELETE_OWNERS, FIP_OWNER)),
                )
            )
            if busy:
                raise nerr.NetworkInUse(net_id=net.id)
            # As Neutron: an external network takes its floating IPs with it (their ports go
            # with the network's other ports below).
            fips = list(
                (
                    await session.scalars(
                        select(models.FloatingIP.id).where(
                            models.FloatingIP.floating_network_id == net.id
                        )
                    )
                ).all()
            )
            if fips:
                await session.execute(
                    delete(models.PortForwarding).where(
                        models.PortForwarding.floatingip_id.in_(fips)
                    )
                )
                await session.execute(
                    delete(models.FloatingIP).where(models.FloatingIP.id.in_(fips))
                )
            ids = [net.id, *fips]
            ids += list(
                (
                    await session.scalars(
                        select(models.Subnet.id).where(models.Subnet.network_id == net.id)
                    )
                ).all()
            )
            ids += list(
                (
                    await session.scalars(
                        select(models.Port.id).where(models.Port.network_id == net.id)
                    )
                ).all()
            )
            await session.execute(delete(models.Tag).where(models.Tag.resource_id.in_(ids)))
            await session.execute(
                delete(models.RBACPolicy).where(
                    and_(
                        models.RBACPolicy.object_type == "network",
                        models.RBACPolicy.object_id == net.id,
                    )
                )
            )
            await session.execute(delete(models.Port).where(models.Port.network_id == net.id))
            await session.execute(delete(models.Subnet).where(models.Subnet.network_id == net.id))
            await session.execute(delete(models.Segment).where(models.Segment.network_id == net.id))
            await drop_tags(session, net.id)
            await session.delete(net)
        await self.ctx.changed()
