"""Start-up: the image store and its cache, the service object and its recovery and
prefetch tasks, and the test image offered to every user."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import Runtime
from onestack.image.dataplane import create_store
from onestack.image.drivers.cache import LocalCache
from onestack.image.drivers.file import FileStore
from onestack.image.facade import ImageAPI
from onestack.image.service import ImageService
from onestack.image.testimage.register import register_if_present
from onestack.object.facade import ObjectAPI


def store_root(runtime: Runtime) -> Path:
    configured = runtime.settings.image.store_dir
    return Path(configured) if configured else runtime.settings.data_dir / "images"


async def start(runtime: Runtime) -> None:
    root = store_root(runtime)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    cache = LocalCache(root / "cache")
    store = create_store(runtime.settings.image.store, root, cache, runtime.optional(ObjectAPI))
    # The staging area of glance-direct imports is always local files, beside the store.
    staging = FileStore(root / "staging")
    svc = ImageService(
        runtime.db,
        runtime.bus,
        runtime.settings.image,
        store,
        staging,
        runtime.spawn,
        cache,
        runtime.enforcer,
    )
    await svc.recover()
    await svc.metadefs.seed()
    await svc.tasks.fail_interrupted()
    runtime.spawn(
        svc.data.recover_forever(runtime.settings.image.upload_recovery_interval),
        "image-upload-recovery",
    )
    runtime.spawn(
        svc.cache.prefetch_forever(runtime.settings.image.cache_prefetch_interval),
        "image-cache-prefetch",
    )
    runtime.provide(ImageService, svc)
    runtime.provide(ImageAPI, svc)
    # `onestack image build-test` leaves a cached guest image: offer it to every user.
    runtime.spawn(register_if_present(runtime), "image-register-test-image")
