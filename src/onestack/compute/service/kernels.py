"""Direct kernel boot: an image's ``kernel_id`` and ``ramdisk_id`` properties name images
holding the kernel and initramfs the guest boots (QEMU's ``-kernel``/``-initrd``, with the
image's ``os_command_line``) instead of its disk's boot loader, as Nova's libvirt driver does.

Nova checks at the API, as the caller, that both exist (``_handle_kernel_and_ramdisk``): a
server whose image names a kernel its project cannot see is refused with a 400 before it is
made, not left to fail on a host.
"""

from __future__ import annotations

from collections.abc import Mapping

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.image.facade import ImageAPI

# Nova's marker for "no kernel": an image may say so explicitly.
NO_KERNEL = "nokernel"


def boot_images(properties: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(kernel image id, ramdisk image id) an image's properties name; none for ``nokernel``."""
    kernel_id = properties.get("kernel_id") or None
    ramdisk_id = properties.get("ramdisk_id") or None
    if kernel_id == NO_KERNEL:
        return None, None
    return kernel_id, ramdisk_id


async def check_boot_images(
    images: ImageAPI, ctx: RequestContext, image_id: str, properties: Mapping[str, str]
) -> None:
    """400 when image ``image_id``'s kernel or ramdisk is not an image ``ctx`` may see."""
    for what, file_id in zip(("kernel", "ramdisk"), boot_images(properties), strict=True):
        if file_id is None:
            continue
        try:
            await images.get_image(ctx, file_id)
        except errors.NotFound:
            raise errors.BadRequest(
                f"Can not find requested image: the {what} image {file_id} "
                f"({what}_id of image {image_id}) could not be found."
            ) from None
