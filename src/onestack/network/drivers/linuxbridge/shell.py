"""Running the host's tools (dnsmasq, iptables-restore, ipset) and converting their failures."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from onestack.network.drivers.base import DriverError


class DataplaneError(DriverError):
    """The host refused a change (netlink, iptables, dnsmasq); carries what was attempted."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Network data plane: {reason}.")


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    netns: str | None = None,
    check: bool = True,
    timeout: float = 30.0,
) -> subprocess.CompletedProcess[str]:
    """Run a command (optionally inside a namespace); raise ``DataplaneError`` on failure."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    try:
        proc = subprocess.run(
            full, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataplaneError(reason=f"{' '.join(full)}: {exc}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise DataplaneError(
            reason=f"{' '.join(full)} exited {proc.returncode}: {' | '.join(detail[-3:])}"
        )
    return proc
