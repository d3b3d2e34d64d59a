"""The pieces of Nova's server diagnostics (microversion 2.48) that every driver fills in."""

from __future__ import annotations

from typing import Any

from onestack.compute.drivers.base import PowerState

# The ``state`` values Nova's schema allows, by power state.
STATE_NAMES = {
    PowerState.NOSTATE: "pending",
    PowerState.RUNNING: "running",
    PowerState.PAUSED: "paused",
    PowerState.SHUTDOWN: "shutdown",
    PowerState.CRASHED: "crashed",
    PowerState.SUSPENDED: "suspended",
}


def nic_details(
    mac: str | None, rx: dict[str, int] | None = None, tx: dict[str, int] | None = None
) -> dict[str, Any]:
    """One NIC, seen from the guest: ``rx``/``tx`` map octets, packets, errors, drop to counts."""
    details: dict[str, Any] = {"mac_address": mac}
    for side, counts in (("rx", rx or {}), ("tx", tx or {})):
        for counter in ("octets", "errors", "drop", "packets"):
            details[f"{side}_{counter}"] = counts.get(counter, 0)
        details[f"{side}_rate"] = None  # Nova's libvirt driver never fills it either
    return details


def disk_details(
    read_bytes: int = 0,
    read_requests: int = 0,
    write_bytes: int = 0,
    write_requests: int = 0,
    errors_count: int = 0,
) -> dict[str, Any]:
    return {
        "read_bytes": read_bytes,
        "read_requests": read_requests,
        "write_bytes": write_bytes,
        "write_requests": write_requests,
        "errors_count": errors_count,
    }
