"""The metering API's test users: the ``openstack metric ...`` CLI (python-gnocchiclient)
and raw HTTP, as a member of a new project (``mine``), of a second one (``other``) and as
the cloud's admin (``onestack``)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.bodies import password_body, project_scope
from tests.support.cloud import Cloud
from tests.support.keystone import Admin
from tests.support.osc import OscSession


@dataclass
class Meter:
    cloud: Cloud
    session: OscSession
    config: Path
    projects: dict[str, str]
    passwords: dict[str, tuple[str, str]]
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def run(self, *args: str, as_: str = "mine") -> subprocess.CompletedProcess[str]:
        env = {"OS_CLIENT_CONFIG_FILE": str(self.config)}
        return self.session.run(["--os-cloud", as_, *args], env)

    def __call__(self, *args: str, as_: str = "mine") -> Any:
        """The command's JSON output; the test fails if the command does."""
        result = self.run(*args, "-f", "json", as_=as_)
        assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else None

    def do(self, *args: str, as_: str = "mine") -> str:
        result = self.run(*args, as_=as_)
        assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def fails(self, *args: str, as_: str = "mine") -> str:
        """The error text of a command that must fail."""
        result = self.run(*args, as_=as_)
        assert result.returncode != 0, f"openstack {' '.join(args)} succeeded:\n{result.stdout}"
        return result.stderr

    def http(self, as_: str = "mine") -> httpx.Client:
        """Raw HTTP to ``/metric`` with a token of the entry's user."""
        if as_ not in self.clients:
            if as_ == "onestack":
                token = self.cloud.token()
            else:
                user, password = self.passwords[as_]
                body = password_body(password, name=user, scope=project_scope(self.projects[as_]))
                resp = httpx.post(f"{self.cloud.auth_url}/auth/tokens", json=body, timeout=30)
                resp.raise_for_status()
                token = resp.headers["X-Subject-Token"]
            self.clients[as_] = httpx.Client(
                base_url=f"{self.cloud.url}/metric", headers={"X-Auth-Token": token}, timeout=30
            )
        return self.clients[as_]


def meter_fixture() -> Any:
    @pytest.fixture(scope="module")
    def meter(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Meter]:
        admin = Admin(cloud)
        clouds = {"onestack": cloud.cloud_config("onestack")}
        projects = {"onestack": admin.project_id}
        passwords: dict[str, tuple[str, str]] = {}
        for entry in ("mine", "other"):
            project = admin.project()
            user = admin.user()
            admin.grant(project["id"], user.id, "member")
            auth = {
                **clouds["onestack"]["auth"],
                "username": user.name,
                "password": user.password,
                "project_name": project["name"],
            }
            clouds[entry] = {**clouds["onestack"], "auth": auth}
            projects[entry] = project["id"]
            passwords[entry] = (user.name, user.password)
        admin.close()
        path = tmp_path_factory.mktemp("meter") / "clouds.yaml"
        path.write_text(yaml.safe_dump({"clouds": clouds}))
        session = OscSession(cloud.env)
        meter = Meter(cloud, session, path, projects, passwords)
        yield meter
        for client in meter.clients.values():
            client.close()
        session.close()

    return meter
