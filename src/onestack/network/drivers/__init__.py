"""Network data plane drivers: ``load_driver(settings)`` picks one from the configuration."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from onestack.common import errors
from onestack.common.logging import get_logger
from onestack.common.secrets import metadata_secret
from onestack.config import Settings
from onestack.network.drivers.base import NetworkDriver

log = get_logger(__name__)

REQUIRED_TOOLS = ("ip", "dnsmasq", "iptables", "iptables-restore", "ipset", "conntrack")
DRIVERS = ("auto", "linuxbridge", "fake")


def why_not_linuxbridge() -> str | None:
    """Why the Linux bridge driver cannot run here, in plain words; None when it can."""
    if os.geteuid() != 0:
        return "not running as root"
    missing = [tool for tool in REQUIRED_TOOLS if not shutil.which(tool)]
    return f"missing {', '.join(missing)}" if missing else None


def linuxbridge_usable() -> bool:
    """Root, with the tools the Linux bridge driver runs."""
    return why_not_linuxbridge() is None


def metadata_url(settings: Settings) -> str:
    return settings.network.metadata_url or f"{settings.public_url}/compute-metadata"


def load_driver(settings: Settings) -> NetworkDriver:
    """The configured driver; ``auto`` is linuxbridge when usable here, else fake."""
    choice = settings.network.driver
    if choice not in DRIVERS:
        raise errors.ServiceUnavailable(
            reason=f"unknown network driver {choice!r} (available: {', '.join(DRIVERS)})"
        )
    net = settings.network
    if choice == "auto":
        choice = "linuxbridge" if linuxbridge_usable() else "fake"
        log.info("network driver auto: %s", choice)
    if choice == "fake":
        from onestack.network.drivers.fake import FakeDriver

        return FakeDriver(net.device_prefix)
    from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver

    return LinuxBridgeDriver(
        DriverOptions(
            prefix=net.device_prefix,
            run_dir=Path(net.run_dir or f"/run/onestack/{net.device_prefix}"),
            dns_domain=net.dns_domain,
            dhcp_lease_time=net.dhcp_lease_time,
            metadata_url=metadata_url(settings),
            metadata_secret=metadata_secret(settings),
            metadata_port=net.metadata_port,
            vxlan_group=net.vxlan_group,
            vxlan_local_ip=net.vxlan_local_ip,
            vxlan_interface=net.vxlan_interface,
            manage_host_ip_forward=net.manage_host_ip_forward,
        )
    )
