"""The ``HostState`` of one host, built from the tables for the agent to hand its driver."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import models
from onestack.network.drivers import base as dataplane
from onestack.network.service.portrows import PortRow, load_ports
from onestack.network.service.qos import ENFORCED, effective_rules
from onestack.network.service.routers import GATEWAY_OWNER, INTERFACE_OWNER, is_interface_of
from onestack.network.service.scheduler import hosting_hosts
from onestack.network.service.subnets import DHCP_OWNER


def hostname_for(port: models.Port | PortRow) -> str:
    """What Neutron's DHCP agent writes: ``host-10-0-0-3`` from the first fixed IP."""
    if not port.fixed_ips:
        return ""
    return "host-" + port.fixed_ips[0].ip_address.replace(".", "-").replace(":", "-")


def to_port(port: models.Port | PortRow) -> dataplane.Port:
    return dataplane.Port(
        id=port.id,
        network_id=port.network_id,
        project_id=port.project_id,
        mac_address=port.mac_address,
        fixed_ips=tuple(dataplane.FixedIP(a.subnet_id, a.ip_address) for a in port.fixed_ips),
        device_owner=port.device_owner,
        device_id=port.device_id,
        admin_state_up=port.admin_state_up,
        port_security_enabled=port.port_security_enabled,
        security_group_ids=tuple(sorted(b.security_group_id for b in port.security_group_bindings)),
        allowed_address_pairs=tuple(
            dataplane.AddressPair(p["ip_address"], p["mac_address"])
            for p in port.allowed_address_pairs
        ),
        hostname=hostname_for(port),
        status=port.status,
        dhcp_opts=tuple(
            (int(o["ip_version"]), str(o["opt_name"]), str(o["opt_value"]))
            for o in port.extra_dhcp_opts or ()
        ),
    )


def to_subnet(s: models.Subnet) -> dataplane.Subnet:
    return dataplane.Subnet(
        id=s.id,
        network_id=s.network_id,
        cidr=s.cidr,
        ip_version=s.ip_version,
        gateway_ip=s.gateway_ip,
        enable_dhcp=s.enable_dhcp,
        dns_nameservers=tuple(s.dns_nameservers),
        host_routes=tuple(
            dataplane.HostRoute(r["destination"], r["nexthop"]) for r in s.host_routes
        ),
        ipv6_address_mode=s.ipv6_address_mode,
        ipv6_ra_mode=s.ipv6_ra_mode,
    )


async def _ports(session: AsyncSession, *conditions: object) -> list[PortRow]:
    return await load_ports(session, *conditions)


async def build(session: AsyncSession, host: str, main_host: str) -> dataplane.HostState:
    """``main_host``: the host that serves DHCP and routers unless the agent schedulers say
    otherwise (see ``scheduler.hosting_hosts``)."""
    vm_ports = [
        p
        for p in await _ports(session, models.Port.binding_host_id == host)
        if not p.device_owner.startswith("network:")
    ]
    dhcp_ports = await _dhcp_ports(session, host, main_host)
    all_routers = list(
        await session.scalars(select(models.Router).order_by(models.Router.created_at))
    )
    # No router, no hosting to read (three queries on every round of a router-less cloud).
    l3 = await hosting_hosts(session, "l3", main_host) if all_routers else {}
    router_rows = [
        r
        for r in all_routers
        if host in l3.get(r.id, {main_host})  # a router with no port yet: the main host's
    ]
    router_ids = [r.id for r in router_rows]
    router_ports = (
        await _ports(
            session,
            models.Port.device_id.in_(router_ids),
            or_(
                models.Port.device_owner == INTERFACE_OWNER,
                models.Port.device_owner == GATEWAY_OWNER,
            ),
        )
        if router_ids
        else []
    )
    network_ids = {p.network_id for p in (*vm_ports, *dhcp_ports, *router_ports)}
    networks = await _networks(session, network_ids)
    served = {p.network_id for p in dhcp_ports}
    loaded = [*vm_ports, *dhcp_ports, *router_ports]
    # Each port converted once: a VM port is also one of its network's ports (the DHCP
    # hosts), and every VM port was converted twice and copied once per round (#19).
    plain: dict[str, dataplane.Port] = {}

    def convert(p: PortRow) -> dataplane.Port:
        port = plain.get(p.id)
        if port is None:
            port = plain[p.id] = to_port(p)
        return port

    network_ports = await _network_ports(session, host, served, loaded, convert)
    groups = await _security_groups(session, vm_ports)
    routers = await _routers(session, router_rows, router_ports)
    qos = await effective_rules(session, vm_ports)
    return dataplane.HostState(
        host=host,
        networks=networks,
        ports=tuple(_with_qos(convert(p), qos.get(p.id)) for p in vm_ports),
        dhcp_ports=tuple(convert(p) for p in dhcp_ports),
        routers=routers,
        security_groups=groups,
        network_ports=network_ports,
    )


