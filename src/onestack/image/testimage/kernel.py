"""The guest's kernel: Debian's cloud kernel package, fetched as a .deb and never installed.

``linux-image-cloud-amd64`` is a metapackage; it depends on one versioned
``linux-image-<abi>-cloud-amd64`` that carries ``/boot/vmlinuz-*``, its config and the modules.
The cloud kernel builds the virtio drivers as modules, so the initramfs carries the few it needs
and loads them in dependency order, read from each module's own ``.modinfo`` section (the .deb
has no ``modules.dep``: ``depmod`` runs only when the package is installed).
"""

from __future__ import annotations

import lzma
import re
import struct
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from onestack.image.testimage.errors import BuildError

METAPACKAGE = "linux-image-cloud-amd64"

# What the guest needs and the cloud kernel builds as modules (checked against its config),
# loaded at every boot: virtio PCI transport, network and disks, ISO 9660 (config drives), the
# ACPI power button and evdev so that a graceful shutdown request (ACPI powerdown) reaches
# busybox acpid.
GUEST_MODULES = (
    "virtio_pci",
    "virtio_net",
    "virtio_blk",
    "isofs",
    "button",
    "evdev",
)
# Loaded only when the guest has a use for them (each insmod costs tens of milliseconds under
# TCG, and libata and scsi_mod are the largest modules): CD-ROMs on the PC machine's IDE
# (ata_piix) and on virtio-scsi, when such a controller is on the PCI bus; VFAT for a config
# drive in that format, when the ISO 9660 mount fails, or for a volume formatted so (nls_ascii:
# the kernel's default iocharset for FAT, without which every vfat mount fails with EINVAL).
ON_DEMAND_MODULES: dict[str, tuple[str, ...]] = {
    "ide": ("ata_piix", "sr_mod"),
    "virtio-scsi": ("virtio_scsi", "sr_mod"),
    "vfat": ("vfat", "nls_cp437", "nls_iso8859_1", "nls_ascii"),
}


class KernelError(BuildError):
    """The kernel package could not be resolved, fetched or unpacked."""


@dataclass(frozen=True)
class KernelPackage:
    name: str  # e.g. linux-image-6.1.0-56-cloud-amd64
    version: str  # e.g. 6.1.192-2

    @property
    def deb_name(self) -> str:
        # apt-get download names files <name>_<version with ':' as %3a>_<arch>.deb
        return f"{self.name}_{self.version.replace(':', '%3a')}_amd64.deb"


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise KernelError(f"{argv[0]} is not installed") from exc
    if done.returncode != 0:
        raise KernelError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def parse_depends(apt_cache_depends: str, prefix: str = "linux-image-") -> str | None:
    """The versioned kernel package in ``apt-cache depends <metapackage>`` output."""
    for line in apt_cache_depends.splitlines():
        m = re.match(r"\s*(?:\|)?Depends:\s*(\S+)", line)
        if m and m.group(1).startswith(prefix) and not m.group(1).startswith("<"):
            return m.group(1)
    return None


def parse_candidate(apt_cache_policy: str) -> str | None:
    """The candidate version in ``apt-cache policy <package>`` output (None when there is none)."""
    m = re.search(r"^\s*Candidate:\s*(\S+)", apt_cache_policy, re.MULTILINE)
    if m is None or m.group(1) == "(none)":
        return None
    return m.group(1)


def resolve(update_if_missing: bool = True) -> KernelPackage:
    """The versioned cloud kernel package apt would pick now (``apt-get update`` if no lists)."""
    if parse_candidate(_run(["apt-cache", "policy", METAPACKAGE])) is None:
        if not update_if_missing:
            raise KernelError(f"apt knows no {METAPACKAGE}; run apt-get update")
        _run(["apt-get", "update", "-qq"])
    name = parse_depends(_run(["apt-cache", "depends", METAPACKAGE]))
    if name is None:
        raise KernelError(f"cannot find the kernel package {METAPACKAGE} depends on")
    version = parse_candidate(_run(["apt-cache", "policy", name]))
    if version is None:
        raise KernelError(f"apt has no candidate version of {name}")
    return KernelPackage(name, version)


def fetch(package: KernelPackage, directory: Path) -> Path:
    """The package's .deb in ``directory``, downloaded with ``apt-get download`` once."""
    directory.mkdir(parents=True, exist_ok=True)
    deb = directory / package.deb_name
    if deb.exists():
        return deb
    _run(["apt-get", "download", "-qq", f"{package.name}={package.version}"], cwd=directory)
    if not deb.exists():
        found = sorted(directory.glob(f"{package.name}_*.deb"))
        if not found:
            raise KernelError(f"apt-get download left no {package.name} .deb in {directory}")
        return found[-1]
    # Older kernels' .debs would pile up: keep only the one in use.
    for old in directory.glob("linux-image-*.deb"):
        if old != deb:
            old.unlink()
    return deb


