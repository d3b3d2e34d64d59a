"""clouds.yaml and openrc files for the bootstrap users, so the real clients work at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

ADMIN_CLOUD = "onestack"
DEMO_CLOUD = "onestack-demo"


def cloud_entries(auth_url: str, region: str, secrets: dict[str, str]) -> dict[str, Any]:
    def entry(user: str, project: str, password: str) -> dict[str, Any]:
        return {
            "auth": {
                "auth_url": auth_url,
                "username": user,
                "password": password,
                "project_name": project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": region,
            "interface": "public",
            "identity_api_version": 3,
        }

    return {
        ADMIN_CLOUD: entry("admin", "admin", secrets["admin_password"]),
        DEMO_CLOUD: entry("demo", "demo", secrets["demo_password"]),
    }


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.rename(path)


def write_clouds_yaml(path: Path, entries: dict[str, Any]) -> None:
    _write_private(path, yaml.safe_dump({"clouds": entries}, sort_keys=False))


def merge_user_clouds_yaml(path: Path, entries: dict[str, Any]) -> None:
    """Add or replace our two clouds in the user's clouds.yaml, leaving every other cloud alone."""
    data: dict[str, Any] = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text())
        if isinstance(loaded, dict):
            data = loaded
    clouds = data.get("clouds")
    if not isinstance(clouds, dict):
        clouds = {}
    clouds.update(entries)
    data["clouds"] = clouds
    _write_private(path, yaml.safe_dump(data, sort_keys=False))


def openrc(entry: dict[str, Any]) -> str:
    auth = entry["auth"]
    lines = {
        "OS_AUTH_URL": auth["auth_url"],
        "OS_USERNAME": auth["username"],
        "OS_PASSWORD": auth["password"],
        "OS_PROJECT_NAME": auth["project_name"],
        "OS_USER_DOMAIN_NAME": auth["user_domain_name"],
        "OS_PROJECT_DOMAIN_NAME": auth["project_domain_name"],
        "OS_REGION_NAME": entry["region_name"],
        "OS_INTERFACE": entry["interface"],
        "OS_IDENTITY_API_VERSION": "3",
    }
    return "".join(f"export {k}={_quote(v)}\n" for k, v in lines.items())


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def write_openrc(path: Path, entry: dict[str, Any]) -> None:
    _write_private(path, openrc(entry))


def user_clouds_yaml() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "openstack" / "clouds.yaml"