async def with_new_ports(
    session: AsyncSession, last: dataplane.HostState, port_ids: Iterable[str]
) -> dataplane.HostState | None:
    """``last`` with the ports ``port_ids`` (just created) added, in a few queries; None when
    that is not enough and the whole state must be read (``build``).

    A port create is on the path of every boot with a network: the compute agent waits for
    the round that plugs it, and reading the whole host again costs about 18 queries (~10 ms
    of the event loop, #19). A new VM port changes only its own entry, its network's DHCP
    hosts and its security groups' members (and its QoS): its row and its QoS are read (4
    queries), its addresses added to its groups' members. Anything else (a network-owned
    port, a port already gone, a group or network the host does not carry yet) takes the
    full read, as does every other change, the periodic resync and every repair."""
    wanted = set(port_ids)
    if not wanted:
        return last
    rows = await _ports(session, models.Port.id.in_(wanted))
    if len(rows) != len(wanted) or any(p.device_owner.startswith("network:") for p in rows):
        return None  # a port deleted meanwhile, or a DHCP or router port: read it all
    rows.sort(key=lambda p: (p.created_at, p.id))
    known_nets = {n.id for n in last.networks}
    groups = {g.id: g for g in last.security_groups}
    mine = [p for p in rows if p.binding_host_id == last.host]
    for p in mine:
        if p.network_id not in known_nets:
            return None  # the host's first port on this network: its network is read too
        if any(b.security_group_id not in groups for b in p.security_group_bindings):
            return None  # a group the host does not carry yet (and its remote groups)
    plain = {p.id: to_port(p) for p in rows}
    qos = await effective_rules(session, mine) if mine else {}
    # Idempotent: a port a full round already read (its event came after) is replaced.
    ports = [p for p in last.ports if p.id not in wanted]
    ports += [_with_qos(plain[p.id], qos.get(p.id)) for p in mine]
    network_ports = dict(last.network_ports)
    for net_id in {p.network_id for p in rows} & set(network_ports):  # served here
        network_ports[net_id] = (
            *(x for x in network_ports[net_id] if x.id not in wanted),
            *(plain[p.id] for p in rows if p.network_id == net_id),
        )
    # The groups the host carries that the new ports join gain their addresses (a group's
    # members are a sorted set: the others need not be read again).
    joined: dict[str, set[str]] = defaultdict(set)
    for p in rows:
        addresses = {a.ip_address for a in p.fixed_ips}
        addresses.update(pair["ip_address"] for pair in p.allowed_address_pairs or ())
        for b in p.security_group_bindings:
            if b.security_group_id in groups:
                joined[b.security_group_id] |= addresses
    for gid, addresses in joined.items():
        group = groups[gid]
        groups[gid] = replace(group, member_ips=tuple(sorted({*group.member_ips, *addresses})))
    security_groups = tuple(groups[g.id] for g in last.security_groups)
    return replace(
        last,
        ports=tuple(ports),
        network_ports=network_ports,
        security_groups=security_groups,
    )


