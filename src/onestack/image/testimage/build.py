"""``onestack image build-test``: build the test guest image once, cache it, rebuild on change.

The image is cached at ``$XDG_CACHE_HOME/onestack/test-image/onestack-test.qcow2`` (default
``~/.cache``) next to its kernel and initramfs as files of their own (``onestack-test.vmlinuz``,
``onestack-test.initrd``: registered as the image's ``kernel_id``/``ramdisk_id``, compute boots
them directly, without firmware disk reads and boot loader) and ``onestack-test.json``, which
records the cache key: a hash of every input
(the guest's files, the kernel package version, busybox, syslinux's MBR, the module list, the
boot line, the builder's own code). A build with the same key reuses the file (a build takes a
few seconds, so a code change simply rebuilds); ``force`` rebuilds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from onestack.image.testimage import disk, initramfs, kernel, sshd

IMAGE_NAME = "onestack-test"
FORMAT_VERSION = 3  # bump to force one rebuild everywhere
FS_LABEL = "cloudimg-rootfs"
# What the guest needs (Glance's min_ram/min_disk, set at registration): the Debian cloud kernel
# and its initramfs do not fit in 64 MiB (m1.nano), the guest boots in 80; 128 leaves room for
# an SSH session and user data. Its disk is 35 MiB: one GiB is the least a flavor can say.
MIN_RAM_MB = 128
MIN_DISK_GB = 1
# The kernel's own messages go to the serial console only from warnings up: under TCG every
# byte written to the emulated UART costs, and a full boot log is ~40 KB (a second or more).
# cryptomgr.notests: the boot-time self-tests of every crypto algorithm the kernel registers
# took about 0.2 s under TCG (crypto_algapi_init, seen with initcall_debug); a test guest does
# not need them.
BOOT_ARGS = (*disk.KERNEL_ARGS, "loglevel=4", "cryptomgr.notests")
# The same line when compute boots the kernel directly (the image's ``os_command_line``).
COMMAND_LINE = " ".join(BOOT_ARGS)
KERNEL_PATH = "/boot/vmlinuz"
INITRD_PATH = "/boot/initrd.img"


def cache_root() -> Path:
    """Where OneStack caches the guest images it builds (``$XDG_CACHE_HOME/onestack``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "onestack"


def cache_dir() -> Path:
    return cache_root() / "test-image"


def image_path(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{IMAGE_NAME}.qcow2"


def record_path(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{IMAGE_NAME}.json"


def kernel_path(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{IMAGE_NAME}.vmlinuz"


def initrd_path(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{IMAGE_NAME}.initrd"


@dataclass(frozen=True)
class Inputs:
    """Everything the image is made from; its hash is the cache key."""

    kernel_package: str
    kernel_version: str
    guest_files: dict[str, str]  # package file name -> sha256
    builder: str  # sha256 of the builder's own modules (the initramfs layout, the disk layout)
    busybox: str  # sha256 of the binary
    sshd: dict[str, str]  # guest path -> sha256 of dropbear and its libraries
    mbr: str  # sha256 of syslinux's mbr.bin
    modules: tuple[str, ...]
    on_demand_modules: dict[str, tuple[str, ...]]
    extlinux_conf: str
    format_version: int = FORMAT_VERSION

    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


BUILDER_MODULES = ("build.py", "cpio.py", "disk.py", "initramfs.py", "kernel.py", "sshd.py")


def builder_hash() -> str:
    here = Path(__file__).parent
    return sha256(b"".join((here / name).read_bytes() for name in BUILDER_MODULES))


def gather_inputs(package: kernel.KernelPackage) -> Inputs:
    return Inputs(
        kernel_package=package.name,
        kernel_version=package.version,
        guest_files={name: sha256(data) for name, data in initramfs.guest_sources().items()},
        builder=builder_hash(),
        busybox=sha256(initramfs.BUSYBOX.read_bytes()),
        sshd={path: sha256(data) for path, (data, _) in sshd.payload().items()},
        mbr=sha256(disk.mbr_code()),
        modules=kernel.GUEST_MODULES,
        on_demand_modules=kernel.ON_DEMAND_MODULES,
        extlinux_conf=disk.extlinux_conf(KERNEL_PATH, INITRD_PATH, BOOT_ARGS),
    )


@dataclass(frozen=True)
class BuildResult:
    path: Path
    key: str
    built: bool  # False when the cached image was reused
    seconds: float  # the build's duration (of the original build when reused)
    size: int  # bytes of the qcow2 file
    virtual_size: int
    kernel: str  # package=version
    # The disk's kernel and initramfs as files of their own (direct kernel boot); None in a
    # cache written before they were kept.
    vmlinuz: Path | None = None
    initrd: Path | None = None

    def summary(self) -> str:
        verb = "built" if self.built else "cached"
        return (
            f"{verb} {self.path} ({self.size / 2**20:.1f} MiB, virtual "
            f"{self.virtual_size // 2**20} MiB, kernel {self.kernel}, "
            f"build {self.seconds:.1f}s)"
        )


def read_record(directory: Path) -> dict[str, object] | None:
    try:
        data = json.loads(record_path(directory).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _cached(directory: Path, key: str | None) -> BuildResult | None:
    """The cached image if its record matches ``key`` (any key when None) and the file exists."""
    record = read_record(directory)
    path = image_path(directory)
    if record is None or not path.exists():
        return None
    if key is not None and record.get("key") != key:
        return None
    return BuildResult(
        path=path,
        key=str(record["key"]),
        built=False,
        seconds=float(str(record.get("seconds", 0.0))),
        size=path.stat().st_size,
        virtual_size=int(str(record.get("virtual_size", 0))),
        kernel=str(record.get("kernel", "")),
        vmlinuz=kernel_path(directory) if kernel_path(directory).exists() else None,
        initrd=initrd_path(directory) if initrd_path(directory).exists() else None,
    )


def cached_image(directory: Path | None = None) -> BuildResult | None:
    """The image in the cache, whatever its key (``onestack up`` registers it when present)."""
    return _cached(directory or cache_dir(), None)


@contextlib.contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """One build at a time per cache directory (parallel test workers share it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_image(force: bool = False, directory: Path | None = None) -> BuildResult:
    """The test image, built unless the cache already holds one from the same inputs."""
    directory = directory or cache_dir()
    with build_lock(directory):
        try:
            package = kernel.resolve()
        except kernel.KernelError:
            # Offline with an image already built: use it rather than fail.
            cached = None if force else _cached(directory, None)
            if cached is not None:
                return cached
            raise
        inputs = gather_inputs(package)
        key = inputs.key()
        if not force:
            cached = _cached(directory, key)
            if cached is not None:
                return cached
        return _build(directory, package, inputs)


def _build(directory: Path, package: kernel.KernelPackage, inputs: Inputs) -> BuildResult:
    started = time.monotonic()
    deb = kernel.fetch(package, directory / "debs")
    with tempfile.TemporaryDirectory(prefix="onestack-testimage-", dir=directory) as tmp:
        work = Path(tmp)
        unpacked = kernel.unpack(deb, work / "kernel")
        modules = kernel.select_modules(unpacked, inputs.modules)
        # A group's list leaves out what every boot loads already.
        groups = {
            group: [p for p in kernel.select_modules(unpacked, wanted) if p not in modules]
            for group, wanted in inputs.on_demand_modules.items()
        }
        initrd = initramfs.build(initramfs.BUSYBOX, modules, sshd.payload(), groups)

        tree = work / "tree"
        boot = tree / "boot"
        (boot / "extlinux").mkdir(parents=True)
        shutil.copyfile(unpacked.vmlinuz, tree / KERNEL_PATH.lstrip("/"))
        (tree / INITRD_PATH.lstrip("/")).write_bytes(initrd)
        shutil.copyfile(unpacked.vmlinuz, work / "vmlinuz")
        (work / "initrd").write_bytes(initrd)
        (boot / "extlinux" / "extlinux.conf").write_text(inputs.extlinux_conf)
        shutil.rmtree(work / "kernel")  # 100 MB of modules we no longer need

        content = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        fs_image = work / "boot.ext4"
        disk.make_ext4(fs_image, tree, disk.fs_size_mib(content), FS_LABEL)
        disk.install_extlinux(fs_image)
        raw = disk.assemble(fs_image, work / "disk.raw")
        fs_image.unlink()

        partial = work / "image.qcow2"
        disk.to_qcow2(raw.raw, partial)
        seconds = time.monotonic() - started
        target = image_path(directory)
        # The boot files first: a cached image is never newer than its kernel and initramfs.
        os.replace(work / "vmlinuz", kernel_path(directory))
        os.replace(work / "initrd", initrd_path(directory))
        os.replace(partial, target)
    record = {
        "key": inputs.key(),
        "inputs": asdict(inputs),
        "kernel": f"{package.name}={package.version}",
        "seconds": round(seconds, 2),
        "virtual_size": raw.virtual_size,
        "size": target.stat().st_size,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp_record = record_path(directory).with_suffix(".json.tmp")
    tmp_record.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp_record, record_path(directory))
    return BuildResult(
        path=target,
        key=inputs.key(),
        built=True,
        seconds=seconds,
        size=target.stat().st_size,
        virtual_size=raw.virtual_size,
        kernel=record["kernel"],  # type: ignore[arg-type]
        vmlinuz=kernel_path(directory),
        initrd=initrd_path(directory),
    )
