"""Choosing the accelerator: KVM only when a guest really runs on it here, else TCG.

``/dev/kvm`` can exist and still not run ordinary guests (a nested or paravirtual KVM that fails
to emulate what a BIOS and boot loader do: the guest stops with "KVM internal error"). So the
probe boots a tiny guest: SeaBIOS loads a boot sector that enters 32-bit protected mode, takes a
software interrupt (its handler returns with ``iret``, the instruction such hosts fail on) and
writes to QEMU's ``isa-debug-exit`` port, which ends QEMU with a known status. Anything else
within the time limit means "not usable".
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from onestack.common.logging import get_logger

log = get_logger(__name__)

# The boot sector's code (GNU as, .code16 at 0x7c00):
#   cli; xor ax,ax; mov ds,ax; lgdt [gdtr]; mov eax,cr0; or eax,1; mov cr0,eax; ljmp 8:pm
#   pm (.code32): mov ax,0x10; mov ds/es/ss,ax; mov esp,0x7000
#   IDT entry 0x30 at 0x7f80 -> handler (selector 8, 32-bit interrupt gate); lidt [idtr]
#   int 0x30; mov al,0x2a; out 0xf4,al; hlt        handler: iret
#   gdt: null, code 0x00cf9a000000ffff, data 0x00cf92000000ffff; gdtr; idtr (base 0x7e00)
PROBE_CODE = bytes.fromhex(
    "fa31c08ed80f0116687c0f20c06683c8010f22c066ea1c7c0000080066b810008ed88ec08ed0bc00700000"
    "c705807f00004f7c0800c705847f0000008e00000f011d6e7c0000cd30b02ae6f4f4ebfdcf000000000000"
    "0000ffff0000009acf00ffff00000092cf001700507c00008701007e0000"
)
PROBE_EXIT = (0x2A << 1) | 1  # isa-debug-exit exits with (value << 1) | 1
PROBE_TIMEOUT = 4.0

_chosen: dict[tuple[str, str], str] = {}


def probe_disk() -> bytes:
    sector = bytearray(512)
    sector[: len(PROBE_CODE)] = PROBE_CODE
    sector[510:512] = b"\x55\xaa"
    # SeaBIOS does not boot a disk of a single sector.
    return bytes(sector) + bytes(1024 * 1024 - 512)


def probe_command(qemu: str, accel: str, disk: Path) -> list[str]:
    return [
        qemu,
        "-accel", accel,
        "-machine", "q35",
        "-nodefaults",
        "-no-user-config",
        "-display", "none",
        "-m", "32",
        "-drive", f"file={disk},format=raw,if=virtio,readonly=on",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]  # fmt: skip


async def probe(qemu: str, accel: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a guest runs to the end of the probe under ``accel`` within ``timeout``."""
    with tempfile.TemporaryDirectory(prefix="onestack-accel-") as tmp:
        disk = Path(tmp) / "probe.img"
        disk.write_bytes(probe_disk())
        try:
            proc = await asyncio.create_subprocess_exec(
                *probe_command(qemu, accel, disk),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            log.warning("accelerator probe %s: cannot run %s: %s", accel, qemu, exc)
            return False
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            _, err = await proc.communicate()
        finally:
            # A start stopped mid-probe cancels this task: a hung KVM guest must not outlive
            # it (orphans of 40 MB each piled up on this host).
            if proc.returncode is None:
                proc.kill()
                await asyncio.shield(proc.wait())
        if proc.returncode == PROBE_EXIT:
            return True
        log.info("accelerator %s unusable (exit %s): %s", accel, proc.returncode,
                 err.decode(errors="replace").strip()[-300:])  # fmt: skip
        return False


async def choose(qemu: str, wanted: str = "auto") -> str:
    """``kvm`` or ``tcg``: ``wanted`` when it names one, else KVM if the probe passes. Probed
    once per process and QEMU binary."""
    if wanted in ("kvm", "tcg"):
        return wanted
    key = (qemu, wanted)
    if key not in _chosen:
        remembered = _remembered(qemu)
        if remembered is None:
            usable = os.access("/dev/kvm", os.R_OK | os.W_OK) and await probe(qemu, "kvm")
            remembered = "kvm" if usable else "tcg"
            _remember(qemu, remembered)
        _chosen[key] = remembered
        log.info("compute accelerator: %s", _chosen[key])
    return _chosen[key]


# The probe costs seconds when KVM hangs: its answer is kept until the host reboots (/run is
# a tmpfs) or the kernel, the QEMU binary or the KVM device changes.
CACHE = Path("/run/onestack/accelerator.json")


def _fingerprint(qemu: str) -> str:
    parts = [os.uname().release]
    for path in (shutil.which(qemu) or qemu, "/dev/kvm"):
        try:
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_rdev}")
        except OSError:
            parts.append(f"{path}:absent")
    return "|".join(parts)


def _remembered(qemu: str) -> str | None:
    try:
        data = json.loads(CACHE.read_text())
    except (OSError, ValueError):
        return None
    found = data.get(_fingerprint(qemu)) if isinstance(data, dict) else None
    return found if found in ("kvm", "tcg") else None


def _remember(qemu: str, accelerator: str) -> None:
    try:
        if not CACHE.parent.exists():
            # Not the server's umask (077): the network driver's dnsmasq, as nobody, reads
            # files below this directory.
            CACHE.parent.mkdir(parents=True, exist_ok=True)
            CACHE.parent.chmod(0o755)
        tmp = CACHE.with_name(f".{CACHE.name}.{os.getpid()}")
        tmp.write_text(json.dumps({_fingerprint(qemu): accelerator}))
        tmp.replace(CACHE)
    except OSError as exc:
        log.info("cannot remember the accelerator probe in %s: %s", CACHE, exc)


def host_tsc_khz(
    tsc_freq: Path = Path("/sys/devices/system/cpu/cpu0/tsc_freq_khz"),
    cpuinfo: Path = Path("/proc/cpuinfo"),
) -> int | None:
    """The host's TSC frequency in kHz: the kernel's own figure, else the first ``cpu MHz``."""
    try:
        return int(tsc_freq.read_text().strip())
    except (OSError, ValueError):
        pass
    try:
        match = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", cpuinfo.read_text(), re.MULTILINE)
    except OSError:
        return None
    return round(float(match.group(1)) * 1000) if match else None
