"""Disk files: the image cache, an instance's qcow2 overlay, growing it, flattening it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from onestack.compute.drivers import configdrive
from onestack.compute.drivers.base import BootSource, DriverError
from onestack.compute.drivers.qemu.tools import run

QEMU_IMG = "qemu-img"
GiB = 1024**3
FORMATS = ("qcow2", "raw")
BASE_FORMAT = "raw"  # what the cache holds, whatever the image's format
RAW_SUFFIX = ".raw"  # a converted qcow2 image's name in the cache


async def info(path: Path, qemu_img: str = QEMU_IMG) -> dict[str, Any]:
    """``qemu-img info`` (no lock taken: the file may be in use by a running guest)."""
    out = await run([qemu_img, "info", "-U", "--output=json", str(path)], timeout=60)
    data: dict[str, Any] = json.loads(out)
    return data


async def cache_base(base_dir: Path, target: Path, boot: BootSource, qemu_img: str = QEMU_IMG
                     ) -> Path:  # fmt: skip
    """The image as a raw file in the cache, at ``target`` (a raw image: a hard link when on
    the same filesystem, else a copy) or ``target`` + ``.raw`` (a qcow2 image, converted), as
    Nova's ``force_raw_images`` does. A guest then never reads through qcow2 compression: under
    TCG the firmware's disk reads wait, spinning, for QEMU to inflate a whole cluster each time,
    and the test image's boot loader spent more than a second so. Refuses an image whose header
    names other files (a backing or data file): as a guest's disk it would expose them."""
    if boot.image_format not in FORMATS:
        raise DriverError(f"image format {boot.image_format!r} is not supported (qcow2, raw)")
    if boot.image_format == "qcow2":
        target = target.with_name(f"{target.name}{RAW_SUFFIX}")
    if await asyncio.to_thread(target.exists):
        return target
    await asyncio.to_thread(base_dir.mkdir, parents=True, exist_ok=True)
    details = await info(boot.image_path, qemu_img)
    if boot.image_format == "qcow2":
        if details.get("format") != "qcow2":
            raise DriverError(f"image {boot.image_id} is not a qcow2 file")
        data_file = details.get("format-specific", {}).get("data", {}).get("data-file")
        if "backing-filename" in details or data_file:
            raise DriverError(f"image {boot.image_id} refers to other files: refused")
    partial = base_dir / f".{target.name}.{secrets.token_hex(4)}"
    try:
        if boot.image_format == "qcow2":
            # Sparse: the image's unallocated and zero clusters take no room in the cache.
            argv = [qemu_img, "convert", "-q", "-f", "qcow2", "-O", "raw",
                    str(boot.image_path), str(partial)]  # fmt: skip
            await run(argv)
        else:
            await link_or_copy(boot.image_path, partial)
        # Another spawn may have cached it meanwhile: the same bytes, so either wins.
        os.replace(partial, target)
    except OSError as exc:
        raise DriverError(f"cannot cache image {boot.image_id}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target


async def link_or_copy(source: Path, target: Path) -> None:
    """A hard link when on the same filesystem (no bytes copied), else a copy."""
    try:
        await asyncio.to_thread(os.link, source, target)
    except OSError:
        await asyncio.to_thread(shutil.copyfile, source, target)


async def cache_file(base_dir: Path, target: Path, source: Path, image_id: str) -> Path:
    """An image's bytes as they are (a kernel, an initramfs) at ``target`` in the cache: the
    guest boots from the cache's file, which outlives the image service's."""
    if await asyncio.to_thread(target.exists):
        return target
    await asyncio.to_thread(base_dir.mkdir, parents=True, exist_ok=True)
    partial = base_dir / f".{target.name}.{secrets.token_hex(4)}"
    try:
        await link_or_copy(source, partial)
        os.replace(partial, target)
    except OSError as exc:
        raise DriverError(f"cannot cache image {image_id}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target


async def create_overlay(
    base: Path, base_format: str, disk: Path, root_gb: int, qemu_img: str = QEMU_IMG
) -> None:
    """A qcow2 at ``disk`` on top of ``base``, ``root_gb`` large when that is bigger than the
    image (0: the image's size)."""
    argv = [qemu_img, "create", "-q", "-f", "qcow2", "-F", base_format, "-b", str(base), str(disk)]
    size = root_gb * GiB
    if size and size > int((await info(base, qemu_img))["virtual-size"]):
        argv.append(str(size))
    await run(argv, timeout=60)


async def grow(disk: Path, root_gb: int, qemu_img: str = QEMU_IMG) -> None:
    """Make ``disk`` ``root_gb`` large if it is smaller (disks never shrink)."""
    size = root_gb * GiB
    if size and size > int((await info(disk, qemu_img))["virtual-size"]):
        await run([qemu_img, "resize", "-q", str(disk), str(size)], timeout=60)


async def flatten(disk: Path, target: Path, qemu_img: str = QEMU_IMG) -> None:
    """``disk`` and its backing chain as one standalone qcow2 at ``target``."""
    await run([qemu_img, "convert", "-U", "-O", "qcow2", str(disk), str(target)])


async def write_config_drive(files: dict[str, bytes], path: Path) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        await asyncio.to_thread(configdrive.write, files, partial)
        partial.replace(path)
    except (OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise DriverError(f"cannot write the config drive: {exc}") from exc


async def copy(source: Path, target: Path) -> None:
    try:
        await asyncio.to_thread(shutil.copyfile, source, target)
    except OSError as exc:
        raise DriverError(f"cannot copy {source.name}: {exc.strerror}") from exc


# Nova's default_ephemeral_format for Linux guests; the label is what cloud-init looks for.
EPHEMERAL_MKFS = ("mkfs.ext4", "-q", "-F", "-L", "ephemeral0")
SWAP_MKFS = ("mkswap", "-L", "swap0")


async def make_local_disk(path: Path, size: int, mkfs: tuple[str, ...]) -> None:
    """A sparse raw file of ``size`` bytes at ``path``, formatted by ``mkfs`` (its last
    argument the file), as Nova's ``_create_ephemeral``/``_create_swap`` make disk.local and
    disk.swap. Written aside and renamed: a half-formatted disk is never found."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        await asyncio.to_thread(_sparse, partial, size)
        await run([*mkfs, str(partial)], timeout=120)
        partial.replace(path)
    except OSError as exc:
        raise DriverError(f"cannot make {path.name}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _sparse(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        f.truncate(size)
