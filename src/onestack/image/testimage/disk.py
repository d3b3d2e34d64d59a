"""The BIOS-bootable disk: an MBR from syslinux, one bootable ext4 partition with extlinux.

Laid out as a real cloud image is: the firmware runs the MBR, which chain-loads the partition's
extlinux, which reads ``/boot/extlinux/extlinux.conf`` and loads the kernel and initramfs.
The ext4 file system is made apart (``mkfs.ext4 -d`` fills it without mounting); it is mounted
on a loop device only for ``extlinux --install`` (which needs the kernel's view of the file
system to record where ldlinux.sys lies), then placed after the MBR and converted to a
compressed qcow2.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from onestack.image.testimage.errors import BuildError

SECTOR = 512
PARTITION_START = 2048  # sectors: 1 MiB, where partitioning tools align the first partition
MBR_CODE_SIZE = 440  # bytes of boot code in mbr.bin before the disk signature
MBR_CANDIDATES = (Path("/usr/lib/syslinux/mbr/mbr.bin"), Path("/usr/lib/EXTLINUX/mbr.bin"))
LINUX_PARTITION = 0x83

# What extlinux can read on ext4: no 64-bit block numbers, metadata checksums, extents,
# flexible block groups, huge files, large directories or extra inode fields.
EXT4_FEATURES = "^64bit,^metadata_csum,^extent,^flex_bg,^huge_file,^dir_nlink,^extra_isize"

# The boot line of every Linux guest on TCG: the emulated TSC is not stable enough for the
# kernel's checks, and timer checks fail spuriously under emulation.
KERNEL_ARGS = ("console=tty0", "console=ttyS0,115200", "tsc=reliable", "no_timer_check")


class DiskError(BuildError):
    """A step of the disk build failed."""


def run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise DiskError(f"{argv[0]} is not installed") from exc
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise DiskError(f"{' '.join(argv)} failed ({done.returncode}): {output}")
    return done.stdout


def extlinux_conf(kernel: str, initrd: str, args: tuple[str, ...] = KERNEL_ARGS) -> str:
    """The boot menu: one entry, no prompt, so the guest boots at once."""
    return (
        "DEFAULT onestack\n"
        "PROMPT 0\n"
        "TIMEOUT 1\n"
        "LABEL onestack\n"
        "  MENU LABEL OneStack test guest\n"
        f"  LINUX {kernel}\n"
        f"  INITRD {initrd}\n"
        f"  APPEND {' '.join(args)}\n"
    )


def partition_entry(start: int, sectors: int, bootable: bool = True, kind: int = 0x83) -> bytes:
    """A 16-byte MBR partition entry; the CHS fields hold the LBA-only marker (0xFE 0xFF 0xFF)."""
    chs_unused = b"\xfe\xff\xff"
    return (
        bytes([0x80 if bootable else 0x00])
        + chs_unused
        + bytes([kind])
        + chs_unused
        + struct.pack("<II", start, sectors)
    )


def mbr(boot_code: bytes, partition_sectors: int, disk_id: int = 0x05E57AC4) -> bytes:
    """The first sector: syslinux's boot code, a disk id, one bootable Linux partition."""
    if len(boot_code) > MBR_CODE_SIZE:
        boot_code = boot_code[:MBR_CODE_SIZE]
    sector = bytearray(SECTOR)
    sector[: len(boot_code)] = boot_code
    struct.pack_into("<I", sector, 440, disk_id)
    sector[446:462] = partition_entry(PARTITION_START, partition_sectors, True, LINUX_PARTITION)
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def mbr_code() -> bytes:
    for path in MBR_CANDIDATES:
        if path.exists():
            return path.read_bytes()
    raise DiskError("no syslinux mbr.bin (install syslinux-common)")


def fs_size_mib(content_bytes: int, headroom_mib: int = 16) -> int:
    """The ext4 size: the contents, the journal and some room, in whole MiB."""
    return -(-content_bytes // (1 << 20)) + headroom_mib


def make_ext4(image: Path, tree: Path, size_mib: int, label: str) -> None:
    image.unlink(missing_ok=True)
    run(
        [
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            label,
            "-O",
            EXT4_FEATURES,
            "-E",
            "root_owner=0:0",
            "-d",
            str(tree),
            str(image),
            f"{size_mib}M",
        ]
    )


@contextlib.contextmanager
def mounted(image: Path) -> Iterator[Path]:
    """``image`` on a loop device, mounted on a temporary directory; both undone on exit."""
    loop = run(["losetup", "--find", "--show", str(image)]).strip()
    mountpoint = Path(tempfile.mkdtemp(prefix="onestack-testimage-mnt-"))
    try:
        run(["mount", "-t", "ext4", loop, str(mountpoint)])
        try:
            yield mountpoint
        finally:
            try:
                run(["umount", str(mountpoint)])
            except DiskError:
                run(["umount", "-l", str(mountpoint)])
    finally:
        mountpoint.rmdir()
        run(["losetup", "-d", loop])


def install_extlinux(image: Path, directory: str = "boot/extlinux") -> None:
    if os.geteuid() != 0:
        raise DiskError("installing extlinux mounts a loop device: run as root")
    with mounted(image) as root:
        target = root / directory
        target.mkdir(parents=True, exist_ok=True)
        run(["extlinux", "--install", str(target)])


@dataclass(frozen=True)
class Disk:
    raw: Path
    virtual_size: int


def assemble(fs_image: Path, raw: Path) -> Disk:
    """MBR + padding to the partition start + the file system, as one raw disk file."""
    fs_bytes = fs_image.stat().st_size
    sectors = -(-fs_bytes // SECTOR)
    with open(raw, "wb") as out:
        out.write(mbr(mbr_code(), sectors))
        out.truncate(PARTITION_START * SECTOR)
        out.seek(PARTITION_START * SECTOR)
        with open(fs_image, "rb") as fs:
            shutil.copyfileobj(fs, out, 1 << 20)
        out.truncate((PARTITION_START + sectors) * SECTOR)
    return Disk(raw, (PARTITION_START + sectors) * SECTOR)


def to_qcow2(raw: Path, qcow2: Path) -> None:
    """Compressed qcow2: zeros and the file system's free space cost nothing."""
    run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", "-c", str(raw), str(qcow2)])
