"""End-to-end fixtures: the test guest image (built once, cached across sessions)."""

from __future__ import annotations

import os
import shutil

import pytest

from onestack.image.cloudimage import CloudImage, ensure_cloud_image
from onestack.image.testimage import BuildResult, ensure_image

QEMU = "qemu-system-x86_64"
BUILD_TOOLS = ("mkfs.ext4", "extlinux", "losetup", "qemu-img", "apt-get", "dpkg-deb")
# The Debian cloud image is a debootstrap of its own besides.
CLOUD_IMAGE_TOOLS = (QEMU, "debootstrap", *BUILD_TOOLS)


@pytest.fixture(scope="session")
def test_image() -> BuildResult:
    """The onestack-test qcow2 (``onestack image build-test``); built at most once per change."""
    if os.geteuid() != 0:
        pytest.skip("building the test image mounts a loop device: needs root")
    missing = [tool for tool in (QEMU, *BUILD_TOOLS) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    return ensure_image()


@pytest.fixture(scope="session")
def cloud_image() -> CloudImage:
    """The debian-12 qcow2 (``onestack image build-cloud``): built once per change of its inputs
    (minutes: debootstrap), then cached for every later run and CI job on the machine."""
    if os.geteuid() != 0:
        pytest.skip("building the cloud image runs debootstrap and mounts a loop device")
    missing = [tool for tool in CLOUD_IMAGE_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    return ensure_cloud_image()