@dataclass(frozen=True)
class UnpackedKernel:
    root: Path  # where the .deb was extracted
    release: str  # uname -r, e.g. 6.1.0-56-cloud-amd64

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.release}"

    @property
    def config(self) -> Path:
        return self.root / "boot" / f"config-{self.release}"

    @property
    def modules_dir(self) -> Path:
        return self.root / "lib" / "modules" / self.release


def unpack(deb: Path, into: Path) -> UnpackedKernel:
    _run(["dpkg-deb", "-x", str(deb), str(into)])
    kernels = sorted((into / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise KernelError(f"{deb.name} holds no /boot/vmlinuz-*")
    release = kernels[0].name.removeprefix("vmlinuz-")
    return UnpackedKernel(into, release)


# Built in (=y) or the guest cannot start: initramfs (gzip), devtmpfs, the serial console,
# AF_PACKET for udhcpc, ext4 for the boot partition.
REQUIRED_BUILTIN = (
    "CONFIG_BLK_DEV_INITRD",
    "CONFIG_RD_GZIP",
    "CONFIG_DEVTMPFS",
    "CONFIG_SERIAL_8250_CONSOLE",
    "CONFIG_PACKET",
    "CONFIG_UNIX",
    "CONFIG_INET",
    "CONFIG_EXT4_FS",
)


def check_builtins(config_text: str) -> None:
    options = config_options(config_text)
    missing = [o for o in REQUIRED_BUILTIN if options.get(o) != "y"]
    if missing:
        raise KernelError(f"the kernel lacks built-in {', '.join(missing)}")


def config_options(config_text: str) -> dict[str, str]:
    """``CONFIG_X=y|m|...`` lines of a kernel config (unset options are absent)."""
    options: dict[str, str] = {}
    for line in config_text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            options[key] = value
    return options


def module_name(path: Path) -> str:
    """The kernel's name for a module file (dashes and underscores are the same to it)."""
    return path.name.split(".ko", 1)[0].replace("-", "_")


def modinfo(data: bytes) -> dict[str, str]:
    """The ``.modinfo`` strings (``depends=...``, ``license=...``) of an ELF64 module image."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise KernelError("not a little-endian ELF64 kernel module")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(index: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, offset, size = struct.unpack_from(
            "<IIQQQQ", data, shoff + index * shentsize
        )
        return name, offset, size

    _, names_offset, _ = section(shstrndx)
    for index in range(shnum):
        name, offset, size = section(index)
        end = data.index(b"\0", names_offset + name)
        if data[names_offset + name : end] == b".modinfo":
            info: dict[str, str] = {}
            for item in data[offset : offset + size].split(b"\0"):
                key, sep, value = item.decode(errors="replace").partition("=")
                if sep and key not in info:
                    info[key] = value
            return info
    return {}


def _elf(path: Path) -> bytes:
    if path.name.endswith(".xz"):
        return lzma.decompress(path.read_bytes())
    return path.read_bytes()


def load_order(wanted: Iterable[str], depends: dict[str, list[str]]) -> list[str]:
    """Every wanted module and its dependencies, each after the modules it depends on."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise KernelError(f"module dependency cycle through {name}")
        if name not in depends:
            raise KernelError(f"the kernel has no module {name}")
        visiting.add(name)
        for dep in depends[name]:
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in wanted:
        visit(name.replace("-", "_"))
    return order


def select_modules(kernel: UnpackedKernel, wanted: Iterable[str]) -> list[Path]:
    """The module files to load, in order; modules the kernel has built in are skipped."""
    check_builtins(kernel.config.read_text())
    builtin = {
        module_name(Path(line.strip()))
        for line in (kernel.modules_dir / "modules.builtin").read_text().splitlines()
        if line.strip()
    }
    files = {module_name(p): p for p in kernel.modules_dir.rglob("*.ko*")}
    needed = [w for w in wanted if w.replace("-", "_") not in builtin]
    depends: dict[str, list[str]] = {}
    pending = list(needed)
    while pending:
        name = pending.pop().replace("-", "_")
        if name in depends:
            continue
        if name not in files:
            raise KernelError(f"{kernel.release} has no module {name}")
        deps = [d for d in modinfo(_elf(files[name])).get("depends", "").split(",") if d]
        depends[name] = [d.replace("-", "_") for d in deps if d.replace("-", "_") not in builtin]
        pending.extend(depends[name])
    return [files[name] for name in load_order(needed, depends)]
