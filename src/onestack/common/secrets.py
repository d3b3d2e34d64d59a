"""Secrets shared by services of one cloud that no single service owns (the metadata proxy of
the network and the metadata API of compute sign and check the same requests)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from onestack.config import Settings


def shared_secret(data_dir: Path, name: str, configured: str = "") -> str:
    """``configured`` when set; otherwise a secret generated on first use into
    ``data_dir/name`` (mode 0600) and read from there by every later caller and process."""
    if configured:
        return configured
    path = Path(data_dir) / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a private name, then linked into place: two processes starting at
    # once agree on the first one's secret, and nobody ever reads a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won: use its secret
    finally:
        tmp.unlink()
    return path.read_text().strip()


def metadata_secret(settings: Settings) -> str:
    """What the network's metadata proxy signs guests' requests with and compute's metadata
    API checks: ``[network] metadata_secret``, or one generated into the data directory."""
    return shared_secret(settings.data_dir, "metadata_secret", settings.network.metadata_secret)
