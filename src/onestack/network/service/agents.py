"""Agents: the rows each host's network agent keeps alive with its heartbeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from onestack.common.db import utcnow
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import (
    NetworkContext,
)

AGENT_DOWN_TIME = timedelta(seconds=75)  # Neutron's agent_down_time


class Agents:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    @staticmethod
    def alive(row: models.Agent) -> bool:
        return utcnow() - row.heartbeat_timestamp < AGENT_DOWN_TIME

    async def report(
        self, host: str, agent_type: str, binary: str, configurations: dict[str, Any]
    ) -> models.Agent:
        """An agent's heartbeat: create its row on first report, refresh it afterwards."""

        async def attempt() -> models.Agent:
            async with self.ctx.db.session() as session:
                row = await session.scalar(
                    select(models.Agent).where(
                        models.Agent.agent_type == agent_type, models.Agent.host == host
                    )
                )
                now = utcnow()
                if row is None:
                    row = models.Agent(
                        id=models.uuid_str(),
                        agent_type=agent_type,
                        binary=binary,
                        host=host,
                        topic="N/A",
                        configurations=configurations,
                        availability_zone="nova"
                        if agent_type in ("DHCP agent", "L3 agent")
                        else None,
                        created_at=now,
                        started_at=now,
                        heartbeat_timestamp=now,
                    )
                    session.add(row)
                else:
                    if not self.alive(row):
                        row.started_at = now
                    row.heartbeat_timestamp = now
                    row.binary = binary
                    row.configurations = configurations
                return row

        from onestack.network.service.base import retrying

        return await retrying(attempt)

    async def get(self, agent_id: str) -> models.Agent:
        async with self.ctx.db.session() as session:
            row = await session.get(models.Agent, agent_id)
            if row is None:
                raise nerr.AgentNotFound(id=agent_id)
            return row

    async def update(self, agent_id: str, changes: dict[str, Any]) -> models.Agent:
        async with self.ctx.db.session() as session:
            row = await session.get(models.Agent, agent_id)
            if row is None:
                raise nerr.AgentNotFound(id=agent_id)
            for key, value in changes.items():
                setattr(row, key, value)
            return row

    async def delete(self, agent_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await session.get(models.Agent, agent_id)
            if row is None:
                raise nerr.AgentNotFound(id=agent_id)
            await session.delete(row)
