"""Test guest image benchmark: build time, image size, and boot-to-ready time under QEMU TCG.

Builds the image afresh into a temporary cache (reusing the kernel .deb from the real cache when
there is one, so the figure is the build, not the download), then boots it a few times with a
config drive and user-mode networking and times the ``onestack-guest ready`` line on the serial
console. Needs root (the build mounts a loop device) and qemu-system-x86.

    .venv/bin/python bench/testimage.py              # build once, boot 3 times
    .venv/bin/python bench/testimage.py --boots 5 --json
    .venv/bin/python bench/testimage.py --cloud      # also: in a real cloud, the test image and
                                                     # (when cached) the Debian 12 cloud image

``--cloud`` runs a private ``onestack up`` with the qemu and linuxbridge drivers and times, from
the moment ``server create`` returns: the console marker, the first SSH login on the floating
IP and (cloud image) cloud-init done (``bench/guestboot.py``). The test image is registered as
``onestack image build-test --register`` does, with its kernel and initramfs as images of their
own (direct kernel boot); ``--bootloader`` also boots the same disk without them, through its
own boot loader, as the reference in the same run.

Prints figures, not test results: each beside its target with PASS or MISS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import judged
from onestack.compute.drivers import configdrive
from onestack.compute.drivers.qemu.cmdline import accel_args
from onestack.image.testimage import READY_MARKER, build

# Issue #3's figures: "about 15 MiB in all", "boots under QEMU TCG in a few seconds".
TARGET_SIZE_MIB = 16.0
TARGET_BOOT_S = 10.0
TARGET_SSH_S = 6.0  # issue #10: test image, TCG, `server create` returning to an SSH login
UPTIME_RE = re.compile(r"onestack-guest: up ([0-9.]+)s")
BOOTLOADER_LABEL = "test image, boot loader"  # --bootloader: the same disk without kernel_id


def fresh_build() -> build.BuildResult:
    with tempfile.TemporaryDirectory(prefix="onestack-bench-testimage-") as tmp:
        directory = Path(tmp)
        debs = build.cache_dir() / "debs"
        if debs.is_dir():
            shutil.copytree(debs, directory / "debs")
        result = build.ensure_image(force=True, directory=directory)
        keep = Path(tempfile.mkdtemp(prefix="onestack-bench-image-")) / result.path.name
        shutil.copyfile(result.path, keep)
        boot_files = {}
        for name, made in (("vmlinuz", result.vmlinuz), ("initrd", result.initrd)):
            if made is not None:
                boot_files[name] = keep.with_name(made.name)
                shutil.copyfile(made, boot_files[name])
        return build.BuildResult(
            path=keep,
            key=result.key,
            built=True,
            seconds=result.seconds,
            size=result.size,
            virtual_size=result.virtual_size,
            kernel=result.kernel,
            vmlinuz=boot_files.get("vmlinuz"),
            initrd=boot_files.get("initrd"),
        )


def boot_once(image: Path, work: Path, timeout: float = 120.0) -> tuple[float, float]:
    """(seconds from QEMU start to the ready line, the guest's own uptime at that line)."""
    meta = json.dumps({"uuid": "bench", "hostname": "bench", "public_keys": {}}).encode()
    drive = configdrive.write(
        {"openstack/latest/meta_data.json": meta, "openstack/latest/user_data": b"#!/bin/sh\n"},
        work / "config.iso",
    )
    overlay = work / "disk.qcow2"
    overlay.unlink(missing_ok=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image), str(overlay)],
        check=True,
    )
    console = work / "console.log"
    console.unlink(missing_ok=True)
    argv = [
        "qemu-system-x86_64", *accel_args("tcg"), "-machine", "q35", "-m", "256",
        "-display", "none", "-monitor", "none", "-serial", f"file:{console}",
        "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-drive", f"file={drive},if=virtio,format=raw,readonly=on",
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < timeout:
            text = console.read_bytes().decode(errors="replace") if console.exists() else ""
            if f"{READY_MARKER} " in text:
                wall = time.monotonic() - started
                m = UPTIME_RE.search(text)
                return wall, float(m.group(1)) if m else float("nan")
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"no ready line within {timeout}s; console in {console}")
    finally:
        process.kill()
        process.wait()


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--boots", type=int, default=3, help="boots to time (default 3)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--cloud", action="store_true", help="also boot both images in a real cloud")
    p.add_argument("--cloud-timeout", type=float, default=900, help="per guest (default 900 s)")
    p.add_argument(
        "--test-image-only",
        action="store_true",
        help="--cloud: boot the test image only, not the (slow) Debian cloud image",
    )
    p.add_argument(
        "--bootloader",
        action="store_true",
        help="--cloud: also boot the test image through its own boot loader (the reference)",
    )
    p.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="--cloud: copy the cloud's log and the guests' consoles into DIR",
    )
    args = p.parse_args()
    if os.geteuid() != 0:
        print("bench/testimage.py needs root (the build mounts a loop device)", file=sys.stderr)
        return 2
    result = fresh_build()
    walls: list[float] = []
    uptimes: list[float] = []
    with tempfile.TemporaryDirectory(prefix="onestack-bench-boot-") as tmp:
        for _ in range(args.boots):
            wall, uptime = boot_once(result.path, Path(tmp))
            walls.append(wall)
            uptimes.append(uptime)
    figures: dict[str, Any] = {
        "kernel": result.kernel,
        "build_s": round(result.seconds, 2),
        "size_mib": round(result.size / 2**20, 2),
        "virtual_size_mib": result.virtual_size // 2**20,
        "boots": args.boots,
        "ready_wall_s_median": round(statistics.median(walls), 2),
        "ready_wall_s_max": round(max(walls), 2),
        "ready_guest_uptime_s_median": round(statistics.median(uptimes), 2),
    }
    try:
        if args.cloud:
            figures["cloud"] = in_a_cloud(
                result, args.cloud_timeout, not args.test_image_only, args.keep, args.bootloader
            )
    finally:
        shutil.rmtree(result.path.parent)
    if args.json:
        print(json.dumps({**figures, "figures": table_rows(figures)}, indent=2))
        return 0
    print(f"test image ({figures['kernel']})")
    print(f"  build (kernel .deb cached)   {figures['build_s']:6.2f} s")
    size = figures["size_mib"]
    print(
        f"  qcow2 size                   {size:6.2f} MiB  "
        f"(target <= {TARGET_SIZE_MIB:.0f})  {verdict(size, TARGET_SIZE_MIB)}"
    )
    print(f"  virtual size                 {figures['virtual_size_mib']:6d} MiB")
    wall = figures["ready_wall_s_median"]
    print(
        f"  ready, QEMU start to marker  {wall:6.2f} s median of {args.boots}, "
        f"max {figures['ready_wall_s_max']:.2f}  (target <= {TARGET_BOOT_S:.0f})  "
        f"{verdict(wall, TARGET_BOOT_S)}"
    )
    print(f"  ready, guest uptime          {figures['ready_guest_uptime_s_median']:6.2f} s median")
    if args.cloud:
        print_cloud(figures["cloud"])
    return 0


