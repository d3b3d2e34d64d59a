"""QoS policies and their rules (Neutron's ``qos``, ``qos-default``, ``qos-bw-limit-direction``,
``qos-bw-minimum-ingress`` and ``qos-rule-type-details``): a policy groups at most one bandwidth
limit and one minimum bandwidth rule per direction and one DSCP marking rule; networks and ports
name a policy with ``qos_policy_id``, a port's own winning over its network's. The host's agent
applies a VM port's effective limits and marks; a minimum bandwidth is kept and shown, never
enforced (Neutron too only hands it to placement for scheduling)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import Caller, NetworkContext, drop_tags, tags_of, touch
from onestack.network.service.portrows import PortRow

BANDWIDTH_LIMIT = "bandwidth_limit"
DSCP_MARKING = "dscp_marking"
MINIMUM_BANDWIDTH = "minimum_bandwidth"
RULE_TYPES = (BANDWIDTH_LIMIT, DSCP_MARKING, MINIMUM_BANDWIDTH)
# What the data plane applies to a port; the rest is bookkeeping for the API.
ENFORCED = (BANDWIDTH_LIMIT, DSCP_MARKING)
# The collection path segment of each rule type, and its body key.
RULE_PATHS = {f"{t}_rules": t for t in RULE_TYPES}
DIRECTIONS = ("egress", "ingress")
# neutron_lib.constants.VALID_DSCP_MARKS: the DiffServ code points Neutron accepts.
VALID_DSCP_MARKS = (
    0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56,
)  # fmt: skip
MAX_KBPS = 2**31 - 1  # neutron_lib's db_const.DB_INTEGER_MAX_VALUE

# What the rule-types API says the linuxbridge driver enforces (qos-rule-type-details).
DRIVER_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    BANDWIDTH_LIMIT: [
        {"parameter_name": "max_kbps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": MAX_KBPS}},
        {"parameter_name": "max_burst_kbps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": MAX_KBPS}},
        {"parameter_name": "direction", "parameter_type": "choices",
         "parameter_values": list(DIRECTIONS)},
    ],
    DSCP_MARKING: [
        {"parameter_name": "dscp_mark", "parameter_type": "choices",
         "parameter_values": list(VALID_DSCP_MARKS)},
    ],
}  # fmt: skip
# The attributes each rule type's body may set: the required one first.
RULE_ATTRIBUTES = {
    BANDWIDTH_LIMIT: ("max_kbps", "max_burst_kbps", "direction"),
    DSCP_MARKING: ("dscp_mark",),
    MINIMUM_BANDWIDTH: ("min_kbps", "direction"),
}


def policy_visible(caller: Caller) -> ColumnElement[bool] | None:
    if caller.is_admin:
        return None
    return or_(models.QosPolicy.project_id == caller.project_id, models.QosPolicy.shared.is_(True))


def _bad(name: str, reason: str) -> nerr.InvalidInput:
    return nerr.InvalidInput(reason=f"Invalid input for {name}. Reason: {reason}.")


def _kbps(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(name, f"'{value}' is not an integer")
    try:
        number = int(value)
    except ValueError:
        raise _bad(name, f"'{value}' is not an integer") from None
    if not 0 <= number <= MAX_KBPS:
        if number > 0:
            raise _bad(name, f"'{number}' is too large - must be no larger than '{MAX_KBPS}'")
        raise _bad(name, f"'{number}' is too small - must be at least '0'")
    return number


def _dscp(mark: Any) -> int:
    try:
        number = int(mark) if not isinstance(mark, bool) else -1
    except (TypeError, ValueError):
        number = -1
    if number not in VALID_DSCP_MARKS:
        raise _bad("dscp_mark", f"{mark} is not in {list(VALID_DSCP_MARKS)}")
    return number


def rule_values(rule_type: str, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validate a rule body; the columns it sets."""
    allowed = RULE_ATTRIBUTES[rule_type]
    unknown = sorted(set(body) - set(allowed) - {"id", "tenant_id", "project_id"})
    if unknown:
        raise nerr.HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    if creating and allowed[0] not in body:
        raise nerr.HTTPBadRequest(
            f"Failed to parse request. Required attribute '{allowed[0]}' not specified"
        )
    out: dict[str, Any] = {}
    for key in ("max_kbps", "max_burst_kbps", "min_kbps"):
        if key in body:
            out[key] = _kbps(key, body[key])
    if "dscp_mark" in body:
        out["dscp_mark"] = _dscp(body["dscp_mark"])
    if "direction" in body:
        if body["direction"] not in DIRECTIONS:
            raise _bad("direction", f"{body['direction']} is not in {list(DIRECTIONS)}")
        out["direction"] = body["direction"]
    elif creating and "direction" in allowed:
        out["direction"] = "egress"
    if creating and rule_type == BANDWIDTH_LIMIT:
        out.setdefault("max_burst_kbps", 0)
    return out


