"""Running the cloud: one process, every role, one port; the pid lock, banner and files."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import uvicorn

from onestack import clouds
from onestack.app import start_staged, stop_runtime
from onestack.common.logging import get_logger, setup_logging
from onestack.common.runtime import ALL_ROLES, DataPlane, Runtime
from onestack.config import Settings
from onestack.identity.facade import IdentityAPI

log = get_logger(__name__)


def seconds_since_process_start() -> float:
    """Age of this process (from /proc, so interpreter start-up and imports count)."""
    try:
        stat = Path("/proc/self/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - MODULE_LOADED


MODULE_LOADED = time.monotonic()


class AlreadyRunning(Exception):
    pass


def lock_path(data_dir: Path) -> Path:
    return data_dir / "onestack.lock"


def pid_path(data_dir: Path) -> Path:
    return data_dir / "onestack.pid"


def state_path(data_dir: Path) -> Path:
    return data_dir / "state.json"


def log_path(data_dir: Path) -> Path:
    return data_dir / "onestack.log"


def read_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(state_path(data_dir).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


def running_pid(data_dir: Path) -> int | None:
    """The pid holding the data dir's lock, or None when no cloud runs there."""
    path = lock_path(data_dir)
    if not path.exists():
        return None
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return int(pid_path(data_dir).read_text().strip())
            except (FileNotFoundError, ValueError):
                return -1
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


