"""Start-up: the archive and incoming stores, the service object, and the notification
listener and central polling."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import Runtime
from onestack.metering.dataplane import create_aggregates, create_incoming
from onestack.metering.facade import MeteringAPI
from onestack.metering.listener import CentralPolling, Listener
from onestack.metering.reader import MeteringFacade
from onestack.metering.service import MeteringService


def store_root(runtime: Runtime) -> Path:
    configured = runtime.settings.metering.root
    return Path(configured) if configured else runtime.settings.data_dir / "metering"


async def start(runtime: Runtime) -> None:
    settings = runtime.settings.metering
    root = store_root(runtime)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    incoming = create_incoming(settings.incoming_driver, root, settings.redis_url).driver
    store = create_aggregates(settings.storage_driver, root).driver
    svc = MeteringService(runtime.db, settings, incoming, store)
    await svc.bootstrap()
    publisher = MeteringFacade(svc)
    runtime.provide(MeteringService, svc)
    runtime.provide(MeteringAPI, publisher)
    if "api" in runtime.roles:
        runtime.spawn(svc.processor.run_forever(), "metering-processor")
        listener = Listener(runtime, publisher)
        listener.subscribe()
        periodic = CentralPolling()
        periodic.every(lambda: settings.interval, listener.poll_network, "metering-network-poll")
        periodic.every(
            lambda: settings.interval, listener.poll_object_storage, "metering-object-poll"
        )
        runtime.provide(CentralPolling, periodic)


async def stop(runtime: Runtime) -> None:
    periodic = runtime.optional(CentralPolling)
    if periodic is not None:
        await periodic.stop()
    svc = runtime.optional(MeteringService)
    if svc is not None:
        svc.close()