def rule_dict(r: models.QosRule, embedded: bool = False) -> dict[str, Any]:
    """A rule as its own resource shows it; ``embedded``: as a policy's ``rules`` lists it."""
    if r.rule_type == BANDWIDTH_LIMIT:
        out: dict[str, Any] = {
            "id": r.id,
            "max_kbps": r.max_kbps,
            "max_burst_kbps": r.max_burst_kbps,
            "direction": r.direction,
        }
    elif r.rule_type == MINIMUM_BANDWIDTH:
        out = {"id": r.id, "min_kbps": r.min_kbps, "direction": r.direction}
    else:
        out = {"id": r.id, "dscp_mark": r.dscp_mark}
    if embedded:
        out.update(qos_policy_id=r.qos_policy_id, type=r.rule_type)
    return out


async def rules_of(
    session: AsyncSession, policy_ids: Iterable[str]
) -> dict[str, list[models.QosRule]]:
    out: dict[str, list[models.QosRule]] = defaultdict(list)
    wanted = list(set(policy_ids))
    if wanted:
        for rule in await session.scalars(
            select(models.QosRule)
            .where(models.QosRule.qos_policy_id.in_(wanted))
            .order_by(models.QosRule.created_at, models.QosRule.id)
        ):
            out[rule.qos_policy_id].append(rule)
    return out


async def render_policies(
    session: AsyncSession, rows: Sequence[models.QosPolicy]
) -> list[dict[str, Any]]:
    from onestack.network.service.views import owner, standard

    ids = [r.id for r in rows]
    tags = await tags_of(session, ids)
    rules = await rules_of(session, ids)
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "shared": r.shared,
            "is_default": r.is_default,
            "rules": [rule_dict(x, embedded=True) for x in rules.get(r.id, [])],
            **standard(r, tags),
        }
        for r in rows
    ]


async def visible_policy(session: AsyncSession, caller: Caller, policy_id: str) -> models.QosPolicy:
    stmt = select(models.QosPolicy).where(models.QosPolicy.id == policy_id)
    clause = policy_visible(caller)
    if clause is not None:
        stmt = stmt.where(clause)
    row = await session.scalar(stmt)
    if row is None:
        raise nerr.QosPolicyNotFound(id=policy_id)
    return row


async def check_attachable(session: AsyncSession, caller: Caller, policy_id: str | None) -> None:
    """A network or port may name a policy its caller can see (its project's or a shared one)."""
    if policy_id is not None:
        await visible_policy(session, caller, policy_id)


async def default_policy_id(session: AsyncSession, project_id: str) -> str | None:
    found: str | None = await session.scalar(
        select(models.QosPolicy.id).where(
            models.QosPolicy.project_id == project_id, models.QosPolicy.is_default.is_(True)
        )
    )
    return found


async def effective_rules(
    session: AsyncSession, ports: Sequence[models.Port | PortRow]
) -> dict[str, list[models.QosRule]]:
    """Each port's rules: of its own policy, else of its network's."""
    net_ids = {p.network_id for p in ports if p.qos_policy_id is None}
    net_policy: dict[str, str | None] = {}
    if net_ids:
        rows = await session.execute(
            select(models.Network.id, models.Network.qos_policy_id).where(
                models.Network.id.in_(net_ids)
            )
        )
        net_policy = {net_id: policy for net_id, policy in rows}
    chosen = {p.id: p.qos_policy_id or net_policy.get(p.network_id) for p in ports}
    rules = await rules_of(session, [c for c in chosen.values() if c])
    return {pid: rules.get(policy, []) for pid, policy in chosen.items() if policy}


