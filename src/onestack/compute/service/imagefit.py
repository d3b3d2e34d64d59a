"""Does a flavor fit an image? Nova's ``_validate_flavor_image_nostatus`` for image-backed
servers, checked at create, rebuild and resize (400 with Nova's messages).

An image says what it needs with Glance's ``min_ram`` (MiB) and ``min_disk`` (GiB): the test
image cannot boot in 64 MiB, so it carries ``min_ram`` and ``m1.nano`` is refused up front
rather than left ACTIVE with QEMU spinning on an empty console.
"""

from __future__ import annotations

from typing import Any, Protocol

from onestack.common import errors

GiB = 1024**3


class ImageSizes(Protocol):
    @property
    def min_ram(self) -> int | None: ...
    @property
    def min_disk(self) -> int | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def virtual_size(self) -> int | None: ...


def check_flavor_fits_image(flavor: dict[str, Any], image: ImageSizes) -> None:
    """Raise Nova's 400 when ``flavor`` is too small for ``image``.

    A flavor disk of 0 means "the image's size" (Nova's legacy rule): no disk check then. The
    image's size is its virtual size where known (a qcow2 overlay cannot shrink below it;
    Nova's API compares the file size and its libvirt driver fails the build on the virtual
    size later).
    """
    if flavor["memory_mb"] < int(image.min_ram or 0):
        raise errors.BadRequest("Flavor's memory is too small for requested image.")
    dest = int(flavor["root_gb"]) * GiB
    if not dest:
        return
    size = int(image.virtual_size or image.size or 0)
    if size > dest:
        raise errors.BadRequest(
            f"Flavor's disk is too small for requested image. Flavor disk is {dest} bytes, "
            f"image is {size} bytes."
        )
    min_disk = int(image.min_disk or 0) * GiB
    if min_disk > dest:
        raise errors.BadRequest(
            "Flavor's disk is smaller than the minimum size specified in image metadata. "
            f"Flavor disk is {dest} bytes, minimum size is {min_disk} bytes."
        )
