"""Start-up: the service object and its facade, the default flavors, and this host's compute
agent."""

from __future__ import annotations

import asyncio
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
    if "api" in runtime.roles:
        runtime.spawn(_recover_boots(svc), "compute boot recovery")
    if "agent" in runtime.roles:
        from onestack.compute.agent import ComputeAgent, start_agent

        runtime.provide(ComputeAgent, await start_agent(runtime, svc))


async def _recover_boots(svc: ComputeService) -> None:
    """Boots an API process's crash left unplaced are taken over (``Boot.recover_stalled``),
    checked at start and every ``RECOVERY_INTERVAL`` seconds."""
    from onestack.compute.service.boot import RECOVERY_INTERVAL

    while True:
        try:
            await svc.boot.recover_stalled()
        except Exception:
            log.exception("recovering interrupted boots failed")
        await asyncio.sleep(RECOVERY_INTERVAL)


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
    # Until the host registers (the accelerator probe) the banner says "probing".
    probing = agent.info is None and described["driver"] != "fake"
    return DataPlane(
        driver=described["driver"],
        detail="probing" if probing else described.get("accelerator") or "",
        reason=described.get("fallback_reason") or "",
        fake_means="servers are not real virtual machines",
    )
