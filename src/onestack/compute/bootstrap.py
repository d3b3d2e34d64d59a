"""Start-up: the service object and its facade, the default flavors, and this host's compute
agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.common.logging import get_logger
from onestack.common.runtime import DataPlane, Runtime
from onestack.compute.facade import ComputeAPI, ComputeFacade
from onestack.compute.service import ComputeService

if TYPE_CHECKING:
    from onestack.compute.agent import ComputeAgent

log = get_logger(__name__)


async def start(runtime: Runtime) -> None:
    svc = ComputeService(runtime)
    runtime.provide(ComputeService, svc)
    runtime.provide(ComputeAPI, ComputeFacade(svc))
    if runtime.settings.compute.create_flavors:
        await svc.flavors.ensure_defaults()
    if "agent" in runtime.roles:
        from onestack.compute.agent import ComputeAgent, start_agent

        runtime.provide(ComputeAgent, await start_agent(runtime, svc))


def local_agent(runtime: Runtime) -> ComputeAgent | None:
    """This process's own compute agent, when it runs one."""
    if "agent" not in runtime.roles:
        return None
    from onestack.compute.agent import ComputeAgent

    return runtime.optional(ComputeAgent)


async def stop(runtime: Runtime) -> None:
    agent = local_agent(runtime)
    if agent is not None:
        from onestack.compute.agent import ComputeAgent

        runtime.withdraw(ComputeAgent)
        await agent.stop()


def data_plane(runtime: Runtime) -> DataPlane | None:
    agent = local_agent(runtime)
    if agent is None:
        return None
    described = agent.describe()
    return DataPlane(
        driver=described["driver"],
        detail=described.get("accelerator") or "",
        reason=described.get("fallback_reason") or "",
        fake_means="servers are not real virtual machines",
    )
