"""DHCP: one dnsmasq per network in its DHCP namespace, fed by files rendered from the ports.

``render_*`` are pure (unit tested); ``Dnsmasq`` writes the files, starts the process and sends
SIGHUP when only the host or option files changed (dnsmasq re-reads ``--dhcp-hostsfile``,
``--dhcp-optsfile`` and ``--addn-hosts`` on SIGHUP), restarting it only when its command line
changes (a subnet added or removed). Processes are tracked by their pid files.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import shutil
import signal
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from onestack.network.drivers.base import Network, Port, Subnet
from onestack.network.drivers.linuxbridge.names import short_id
from onestack.network.drivers.linuxbridge.shell import DataplaneError, run

METADATA_IP = "169.254.169.254"
METADATA_CIDR = f"{METADATA_IP}/32"


def subnet_tag(subnet: Subnet) -> str:
    return f"subnet-{short_id(subnet.id)}"


def dhcp_subnets(network: Network) -> list[Subnet]:
    """Subnets dnsmasq serves: DHCP enabled, and for IPv6 only stateful or stateless DHCPv6."""
    out = []
    for subnet in network.subnets:
        if not subnet.enable_dhcp:
            continue
        if subnet.ip_version == 6 and subnet.ipv6_address_mode not in (
            "dhcpv6-stateful",
            "dhcpv6-stateless",
        ):
            continue
        out.append(subnet)
    return out


def hostname(port: Port, ip: str) -> str:
    """The port's dns_name, else ``host-<ip with dashes>`` as Neutron's DHCP agent writes."""
    if port.hostname:
        return port.hostname
    return "host-" + ip.replace(".", "-").replace(":", "-")


def _port_addresses(network: Network, port: Port) -> list[tuple[Subnet, str]]:
    subnets = {s.id: s for s in dhcp_subnets(network)}
    return [(subnets[f.subnet_id], f.ip_address) for f in port.fixed_ips if f.subnet_id in subnets]


def render_hosts(network: Network, ports: tuple[Port, ...], domain: str) -> str:
    """``--dhcp-hostsfile``: ``MAC,NAME.DOMAIN,IP`` per fixed IP ([IP] for IPv6)."""
    lines = []
    for port in sorted(ports, key=lambda p: p.mac_address):
        for subnet, ip in _port_addresses(network, port):
            if subnet.ip_version == 6 and subnet.ipv6_address_mode != "dhcpv6-stateful":
                continue
            shown = f"[{ip}]" if subnet.ip_version == 6 else ip
            # A port with options of its own is tagged, as Neutron's DHCP agent does.
            tag = f"set:{port_tag(port)}," if port.dhcp_opts else ""
            lines.append(f"{port.mac_address},{tag}{hostname(port, ip)}.{domain},{shown}")
    return "".join(line + "\n" for line in lines)


def render_addn_hosts(network: Network, ports: tuple[Port, ...], domain: str) -> str:
    """``--addn-hosts``: DNS for instance names whether or not they hold a lease yet."""
    lines = []
    for port in sorted(ports, key=lambda p: p.mac_address):
        for _subnet, ip in _port_addresses(network, port):
            name = hostname(port, ip)
            lines.append(f"{ip}\t{name}.{domain} {name}")
    return "".join(line + "\n" for line in lines)


def dhcp_port_ip(dhcp_port: Port, subnet: Subnet) -> str | None:
    for fixed in dhcp_port.fixed_ips:
        if fixed.subnet_id == subnet.id:
            return fixed.ip_address
    return None


def port_tag(port: Port) -> str:
    return f"port-{port.id}"


def render_port_opts(ports: tuple[Port, ...]) -> list[str]:
    """Each port's extra DHCP options for the clients its hosts lines tag: a name as
    dnsmasq's ``option:``/``option6:`` name, a number as the option number."""
    lines = []
    for port in sorted(ports, key=lambda p: p.id):
        for version, name, value in port.dhcp_opts:
            option = name if name.isdigit() else f"option{'6' if version == 6 else ''}:{name}"
            lines.append(f"tag:{port_tag(port)},{option},{value}")
    return lines


