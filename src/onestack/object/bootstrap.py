"""Start-up: the service object over its store (``dataplane.py``), and this host's object agent."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import DataPlane, Runtime
from onestack.object.agent import ObjectAgent
from onestack.object.dataplane import create_store
from onestack.object.facade import ContainersAPI, ObjectAPI, ObjectFacade
from onestack.object.service import ObjectService


def store_root(runtime: Runtime) -> Path:
    configured = runtime.settings.object.root
    return Path(configured) if configured else runtime.settings.data_dir / "objects"


async def start(runtime: Runtime) -> None:
    settings = runtime.settings.object
    loaded = create_store(settings.driver, store_root(runtime))
    svc = ObjectService(
        loaded.driver, settings, runtime.token_validator, runtime.settings.data_dir / "locks"
    )
    runtime.provide(ObjectService, svc)
    facade = ObjectFacade(svc)
    runtime.provide(ObjectAPI, facade)
    runtime.provide(ContainersAPI, facade)
    if "agent" in runtime.roles:
        agent = ObjectAgent(loaded.driver, settings)
        agent.start()
        runtime.provide(ObjectAgent, agent)


async def stop(runtime: Runtime) -> None:
    agent = runtime.optional(ObjectAgent)
    if agent is not None:
        await agent.stop()
    svc = runtime.optional(ObjectService)
    if svc is not None:
        await svc.store.close()


def data_plane(runtime: Runtime) -> DataPlane | None:
    svc = runtime.optional(ObjectService)
    if svc is None or "agent" not in runtime.roles:
        return None
    if svc.store.name == "fake":
        return DataPlane(driver="fake", fake_means="objects live in memory and go with the process")
    return DataPlane(driver=svc.store.name)
