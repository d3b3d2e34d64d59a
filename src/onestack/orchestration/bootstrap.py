"""Start-up: the engine, the stack and software-config services, and the engine loop
(heartbeat and recovery of stacks a dead engine left)."""

from __future__ import annotations

from onestack.common.agent import Periodic
from onestack.common.runtime import Runtime
from onestack.orchestration import services
from onestack.orchestration.engine.runner import Engine
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
        loop.every(
            lambda: settings.heartbeat_interval,
            lambda: services.report(runtime.db, engine.id, settings.heartbeat_interval),
            "orchestration-report", at_start=True,
        )  # fmt: skip
        runtime.provide(EngineLoop, loop)


async def stop(runtime: Runtime) -> None:
    loop = runtime.optional(EngineLoop)
    if loop is not None:
        await loop.stop()
        engine = runtime.optional(Engine)
        if engine is not None:
            await services.retire(runtime.db, engine.id)
    engine = runtime.optional(Engine)
    if engine is not None:
        for stack_id in list(engine.working):
            await engine.cancel(stack_id)
