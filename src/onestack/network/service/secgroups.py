"""Security groups and rules, with Neutron's default group per project (made lazily)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import Caller, NetworkContext, check_quota, drop_tags, touch

PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
    "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}  # fmt: skip
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136"}
ICMP_PROTOCOLS = {"icmp", "ipv6-icmp", "icmpv6", "1", "58"}
ETHERTYPES = ("IPv4", "IPv6")


def default_rules(group_id: str, project_id: str) -> list[models.SecurityGroupRule]:
    """Neutron's default group: all egress, and ingress from members of the group itself."""
    rules = []
    for ethertype in ETHERTYPES:
        rules.append(
            models.SecurityGroupRule(
                id=models.uuid_str(), project_id=project_id, security_group_id=group_id,
                direction="egress", ethertype=ethertype,
            )
        )  # fmt: skip
        rules.append(
            models.SecurityGroupRule(
                id=models.uuid_str(), project_id=project_id, security_group_id=group_id,
                direction="ingress", ethertype=ethertype, remote_group_id=group_id,
            )
        )  # fmt: skip
    return rules


def egress_rules(group_id: str, project_id: str) -> list[models.SecurityGroupRule]:
    """A new non-default group starts with the two egress rules, as in Neutron."""
    return [
        models.SecurityGroupRule(
            id=models.uuid_str(), project_id=project_id, security_group_id=group_id,
            direction="egress", ethertype=ethertype,
        )
        for ethertype in ETHERTYPES
    ]  # fmt: skip


