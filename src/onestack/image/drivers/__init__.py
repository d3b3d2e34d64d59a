"""Image stores behind one seam (``base.ImageStore``), chosen by ``[image] store``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from onestack.image.drivers.base import ImageStore
from onestack.image.drivers.cache import LocalCache
from onestack.image.drivers.file import FileStore

if TYPE_CHECKING:
    from onestack.object.facade import ObjectAPI

STORES = ("file", "object")


def create_store(
    kind: str, root: Path, cache: LocalCache, objects: ObjectAPI | None = None
) -> ImageStore:
    """The store named ``kind``; ``object`` keeps images in the object service (``objects``,
    its facade) and a local copy of each booted image in the host's image ``cache``."""
    if kind == "file":
        return FileStore(root)
    if kind == "object":
        if objects is None:
            raise ValueError("[image] store = object needs the object service in this process")
        from onestack.image.drivers.object import ObjectImageStore

        return ObjectImageStore(objects, cache)
    raise ValueError(f"unknown image store {kind!r}; known: {', '.join(STORES)}")
