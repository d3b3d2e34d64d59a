"""The Linux bridge data plane: bridges, VXLAN, taps, namespaces, dnsmasq, iptables."""

from onestack.network.drivers.linuxbridge.driver import DriverOptions, LinuxBridgeDriver

__all__ = ["DriverOptions", "LinuxBridgeDriver"]