def _with_qos(port: dataplane.Port, rules: Iterable[models.QosRule] | None) -> dataplane.Port:
    enforced = _qos(rules or ())
    return replace(port, qos=enforced) if enforced != port.qos else port


async def _network_ports(
    session: AsyncSession,
    host: str,
    served: set[str],
    loaded: list[PortRow],
    convert: Callable[[PortRow], dataplane.Port],
) -> dict[str, tuple[dataplane.Port, ...]]:
    """Every port of the networks served here (their DHCP hosts), oldest first. The ports
    already read for this host are reused and only the others read: on one host that is none
    but the network's own, where every port was read a second time on every round (#19)."""
    if not served:
        return {}
    rows = {p.id: p for p in loaded if p.network_id in served}
    others = await _ports(
        session,
        models.Port.network_id.in_(served),
        or_(models.Port.binding_host_id != host, models.Port.device_owner.startswith("network:")),
        models.Port.id.not_in(
            [i for i, p in rows.items() if p.device_owner.startswith("network:")]
        ),
    )
    for p in others:
        rows.setdefault(p.id, p)
    by_net: dict[str, list[dataplane.Port]] = defaultdict(list)
    for p in sorted(rows.values(), key=lambda p: (p.created_at, p.id)):
        by_net[p.network_id].append(convert(p))
    return {k: tuple(v) for k, v in by_net.items()}


async def _dhcp_ports(session: AsyncSession, host: str, main_host: str) -> list[PortRow]:
    """The DHCP ports this host serves. One port per network: a network on several DHCP
    agents is served by one of their hosts (the main host first), as two dnsmasqs with one
    address and MAC would fight over it."""
    dhcp = await hosting_hosts(session, "dhcp", main_host)
    out = []
    for port in await _ports(session, models.Port.device_owner == DHCP_OWNER):
        hosts = dhcp.get(port.network_id, {port.binding_host_id or main_host})
        if hosts and host == (main_host if main_host in hosts else min(hosts)):
            out.append(port)
    return out


def _qos(rules: Iterable[models.QosRule]) -> tuple[dataplane.QosRule, ...]:
    return tuple(
        dataplane.QosRule(
            type=r.rule_type,
            direction=r.direction,
            max_kbps=r.max_kbps or 0,
            max_burst_kbps=r.max_burst_kbps or 0,
            dscp_mark=r.dscp_mark or 0,
        )
        for r in rules
        if r.rule_type in ENFORCED
    )


async def _networks(session: AsyncSession, network_ids: set[str]) -> tuple[dataplane.Network, ...]:
    """The networks of ``network_ids``, each with all its subnets."""
    if not network_ids:
        return ()
    networks = await session.scalars(
        select(models.Network)
        .where(models.Network.id.in_(network_ids))
        .order_by(models.Network.created_at)
    )
    subnets_by_net: dict[str, list[dataplane.Subnet]] = defaultdict(list)
    for s in await session.scalars(
        select(models.Subnet)
        .where(models.Subnet.network_id.in_(network_ids))
        .order_by(models.Subnet.created_at)
    ):
        subnets_by_net[s.network_id].append(to_subnet(s))
    return tuple(
        dataplane.Network(
            id=n.id,
            project_id=n.project_id,
            network_type=n.network_type,
            segmentation_id=n.segmentation_id,
            physical_network=n.physical_network,
            mtu=n.mtu,
            external=n.external,
            admin_state_up=n.admin_state_up,
            subnets=tuple(subnets_by_net.get(n.id, ())),
        )
        for n in networks
    )


