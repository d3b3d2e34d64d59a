"""The test guest's SSH server: Debian's dropbear (package ``dropbear-bin``) and the few shared
libraries it links, copied from this host into the initramfs at the paths the loader expects.

dropbear is 170 KB and, with libc, libcrypt, libtomcrypt, libtommath, libgmp and zlib, adds
about 1.3 MB gzipped: small beside the kernel. ``-R`` makes host keys on first use (ed25519,
the key type OpenSSH asks for first, takes milliseconds even under TCG), so boot waits for
nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from onestack.image.testimage.errors import BuildError

DROPBEAR = Path("/usr/sbin/dropbear")
GUEST_PATH = "usr/sbin/dropbear"
PACKAGE = "dropbear-bin"


class SshdError(BuildError):
    """dropbear or one of its libraries is missing on the build host."""


def parse_ldd(output: str) -> list[Path]:
    """The files of ``ldd`` output: ``name => /path (addr)`` and the loader's ``/path (addr)``."""
    found: list[Path] = []
    for line in output.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            found.append(Path(m.group(1)))
        elif "not found" in line:
            raise SshdError(f"dropbear needs a library this host lacks: {line.strip()}")
    return found


def guest_path(library: Path) -> str:
    """Where a library goes in the guest: the loader at /lib64, the rest in the multiarch dir
    (one of the loader's built-in search paths), whatever the host's /usr merge made of them."""
    if library.name.startswith("ld-linux"):
        return f"lib64/{library.name}"
    return f"lib/x86_64-linux-gnu/{library.name}"


def payload(binary: Path = DROPBEAR) -> dict[str, tuple[bytes, int]]:
    """Guest path -> (contents, mode) of dropbear and every library it loads."""
    if not binary.exists():
        raise SshdError(f"{binary} is missing: apt-get install {PACKAGE}")
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SshdError(f"ldd {binary}: {done.stderr.strip() or done.stdout.strip()}")
    files = {GUEST_PATH: (binary.read_bytes(), 0o755)}
    for library in parse_ldd(done.stdout):
        files[guest_path(library)] = (library.resolve().read_bytes(), 0o755)
    return files
