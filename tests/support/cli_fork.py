"""The real ``openstack`` command, each run in a process forked from one that has already
imported the client and its plugins.

A fresh ``openstack`` process spends ~0.7 s of CPU importing openstackclient, cliff, cmd2,
openstacksdk and the service plugins before it sends a request; the suite runs it thousands of
times. Here one server process (per test process) imports all of that once, then forks a child
per command. The child is a new process like the script's: its own environment, working
directory, stdin/stdout/stderr (the caller's files, passed over the socket), exit code and
client state; it runs ``openstackclient.shell.main(argv)``, which is what the ``openstack``
script runs. Only the imports are shared.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SERVER = r"""
import importlib, json, os, signal, socket, sys
from importlib.metadata import entry_points

path = sys.argv[1]
sys.argv = ["openstack"]  # cliff names the app from argv[0] when it is imported
from openstackclient.shell import main

# What a command imports when it runs, imported once here so that no child pays for it: the
# plugins' client modules and every command module the CLI names.
for group in ("openstack.cli.extension",):
    for ep in entry_points(group=group):
        try:
            importlib.import_module(ep.value.split(":")[0])
        except Exception:
            pass
seen = set()
for group in [g for g in entry_points().groups if g.startswith("openstack.")]:
    for ep in entry_points(group=group):
        module = ep.value.split(":")[0]
        if module in seen:
            continue
        seen.add(module)
        try:
            importlib.import_module(module)
        except Exception:
            pass

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(64)
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    conn, _ = listener.accept()
    if os.fork() != 0:
        conn.close()
        continue
    listener.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
        message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        request = json.loads(message)
        os.setsid()
        for fd, target in zip(fds, (0, 1, 2)):
            os.dup2(fd, target)
            os.close(fd)
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        # openstacksdk reads HOME and the working directory into its config search path when
        # it is imported: read them again as this command's process would.
        importlib.reload(sys.modules["openstack.config.loader"])
        sys.argv = ["openstack", *request["argv"]]
        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException as exc:
        try:
            sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
            sys.stderr.flush()
        except Exception:
            pass
    try:
        conn.sendall(json.dumps({"code": code or 0}).encode() + b"\n")
    finally:
        os._exit(0)
"""


class ForkServer:
    """One server process; ``run`` forks a child of it per command."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="osc-fork-"))
        self.path = str(self.dir / "sock")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["PYTHONIOENCODING"] = "utf-8"
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, self.path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the openstack fork server did not start ({self.process.poll()})")

    def run(
        self, argv: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        with (
            tempfile.TemporaryFile("w+", encoding="utf-8") as out,
            tempfile.TemporaryFile("w+", encoding="utf-8") as err,
            open(os.devnull) as devnull,
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
        ):
            conn.connect(self.path)
            request = json.dumps({"argv": argv, "env": env, "cwd": os.getcwd()}).encode()
            socket.send_fds(conn, [request], [devnull.fileno(), out.fileno(), err.fileno()])
            reader = conn.makefile("r", encoding="utf-8")
            conn.settimeout(timeout)
            pid = json.loads(reader.readline())["pid"]
            try:
                line = reader.readline()
            except TimeoutError:
                _kill(pid)
                raise subprocess.TimeoutExpired(["openstack", *argv], timeout) from None
            code = json.loads(line)["code"] if line else 1
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(["openstack", *argv], code, out.read(), err.read())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        for leftover in self.dir.iterdir():
            leftover.unlink()
        self.dir.rmdir()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 9)


_server: ForkServer | None = None
_server_pid = 0
_lock = threading.Lock()


def server() -> ForkServer | None:
    """This process's fork server (started on first use), or None where it cannot run: then
    the caller runs the ``openstack`` script itself. ``ONESTACK_TEST_CLI_FORK=0`` turns it off."""
    global _server, _server_pid
    if os.environ.get("ONESTACK_TEST_CLI_FORK", "1") == "0" or not hasattr(socket, "send_fds"):
        return None
    with _lock:
        if _server is None or _server_pid != os.getpid() or _server.process.poll() is not None:
            _server = ForkServer()
            _server_pid = os.getpid()
            atexit.register(_server.close)
        return _server
