"""Object Storage test helpers: the real ``swift`` CLI and raw HTTP against a test cloud."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud


def swift_env(cloud: Cloud, name: str = "onestack") -> dict[str, str]:
    auth = cloud.cloud_config(name)["auth"]
    return {
        **cloud.env,
        "OS_AUTH_URL": auth["auth_url"],
        "OS_USERNAME": auth["username"],
        "OS_PASSWORD": auth["password"],
        "OS_PROJECT_NAME": auth["project_name"],
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": "RegionOne",
    }


def swift(
    cloud: Cloud, *args: str, name: str = "onestack", check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``swift`` command line as the clouds.yaml entry ``name``."""
    argv = [str(Path(sys.executable).with_name("swift")), *args]
    result = subprocess.run(
        argv,
        env=swift_env(cloud, name),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"swift {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def account_url(cloud: Cloud, token: str) -> str:
    """The caller's storage URL, from the catalog of its token."""
    resp = httpx.get(
        f"{cloud.auth_url}/auth/tokens",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=30,
    )
    resp.raise_for_status()
    for service in resp.json()["token"]["catalog"]:
        if service["type"] == "object-store":
            for ep in service["endpoints"]:
                if ep["interface"] == "public":
                    return str(ep["url"])
    raise AssertionError("no object-store endpoint in the catalog")


class Account:
    """An httpx client on one project's account (base URL: its storage URL)."""

    def __init__(self, cloud: Cloud, name: str) -> None:
        self.token = cloud.token(name)
        self.url = account_url(cloud, self.token)
        self.http = httpx.Client(
            base_url=self.url, headers={"X-Auth-Token": self.token}, timeout=60
        )
        self.anonymous = httpx.Client(base_url=self.url, timeout=60)

    def close(self) -> None:
        self.http.close()
        self.anonymous.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)


def account_fixture(name: str) -> Any:
    @pytest.fixture(scope="module")
    def fixture(cloud: Cloud) -> Iterator[Account]:
        acct = Account(cloud, name)
        yield acct
        acct.close()

    return fixture
