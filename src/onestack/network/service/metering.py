"""Metering labels and their rules (Neutron's metering extension): the API and its state.
Each change tells the agents, which count the labels in their routers' namespaces (the
driver's ``meter``) and report the counts as ``l3.meter`` notifications."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import Caller, NetworkContext

PREFIXES = ("remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix")


def _prefix(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise nerr.InvalidInput(reason=f"'{value}' is not a valid IP subnet") from None


class Metering:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def create_label(self, caller: Caller, body: dict[str, Any]) -> models.MeteringLabel:
        async with self.ctx.db.session() as session:
            row = models.MeteringLabel(
                id=models.uuid_str(),
                project_id=body.get("project_id") or caller.project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                shared=body.get("shared", False),
            )
            session.add(row)
        await self.ctx.changed()
        return row

    async def delete_label(self, caller: Caller, label_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await session.get(models.MeteringLabel, label_id)
            if row is None:
                raise nerr.MeteringLabelNotFound(id=label_id)
            await session.delete(row)
        await self.ctx.changed()

    async def create_rule(self, caller: Caller, body: dict[str, Any]) -> models.MeteringLabelRule:
        values = {key: _prefix(body.get(key)) for key in PREFIXES}
        if values["remote_ip_prefix"] and (
            values["source_ip_prefix"] or values["destination_ip_prefix"]
        ):
            raise nerr.InvalidInput(
                reason="Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' "
                "or 'destination-ip-prefix'."
            )
        if not any(values.values()):
            raise nerr.InvalidInput(
                reason="You must define at least one of the following parameters "
                "'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'."
            )
        if body.get("direction") not in ("ingress", "egress"):
            raise nerr.InvalidInput(reason="direction must be 'ingress' or 'egress'")
        async with self.ctx.db.session() as session:
            label = await session.get(models.MeteringLabel, body["metering_label_id"])
            if label is None:
                raise nerr.MeteringLabelNotFound(id=body["metering_label_id"])
            row = models.MeteringLabelRule(
                id=models.uuid_str(),
                metering_label_id=label.id,
                direction=body["direction"],
                excluded=bool(body.get("excluded", False)),
                **values,
            )
            session.add(row)
        await self.ctx.changed()
        return row

    async def delete_rule(self, caller: Caller, rule_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await session.scalar(
                select(models.MeteringLabelRule).where(models.MeteringLabelRule.id == rule_id)
            )
            if row is None:
                raise nerr.MeteringLabelRuleNotFound(id=rule_id)
            await session.delete(row)
        await self.ctx.changed()
