"""Orchestration test helpers: templates written to files for ``openstack stack create -t``,
waiting for a stack's status through the real client, the API's project-scoped base path."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.support.cloud import Cloud


def template_file(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def wait_stack(
    c: Cloud, ref: str, statuses: tuple[str, ...], timeout: float = 60, **kw: Any
) -> dict[str, Any]:
    """Poll the stack until its status is one of ``statuses``, then ``openstack stack show``
    it. The polls go through openstacksdk in this process where they can (a CLI process per
    poll costs a second of CPU)."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = _status(c, ref, **kw)
        if status in statuses:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"stack {ref} is {status}, not one of {statuses}")
    shown: dict[str, Any] = c.openstack("stack", "show", ref, **kw)
    return shown


def delete_wait(c: Cloud, name: str, cloud: str = "onestack", timeout: float = 60) -> None:
    """``openstack stack delete --yes NAME``, then its end awaited: the client's own ``--wait``
    sleeps 5 s between polls, which was most of the orchestration tests' time."""
    c.openstack("stack", "delete", "--yes", name, cloud=cloud, json_output=False)
    deadline = time.monotonic() + timeout
    status: str | None = "DELETE_IN_PROGRESS"
    while time.monotonic() < deadline:
        status = _status(c, name, cloud=cloud)
        if status in (None, "DELETE_COMPLETE"):
            return
        if status == "DELETE_FAILED":
            raise AssertionError(f"stack {name} DELETE_FAILED\n{why_failed(c, name, cloud=cloud)}")
        time.sleep(0.2)
    raise AssertionError(f"stack {name} is {status} {timeout} s after its delete")


# By the cloud's data directory and URL: an id() could name a later cloud once one is gone.
_connections: dict[tuple[str, str, str], Any] = {}


def _status(c: Cloud, ref: str, **kw: Any) -> str | None:
    """The stack's status (None once it is gone), through openstacksdk when ``kw`` names only
    a cloud of ``c``'s clouds.yaml, else through ``openstack stack show``."""
    if set(kw) - {"cloud"}:
        shown = c.openstack("stack", "show", ref, check=False, **kw)
        return shown.get("stack_status") if isinstance(shown, dict) else None
    name = kw.get("cloud") or "onestack"
    key = (str(c.data_dir), c.url, name)
    if key not in _connections:
        _connections[key] = c.sdk(name)
    resp = _connections[key].orchestration.get(f"/stacks/{ref}")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return str(resp.json()["stack"]["stack_status"])


def base_path(project_id: str) -> str:
    return f"/orchestration/v1/{project_id}"


def create_wait(c: Cloud, name: str, template: str, *args: str, **kw: Any) -> dict[str, Any]:
    """``openstack stack create -t ... --wait NAME`` (its output is the event log, then the
    table), then the stack as ``stack show`` shows it."""
    made = c.openstack("stack", "create", "-t", template, *args, "--wait", "--poll", "1", name,
                       json_output=False, check=False, **kw)  # fmt: skip
    if made.returncode != 0:
        raise AssertionError(
            f"stack create {name} failed: {made.stderr}\n{why_failed(c, name, **kw)}"
        )
    shown: dict[str, Any] = c.openstack("stack", "show", name, **kw)
    return shown


def why_failed(c: Cloud, name: str, **kw: Any) -> str:
    """The stack's status reason and its resources' (the cause a ``--wait`` failure hides)."""
    shown = c.openstack("stack", "show", name, check=False, json_output=False, **kw)
    resources = c.openstack("stack", "resource", "list", "-n", "5", "--long", name,
                            check=False, json_output=False, **kw)  # fmt: skip
    return f"{shown.stdout}{shown.stderr}\n{resources.stdout}{resources.stderr}"


def assert_heat_400(resp: Any, error_type: str, message: str) -> None:
    """A 400 in Heat's error body: its ``error.type`` and ``message``, and the title."""
    assert resp.status_code == 400, resp.text
    doc = resp.json()
    assert (doc["error"]["type"], doc["error"]["message"]) == (error_type, message), doc
    assert doc["title"] == "Bad Request" and doc["code"] == 400
