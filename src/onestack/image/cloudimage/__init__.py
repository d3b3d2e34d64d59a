"""The Debian 12 cloud image (``debian-12``): a genuine cloud guest built from Debian's packages.

``onestack image build-cloud`` runs ``debootstrap`` (bookworm, minbase) with the cloud kernel,
initramfs-tools, systemd, openssh-server, cloud-init, qemu-guest-agent and ifupdown, leaves
cloud-init's configuration exactly as Debian ships it, and lays the tree out as a BIOS-bootable
disk with its own bootloader (syslinux's MBR and extlinux, as the test image). Cached like the
test image under ``$XDG_CACHE_HOME/onestack/cloud-image/``.
"""

from onestack.image.cloudimage.build import (
    IMAGE_NAME,
    CloudImage,
    cached_cloud_image,
    ensure_cloud_image,
)

__all__ = ["IMAGE_NAME", "CloudImage", "cached_cloud_image", "ensure_cloud_image"]
