"""Device, namespace, chain and set names derived from resource ids and the device prefix.

Every name the driver creates starts with the configured prefix (1-3 characters) and is
recognised by ``Names.owns_*`` with an exact pattern, so a reconcile deletes only what this
driver (with this prefix) could have created and never a device of the host or of another cloud.
Interface names fit the kernel's 15 characters: prefix + type letter + 11 hex of the id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_CHARS = 11  # prefix (<= 3) + type letter + 11 = 15, the kernel's IFNAMSIZ - 1
SET_ID_CHARS = 24  # ipset names are at most 31 characters

# Type letters of host-side links.
BRIDGE = "b"
VXLAN = "x"
TAP = "t"
DHCP_VETH = "d"  # host end of a DHCP port's veth
ROUTER_VETH = "r"  # host end of a router interface's veth
GATEWAY_VETH = "g"  # host end of a router gateway's veth
QOS_IFB = "q"  # the ifb a port's tap redirects its guest's traffic to, to be shaped
LINK_TYPES = BRIDGE + VXLAN + TAP + DHCP_VETH + ROUTER_VETH + GATEWAY_VETH + QOS_IFB


def short_id(resource_id: str, length: int = ID_CHARS) -> str:
    """The first ``length`` hex characters of an id (dashes dropped)."""
    return resource_id.replace("-", "").lower()[:length]


@dataclass(frozen=True)
class Names:
    prefix: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]{0,2}", self.prefix):
            raise ValueError(f"device prefix {self.prefix!r}: 1-3 lower-case letters/digits")

    # -- host links -------------------------------------------------------------------------
    def _link(self, kind: str, resource_id: str) -> str:
        return f"{self.prefix}{kind}{short_id(resource_id)}"

    def bridge(self, network_id: str) -> str:
        return self._link(BRIDGE, network_id)

    def vxlan(self, network_id: str) -> str:
        return self._link(VXLAN, network_id)

    def tap(self, port_id: str) -> str:
        return self._link(TAP, port_id)

    def qos_ifb(self, port_id: str) -> str:
        return self._link(QOS_IFB, port_id)

    def dhcp_veth(self, port_id: str) -> str:
        return self._link(DHCP_VETH, port_id)

    def router_veth(self, port_id: str) -> str:
        return self._link(ROUTER_VETH, port_id)

    def gateway_veth(self, port_id: str) -> str:
        return self._link(GATEWAY_VETH, port_id)

    def owns_link(self, ifname: str) -> bool:
        return (
            re.fullmatch(rf"{self.prefix}[{LINK_TYPES}][0-9a-f]{{{ID_CHARS}}}", ifname) is not None
        )

    # -- links inside our namespaces (the namespace is ours, so short fixed names) -----------
    @staticmethod
    def dhcp_inner(port_id: str) -> str:
        return f"ns-{short_id(port_id)}"

    @staticmethod
    def router_inner(port_id: str) -> str:
        return f"qr-{short_id(port_id)}"

    @staticmethod
    def gateway_inner(port_id: str) -> str:
        return f"qg-{short_id(port_id)}"

    # -- namespaces --------------------------------------------------------------------------
    def dhcp_ns(self, network_id: str) -> str:
        return f"{self.prefix}-dhcp-{network_id}"

    def router_ns(self, router_id: str) -> str:
        return f"{self.prefix}-router-{router_id}"

    def owns_ns(self, name: str) -> bool:
        return re.fullmatch(rf"{self.prefix}-(dhcp|router)-[0-9a-fA-F-]{{1,64}}", name) is not None

    # -- iptables chains and ipsets ----------------------------------------------------------
    @property
    def forward_chain(self) -> str:
        """Our chain in filter, jumped to once from FORWARD."""
        return f"{self.prefix.upper()}-FWD"

    @property
    def postrouting_chain(self) -> str:
        """Our chain in nat, jumped to once from POSTROUTING (external network NAT)."""
        return f"{self.prefix.upper()}-POST"

    @property
    def zone_chain(self) -> str:
        """Our chain in raw, jumped to once from PREROUTING (conntrack zone per network)."""
        return f"{self.prefix.upper()}-ZONE"

    @property
    def zone_output_chain(self) -> str:
        """Our chain in raw, jumped to once from OUTPUT (the host's own packets on a bridge)."""
        return f"{self.prefix.upper()}-ZOUT"

    @property
    def qos_chain(self) -> str:
        """Our chain in mangle, jumped to once from FORWARD (DSCP marks of ports' traffic)."""
        return f"{self.prefix.upper()}-QOS"

    def ingress_chain(self, port_id: str) -> str:
        return f"{self.prefix}i{short_id(port_id)}"

    def egress_chain(self, port_id: str) -> str:
        return f"{self.prefix}o{short_id(port_id)}"

    def spoof_chain(self, port_id: str) -> str:
        return f"{self.prefix}s{short_id(port_id)}"

    def owns_chain(self, chain: str) -> bool:
        if chain in (
            self.forward_chain,
            self.postrouting_chain,
            self.zone_chain,
            self.zone_output_chain,
            self.qos_chain,
        ):
            return True
        return re.fullmatch(rf"{self.prefix}[ios][0-9a-f]{{{ID_CHARS}}}", chain) is not None

    def ipset(self, security_group_id: str, ip_version: int) -> str:
        return f"{self.prefix}{ip_version}{short_id(security_group_id, SET_ID_CHARS)}"

    def owns_ipset(self, name: str) -> bool:
        return re.fullmatch(rf"{self.prefix}[46][0-9a-f]{{1,{SET_ID_CHARS}}}", name) is not None
