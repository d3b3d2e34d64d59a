"""Image stores behind one seam (``base.ImageStore``), chosen by ``[image] store``."""

from __future__ import annotations

from pathlib import Path

from onestack.image.drivers.base import ImageStore
from onestack.image.drivers.file import FileStore

STORES = ("file",)


def create_store(kind: str, root: Path) -> ImageStore:
    if kind == "file":
        return FileStore(root)
    raise ValueError(f"unknown image store {kind!r}; known: {', '.join(STORES)}")