async def _security_groups(
    session: AsyncSession, ports: Iterable[PortRow]
) -> tuple[dataplane.SecurityGroup, ...]:
    wanted = {b.security_group_id for p in ports for b in p.security_group_bindings}
    if not wanted:
        return ()
    groups = {
        g.id: g
        for g in await session.scalars(
            select(models.SecurityGroup).where(models.SecurityGroup.id.in_(wanted))
        )
    }
    # Remote groups: their members are what a rule matches, so they travel too.
    remote = {r.remote_group_id for g in groups.values() for r in g.rules if r.remote_group_id}
    missing = remote - set(groups)
    if missing:
        for g in await session.scalars(
            select(models.SecurityGroup).where(models.SecurityGroup.id.in_(missing))
        ):
            groups[g.id] = g
    members = await _member_ips(session, list(groups))
    return tuple(
        dataplane.SecurityGroup(
            id=g.id,
            rules=tuple(
                dataplane.SecurityGroupRule(
                    id=r.id,
                    direction=r.direction,
                    ethertype=r.ethertype,
                    protocol=r.protocol,
                    port_range_min=r.port_range_min,
                    port_range_max=r.port_range_max,
                    remote_ip_prefix=r.remote_ip_prefix,
                    remote_group_id=r.remote_group_id,
                )
                for r in g.rules
            ),
            member_ips=members.get(g.id, ()),
        )
        for g in sorted(groups.values(), key=lambda g: g.id)
    )


