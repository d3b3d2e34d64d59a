"""Choosing and loading the image store (service side: drivers import nothing of common)."""

from __future__ import annotations

from pathlib import Path

from onestack.common.agent import load_driver
from onestack.image.drivers.base import ImageStore
from onestack.image.drivers.cache import LocalCache
from onestack.object.facade import ObjectAPI


def create_store(
    wanted: str, root: Path, cache: LocalCache, objects: ObjectAPI | None = None
) -> ImageStore:
    """The store named ``wanted``; ``object`` keeps images in the object service (``objects``,
    its facade) and a local copy of each booted image in the host's image ``cache``. One that
    cannot be had is the common loader's ``DriverUnavailable``."""

    def file() -> ImageStore:
        from onestack.image.drivers.file import FileStore

        return FileStore(root)

    def object_store() -> ImageStore:
        from onestack.image.drivers.object import ObjectImageStore

        assert objects is not None  # why_not refuses it otherwise
        return ObjectImageStore(objects, cache)

    def why_not_object() -> str | None:
        return None if objects is not None else "the object service is not running in this process"

    loaded = load_driver(
        "image store", wanted, {"file": file, "object": object_store},
        why_not={"object": why_not_object},
    )  # fmt: skip
    return loaded.driver