def table_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures as ``bench/all.py`` judges them: size and boot against #3's targets, the
    SSH login in a cloud against #10's; the build and the guest's own uptime for reference."""
    size, wall = figures["size_mib"], figures["ready_wall_s_median"]
    rows = [
        judged("test image build (kernel .deb cached)", figures["build_s"], "s", reference=""),
        judged("test image qcow2 size", size, "MiB",
               target=f"<= {TARGET_SIZE_MIB:.0f} MiB", ok=size <= TARGET_SIZE_MIB),
        judged(f"test image boot (TCG), QEMU start -> ready line, median of {figures['boots']}",
               wall, "s", target=f"<= {TARGET_BOOT_S:.0f} s", ok=wall <= TARGET_BOOT_S),
        judged("test image boot (TCG): guest's uptime at its ready line",
               figures["ready_guest_uptime_s_median"], "s", reference=""),
    ]  # fmt: skip
    cloud = figures.get("cloud") or {}
    for label, t in cloud.items():
        if not isinstance(t, dict):
            continue
        if t.get("marker_s") is not None:
            rows.append(judged(f"{label} in a cloud: server create -> console marker",
                               round(t["marker_s"], 2), "s", reference=""))  # fmt: skip
        if t.get("ssh_s") is not None:
            ssh = round(t["ssh_s"], 2)
            judge = label == "test image"
            rows.append(judged(
                f"{label} in a cloud: server create -> SSH login", ssh, "s",
                target=f"< {TARGET_SSH_S:.0f} s" if judge else "",
                ok=ssh < TARGET_SSH_S if judge else None, reference="",
            ))  # fmt: skip
    return rows


