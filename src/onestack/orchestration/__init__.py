"""Orchestration (Heat v1, catalog type ``orchestration``): HOT templates checked up front,
stacks whose resources the engine creates and deletes over their dependency graph, calling
the other services only through their typed facades."""

from __future__ import annotations

from pathlib import Path

from onestack.common.agent import Periodic
from onestack.common.runtime import Runtime, ServiceSpec
from onestack.orchestration import api
from onestack.orchestration.engine.runner import Engine
from onestack.orchestration.errors import heat_body
from onestack.orchestration.policies import RULES
from onestack.orchestration.service import StackService
from onestack.orchestration.software import SoftwareService


class EngineLoop(Periodic):
    """The engine's heartbeat on its stacks and its look for stacks a dead engine left."""


async def start(runtime: Runtime) -> None:
    settings = runtime.settings.orchestration
    engine = Engine(runtime, lambda: settings.heartbeat_interval)
    runtime.provide(Engine, engine)
    runtime.provide(StackService, StackService(runtime.db, settings, engine))
    runtime.provide(SoftwareService, SoftwareService(runtime.db, runtime))
    if "api" in runtime.roles:
        loop = EngineLoop()
        loop.every(lambda: settings.heartbeat_interval, engine.beat, "orchestration-heartbeat")
        loop.every(
            lambda: settings.heartbeat_interval, engine.recover, "orchestration-recover",
            at_start=True,
        )  # fmt: skip
        runtime.provide(EngineLoop, loop)


async def stop(runtime: Runtime) -> None:
    loop = runtime.optional(EngineLoop)
    if loop is not None:
        await loop.stop()
    engine = runtime.optional(Engine)
    if engine is not None:
        for stack_id in list(engine.working):
            await engine.cancel(stack_id)


SPEC = ServiceSpec(
    name="orchestration",
    catalog_type="orchestration",
    catalog_name="heat",
    prefix="/orchestration",
    endpoint_path="/orchestration/v1/$(project_id)s",
    routes=api.routes,
    error_body=heat_body,
    public=api.PUBLIC,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
)
