"""Build (once, cached) the Debian 12 cloud image: debootstrap, a few files, a bootable disk.

The cache key hashes what the image is made of: the suite, the package list, the candidate
versions apt resolves now for the packages that matter (kernel, cloud-init, openssh-server,
qemu-guest-agent, systemd), the files written into the tree and this builder's code. The
.debs stay in ``debs/`` beside the image, so a rebuild downloads only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from onestack.image.testimage import disk
from onestack.image.testimage.build import build_lock, cache_root
from onestack.image.testimage.errors import BuildError
from onestack.image.testimage.kernel import parse_candidate

IMAGE_NAME = "debian-12"
SUITE = "bookworm"
FORMAT_VERSION = 1
FS_LABEL = "cloudimg-rootfs"
DISK_MIB = 2048  # the virtual disk: min_disk 2 GiB (cloud-init grows it to the flavor's)
MIN_RAM_MB = 256
MIN_DISK_GB = 2
DEFAULT_USER = "debian"  # Debian's cloud-init default user
DEFAULT_MIRROR = "http://deb.debian.org/debian"

PACKAGES = (
    "linux-image-cloud-amd64",
    "initramfs-tools",
    "systemd-sysv",
    "udev",
    "dbus",
    "openssh-server",
    "cloud-init",
    "cloud-guest-utils",
    "qemu-guest-agent",
    "sudo",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "netbase",
    "procps",
    "locales",  # cloud-init's locale module generates the default locale (en_US.UTF-8)
    # debootstrap resolves no virtual packages: python3-cryptography (cloud-init's) needs the
    # python3-cffi-backend-api-* that this one provides.
    "python3-cffi-backend",
)
VERSIONED = ("linux-image-cloud-amd64", "cloud-init", "openssh-server", "qemu-guest-agent",
             "systemd")  # fmt: skip

# Files of the tree beyond what the packages install (cloud-init's own config is untouched).
FILES = {
    "etc/fstab": f"LABEL={FS_LABEL} / ext4 defaults,errors=remount-ro 0 1\n",
    "etc/hostname": "debian\n",
    "etc/hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
    # cloud-init writes the instance's interfaces to interfaces.d/50-cloud-init.
    "etc/network/interfaces": "auto lo\niface lo inet loopback\n\n"
    "source /etc/network/interfaces.d/*\n",
    "etc/machine-id": "",  # systemd makes one per instance at first boot
    # cloud-init's locale module sets LANG=en_US.UTF-8; Debian's locale-gen makes only what
    # this file lists (it takes no arguments), so the image carries the locale made.
    "etc/locale.gen": "en_US.UTF-8 UTF-8\n",
}


class CloudImageError(BuildError):
    """A step of the cloud image build failed."""


def cache_dir() -> Path:
    return cache_root() / "cloud-image"


def image_path(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{IMAGE_NAME}.qcow2"


def record_path(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{IMAGE_NAME}.json"


@dataclass(frozen=True)
class CloudImage:
    path: Path
    key: str
    built: bool  # False when the cached image was reused
    seconds: float  # the build's duration (of the original build when reused)
    size: int
    versions: dict[str, str]

    def summary(self) -> str:
        verb = "built" if self.built else "cached"
        return (
            f"{verb} {self.path} ({self.size / 2**20:.0f} MiB, virtual {DISK_MIB} MiB, "
            f"cloud-init {self.versions.get('cloud-init', '?')}, build {self.seconds:.0f}s)"
        )


def mirror() -> str:
    """The Debian mirror apt uses here (deb822 or one-line sources), else deb.debian.org."""
    for path in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and len(words) > 2 and "security" not in words[1]:
                return words[1] if not words[1].startswith("[") else words[2]
    return DEFAULT_MIRROR


def candidate_versions() -> dict[str, str]:
    """apt's candidate version of each package that matters (``apt-get update`` if none)."""
    out: dict[str, str] = {}
    for package in VERSIONED:
        version = parse_candidate(disk.run(["apt-cache", "policy", package]))
        if version is None:
            disk.run(["apt-get", "update", "-qq"])
            version = parse_candidate(disk.run(["apt-cache", "policy", package]))
        if version is None:
            raise CloudImageError(f"apt has no candidate version of {package}")
        out[package] = version
    return out


