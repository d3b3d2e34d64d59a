"""The `onestack` command line contract: up, the files it writes, restart, detach, keys, logs.

Every test runs a cloud of its own (``fresh_cloud``: its own data dir and HOME).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.bodies import password_body, project_name_scope
from tests.support.cloud import Cloud, free_port

OPENSTACK = str(Path(sys.executable).with_name("openstack"))


@pytest.fixture
def lc(fresh_cloud: Cloud) -> Iterator[Cloud]:
    """``fresh_cloud``, stopped at the end whatever happened (foreground or detached)."""
    yield fresh_cloud
    if fresh_cloud.process is not None:
        fresh_cloud.stop()
    if (fresh_cloud.data_dir / "onestack.pid").exists():
        fresh_cloud.onestack("down")


def gone(pid: int, timeout: float = 10) -> bool:
    """Whether ``pid`` exits (or is only a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def clean_env(cloud: Cloud, **extra: str) -> dict[str, str]:
    """The cloud's environment with no client configuration: what a new shell has."""
    env = {k: v for k, v in cloud.env.items() if not k.startswith("OS_")}
    return env | extra


def issue(cloud: Cloud, user: str, password: str, project: str | None = None) -> httpx.Response:
    body = password_body(password, name=user, scope=project_name_scope(project or user))
    return httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30)


def validate(cloud: Cloud, auth: str, subject: str) -> httpx.Response:
    return httpx.get(
        f"{cloud.auth_url}/auth/tokens",
        headers={"X-Auth-Token": auth, "X-Subject-Token": subject},
        timeout=30,
    )


def _user_id(cloud: Cloud, token: str) -> str:
    user_id: str = validate(cloud, token, token).json()["token"]["user"]["id"]
    return user_id


