"""Start-up: the service object, the default volume type, and this host's volume agent."""

from __future__ import annotations

import socket
from pathlib import Path

from onestack.common.runtime import DataPlane, Runtime
from onestack.image.facade import ImageAPI
from onestack.volume.agent import VolumeAgent
from onestack.volume.dataplane import create_driver, why_not_file
from onestack.volume.drivers.backup import BackupStore, FakeBackupStore, FileBackupStore
from onestack.volume.facade import VolumeAPI, VolumeFacade
from onestack.volume.service import VolumeService


def volumes_dir(runtime: Runtime) -> Path:
    configured = runtime.settings.volume.volumes_dir
    return Path(configured) if configured else runtime.settings.data_dir / "volumes"


def host_name(runtime: Runtime) -> str:
    return runtime.settings.volume.host or socket.gethostname()


async def start(runtime: Runtime) -> None:
    settings = runtime.settings.volume
    svc = VolumeService(runtime.db, runtime.bus, settings, runtime.optional(ImageAPI))
    await svc.types.ensure_default()
    runtime.provide(VolumeService, svc)
    runtime.provide(VolumeAPI, VolumeFacade(svc))
    if "agent" in runtime.roles:
        loaded = create_driver(settings.driver, volumes_dir(runtime), settings.capacity_gb)
        backups: BackupStore = FakeBackupStore()
        if loaded.name == "file":
            backups = FileBackupStore(runtime.settings.data_dir / "backups")
        agent = VolumeAgent(
            loaded.driver, svc, runtime.bus, host_name(runtime), settings,
            runtime.settings.data_dir / "volume-work", backups,
        )  # fmt: skip
        await agent.start()
        runtime.provide(VolumeAgent, agent)


async def stop(runtime: Runtime) -> None:
    agent = runtime.optional(VolumeAgent) if "agent" in runtime.roles else None
    if agent is not None:
        runtime.withdraw(VolumeAgent)
        await agent.stop()


def data_plane(runtime: Runtime) -> DataPlane | None:
    agent = runtime.optional(VolumeAgent) if "agent" in runtime.roles else None
    if agent is None:
        return None
    reason = ""
    if agent.driver.name == "fake" and runtime.settings.volume.driver == "auto":
        reason = why_not_file() or ""
    return DataPlane(driver=agent.driver.name, reason=reason, fake_means="volumes hold no data")
