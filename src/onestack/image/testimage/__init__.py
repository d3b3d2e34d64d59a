"""The OneStack test guest image (``onestack-test``): a small cloud-style guest for tests.

Built from Debian packages (the cloud kernel, busybox-static, syslinux's extlinux) into a
self-contained BIOS-bootable qcow2 of about 15 MiB that boots under QEMU TCG in seconds, takes
its hostname, keys and user data from the config drive or the metadata service, answers HTTP on
port 80, and prints ``onestack-guest ready <hostname> <ip>`` on its serial console.
"""

from __future__ import annotations

from onestack.image.testimage.build import (
    IMAGE_NAME,
    BuildResult,
    cache_dir,
    cached_image,
    ensure_image,
    image_path,
)

READY_MARKER = "onestack-guest ready"

__all__ = [
    "IMAGE_NAME",
    "READY_MARKER",
    "BuildResult",
    "cache_dir",
    "cached_image",
    "ensure_image",
    "image_path",
]
