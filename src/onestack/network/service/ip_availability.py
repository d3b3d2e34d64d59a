"""Network IP availability (Neutron's network-ip-availability extension): per network and
subnet, how many addresses its allocation pools hold and how many are allocated."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from onestack.common.db import Database
from onestack.network import models

FILTERS = ("network_id", "network_name", "project_id", "tenant_id", "ip_version")


def _pool_size(pools: list[dict[str, str]]) -> int:
    return sum(
        int(ipaddress.ip_address(p["end"])) - int(ipaddress.ip_address(p["start"])) + 1
        for p in pools or []
    )


async def availabilities(
    db: Database, filters: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Every network's availability matching Neutron's filters (each a list of values)."""
    N, S, A = models.Network, models.Subnet, models.IPAllocation
    stmt = select(N).order_by(N.id)
    if filters.get("network_id"):
        stmt = stmt.where(N.id.in_(filters["network_id"]))
    if filters.get("network_name"):
        stmt = stmt.where(N.name.in_(filters["network_name"]))
    projects = [*filters.get("project_id", ()), *filters.get("tenant_id", ())]
    if projects:
        stmt = stmt.where(N.project_id.in_(projects))
    versions = {int(v) for v in filters.get("ip_version", ()) if str(v).isdigit()}
    async with db.session() as s:
        networks = list(await s.scalars(stmt))
        ids = [n.id for n in networks]
        subnets = list(await s.scalars(select(S).where(S.network_id.in_(ids)).order_by(S.id)))
        used = dict(
            (await s.execute(
                select(A.subnet_id, func.count()).where(A.subnet_id.in_([x.id for x in subnets]))
                .group_by(A.subnet_id)
            )).all()
        ) if subnets else {}  # fmt: skip
    out = []
    for n in networks:
        rows: list[dict[str, Any]] = [
            {
                "subnet_id": x.id,
                "subnet_name": x.name,
                "cidr": x.cidr,
                "ip_version": x.ip_version,
                "total_ips": _pool_size(x.allocation_pools),
                "used_ips": int(used.get(x.id, 0)),
            }
            for x in subnets
            if x.network_id == n.id and (not versions or x.ip_version in versions)
        ]
        if versions and not rows:
            continue
        out.append(
            {
                "network_id": n.id,
                "network_name": n.name,
                "project_id": n.project_id,
                "tenant_id": n.project_id,
                "total_ips": sum(r["total_ips"] for r in rows),
                "used_ips": sum(r["used_ips"] for r in rows),
                "subnet_ip_availability": rows,
            }
        )
    return out
