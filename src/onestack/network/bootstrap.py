"""Start-up: the service object, and the ``public`` external network on first start."""

from __future__ import annotations

import asyncio
import importlib
import socket
from dataclasses import dataclass

from onestack.common.logging import get_logger
from onestack.common.runtime import DataPlane, Runtime
from onestack.identity.facade import IdentityAPI
from onestack.network import ipam
from onestack.network.agent import NetworkAgent, start_agent
from onestack.network.drivers import why_not_linuxbridge
from onestack.network.facade import NetworkAPI, NetworkFacade
from onestack.network.service import NetworkService

log = get_logger(__name__)


def host_networks() -> list[str]:
    """Every address and route of this host, as CIDRs (what ``public`` must not overlap)."""
    from pyroute2 import IPRoute  # a netlink socket: imported only where it is used

    out: list[str] = []
    with IPRoute() as ipr:
        for addr in ipr.get_addr(family=socket.AF_INET):
            ip = addr.get_attr("IFA_ADDRESS")
            if ip:
                out.append(f"{ip}/{addr['prefixlen']}")
        for route in ipr.get_routes(family=socket.AF_INET, table=254):
            dst = route.get_attr("RTA_DST")
            if dst:
                out.append(f"{dst}/{route['dst_len']}")
    return out


async def public_cidr(setting: str) -> str:
    if setting and setting != "auto":
        return setting
    try:
        # pyroute2's synchronous API runs its own event loop: keep it off ours.
        used = await asyncio.to_thread(host_networks)
    except Exception as exc:  # no netlink (a restricted container): skip the check
        log.warning("cannot read the host's addresses (%s); using the default range", exc)
        used = []
    return ipam.pick_public_cidr(used)


def host_name(setting: str) -> str:
    return setting or socket.gethostname()


async def start(runtime: Runtime) -> None:
    settings = runtime.settings.network
    svc = NetworkService(runtime.db, runtime.bus, settings, host_name(settings.host))
    runtime.provide(NetworkService, svc)
    runtime.provide(NetworkAPI, NetworkFacade(svc))
    if settings.public_network:
        identity = runtime.optional(IdentityAPI)
        project_id = identity.bootstrapped.admin_project_id if identity is not None else ""
        # Only a first start picks the range: reading the host's addresses and routes
        # (pyroute2, ~0.5 s to import) is not on every restart's path (#19).
        network_id = await svc.public_network_id(settings.public_network)
        if network_id is None:
            cidr = await public_cidr(settings.public_cidr)
            network_id = await svc.ensure_public_network(
                settings.public_network, cidr, settings.public_physical_network, project_id
            )
        log.info("external network %s (%s) ready", settings.public_network, network_id)
    if "agent" not in runtime.roles:
        return
    if not takes_linuxbridge(runtime.settings.network.driver):
        runtime.provide(NetworkAgent, await start_agent(runtime.settings, svc, runtime.bus))
        return
    task = asyncio.get_running_loop().create_task(
        _start_linuxbridge_agent(runtime, svc), name="network-agent-start"
    )
    runtime.provide(AgentStart, AgentStart(task))


@dataclass(frozen=True)
class AgentStart:
    """The Linux bridge agent's start, run while the API already serves: importing its driver
    (pyroute2, ~0.5 s of a 1.3 s restart) is work no API request waits for (#19). Changes
    made meanwhile are not missed: the agent's first round reconciles everything."""

    task: asyncio.Task[None]


def takes_linuxbridge(driver: str) -> bool:
    """Whether ``[network] driver`` comes to the Linux bridge driver on this host (a named
    driver that cannot run is refused at once by ``start_agent``, failing the start)."""
    return driver in ("linuxbridge", "auto") and why_not_linuxbridge() is None


LINUXBRIDGE_MODULE = "onestack.network.drivers.linuxbridge.driver"


async def _start_linuxbridge_agent(runtime: Runtime, svc: NetworkService) -> None:
    try:
        # Imported on a thread, the loop keeps answering requests meanwhile.
        await asyncio.to_thread(importlib.import_module, LINUXBRIDGE_MODULE)
        runtime.provide(NetworkAgent, await start_agent(runtime.settings, svc, runtime.bus))
    except Exception:
        log.exception("the network agent could not start: networks carry no packets")
        raise


def local_agent(runtime: Runtime) -> NetworkAgent | None:
    """This process's own network agent, when it runs one (and has finished starting)."""
    return runtime.optional(NetworkAgent) if "agent" in runtime.roles else None


async def stop(runtime: Runtime) -> None:
    starting = runtime.optional(AgentStart)
    if starting is not None:
        runtime.withdraw(AgentStart)
        starting.task.cancel()
        await asyncio.gather(starting.task, return_exceptions=True)
    agent = local_agent(runtime)
    if agent is not None:
        runtime.withdraw(NetworkAgent)
        await agent.stop()
        # dnsmasq and the metadata listeners stop; devices stay for the next start's reconcile.
        await agent.driver.close()


def data_plane(runtime: Runtime) -> DataPlane | None:
    agent = local_agent(runtime)
    starting = runtime.optional(AgentStart)
    if agent is None and starting is not None:
        task = starting.task
        failed = task.done() and not task.cancelled() and task.exception()
        if failed:
            return DataPlane(driver="none", reason=f"the network agent failed to start: {failed}")
        return DataPlane(driver="linuxbridge", detail="probing")
    agent = local_agent(runtime)
    if agent is None:
        return None
    driver = agent.driver.name
    reason = ""
    if driver == "fake" and runtime.settings.network.driver == "auto":
        reason = why_not_linuxbridge() or ""
    return DataPlane(driver=driver, reason=reason, fake_means="networks carry no packets")
