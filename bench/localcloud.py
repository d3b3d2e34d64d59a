"""A private ``onestack up`` for the benchmarks: a temporary data dir and HOME on a free port.

Every benchmark that needs a cloud of its own starts it here (``bench/`` is on ``sys.path`` when
a script runs as ``python bench/<name>.py``)::

    cloud = LocalCloud(hash_rounds=4, env={"ONESTACK_NETWORK_DRIVER": "fake"})
    try:
        cloud.start()
        token = cloud.token()
        ...
    finally:
        cloud.close()
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
READY_LINE = "OneStack is up at"  # what `up` prints once it serves (onestack/server.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its ``OS_*`` client settings, its ``ONESTACK_*``
    settings passed through (to measure another database or driver) under ``extra``, a private
    HOME, and this checkout's ``src`` first on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["HOME"] = str(home)  # `up` merges into ~/.config/openstack/clouds.yaml
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("XDG_DATA_HOME", None)
    # As an installed cloud runs: from compiled bytecode (pip writes it at install), not
    # compiling every module of the package on each start when the shell says not to write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p
    )
    return env


class LocalCloud:
    """``python -m onestack up`` in a temporary root (``data/``, ``home/``, ``onestack.log``).

    ``hash_rounds`` sets the bcrypt cost (None: the cloud's default); ``env`` adds or overrides
    ``ONESTACK_*`` settings; ``own_session`` starts it in a session of its own, so that a
    Ctrl-C reaches the script only, which then stops it in order. Stopped by SIGINT.
    """

    def __init__(
        self,
        *,
        hash_rounds: int | None = None,
        env: Mapping[str, str] | None = None,
        own_session: bool = False,
        timeout: float = 60.0,
        prefix: str = "onestack-bench-",
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.data_dir = self.root / "data"
        self.home = self.root / "home"
        self.home.mkdir()
        self.log = self.root / "onestack.log"
        self.port = free_port()
        self.settings = dict(env or {})
        if hash_rounds is not None:
            self.settings.setdefault("ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS", str(hash_rounds))
        self.own_session = own_session
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_in = 0.0  # seconds from the spawn to the ready line, after start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    def env(self) -> dict[str, str]:
        return child_env(self.home, self.settings)

    def spawn(self, python_flags: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
        """Start ``up`` on ``self.port`` (its output appended to ``self.log``); not waiting."""
        argv = [sys.executable, *python_flags, "-m", "onestack", "up"]
        argv += ["--data-dir", str(self.data_dir), "--port", str(self.port)]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                argv,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=self.own_session,
            )
        return self.process

    def start(self) -> None:
        """Spawn and wait for the ready line in the log (``ready_in``)."""
        started = time.perf_counter()
        process = self.spawn()
        deadline = started + self.timeout
        while time.perf_counter() < deadline:
            if READY_LINE in self.log.read_text(errors="replace"):
                self.ready_in = time.perf_counter() - started
                return
            if process.poll() is not None:
                raise SystemExit(f"onestack up exited {process.returncode}:\n{self.tail()}")
            time.sleep(0.02)
        tail = self.tail()
        self.stop()
        raise SystemExit(f"onestack up did not start within {self.timeout:.0f}s:\n{tail}")

    def admin_password(self) -> str:
        secrets = json.loads((self.data_dir / "bootstrap.json").read_text())
        return str(secrets["admin_password"])

    def token(self) -> str:
        """A token of admin, scoped to project admin."""
        return self.token_and_project()[0]

    def token_and_project(self) -> tuple[str, str]:
        """A token of admin, scoped to project admin, and that project's id."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "admin",
                            "domain": {"id": "default"},
                            "password": self.admin_password(),
                        }
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        resp = httpx.post(f"{self.auth_url}/auth/tokens", json=body)
        resp.raise_for_status()
        return resp.headers["X-Subject-Token"], str(resp.json()["token"]["project"]["id"])

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process used so far: unlike wall time, not
        stretched by other work on a shared machine. 0.0 when it does not run."""
        if self.process is None:
            return 0.0
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, lines: int = 20) -> str:
        try:
            return "".join(self.log.read_text(errors="replace").splitlines(True)[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> float:
        """SIGINT and wait for the exit (killed after ``timeout``); the seconds it took."""
        started = time.perf_counter()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.perf_counter() - started

    def close(self) -> None:
        """Stop it and remove the temporary root."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
