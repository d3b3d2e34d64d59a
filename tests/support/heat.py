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
    deadline = time.monotonic() + timeout
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline:
        shown = c.openstack("stack", "show", ref, **kw)
        if shown["stack_status"] in statuses:
            return shown
        time.sleep(0.3)
    raise AssertionError(f"stack {ref} is {shown.get('stack_status')}, not one of {statuses}")


def base_path(project_id: str) -> str:
    return f"/orchestration/v1/{project_id}"


def create_wait(c: Cloud, name: str, template: str, *args: str, **kw: Any) -> dict[str, Any]:
    """``openstack stack create -t ... --wait NAME`` (its output is the event log, then the
    table), then the stack as ``stack show`` shows it."""
    made = c.openstack("stack", "create", "-t", template, *args, "--wait", name,
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
