"""Start-up: the service object, the default flavors, and this host's compute agent."""

from __future__ import annotations

from onestack.common.logging import get_logger
from onestack.common.runtime import Runtime
from onestack.compute.service import ComputeService

log = get_logger(__name__)


async def start(runtime: Runtime) -> None:
    svc = ComputeService(runtime)
    runtime.state["compute"] = svc
    if runtime.settings.compute.create_flavors:
        await svc.flavors.ensure_defaults()
    if "agent" in runtime.roles:
        from onestack.compute.agent import start_agent

        runtime.state["compute.agent"] = await start_agent(runtime, svc)


async def stop(runtime: Runtime) -> None:
    agent = runtime.state.pop("compute.agent", None)
    if agent is not None:
        await agent.stop()