class QosPolicies:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def _check_default(
        self, session: AsyncSession, project_id: str, keep: str | None = None
    ) -> None:
        current = await default_policy_id(session, project_id)
        if current is not None and current != keep:
            raise nerr.QoSPolicyDefaultAlreadyExists(project_id=project_id)

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.QosPolicy:
        async with self.ctx.db.session() as session:
            project_id = body.get("project_id") or caller.project_id
            if body.get("is_default"):
                await self._check_default(session, project_id)
            row = models.QosPolicy(
                id=models.uuid_str(),
                project_id=project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                shared=body.get("shared", False),
                is_default=body.get("is_default", False),
            )
            session.add(row)
            for tag in body.get("tags") or ():
                session.add(models.Tag(resource_id=row.id, tag=tag, resource_type="policies"))
        return row

    async def update(self, caller: Caller, policy_id: str, changes: dict[str, Any]) -> Any:
        async with self.ctx.db.session() as session:
            row = await visible_policy(session, caller, policy_id)
            if changes.get("is_default") and not row.is_default:
                await self._check_default(session, row.project_id, keep=row.id)
            if changes.get("shared") is False and row.shared:
                await self._check_unshare(session, row)
            changed = False
            for key in ("name", "description", "shared", "is_default"):
                if key in changes and getattr(row, key) != changes[key]:
                    setattr(row, key, changes[key])
                    changed = True
            if changed:
                touch(row)
        return row

    async def _check_unshare(self, session: AsyncSession, row: models.QosPolicy) -> None:
        """Neutron refuses to unshare a policy another project's network or port uses."""
        for model, kind in ((models.Network, "network"), (models.Port, "port")):
            other = await session.scalar(
                select(model.id).where(
                    model.qos_policy_id == row.id, model.project_id != row.project_id
                )
            )
            if other is not None:
                raise nerr.QosPolicyInUse(policy_id=row.id, object_type=kind, object_id=other)

    async def delete(self, caller: Caller, policy_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await visible_policy(session, caller, policy_id)
            for model, kind in ((models.Network, "network"), (models.Port, "port")):
                user = await session.scalar(select(model.id).where(model.qos_policy_id == row.id))
                if user is not None:
                    raise nerr.QosPolicyInUse(policy_id=row.id, object_type=kind, object_id=user)
            await drop_tags(session, row.id)
            await session.delete(row)

    # -- rules ------------------------------------------------------------------------------
    async def _rule(
        self, session: AsyncSession, caller: Caller, policy_id: str, rule_type: str, rule_id: str
    ) -> models.QosRule:
        await visible_policy(session, caller, policy_id)
        row = await session.scalar(
            select(models.QosRule).where(
                models.QosRule.id == rule_id,
                models.QosRule.qos_policy_id == policy_id,
                models.QosRule.rule_type == rule_type,
            )
        )
        if row is None:
            raise nerr.QosRuleNotFound(rule_id=rule_id, policy_id=policy_id)
        return row

    async def list_rules(
        self, caller: Caller, policy_id: str, rule_type: str, filters: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        async with self.ctx.db.session() as session:
            await visible_policy(session, caller, policy_id)
            rows = (await rules_of(session, [policy_id])).get(policy_id, [])
            found = [rule_dict(r) for r in rows if r.rule_type == rule_type]
        return [
            r for r in found
            if all(str(r.get(k)) in v for k, v in filters.items() if k in r)
        ]  # fmt: skip

    async def show_rule(
        self, caller: Caller, policy_id: str, rule_type: str, rule_id: str
    ) -> dict[str, Any]:
        async with self.ctx.db.session() as session:
            return rule_dict(await self._rule(session, caller, policy_id, rule_type, rule_id))

    async def create_rule(
        self, caller: Caller, policy_id: str, rule_type: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        values = rule_values(rule_type, body, creating=True)
        async with self.ctx.db.session() as session:
            policy = await visible_policy(session, caller, policy_id)
            direction = values.pop("direction", "")
            existing = await session.scalar(
                select(models.QosRule.id).where(
                    models.QosRule.qos_policy_id == policy.id,
                    models.QosRule.rule_type == rule_type,
                    models.QosRule.direction == direction,
                )
            )
            if existing is not None:
                raise nerr.QoSRulesConflict(
                    new_rule_type=rule_type, rule_id=existing, policy_id=policy.id
                )
            row = models.QosRule(
                id=models.uuid_str(), qos_policy_id=policy.id, rule_type=rule_type,
                direction=direction, **values,
            )  # fmt: skip
            session.add(row)
            touch(policy)
            out = rule_dict(row)
        await self.ctx.changed()
        return out

    async def update_rule(
        self, caller: Caller, policy_id: str, rule_type: str, rule_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        values = rule_values(rule_type, body, creating=False)
        async with self.ctx.db.session() as session:
            row = await self._rule(session, caller, policy_id, rule_type, rule_id)
            direction = values.get("direction", row.direction)
            if direction != row.direction:
                clash = await session.scalar(
                    select(func.count()).select_from(models.QosRule).where(
                        models.QosRule.qos_policy_id == policy_id,
                        models.QosRule.rule_type == rule_type,
                        models.QosRule.direction == direction,
                    )
                )  # fmt: skip
                if clash:
                    raise nerr.QoSRulesConflict(
                        new_rule_type=rule_type, rule_id=row.id, policy_id=policy_id
                    )
            for key, value in values.items():
                setattr(row, key, value)
            policy = await session.get(models.QosPolicy, policy_id)
            if policy is not None:
                touch(policy)
            out = rule_dict(row)
        await self.ctx.changed()
        return out

    async def delete_rule(
        self, caller: Caller, policy_id: str, rule_type: str, rule_id: str
    ) -> None:
        async with self.ctx.db.session() as session:
            row = await self._rule(session, caller, policy_id, rule_type, rule_id)
            await session.delete(row)
            policy = await session.get(models.QosPolicy, policy_id)
            if policy is not None:
                touch(policy)
        await self.ctx.changed()


def rule_type_dict(rule_type: str, details: bool) -> dict[str, Any]:
    if rule_type not in RULE_TYPES:
        raise nerr.QosRuleTypeNotFound(rule_type=rule_type)
    out: dict[str, Any] = {"type": rule_type}
    if details:
        # No driver enforces a minimum bandwidth: its type lists none, as Neutron lists the
        # types no loaded driver supports.
        out["drivers"] = [
            {"name": "linuxbridge", "supported_parameters": DRIVER_PARAMETERS[rule_type]}
        ] if rule_type in DRIVER_PARAMETERS else []  # fmt: skip
    return out
