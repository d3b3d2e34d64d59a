"""The guest's initramfs: busybox, the init script and its helpers, and the kernel modules."""

from __future__ import annotations

import gzip
import lzma
from importlib import resources
from pathlib import Path

from onestack.image.testimage import cpio

BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static: no shared libraries to carry

# The guest's own files, shipped as package data next to this module.
GUEST_FILES = {
    "init": ("init.sh", 0o755),
    "usr/share/onestack/lib.sh": ("lib.sh", 0o644),
    "usr/share/onestack/metadata.awk": ("metadata.awk", 0o644),
    "usr/share/udhcpc/default.script": ("udhcpc.sh", 0o755),
    # What clients that log in expect of a Linux guest (Tempest's remote client): installed
    # before `busybox --install`, which leaves existing files alone.
    "usr/bin/sudo": ("sudo.sh", 0o755),
    "usr/bin/curl": ("curl.sh", 0o755),
    "bin/lsblk": ("lsblk.sh", 0o755),
    "sbin/blkid": ("blkid.sh", 0o755),
    "sbin/mkfs": ("mkfs.sh", 0o755),
    "usr/bin/mount": ("mount.sh", 0o755),
}

# busybox init takes over from /init once the guest is ready: a shell on the serial console
# (after Enter), and a clean poweroff on ACPI power-button events (acpid runs the script).
INITTAB = """\
ttyS0::askfirst:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
"""
POWER_BUTTON = """\
#!/bin/sh
echo "onestack-guest: power button pressed: powering off" > /dev/console
poweroff
"""
PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
SHELLS = "/bin/sh\n"  # dropbear lets in only users whose shell is listed
GROUP = "root:x:0:\n"
HOSTS = "127.0.0.1 localhost\n"


def guest_file(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def guest_sources() -> dict[str, bytes]:
    """Every file of ours that goes into the guest, by its name in this package (for the key)."""
    return {src: guest_file(src) for src, _ in GUEST_FILES.values()}


def entries(
    busybox: bytes,
    modules: list[tuple[str, bytes]],
    extra: dict[str, tuple[bytes, int]] | None = None,
    groups: dict[str, list[tuple[str, bytes]]] | None = None,
) -> list[cpio.Entry]:
    """The archive's entries: ``modules`` are (file name, contents) in load order, loaded at
    every boot (``load.list``); ``groups`` the same for the modules /init loads on demand
    (``<group>.list``); ``extra`` maps more guest paths to (contents, mode): the SSH server and
    its libraries."""
    extra = extra or {}
    groups = groups or {}
    dirs = [
        "bin",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "usr/share",
        "usr/share/onestack",
        "usr/share/udhcpc",
        "etc",
        "etc/acpi",
        "etc/acpi/PWRF",
        "dev",
        "proc",
        "sys",
        "run",
        "tmp",
        "mnt",
        "mnt/config",
        "media",
        "media/root",
        "var",
        "var/www",
        "var/log",
        "lib",
        "lib/modules",
    ]
    for path in sorted(extra):
        parents = Path(path).parents
        dirs += [str(p) for p in reversed(parents) if str(p) != "." and str(p) not in dirs]
    out = [cpio.directory(d) for d in dirs]
    out += [
        cpio.directory("root", 0o700),
        cpio.char_device("dev/console", 5, 1),
        cpio.char_device("dev/null", 1, 3, 0o666),
        cpio.file("bin/busybox", busybox, 0o755),
        # The rest of the applet links are made by `busybox --install -s` at boot; these must
        # exist before: the interpreters of /init and of user-data scripts.
        cpio.symlink("bin/sh", "busybox"),
        cpio.symlink("bin/bash", "busybox"),
        cpio.symlink("var/run", "../run"),
        cpio.file("etc/inittab", INITTAB.encode()),
        cpio.file("etc/acpi/PWRF/00000080", POWER_BUTTON.encode(), 0o755),
        cpio.file("etc/passwd", PASSWD.encode()),
        cpio.file("etc/group", GROUP.encode()),
        cpio.file("etc/hosts", HOSTS.encode()),
        cpio.file("etc/shells", SHELLS.encode()),
    ]
    for path, (data, perm) in sorted(extra.items()):
        out.append(cpio.file(path, data, perm))
    for target, (src, perm) in GUEST_FILES.items():
        out.append(cpio.file(target, guest_file(src), perm))
    carried: set[str] = set()
    for name, data in [*modules, *(m for group in groups.values() for m in group)]:
        if name not in carried:
            carried.add(name)
            out.append(cpio.file(f"lib/modules/{name}", data))
    out.append(cpio.file("lib/modules/load.list", load_list(modules)))
    for group, members in sorted(groups.items()):
        out.append(cpio.file(f"lib/modules/{group}.list", load_list(members)))
    return out


def load_list(modules: list[tuple[str, bytes]]) -> bytes:
    return "".join(f"{name}\n" for name, _ in modules).encode()


def module_image(path: Path) -> tuple[str, bytes]:
    """(file name, ELF bytes) of a module; xz-compressed modules (newer Debian kernels) are
    unpacked here, so that busybox insmod needs no decompressor."""
    if path.name.endswith(".ko.xz"):
        return path.name.removesuffix(".xz"), lzma.decompress(path.read_bytes())
    if path.name.endswith(".ko"):
        return path.name, path.read_bytes()
    raise ValueError(f"cannot load a module compressed like {path.name}")


def build(
    busybox: Path,
    module_files: list[Path],
    extra: dict[str, tuple[bytes, int]] | None = None,
    groups: dict[str, list[Path]] | None = None,
) -> bytes:
    """The gzip-compressed initramfs (reproducible: no timestamps anywhere)."""
    modules = [module_image(p) for p in module_files]
    on_demand = {g: [module_image(p) for p in files] for g, files in (groups or {}).items()}
    archive = cpio.archive(entries(busybox.read_bytes(), modules, extra, on_demand))
    return gzip.compress(archive, compresslevel=9, mtime=0)
