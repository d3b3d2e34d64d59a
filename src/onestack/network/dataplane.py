"""Choosing and loading this host's network driver (service side: drivers import nothing of
common): ``[network] driver`` through the common loader, the driver given plain values."""

from __future__ import annotations

from pathlib import Path

from onestack.common.agent import DriverUnavailable, LoadedDriver
from onestack.common.agent import load_driver as load_any
from onestack.common.secrets import metadata_secret
from onestack.config import Settings
from onestack.network.drivers import why_not_linuxbridge
from onestack.network.drivers.base import DriverError, NetworkDriver

SEAM = "network"


def metadata_url(settings: Settings) -> str:
    return settings.network.metadata_url or f"{settings.public_url}/compute-metadata"


def _linuxbridge(settings: Settings) -> NetworkDriver:
    from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver

    net = settings.network
    try:
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
    except DriverError as exc:  # e.g. a metadata_url it cannot proxy to
        raise DriverUnavailable(seam=SEAM, name="linuxbridge", reason=str(exc)) from exc


def _fake(settings: Settings) -> NetworkDriver:
    from onestack.network.drivers.fake import FakeDriver

    return FakeDriver(settings.network.device_prefix)


def choose_driver(settings: Settings) -> LoadedDriver[NetworkDriver]:
    """The driver ``[network] driver`` names, through the common loader: ``auto`` is
    linuxbridge where ``why_not_linuxbridge`` has no objection, else fake; a driver that
    cannot be had is ``DriverUnavailable``. The driver gets plain values (the metadata secret
    read or made here), never the settings."""
    return load_any(
        SEAM,
        settings.network.driver,
        {"linuxbridge": lambda: _linuxbridge(settings), "fake": lambda: _fake(settings)},
        auto=("linuxbridge", "fake"),
        why_not={"linuxbridge": why_not_linuxbridge},
    )


def load_driver(settings: Settings) -> NetworkDriver:
    """The configured driver (see ``choose_driver``)."""
    return choose_driver(settings).driver
