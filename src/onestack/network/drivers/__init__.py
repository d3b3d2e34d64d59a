"""Network data plane drivers: the seam (``base.py``), the fake one and Linux bridge. The
network agent picks one by its configured name (``onestack.network.dataplane.load_driver``);
``why_not_linuxbridge`` says why the real one cannot run here."""

from __future__ import annotations

import os
import shutil

from onestack.network.drivers.base import DriverError, NetworkDriver

REQUIRED_TOOLS = ("ip", "tc", "dnsmasq", "iptables", "iptables-restore", "ipset", "conntrack")


def why_not_linuxbridge() -> str | None:
    """Why the Linux bridge driver cannot run here, in plain words; None when it can."""
    if os.geteuid() != 0:
        return "not running as root"
    missing = [tool for tool in REQUIRED_TOOLS if not shutil.which(tool)]
    return f"missing {', '.join(missing)}" if missing else None


def linuxbridge_usable() -> bool:
    """Root, with the tools the Linux bridge driver runs."""
    return why_not_linuxbridge() is None


__all__ = [
    "REQUIRED_TOOLS",
    "DriverError",
    "NetworkDriver",
    "linuxbridge_usable",
    "why_not_linuxbridge",
]