def in_a_cloud(
    test_image: build.BuildResult,
    timeout: float,
    cloud_image: bool = True,
    keep: Path | None = None,
    bootloader: bool = False,
) -> dict[str, Any]:
    import guestboot
    from onestack.image.cloudimage import build as cloud
    from onestack.image.testimage.build import MIN_DISK_GB, MIN_RAM_MB
    from onestack.image.testimage.register import testimage_guest

    described = testimage_guest(test_image)
    guests = [guestboot.Guest("test image", test_image.path, "onestack-test", "root", "m1.tiny",
                              f"{READY_MARKER} ", MIN_RAM_MB, MIN_DISK_GB,
                              boot=described.boot)]  # fmt: skip
    if bootloader:
        guests.append(guestboot.Guest(
            BOOTLOADER_LABEL, test_image.path, "onestack-test-bootloader", "root", "m1.tiny",
            f"{READY_MARKER} ", MIN_RAM_MB, MIN_DISK_GB,
        ))  # fmt: skip
    cached = cloud.cached_cloud_image() if cloud_image else None
    if cached is not None:
        guests.append(guestboot.Guest(
            "cloud image", cached.path, cloud.IMAGE_NAME, cloud.DEFAULT_USER, "m1.small",
            " login:", cloud.MIN_RAM_MB, cloud.MIN_DISK_GB, cloud_init=True,
        ))  # fmt: skip
    accel, timings = guestboot.run(guests, timeout, keep)
    out: dict[str, Any] = {"accelerator": accel}
    for label, t in timings.items():
        out[label] = {
            "marker_s": t.marker_s,
            "ssh_s": t.ssh_s,
            "cloud_init_s": t.cloud_init_s,
            "qemu_cpu_s": t.qemu_cpu_s,
            "created_at": t.created_at,
        }
    if not cloud_image:
        out["cloud image"] = "not asked for (--test-image-only)"
    elif cached is None:
        out["cloud image"] = "not cached: onestack image build-cloud"
    return out


def print_cloud(figures: dict[str, Any]) -> None:
    def fmt(value: float | None) -> str:
        return f"{value:6.2f} s" if value is not None else "   n/a  "

    print(f"in a cloud (accelerator {figures['accelerator']}), from `server create` returning")
    for label in ("test image", BOOTLOADER_LABEL, "cloud image"):
        t = figures.get(label)
        if label == BOOTLOADER_LABEL and t is None:
            continue
        if not isinstance(t, dict):
            print(f"  {label:23s} {t}")
            continue
        line = f"  {label:23s} console marker {fmt(t['marker_s'])}   ssh login {fmt(t['ssh_s'])}"
        if label == "test image" and t["ssh_s"] is not None:
            line += f" (target <= {TARGET_SSH_S:.0f}) {verdict(t['ssh_s'], TARGET_SSH_S)}"
        if t.get("qemu_cpu_s") is not None:
            line += f"   QEMU CPU at login {t['qemu_cpu_s']:5.2f} s"
        if label == "cloud image":
            line += f"   cloud-init done {fmt(t['cloud_init_s'])}"
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