def render_opts(network: Network, dhcp_port: Port, ports: tuple[Port, ...] = ()) -> str:
    """``--dhcp-optsfile``: per subnet the router, DNS servers, MTU and classless routes.

    The classless routes (options 121 and 249) carry 169.254.169.254/32 via this DHCP port,
    where the metadata proxy listens, the subnet's host routes and the default route: a client
    that gets option 121 ignores the router option, so the default route must be in it too.
    """
    lines = []
    for subnet in dhcp_subnets(network):
        tag = f"tag:{subnet_tag(subnet)}"
        own_ip = dhcp_port_ip(dhcp_port, subnet)
        if subnet.ip_version == 4:
            dns = list(subnet.dns_nameservers) or ([own_ip] if own_ip else [])
            if dns:
                lines.append(f"{tag},option:dns-server,{','.join(dns)}")
            routes: list[str] = []
            if own_ip:
                routes += [METADATA_CIDR, own_ip]
            for route in subnet.host_routes:
                if ipaddress.ip_network(route.destination, strict=False).version == 4:
                    routes += [route.destination, route.nexthop]
            if subnet.gateway_ip:
                routes += ["0.0.0.0/0", subnet.gateway_ip]
            if routes:
                lines.append(f"{tag},option:classless-static-route,{','.join(routes)}")
                lines.append(f"{tag},249,{','.join(routes)}")
            # An empty router option stops dnsmasq offering its own address as the gateway.
            router = f",{subnet.gateway_ip}" if subnet.gateway_ip else ""
            lines.append(f"{tag},option:router{router}")
            if network.mtu:
                lines.append(f"{tag},option:mtu,{network.mtu}")
        else:
            dns = list(subnet.dns_nameservers) or ([own_ip] if own_ip else [])
            if dns:
                lines.append(f"{tag},option6:dns-server,{','.join(f'[{a}]' for a in dns)}")
    lines += render_port_opts(ports)
    return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class DnsmasqFiles:
    directory: Path

    @property
    def hosts(self) -> Path:
        return self.directory / "host"

    @property
    def addn_hosts(self) -> Path:
        return self.directory / "addn_hosts"

    @property
    def opts(self) -> Path:
        return self.directory / "opts"

    @property
    def pid(self) -> Path:
        return self.directory / "pid"

    @property
    def leases(self) -> Path:
        return self.directory / "leases"

    @property
    def cmdline(self) -> Path:
        return self.directory / "cmdline"


def render_argv(
    network: Network, interface: str, files: DnsmasqFiles, domain: str, lease_time: int
) -> list[str]:
    argv = [
        "dnsmasq",
        "--conf-file=/dev/null",
        "--no-hosts",
        "--no-resolv",
        "--strict-order",
        "--except-interface=lo",
        "--bind-interfaces",
        f"--interface={interface}",
        f"--pid-file={files.pid}",
        f"--dhcp-hostsfile={files.hosts}",
        f"--addn-hosts={files.addn_hosts}",
        f"--dhcp-optsfile={files.opts}",
        f"--dhcp-leasefile={files.leases}",
        "--leasefile-ro",
        "--dhcp-authoritative",
        f"--domain={domain}",
        # Answer for the instances' domain ourselves (NODATA for AAAA, not REFUSED).
        f"--local=/{domain}/",
    ]
    for subnet in dhcp_subnets(network):
        net = ipaddress.ip_network(subnet.cidr, strict=False)
        if subnet.ip_version == 4:
            argv.append(
                f"--dhcp-range=set:{subnet_tag(subnet)},{net.network_address},static,"
                f"{net.netmask},{lease_time}s"
            )
        else:
            mode = "static" if subnet.ipv6_address_mode == "dhcpv6-stateful" else "ra-stateless"
            argv.append(
                f"--dhcp-range=set:{subnet_tag(subnet)},{net.network_address},{mode},"
                f"{net.prefixlen},{lease_time}s"
            )
    argv.append(f"--dhcp-lease-max={max(16, len(network.subnets) * 1024)}")
    return argv


def traversable_dir(path: Path) -> None:
    """``mkdir -p`` that leaves ``path`` readable and every directory above it traversable by
    other users, whoever created those directories and whatever the umask.

    dnsmasq reads its files as ``nobody`` after dropping privileges: one closed level (a
    ``/run/onestack`` another component made 0700 under the server's umask 077) and it
    answers every DISCOVER with "no address available". Levels this creates are 0755;
    existing ones only gain the search bit (``o+x``), never read, so nothing becomes listable.
    """
    created = {p for p in (path, *path.parents) if not p.exists()}
    path.mkdir(parents=True, exist_ok=True)
    for level in (path, *path.parents):
        mode = stat.S_IMODE(level.stat().st_mode)
        wanted = 0o755 if level in created or level == path else mode | stat.S_IXOTH
        if mode == wanted:
            continue
        try:
            level.chmod(wanted)
        except OSError as exc:
            raise DataplaneError(
                reason=f"dnsmasq (as nobody) cannot reach {path}: {level} is closed to other "
                f"users and cannot be opened ({exc.strerror})"
            ) from exc


