"""Disk and container formats Glance accepts, and what the first bytes of an image say.

The virtual size comes from the image's own header, read while the upload streams by (the
first ``HEADER_BYTES``), so no second pass over the data and no ``qemu-img`` process.
"""

from __future__ import annotations

import struct

from onestack.common import errors

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")

HEADER_BYTES = 512  # enough for the qcow2, vmdk and vdi headers

QCOW2_MAGIC = b"QFI\xfb"
VMDK_MAGIC = b"KDMV"
VDI_SIGNATURE = 0xBEDA107F


def virtual_size(disk_format: str | None, header: bytes, size: int) -> int | None:
    """The guest-visible size the image's header declares; None when it cannot be known.

    Raises 400 for qcow2 data naming a backing file: compute would open that host path.
    """
    if disk_format == "qcow2":
        if len(header) < 32 or header[:4] != QCOW2_MAGIC:
            return None
        backing_offset = struct.unpack_from(">Q", header, 8)[0]
        if backing_offset:
            raise errors.BadRequest("qcow2 images with a backing file are not allowed.")
        return int(struct.unpack_from(">Q", header, 24)[0])
    if disk_format in ("raw", "iso"):
        return size
    if disk_format == "vmdk" and len(header) >= 20 and header[:4] == VMDK_MAGIC:
        return int(struct.unpack_from("<Q", header, 12)[0]) * 512
    vdi = disk_format == "vdi" and len(header) >= 0x178
    if vdi and struct.unpack_from("<I", header, 0x40)[0] == VDI_SIGNATURE:
        return int(struct.unpack_from("<Q", header, 0x170)[0])
    return None