async def ensure_default_group(session: AsyncSession, project_id: str) -> str:
    """The project's default group id, created on first use. Two creators racing collide on
    the ``DefaultSecurityGroup`` primary key; the service retries the transaction."""
    found = await session.scalar(
        select(models.DefaultSecurityGroup.security_group_id).where(
            models.DefaultSecurityGroup.project_id == project_id
        )
    )
    if found is not None:
        return found
    group = models.SecurityGroup(
        id=models.uuid_str(),
        project_id=project_id,
        name="default",
        description="Default security group",
    )
    group.rules = default_rules(group.id, project_id)
    session.add(group)
    await session.flush()
    session.add(models.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
    await session.flush()
    return group.id


def group_visible(caller: Caller) -> Any:
    return None if caller.is_admin else models.SecurityGroup.project_id == caller.project_id


async def visible_group_ids(
    session: AsyncSession, caller: Caller, ids: Sequence[str], project_id: str
) -> set[str]:
    stmt = select(models.SecurityGroup.id).where(models.SecurityGroup.id.in_(list(ids)))
    if not caller.is_admin:
        stmt = stmt.where(models.SecurityGroup.project_id.in_((caller.project_id, project_id)))
    return set((await session.scalars(stmt)).all())


async def visible_group(
    session: AsyncSession, caller: Caller, group_id: str
) -> models.SecurityGroup:
    group = await session.get(models.SecurityGroup, group_id)
    if group is None or not (caller.is_admin or group.project_id == caller.project_id):
        raise nerr.SecurityGroupNotFound(id=group_id)
    return group


def _port_value(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise nerr.SecurityGroupInvalidPortValue(port=value) from None
    if isinstance(value, bool) or number < 0 or number > 65535:
        raise nerr.SecurityGroupInvalidPortValue(port=value)
    return number


def normalize_protocol(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).lower()
    if text in ("any", ""):
        return None
    if text in PROTOCOLS:
        return text
    if text.isdigit() and 0 <= int(text) <= 255:
        return text
    raise nerr.SecurityGroupRuleInvalidProtocol(protocol=value, values=sorted([*PROTOCOLS, "any"]))


def validate_rule(body: dict[str, Any]) -> dict[str, Any]:
    """Neutron's checks: direction, ethertype, protocol, ports per protocol, remote."""
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise nerr.InvalidInput(reason=f"'{direction}' is not in ['ingress', 'egress']")
    ethertype = str(body.get("ethertype") or "IPv4")
    matched = {e.lower(): e for e in ETHERTYPES}.get(ethertype.lower())
    if matched is None:
        raise nerr.SecurityGroupRuleInvalidEtherType(ethertype=ethertype, values=list(ETHERTYPES))
    protocol = normalize_protocol(body.get("protocol"))
    low = _port_value(body.get("port_range_min"), "port_range_min")
    high = _port_value(body.get("port_range_max"), "port_range_max")
    if protocol is None and (low is not None or high is not None):
        raise nerr.InvalidInput(reason="Must also specify protocol if port range is given.")
    if protocol in PORT_PROTOCOLS:
        if low == 0 or high == 0:
            raise nerr.SecurityGroupInvalidPortValue(port=0)
        # As Neutron: a port range needs both ends (equal ends are a single port).
        if (low is None) != (high is None) or (low is not None and high is not None and low > high):
            raise nerr.SecurityGroupInvalidPortRange()
    elif protocol in ICMP_PROTOCOLS:
        if protocol in ("ipv6-icmp", "icmpv6", "58") and matched == "IPv4":
            raise nerr.SecurityGroupRuleParameterConflict(ethertype=matched, cidr=protocol)
        for field, value in (("type", low), ("code", high)):
            if value is not None and not 0 <= value <= 255:
                raise nerr.SecurityGroupInvalidIcmpValue(
                    field=field, attr="port_range", value=value
                )
        if high is not None and low is None:
            raise nerr.SecurityGroupMissingIcmpType(value=high)
    elif protocol is not None and (low is not None or high is not None):
        raise nerr.InvalidInput(
            reason=f"Invalid protocol {protocol} for port range, only supported for TCP, UDP, "
            "UDPLITE, SCTP and DCCP."
        )
    prefix = body.get("remote_ip_prefix")
    if prefix is not None and body.get("remote_group_id") is not None:
        raise nerr.SecurityGroupRemoteGroupAndRemoteIpPrefix()
    if prefix is not None:
        try:
            net = ipaddress.ip_network(str(prefix), strict=False)
        except ValueError:
            raise nerr.InvalidInput(reason=f"'{prefix}' is not a valid IP subnet") from None
        if f"IPv{net.version}" != matched:
            raise nerr.SecurityGroupRuleParameterConflict(ethertype=matched, cidr=prefix)
        # Kept as given (10.2.3.124/24), as Neutron does; views add normalized_cidr.
        prefix = str(prefix)
    return {
        "direction": direction,
        "ethertype": matched,
        "protocol": protocol,
        "port_range_min": low,
        "port_range_max": high,
        "remote_ip_prefix": prefix,
        "remote_group_id": body.get("remote_group_id"),
        "description": body.get("description") or "",
    }


def check_name(body: dict[str, Any]) -> None:
    """Neutron's ``name_not_default`` validator: one ``default`` group per project, made by
    the service itself; no create or rename may take that name (any case)."""
    name = body.get("name")
    if isinstance(name, str) and name.lower() == "default":
        raise nerr.SecurityGroupDefaultAlreadyExists()


def _same_rule(a: models.SecurityGroupRule, b: dict[str, Any]) -> bool:
    keys = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
            "remote_ip_prefix", "remote_group_id")  # fmt: skip
    same = all(getattr(a, k) == b[k] for k in keys if k != "remote_ip_prefix")
    return same and normalized_cidr(a.remote_ip_prefix) == normalized_cidr(b["remote_ip_prefix"])


def normalized_cidr(prefix: str | None) -> str | None:
    """The network a rule's prefix names (10.2.3.124/24 -> 10.2.3.0/24): what the firewall
    matches and what makes two rules the same."""
    return None if prefix is None else str(ipaddress.ip_network(prefix, strict=False))


class SecurityGroups:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def ensure_default(self, project_id: str) -> None:
        if not project_id:
            return
        async with self.ctx.db.session() as session:
            await ensure_default_group(session, project_id)

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.SecurityGroup:
        project_id = body.get("project_id") or caller.project_id
        check_name(body)
        async with self.ctx.db.session() as session:
            await ensure_default_group(session, project_id)
            await check_quota(session, project_id, "security_group")
            group = models.SecurityGroup(
                id=models.uuid_str(),
                project_id=project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                stateful=body.get("stateful", True),
            )
            group.rules = egress_rules(group.id, project_id)
            session.add(group)
            for tag in body.get("tags") or ():
                session.add(
                    models.Tag(resource_id=group.id, tag=tag, resource_type="security_groups")
                )
            await session.flush()
        return group

    async def update(
        self, caller: Caller, group_id: str, changes: dict[str, Any]
    ) -> models.SecurityGroup:
        async with self.ctx.db.session() as session:
            group = await visible_group(session, caller, group_id)
            if group.name == "default" and "name" in changes:
                raise nerr.SecurityGroupCannotUpdateDefault()
            check_name(changes)
            changed = False
            for key, value in changes.items():
                if getattr(group, key) != value:
                    setattr(group, key, value)
                    changed = True
            if changed:
                touch(group)
        await self.ctx.changed()
        return group

    async def delete(self, caller: Caller, group_id: str) -> None:
        async with self.ctx.db.session() as session:
            group = await visible_group(session, caller, group_id)
            is_default = await session.scalar(
                select(models.DefaultSecurityGroup.project_id).where(
                    models.DefaultSecurityGroup.security_group_id == group.id
                )
            )
            if is_default is not None and not caller.is_admin:
                raise nerr.SecurityGroupCannotRemoveDefault()
            used = await session.scalar(
                select(func.count())
                .select_from(models.PortSecurityGroup)
                .where(models.PortSecurityGroup.security_group_id == group.id)
            )
            if used:
                raise nerr.SecurityGroupInUse(id=group.id)
            await drop_tags(session, group.id)
            await session.delete(group)
        await self.ctx.changed()

    async def create_rule(self, caller: Caller, body: dict[str, Any]) -> models.SecurityGroupRule:
        values = validate_rule(body)
        async with self.ctx.db.session() as session:
            group = await visible_group(session, caller, str(body.get("security_group_id")))
            project_id = body.get("project_id") or group.project_id
            if values["remote_group_id"] is not None:
                await visible_group(session, caller, values["remote_group_id"])
            for rule in group.rules:
                if _same_rule(rule, values):
                    raise nerr.SecurityGroupRuleExists(rule_id=rule.id)
            await check_quota(session, project_id, "security_group_rule")
            rule = models.SecurityGroupRule(
                id=models.uuid_str(), project_id=project_id, security_group_id=group.id, **values
            )
            session.add(rule)
            touch(group)
            await session.flush()
        await self.ctx.changed()
        return rule

    async def get_rule(self, caller: Caller, rule_id: str) -> models.SecurityGroupRule:
        async with self.ctx.db.session() as session:
            return await self._visible_rule(session, caller, rule_id)

    async def _visible_rule(
        self, session: AsyncSession, caller: Caller, rule_id: str
    ) -> models.SecurityGroupRule:
        """The rule, if the caller is admin, owns it or owns its group; else not found."""
        rule = await session.get(models.SecurityGroupRule, rule_id)
        if rule is None or not (
            caller.is_admin
            or rule.project_id == caller.project_id
            or await self._owns_group(session, caller, rule.security_group_id)
        ):
            raise nerr.SecurityGroupRuleNotFound(id=rule_id)
        return rule

    @staticmethod
    async def _owns_group(session: AsyncSession, caller: Caller, group_id: str) -> bool:
        group = await session.get(models.SecurityGroup, group_id)
        return group is not None and group.project_id == caller.project_id

    async def delete_rule(self, caller: Caller, rule_id: str) -> None:
        async with self.ctx.db.session() as session:
            rule = await self._visible_rule(session, caller, rule_id)
            group = await session.get(models.SecurityGroup, rule.security_group_id)
            if group is not None:
                touch(group)
            await session.delete(rule)
        await self.ctx.changed()


def rule_visible(caller: Caller) -> Any:
    if caller.is_admin:
        return None
    return or_(
        models.SecurityGroupRule.project_id == caller.project_id,
        models.SecurityGroupRule.security_group_id.in_(
            select(models.SecurityGroup.id).where(
                models.SecurityGroup.project_id == caller.project_id
            )
        ),
    )