def _write_if_changed(path: Path, text: str) -> bool:
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)  # dnsmasq re-reads these after dropping privileges
    tmp.replace(path)
    return True


def _removed_lines(path: Path, text: str) -> bool:
    """Whether ``text`` drops a line that ``path`` holds now."""
    try:
        old = set(path.read_text().splitlines())
    except FileNotFoundError:
        return False
    return bool(old - set(text.splitlines()))


def pid_alive(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process is a dnsmasq using this very pid file."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    if cmdline and cmdline[0].endswith(b"dnsmasq") and f"--pid-file={pid_file}".encode() in cmdline:
        return pid
    return None


def _running(pid: int) -> bool:
    """Alive and not a zombie (a daemon is reaped by whoever is pid 1, maybe late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _exited(pid: int, pidfd: int | None, timeout: float) -> bool:
    """Whether ``pid`` exits within ``timeout`` seconds (a zombie has exited)."""
    if pidfd is not None:
        readable, _, _ = select.select([pidfd], [], [], timeout)
        return bool(readable) or not _running(pid)
    deadline = time.monotonic() + timeout
    while _running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


class Dnsmasq:
    """The dnsmasq processes of one driver, each in ``run_dir/dhcp/<network id>``."""

    def __init__(self, run_dir: Path, domain: str, lease_time: int) -> None:
        self.base = run_dir / "dhcp"
        self.domain = domain
        self.lease_time = lease_time

    def files(self, network_id: str) -> DnsmasqFiles:
        return DnsmasqFiles(self.base / network_id)

    def ensure(
        self, network: Network, ns: str, interface: str, dhcp_port: Port, ports: tuple[Port, ...]
    ) -> str:
        """Converge one network's dnsmasq; returns what it did (started/reloaded/unchanged)."""
        files = self.files(network.id)
        traversable_dir(files.directory)
        hosts = render_hosts(network, ports, self.domain)
        released = _removed_lines(files.hosts, hosts)
        changed = _write_if_changed(files.hosts, hosts)
        changed |= _write_if_changed(
            files.addn_hosts, render_addn_hosts(network, ports, self.domain)
        )
        changed |= _write_if_changed(files.opts, render_opts(network, dhcp_port, ports))
        argv = render_argv(network, interface, files, self.domain, self.lease_time)
        argv_changed = _write_if_changed(files.cmdline, "\0".join(argv))
        pid = pid_alive(files.pid)
        # A host that left keeps its lease in dnsmasq's memory (the lease file is read-only):
        # a new port given its address would get no offer ("not using configured address ...
        # because it is leased to ..."). Neutron runs dhcp_release; a restart forgets them all
        # (clients renewing are answered: the hosts are static and dnsmasq authoritative).
        if pid is not None and not argv_changed and not released:
            if changed:
                os.kill(pid, signal.SIGHUP)
                return "reloaded"
            return "unchanged"
        if pid is not None:
            self._kill(pid)
        if not dhcp_subnets(network):
            return "no dhcp subnet"
        run(argv, netns=ns)
        return "started"

    def stop(self, network_id: str) -> None:
        files = self.files(network_id)
        pid = pid_alive(files.pid)
        if pid is not None:
            self._kill(pid)
        shutil.rmtree(files.directory, ignore_errors=True)

    def stop_process(self, network_id: str) -> None:
        """Stop the process but keep its files (driver close: the next start reuses them)."""
        pid = pid_alive(self.files(network_id).pid)
        if pid is not None:
            self._kill(pid)

    def known(self) -> list[str]:
        try:
            return sorted(p.name for p in self.base.iterdir() if p.is_dir())
        except FileNotFoundError:
            return []

    @staticmethod
    def _kill(pid: int) -> None:
        # A pidfd says when the process has exited, with no polling: a reload that has to
        # restart dnsmasq (a port deleted) waited 10 ms for the first look at /proc (#19).
        # Signalled through it, the pid cannot have been reused by someone else meanwhile.
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            return
        except OSError:  # a kernel without pidfds (< 5.3)
            pidfd = None
        try:
            with contextlib.suppress(ProcessLookupError):
                if pidfd is None:
                    os.kill(pid, signal.SIGTERM)
                else:
                    signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            if _exited(pid, pidfd, 2.0):
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if not _exited(pid, pidfd, 0.05):
                raise DataplaneError(reason=f"dnsmasq {pid} does not stop")
        finally:
            if pidfd is not None:
                os.close(pidfd)