async def _member_ips(session: AsyncSession, group_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Per group, the addresses of its member ports (what a remote-group rule matches): their
    fixed IPs and their allowed address pairs' addresses, each once, sorted (a set: so that
    ``with_new_ports`` can add a new member's without reading the others)."""
    members: dict[str, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(models.PortSecurityGroup.security_group_id, models.IPAllocation.ip_address)
        .join(models.IPAllocation, models.IPAllocation.port_id == models.PortSecurityGroup.port_id)
        .where(models.PortSecurityGroup.security_group_id.in_(group_ids))
    )
    for gid, ip in rows:
        members[gid].append(ip)
    pair_rows = await session.execute(
        select(models.PortSecurityGroup.security_group_id, models.Port.allowed_address_pairs)
        .join(models.Port, models.Port.id == models.PortSecurityGroup.port_id)
        .where(models.PortSecurityGroup.security_group_id.in_(group_ids))
    )
    for gid, pairs in pair_rows:
        members[gid].extend(p["ip_address"] for p in pairs or [])
    return {gid: tuple(sorted(set(ips))) for gid, ips in members.items()}


async def _routers(
    session: AsyncSession, routers: list[models.Router], ports: list[PortRow]
) -> tuple[dataplane.Router, ...]:
    if not routers:
        return ()
    by_id = {p.id: p for p in ports}
    owners = {r.id: r for r in routers}
    interfaces: dict[str, list[dataplane.Port]] = defaultdict(list)
    for p in ports:
        # device_owner and device_id are the port's own say-so; only an interface of the
        # router's project is plugged into that router (see routers.is_interface_of).
        router = owners.get(p.device_id)
        if router is not None and is_interface_of(p, router):
            interfaces[p.device_id].append(to_port(p))
    fips: dict[str, list[dataplane.FloatingIP]] = defaultdict(list)
    for f in await session.scalars(
        select(models.FloatingIP).where(
            models.FloatingIP.router_id.in_([r.id for r in routers]),
            models.FloatingIP.port_id.is_not(None),
        )
    ):
        assert f.router_id is not None and f.port_id is not None
        fips[f.router_id].append(
            dataplane.FloatingIP(f.id, f.floating_ip_address, f.fixed_ip_address or "", f.port_id)
        )
    forwardings = await _port_forwardings(session, routers, ports)
    labels = await _metering_labels(session, {r.project_id for r in routers})
    out = []
    for r in routers:
        gw = by_id.get(r.gw_port_id or "")
        gateway = None
        if gw is not None:
            gateway = dataplane.RouterGateway(gw.network_id, to_port(gw), r.enable_snat)
        out.append(
            dataplane.Router(
                id=r.id,
                project_id=r.project_id,
                admin_state_up=r.admin_state_up,
                gateway=gateway,
                interfaces=tuple(interfaces.get(r.id, ())),
                routes=tuple(dataplane.HostRoute(x["destination"], x["nexthop"]) for x in r.routes),
                floating_ips=tuple(fips.get(r.id, ())),
                port_forwardings=tuple(forwardings.get(r.id, ())),
                metering_labels=tuple(x for x in labels if x.project_id == r.project_id or x.shared)
                if gateway is not None
                else (),
            )
        )
    return tuple(out)


async def _metering_labels(
    session: AsyncSession, projects: set[str]
) -> tuple[dataplane.MeteringLabel, ...]:
    """The labels of the routers' projects and the shared ones (which count on every
    router, as in Neutron), each with its rules."""
    rows = list(
        await session.scalars(
            select(models.MeteringLabel)
            .where(
                or_(
                    models.MeteringLabel.project_id.in_(projects),
                    models.MeteringLabel.shared.is_(True),
                )
            )
            .order_by(models.MeteringLabel.id)
        )
    )
    if not rows:
        return ()
    rules: dict[str, list[dataplane.MeteringRule]] = defaultdict(list)
    for rule in await session.scalars(
        select(models.MeteringLabelRule)
        .where(models.MeteringLabelRule.metering_label_id.in_([x.id for x in rows]))
        .order_by(models.MeteringLabelRule.id)
    ):
        rules[rule.metering_label_id].append(
            dataplane.MeteringRule(
                direction=rule.direction,
                excluded=rule.excluded,
                remote_ip_prefix=rule.remote_ip_prefix,
                source_ip_prefix=rule.source_ip_prefix,
                destination_ip_prefix=rule.destination_ip_prefix,
            )
        )
    return tuple(
        dataplane.MeteringLabel(x.id, x.project_id, tuple(rules.get(x.id, ())), x.shared)
        for x in rows
    )


async def _port_forwardings(
    session: AsyncSession, routers: list[models.Router], ports: list[PortRow]
) -> dict[str, list[dataplane.PortForwarding]]:
    """Each forwarding goes to the router that owns its floating IP: a gateway on the floating
    IP's network and an interface on the internal address's subnet (what ``find_router``
    checks when the forwarding is made). A port-forwarding floating IP has no port, so no
    ``router_id``; the router is found here, the first made winning when several qualify."""
    by_id = {p.id: p for p in ports}
    gateway_net: dict[str, str] = {}
    for r in routers:
        gw = by_id.get(r.gw_port_id or "")
        if gw is not None:
            gateway_net[r.id] = gw.network_id
    if not gateway_net:
        return {}
    subnets: dict[str, set[str]] = defaultdict(set)
    for p in ports:
        if p.device_owner == INTERFACE_OWNER:
            subnets[p.device_id].update(a.subnet_id for a in p.fixed_ips)
    rows = await session.execute(
        select(models.PortForwarding, models.FloatingIP, models.IPAllocation.subnet_id)
        .join(models.FloatingIP, models.FloatingIP.id == models.PortForwarding.floatingip_id)
        .join(
            models.IPAllocation,
            (models.IPAllocation.port_id == models.PortForwarding.internal_port_id)
            & (models.IPAllocation.ip_address == models.PortForwarding.internal_ip_address),
        )
        .where(models.FloatingIP.floating_network_id.in_(set(gateway_net.values())))
        .order_by(models.PortForwarding.created_at, models.PortForwarding.id)
    )
    out: dict[str, list[dataplane.PortForwarding]] = defaultdict(list)
    for pf, fip, subnet_id in rows:
        owner = next(
            (
                r.id
                for r in routers
                if gateway_net.get(r.id) == fip.floating_network_id and subnet_id in subnets[r.id]
            ),
            None,
        )
        if owner is None:
            continue
        out[owner].append(
            dataplane.PortForwarding(
                id=pf.id,
                floating_ip_address=fip.floating_ip_address,
                protocol=pf.protocol,
                external_port=pf.external_port,
                internal_ip_address=pf.internal_ip_address,
                internal_port=pf.internal_port,
            )
        )
    return out