@contextlib.contextmanager
def hold_lock(data_dir: Path) -> Iterator[IO[str]]:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    f = open(lock_path(data_dir), "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise AlreadyRunning(str(data_dir)) from None
    try:
        yield f
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


class _Server(uvicorn.Server):
    """uvicorn, minus re-raising the signal after its graceful shutdown: we still clean up."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        originals = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"onestack: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    # Guests (QEMU daemons) and dnsmasq outlive a killed cloud: none may keep its port.
    sock.set_inheritable(False)
    return sock


def write_client_files(settings: Settings, secrets: dict[str, str]) -> dict[str, Path]:
    auth_url = f"{settings.public_url}/identity/v3"
    entries = clouds.cloud_entries(auth_url, settings.identity.region, secrets)
    files = {
        "clouds": settings.data_dir / "clouds.yaml",
        "admin": settings.data_dir / "admin-openrc.sh",
        "demo": settings.data_dir / "demo-openrc.sh",
    }
    clouds.write_clouds_yaml(files["clouds"], entries)
    clouds.write_openrc(files["admin"], entries[clouds.ADMIN_CLOUD])
    clouds.write_openrc(files["demo"], entries[clouds.DEMO_CLOUD])
    try:
        clouds.merge_user_clouds_yaml(clouds.user_clouds_yaml(), entries)
    except OSError as exc:
        log.warning("could not update %s: %s", clouds.user_clouds_yaml(), exc)
    return files


def data_plane(runtime: Runtime) -> dict[str, DataPlane]:
    """Which drivers carry this host's data plane, service by service, and why not the real
    ones (for the banner and ``onestack status``)."""
    out: dict[str, DataPlane] = {}
    for spec in runtime.services:
        plane = spec.data_plane(runtime) if spec.data_plane is not None else None
        if plane is not None:
            out[spec.name] = plane
    return out


def data_plane_line(plane: dict[str, dict[str, str]]) -> str:
    """One line for the banner and ``onestack status``: plain about fake drivers."""
    if not plane:
        return "none on this process (API only)"
    parts = []
    for service, info in plane.items():
        text = f"{service} {info['driver']}"
        if info.get("detail") and info["detail"] != "fake":
            text += f" ({info['detail'].upper()})"
        if info.get("reason"):
            text += f" (real driver unavailable: {info['reason']})"
        parts.append(text)
    line = ", ".join(parts)
    notes = [
        info["fake_means"]
        for info in plane.values()
        if info["driver"] == "fake" and info.get("fake_means")
    ]
    if notes:
        line += f" -- FAKE: {'; '.join(notes)}"
    return line


def banner(
    settings: Settings,
    files: dict[str, Path],
    ready_in: float,
    plane: dict[str, dict[str, str]] | None = None,
) -> str:
    url = settings.public_url
    return (
        f"OneStack is up at {url} (ready in {ready_in:.2f}s)\n"
        f"  identity     {url}/identity/v3\n"
        f"  dashboard    {url}/dashboard/  (admin, or demo: OS_PASSWORD in {files['demo']})\n"
        f"  data plane   {data_plane_line(plane or {})}\n"
        f"  admin creds  {files['admin']}\n"
        f"  clouds.yaml  {files['clouds']}  (clouds: onestack, onestack-demo)\n"
        f"  try          openstack --os-cloud onestack token issue\n"
        f"Press Ctrl-C to stop."
    )


async def serve(
    settings: Settings,
    *,
    announce: bool = True,
    write_files: bool = True,
    roles: frozenset[str] = ALL_ROLES,
) -> None:
    """Start the runtime, serve until SIGINT/SIGTERM, stop everything cleanly.

    Identity answers as soon as it has started; the other services import and start while it
    does (a request for one of them waits until they have), then the banner (#19)."""
    sock = bind(settings.server.host, settings.server.port)
    state: dict[str, Any] = {
        "pid": os.getpid(),
        "url": settings.public_url,
        "started_at": time.time(),
        "data_plane": {},
    }
    files: dict[str, Path] = {}
    servers: list[_Server] = []

    async def listening() -> None:
        while not servers or not servers[0].started:  # noqa: ASYNC110 - uvicorn only has a flag
            await asyncio.sleep(0.005)

    async def started(runtime: Runtime, app: Any) -> None:
        state["data_plane"] = {k: asdict(v) for k, v in data_plane(runtime).items()}
        state_path(settings.data_dir).write_text(json.dumps(state))
        await listening()
        # What the start made (modules, ORM mappings, the services) lives as long as the
        # process: kept out of the collector, a full collection walks only what requests
        # made since (each took ~90 ms: a spike in one server list out of three).
        gc.freeze()
        gc.enable()  # ``python -m onestack`` turns it off for the start
        ready_in = seconds_since_process_start()
        state["ready_in"] = ready_in
        state_path(settings.data_dir).write_text(json.dumps(state))
        if announce:
            print(banner(settings, files, ready_in, state["data_plane"]), flush=True)
        await follow_data_plane(runtime, settings, state)

    runtime, app, rest = await start_staged(settings, roles, started, listening)
    try:
        server = _Server(uvicorn_config(app))
        servers.append(server)
        rest.add_done_callback(lambda task: _stop_if_failed(task, server))
        if write_files:
            files.update(
                write_client_files(settings, runtime.service(IdentityAPI).bootstrapped.secrets())
            )
        state_path(settings.data_dir).write_text(json.dumps(state))
        await server.serve(sockets=[sock])
        failure = rest.exception() if rest.done() and not rest.cancelled() else None
        if failure is not None:
            raise failure
    finally:
        rest.cancel()
        await asyncio.gather(rest, return_exceptions=True)
        await stop_runtime(runtime)
        sock.close()
        state_path(settings.data_dir).unlink(missing_ok=True)
        log.info("stopped")


def _stop_if_failed(task: asyncio.Task[None], server: uvicorn.Server) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a service failed to start: stopping", exc_info=task.exception())
        server.should_exit = True


def uvicorn_config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=10,
        # uvicorn's 5 s default is exactly the poll period of openstackclient's and
        # heatclient's --wait: the server closed an idle connection as the client reused it
        # ("Connection aborted", reset by peer). Clients drop their own idle connections.
        timeout_keep_alive=75,
        http=http_protocol(),
    )


def http_protocol() -> Any:
    """httptools with one write per small answer when it is installed; uvicorn's choice
    (h11) otherwise."""
    try:
        from onestack.common.httpserver import OneWriteHttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        return "auto"
    return OneWriteHttpToolsProtocol


PROBING = "probing"  # a data plane's detail while its agent still starts (DataPlane.detail)


async def follow_data_plane(
    runtime: Runtime, settings: Settings, state: dict[str, Any], limit: float = 300.0
) -> None:
    """Agents may finish starting after the banner (a fresh host's accelerator probe): keep
    the state file, which ``onestack status`` reads, true until none is probing."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        plane = {k: asdict(v) for k, v in data_plane(runtime).items()}
        if plane != state["data_plane"]:
            state["data_plane"] = plane
            state_path(settings.data_dir).write_text(json.dumps(state))
        if not any(p.get("detail") == PROBING for p in plane.values()):
            return
        await asyncio.sleep(0.2)


def _run_loop(coro: Any) -> None:
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(coro)


def run(
    settings: Settings,
    *,
    lock: bool = True,
    announce: bool = True,
    roles: frozenset[str] = ALL_ROLES,
) -> int:
    os.umask(0o077)  # the data dir holds secrets and state: private to its owner
    setup_logging(settings.logging.level, settings.logging.format)
    logging_quiet()
    if not lock:
        _run_loop(serve(settings, announce=announce, write_files=False, roles=roles))
        return 0
    try:
        with hold_lock(settings.data_dir):
            pid_path(settings.data_dir).write_text(f"{os.getpid()}\n")
            try:
                _run_loop(serve(settings, announce=announce, roles=roles))
            finally:
                pid_path(settings.data_dir).unlink(missing_ok=True)
    except AlreadyRunning:
        pid = running_pid(settings.data_dir)
        print(f"onestack: a cloud is already running on {settings.data_dir} (pid {pid}).")
        return 1
    return 0


def logging_quiet() -> None:
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