def cache_key(versions: dict[str, str]) -> str:
    builder = Path(__file__).read_bytes() + Path(disk.__file__).read_bytes()
    blob = json.dumps(
        {
            "suite": SUITE,
            "packages": PACKAGES,
            "versions": versions,
            "files": FILES,
            "builder": hashlib.sha256(builder).hexdigest(),
            "format": FORMAT_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _cached(directory: Path, key: str | None) -> CloudImage | None:
    try:
        record = json.loads(record_path(directory).read_text())
    except (OSError, ValueError):
        return None
    path = image_path(directory)
    if not isinstance(record, dict) or not path.exists():
        return None
    if key is not None and record.get("key") != key:
        return None
    return CloudImage(
        path, str(record["key"]), False, float(record.get("seconds", 0.0)),
        path.stat().st_size, dict(record.get("versions", {})),
    )  # fmt: skip


def cached_cloud_image(directory: Path | None = None) -> CloudImage | None:
    """The image in the cache, whatever its key (``onestack up`` registers it when present)."""
    return _cached(directory or cache_dir(), None)


def ensure_cloud_image(force: bool = False, directory: Path | None = None) -> CloudImage:
    """The cloud image, built unless the cache holds one from the same inputs."""
    directory = directory or cache_dir()
    if os.geteuid() != 0:
        raise CloudImageError("debootstrap and extlinux need root")
    with build_lock(directory):
        try:
            versions = candidate_versions()
        except BuildError:
            cached = None if force else _cached(directory, None)
            if cached is not None:  # offline with an image already built: use it
                return cached
            raise
        key = cache_key(versions)
        if not force:
            cached = _cached(directory, key)
            if cached is not None:
                return cached
        return _build(directory, key, versions)


def configure(tree: Path) -> tuple[str, str]:
    """Write the image's own files and boot menu; the kernel and initramfs paths it boots."""
    for rel, text in FILES.items():
        (tree / rel).write_text(text)
    disk.run(["chroot", str(tree), "locale-gen"])
    (tree / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for key in (tree / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # cloud-init makes each instance its own
    shutil.rmtree(tree / "var/lib/apt/lists", ignore_errors=True)
    (tree / "var/lib/apt/lists/partial").mkdir(parents=True)
    for cached_deb in (tree / "var/cache/apt/archives").glob("*.deb"):
        cached_deb.unlink()
    kernels = sorted((tree / "boot").glob("vmlinuz-*"))
    initrds = sorted((tree / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise CloudImageError("debootstrap left no kernel or initramfs in /boot")
    kernel, initrd = f"/boot/{kernels[-1].name}", f"/boot/{initrds[-1].name}"
    args = (f"root=LABEL={FS_LABEL}", "ro", *disk.KERNEL_ARGS)
    conf = disk.extlinux_conf(kernel, initrd, args).replace("OneStack test guest", "Debian 12")
    (tree / "boot/extlinux").mkdir(parents=True, exist_ok=True)
    (tree / "boot/extlinux/extlinux.conf").write_text(conf)
    return kernel, initrd


def _build(directory: Path, key: str, versions: dict[str, str]) -> CloudImage:
    started = time.monotonic()
    debs = directory / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onestack-cloudimage-", dir=directory) as tmp:
        work = Path(tmp)
        tree = work / "tree"
        disk.run([
            "debootstrap", "--variant=minbase", f"--cache-dir={debs}",
            f"--include={','.join(PACKAGES)}", SUITE, str(tree), mirror(),
        ])  # fmt: skip
        configure(tree)
        fs_image = work / "root.ext4"
        disk.make_ext4(fs_image, tree, DISK_MIB - 1, FS_LABEL)
        shutil.rmtree(tree)
        disk.install_extlinux(fs_image)
        raw = disk.assemble(fs_image, work / "disk.raw")
        fs_image.unlink()
        partial = work / "image.qcow2"
        disk.to_qcow2(raw.raw, partial)
        target = image_path(directory)
        os.replace(partial, target)
    seconds = time.monotonic() - started
    record = {
        "key": key,
        "versions": versions,
        "seconds": round(seconds, 1),
        "size": target.stat().st_size,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp_record = record_path(directory).with_suffix(".json.tmp")
    tmp_record.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp_record, record_path(directory))
    return CloudImage(target, key, True, seconds, target.stat().st_size, versions)