def test_up_banner_files_and_user_clouds_yaml(lc: Cloud) -> None:
    user_yaml = lc.home / ".config" / "openstack" / "clouds.yaml"
    user_yaml.parent.mkdir(parents=True)
    other = {"auth": {"auth_url": "https://other.example/v3", "username": "u", "password": "p"}}
    stale = {"auth": {"auth_url": "http://127.0.0.1:1/identity/v3", "username": "old"}}
    user_yaml.write_text(yaml.safe_dump({"clouds": {"other": other, "onestack": stale}}))

    banner = lc.start()
    log = lc.log.read_text()
    assert log.count("OneStack is up") == 1, log
    assert f"OneStack is up at {lc.url}" in banner
    assert f"{lc.url}/identity/v3" in banner
    assert str(lc.data_dir / "admin-openrc.sh") in banner
    assert str(lc.clouds_yaml) in banner
    assert "onestack-demo" in banner

    secrets = lc.secrets
    assert set(secrets) >= {"admin_password", "demo_password"}
    assert secrets["admin_password"] != secrets["demo_password"]
    for path in (lc.clouds_yaml, lc.data_dir / "bootstrap.json", lc.data_dir / "admin-openrc.sh"):
        assert mode(path) == 0o600, path
    assert mode(lc.data_dir) == 0o700  # the database and the keys inside are no one else's
    assert (
        f"export OS_PASSWORD='{secrets['admin_password']}'"
        in (lc.data_dir / "admin-openrc.sh").read_text()
    )

    clouds = yaml.safe_load(lc.clouds_yaml.read_text())["clouds"]
    assert set(clouds) == {"onestack", "onestack-demo"}
    for name, user in (("onestack", "admin"), ("onestack-demo", "demo")):
        assert clouds[name]["region_name"] == "RegionOne"
        auth = clouds[name]["auth"]
        assert auth["auth_url"] == lc.auth_url
        assert (auth["username"], auth["project_name"]) == (user, user)
        assert auth["password"] == secrets[f"{user}_password"]

    # The user's own clouds.yaml gains (or has refreshed) our two clouds and keeps the rest.
    merged = yaml.safe_load(user_yaml.read_text())["clouds"]
    assert merged["other"] == other
    assert merged["onestack"] == clouds["onestack"]
    assert merged["onestack-demo"] == clouds["onestack-demo"]
    assert mode(user_yaml) == 0o600

    # What the banner suggests works from a plain shell (no OS_CLIENT_CONFIG_FILE).
    result = subprocess.run(
        [OPENSTACK, "--os-cloud", "onestack-demo", "token", "issue", "-f", "json"],
        env=clean_env(lc),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project_id"]

    # A second `up` on the same data dir refuses, naming the one running, and changes nothing.
    again = lc.onestack("up", "--port", str(free_port()))
    assert again.returncode != 0
    assert "already running" in again.stdout
    assert lc.process is not None
    assert f"(pid {lc.process.pid})" in again.stdout
    detached = lc.onestack("up", "--detach", "--port", str(free_port()))
    assert detached.returncode != 0
    assert "already running" in detached.stdout
    assert lc.secrets == secrets
    assert issue(lc, "admin", secrets["admin_password"]).status_code == 201

    assert lc.stop(signal.SIGINT) == 0
    assert not (lc.data_dir / "onestack.pid").exists()
    assert not (lc.data_dir / "state.json").exists()
    assert "Traceback" not in lc.log.read_text()


def test_restart_keeps_data(lc: Cloud) -> None:
    lc.start()
    password = lc.secrets["admin_password"]
    token = lc.token()
    with lc.http(token) as client:
        resp = client.post("/identity/v3/projects", json={"project": {"name": "survivor"}})
        assert resp.status_code == 201, resp.text
        project_id = resp.json()["project"]["id"]
    assert lc.stop(signal.SIGINT) == 0

    banner = lc.start()
    assert lc.url in banner
    assert lc.secrets["admin_password"] == password
    assert issue(lc, "admin", password).status_code == 201
    fresh = lc.token()
    assert validate(lc, fresh, token).status_code == 200  # the keys survived too
    with lc.http(fresh) as client:
        assert client.get(f"/identity/v3/projects/{project_id}").json()["project"]["name"] == (
            "survivor"
        )
        names = [p["name"] for p in client.get("/identity/v3/projects").json()["projects"]]
        assert sorted(names) == ["admin", "demo", "survivor"]  # bootstrap made no duplicates
    assert lc.stop(signal.SIGTERM) == 0


def test_detach_status_openrc_down(lc: Cloud, tmp_path: Path) -> None:
    up = lc.onestack("up", "--detach", "--port", str(lc.port))
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.count("OneStack is up") == 1
    assert f"{lc.url}/identity/v3" in up.stdout
    assert "onestack down" in up.stdout
    pid = int((lc.data_dir / "onestack.pid").read_text())
    os.kill(pid, 0)  # alive
    assert "OneStack is up" in (lc.data_dir / "onestack.log").read_text()

    status = lc.onestack("status")
    assert status.returncode == 0, status.stdout
    assert str(pid) in status.stdout
    identity = [line.split() for line in status.stdout.splitlines() if "identity" in line]
    assert identity and identity[0][1] == "ok", status.stdout

    # `openrc` prints exports a shell can source; the real client then works from them alone.
    for user in ("admin", "demo"):
        openrc = lc.onestack("openrc", user)
        assert openrc.returncode == 0, openrc.stderr
        assert f"export OS_USERNAME='{user}'" in openrc.stdout
        assert f"export OS_AUTH_URL='{lc.auth_url}'" in openrc.stdout
        rc = tmp_path / f"{user}-openrc.sh"
        rc.write_text(openrc.stdout)
        result = subprocess.run(
            ["bash", "-c", f'. "{rc}" && exec "{OPENSTACK}" token issue -f json'],
            env=clean_env(lc, OS_CLIENT_CONFIG_FILE=str(tmp_path / "none.yaml")),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        token = json.loads(result.stdout)["id"]
        body = validate(lc, lc.token(), token).json()["token"]
        assert (body["user"]["name"], body["project"]["name"]) == (user, user)

    down = lc.onestack("down")
    assert down.returncode == 0, down.stdout
    assert str(pid) in down.stdout
    assert not (lc.data_dir / "onestack.pid").exists()
    # "stopped" means the process is gone, not about to go (#12: it lived ~5 s more).
    assert gone(pid, timeout=0.5)
    status = lc.onestack("status")
    assert status.returncode != 0
    assert "not running" in status.stdout


def test_rotate_keys_while_running(lc: Cloud) -> None:
    lc.start()
    before = lc.token()
    with lc.http(before) as client:
        resp = client.post(
            "/identity/v3/credentials",
            json={"credential": {"type": "totp", "user_id": _user_id(lc, before), "blob": "s3"}},
        )
        assert resp.status_code == 201, resp.text
        credential_id = resp.json()["credential"]["id"]

    keys = lc.data_dir / "fernet-keys"
    assert sorted(p.name for p in keys.iterdir()) == ["0", "1"]
    rotated = lc.onestack("identity", "rotate-keys")
    assert rotated.returncode == 0, rotated.stderr
    assert "key 2 is now primary" in rotated.stdout
    assert sorted(p.name for p in keys.iterdir()) == ["0", "1", "2"]
    assert all(mode(p) == 0o600 for p in keys.iterdir())
    assert lc.onestack("identity", "rotate-keys", "--credentials").returncode == 0

    after = lc.token()
    assert after != before
    assert validate(lc, after, before).status_code == 200
    assert validate(lc, before, after).status_code == 200
    assert validate(lc, after, after).json()["token"]["user"]["name"] == "admin"
    with lc.http(after) as client:
        resp = client.get(f"/identity/v3/credentials/{credential_id}")
        assert resp.status_code == 200, resp.text
        assert resp.json()["credential"]["blob"] == "s3"
    assert lc.stop() == 0


def test_secrets_never_reach_the_log(lc: Cloud) -> None:
    lc.env["ONESTACK_LOGGING_LEVEL"] = "DEBUG"
    lc.start()
    secrets = lc.secrets
    admin = lc.token()
    demo = lc.token("onestack-demo")
    leaks = [secrets["admin_password"], secrets["demo_password"], admin, demo]
    with lc.http(admin) as client:
        assert validate(lc, admin, demo).status_code == 200
        checked = client.head("/identity/v3/auth/tokens", headers={"X-Subject-Token": demo})
        assert checked.status_code == 200
        user = client.post(
            "/identity/v3/users",
            json={"user": {"name": "eve", "password": "eve-first-password-1"}},
        ).json()["user"]
        leaks += ["eve-first-password-1", "eve-second-password-2", "wrong-password-3"]
        assert issue(lc, "admin", "wrong-password-3").status_code == 401
        resp = httpx.post(
            f"{lc.auth_url}/users/{user['id']}/password",
            json={
                "user": {
                    "original_password": "eve-first-password-1",
                    "password": "eve-second-password-2",
                }
            },
            timeout=30,
        )
        assert resp.status_code == 204, resp.text
        me = _user_id(lc, admin)
        cred = client.post(
            f"/identity/v3/users/{me}/application_credentials",
            json={"application_credential": {"name": "ci"}},
        ).json()["application_credential"]
        leaks.append(cred["secret"])
        ec2 = client.post(
            f"/identity/v3/users/{me}/credentials/OS-EC2",
            json={"tenant_id": validate(lc, admin, admin).json()["token"]["project"]["id"]},
        ).json()["credential"]
        leaks.append(ec2["secret"])
        bogus = httpx.get(
            f"{lc.auth_url}/users", headers={"X-Auth-Token": demo[:-4] + "AAAA"}, timeout=30
        )
        assert bogus.status_code == 401
        revoked = client.delete("/identity/v3/auth/tokens", headers={"X-Subject-Token": demo})
        assert revoked.status_code == 204
        assert validate(lc, admin, demo).status_code == 404
    assert lc.stop() == 0

    log = lc.log.read_text()
    assert "POST /identity/v3/auth/tokens 201" in log  # the requests were logged...
    assert "POST /identity/v3/auth/tokens 401" in log
    assert "DEBUG" in log
    for secret in leaks:  # ...without any secret, whole or in part
        assert secret not in log
        assert secret[-16:] not in log
