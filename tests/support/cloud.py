"""A real OneStack process for tests: ``onestack up`` on a free port in a temporary data dir."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support import cli_fork
from tests.support.bodies import password_body, project_name_scope

REPO = Path(__file__).resolve().parents[2]
FED_REMOTE_USER = "X-Test-Remote-User"
FED_PREFIX = "X-Test-Assertion-"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ONESTACK_"))}
    env["HOME"] = str(home)  # `up` merges into ~/.config/openstack/clouds.yaml: keep it private
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("XDG_DATA_HOME", None)
    env.pop("XDG_CACHE_HOME", None)  # no cached guest image registered unless a test says so
    # Cheap hashes keep the suite fast; the benchmark measures Keystone's cost (12).
    env["ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS"] = "4"
    # The API layer exercises the API: the fake data plane, whatever user runs the tests.
    env["ONESTACK_NETWORK_DRIVER"] = "fake"
    env["ONESTACK_COMPUTE_DRIVER"] = "fake"
    env["ONESTACK_VOLUME_DRIVER"] = "fake"
    # Image imports by URL fetch from a test's server on 127.0.0.1 and a free port: Glance's
    # default filter (ports 80 and 443 only) is tests/unit/test_image_uri_filter.py's subject.
    env["ONESTACK_IMAGE_IMPORT_ALLOWED_PORTS"] = ""
    # Likewise a stack's template_url (tests/unit/test_image_uri_filter.py has the default).
    env["ONESTACK_ORCHESTRATION_TEMPLATE_URL_ALLOWED_PORTS"] = ""
    # The test client plays the trusted front of federation (off by default: see config.py).
    env["ONESTACK_IDENTITY_FEDERATION_REMOTE_USER_HEADER"] = FED_REMOTE_USER
    env["ONESTACK_IDENTITY_FEDERATION_ASSERTION_HEADER_PREFIX"] = FED_PREFIX
    # A VXLAN id is unique per host across every cloud on it: a cloud left running (or a
    # killed run's devices) holding VNI 1 would fail each test cloud's first tenant network.
    first = random.randrange(2, 16_000) * 1000
    env["ONESTACK_NETWORK_VNI_RANGES"] = f"{first}:{first + 999}"
    if database_url:
        env["ONESTACK_DATABASE_URL"] = database_url
    return env


def wait_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``proc`` (an ``onestack api`` or ``up`` at ``url``) serves GET /identity/v3;
    fails with the tail of its ``log`` if it exits or takes over 120 s."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            # Refused at once until it listens; then its first answers may be slow on a busy
            # host (13 s seen): a 1 s read timeout could fail every try until the deadline.
            if httpx.get(f"{url}/identity/v3", timeout=10).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not serve within 120s:\n{log.read_text()[-3000:]}")


@dataclass
class Cloud:
    data_dir: Path
    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    @property
    def clouds_yaml(self) -> Path:
        return self.data_dir / "clouds.yaml"

    @property
    def secrets(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.data_dir / "bootstrap.json").read_text())
        return data

    def cloud_config(self, name: str = "onestack") -> dict[str, Any]:
        clouds: dict[str, Any] = yaml.safe_load(self.clouds_yaml.read_text())["clouds"]
        return dict(clouds[name])

    def onestack(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "onestack", *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, timeout: float = 180) -> str:
        """Run ``onestack up`` in the foreground of a child process; return its banner. (The
        deadline is generous: each xdist worker starts its cloud at once, and modules start
        their own, on a CI host already busy with the other layers.)"""
        offset = self.log.stat().st_size if self.log.exists() else 0
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "onestack", "up",
                "--data-dir", str(self.data_dir), "--port", str(self.port),
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Only this start's output: a restart appends to the log of the previous run.
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if "OneStack is up" in text:
                return text[text.rindex("OneStack is up") :]
            if self.process.poll() is not None:
                raise RuntimeError(f"onestack up exited {self.process.returncode}:\n{text[-4000:]}")
            time.sleep(0.05)
        raise RuntimeError(
            f"onestack up did not start in {timeout}s:\n{self.log.read_text()[-4000:]}"
        )

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)

    def log_problems(self, lines: int = 60) -> str:
        """The cloud log's last warnings, errors and tracebacks: what a failed client call in CI
        needs beside the client's own one-line message (``Error creating server``)."""
        if not self.log.exists():
            return ""
        text = self.log.read_text(errors="replace").splitlines()
        picked = [
            line
            for line in text
            if any(w in line for w in ("WARNING", "ERROR", "Traceback", "Error", "  File "))
        ]
        return "cloud log (warnings and errors):\n" + "\n".join(picked[-lines:])

    def openstack(
        self,
        *args: str,
        cloud: str | None = "onestack",
        json_output: bool = True,
        check: bool = True,
        config_file: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Any:
        """Run the real python-openstackclient against this cloud.

        ``config_file`` replaces DATA_DIR/clouds.yaml (for clouds of the test's own users);
        ``cloud=None`` leaves out ``--os-cloud`` so ``env`` (OS_* variables) alone configures it.
        """
        argv = [str(Path(sys.executable).with_name("openstack"))]
        if cloud is not None:
            argv += ["--os-cloud", cloud]
        argv += args
        if json_output:
            argv += ["-f", "json"]
        env = {
            **self.env,
            "OS_CLIENT_CONFIG_FILE": str(config_file or self.clouds_yaml),
            **(env or {}),
        }
        forks = cli_fork.server()
        if forks is not None:
            result = forks.run(argv[1:], env, timeout=120)
        else:
            result = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=120, check=False
            )
        if check and result.returncode != 0:
            raise AssertionError(
                f"openstack {' '.join(args)} failed:\n{result.stderr}\n{self.log_problems()}"
            )
        if not check:
            return result
        return json.loads(result.stdout) if json_output and result.stdout.strip() else result.stdout

    def sdk(self, cloud: str = "onestack") -> Any:
        """An openstacksdk connection as the given clouds.yaml entry."""
        import openstack

        config = self.cloud_config(cloud)
        return openstack.connect(
            auth_url=config["auth"]["auth_url"],
            username=config["auth"]["username"],
            password=config["auth"]["password"],
            project_name=config["auth"]["project_name"],
            user_domain_name="Default",
            project_domain_name="Default",
            region_name="RegionOne",
        )

    def token(self, cloud: str = "onestack") -> str:
        auth = self.cloud_config(cloud)["auth"]
        body = password_body(
            auth["password"],
            name=auth["username"],
            scope=project_name_scope(auth["project_name"]),
        )
        resp = httpx.post(f"{self.auth_url}/auth/tokens", json=body, timeout=30)
        resp.raise_for_status()
        return resp.headers["X-Subject-Token"]

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"X-Auth-Token": token} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)
