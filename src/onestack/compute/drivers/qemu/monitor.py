"""QMP, the guest's control socket, through ``qemu.qmp``; its errors become ``DriverError``.

One connection per guest, opened on first use (one attempt shared by every caller asking
meanwhile) and opened again when QEMU went away and came back (a restarted guest is a new QEMU
on the same socket path).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from qemu.qmp import EventListener, ExecuteError, QMPClient, QMPError
from qemu.qmp.protocol import Runstate

from onestack.compute.drivers.base import DriverError

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0
# Seconds after a failed connect during which ``if_idle`` callers skip rather than try again.
RETRY_AFTER = 2.0


class CommandFailed(DriverError):
    """QEMU answered the command with an error (``error_class``: GenericError,
    DeviceNotFound, ...)."""

    def __init__(self, message: str, error_class: str) -> None:
        super().__init__(message)
        self.error_class = error_class


async def connect_unix(path: Path) -> socket.socket:
    """A connected unix socket, also when ``path`` is longer than a socket address may be
    (through the ``/proc/self/fd`` name of its directory)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    directory = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        await asyncio.get_running_loop().sock_connect(
            sock, f"/proc/self/fd/{directory}/{path.name}"
        )
    except BaseException:
        sock.close()
        raise
    finally:
        os.close(directory)
    return sock


class MonitorBusy(DriverError):
    """Another caller's connect to the monitor is under way, or one failed moments ago: a
    caller that can come back later (the metering poll) skips instead of waiting."""


class Monitor:
    """One guest's QMP connection. QEMU serves one monitor client at a time: a second
    connection is accepted by the kernel but never greeted, so every caller of this guest
    shares one connection and one connect attempt (``Machines.monitor`` keeps one ``Monitor``
    a guest)."""

    def __init__(self, socket: Path, name: str) -> None:
        self.socket = socket
        self.name = name
        self._client: QMPClient | None = None
        self._attempt: asyncio.Task[QMPClient] | None = None
        self._failed_at = -math.inf

    @property
    def busy(self) -> bool:
        """Not connected, and a connect is under way or failed within ``RETRY_AFTER`` s."""
        if self._client is not None and self._client.runstate == Runstate.RUNNING:
            return False
        recent = asyncio.get_running_loop().time() - self._failed_at < RETRY_AFTER
        return self._attempt is not None or recent

    async def _connected(self, if_idle: bool = False) -> QMPClient:
        client = self._client
        if client is not None and client.runstate == Runstate.RUNNING:
            return client
        if if_idle and self.busy:
            raise MonitorBusy("the guest's monitor is busy connecting for another caller")
        attempt = self._attempt
        if attempt is None:
            attempt = self._attempt = asyncio.get_running_loop().create_task(
                self._connect(), name=f"qmp connect {self.name}"
            )
            attempt.add_done_callback(self._attempt_done)
        try:
            # Shielded: a caller that gives up (its own timeout) leaves the attempt to the others.
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if attempt.cancelled() and (current is None or not current.cancelling()):
                raise DriverError("the guest's monitor was closed while connecting") from None
            raise

    def _attempt_done(self, attempt: asyncio.Task[QMPClient]) -> None:
        if self._attempt is attempt:
            self._attempt = None
        if not attempt.cancelled() and attempt.exception() is not None:
            self._failed_at = asyncio.get_running_loop().time()

    async def _connect(self) -> QMPClient:
        previous, self._client = self._client, None
        if previous is not None:
            with contextlib.suppress(QMPError, OSError, EOFError):
                await previous.disconnect()
        client = QMPClient(self.name)
        try:
            sock = await asyncio.wait_for(connect_unix(self.socket), CONNECT_TIMEOUT)
            await asyncio.wait_for(client.connect(sock), CONNECT_TIMEOUT)
        except (QMPError, OSError, TimeoutError) as exc:
            with contextlib.suppress(QMPError, OSError):
                await client.disconnect()
            raise DriverError(f"the guest's monitor does not answer: {exc}") from exc
        except asyncio.CancelledError:  # closed meanwhile: leave QEMU's one client slot free
            with contextlib.suppress(QMPError, OSError):
                await client.disconnect()
            raise
        self._client = client
        return client

    async def execute(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        timeout: float = COMMAND_TIMEOUT,
        *,
        if_idle: bool = False,
    ) -> Any:
        """``if_idle``: ``MonitorBusy`` rather than waiting for another caller's connect."""
        client = await self._connected(if_idle)
        try:
            return await asyncio.wait_for(client.execute(command, arguments), timeout)
        except ExecuteError as exc:
            raise CommandFailed(f"QEMU refused {command}: {exc}", exc.error_class) from exc
        except (QMPError, OSError, EOFError, TimeoutError) as exc:
            # This connection only: another caller may be connecting anew already.
            await self._drop(client)
            raise DriverError(f"QEMU monitor command {command} failed: {exc!r}") from exc

    @contextlib.asynccontextmanager
    async def events(self, *names: str) -> AsyncIterator[EventListener]:
        """Listen for ``names`` while the block runs (register before causing the event)."""
        client = await self._connected()
        with client.listener(names) as listener:
            yield listener

    @staticmethod
    async def wait_for_event(
        listener: EventListener, accept: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        async def first() -> dict[str, Any]:
            while True:
                event = dict(await listener.get())
                data = event.get("data")
                if accept(data if isinstance(data, dict) else {}):
                    return event

        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            names = ", ".join(sorted(listener.names or ())) or "event"
            raise DriverError(f"QEMU sent no {names} within {timeout:.0f}s") from None

    async def close(self) -> None:
        attempt, self._attempt = self._attempt, None
        if attempt is not None:
            attempt.cancel()
            await asyncio.wait([attempt])  # its socket closed before QEMU is told to go
        await self._drop(self._client)

    async def _drop(self, client: QMPClient | None) -> None:
        """Disconnect ``client``; the monitor connects anew on next use if it was its own."""
        if self._client is client:
            self._client = None
        if client is not None:
            with contextlib.suppress(QMPError, OSError, EOFError):
                await client.disconnect()
