"""Heat's ``GET /services`` (#17) through ``openstack orchestration service list``: an admin
sees the cloud's engine, up, with Heat's fields; a member is refused with Heat's 403. Heat's
``GET /stacks/detail``: the project's stacks as ``stack show`` has them, another project's
not among them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file

pytestmark = pytest.mark.cli

DEMO = "onestack-demo"


def engines(cloud: Cloud) -> list[dict[str, Any]]:
    """The engines the list shows up, once one has reported (at its start)."""
    deadline = time.monotonic() + 30
    listed: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        listed = cloud.openstack("orchestration", "service", "list")
        up = [s for s in listed if s["Binary"] == "heat-engine" and s["Status"] == "up"]
        if up:
            return up
        time.sleep(0.5)
    raise AssertionError(f"no engine up: {listed}")


def test_admin_lists_the_engines_a_member_may_not(cloud: Cloud) -> None:
    up = engines(cloud)
    assert all(s["Topic"] == "engine" and s["Engine ID"] and s["Host"] for s in up), up
    token = cloud.openstack("token", "issue")
    with cloud.http(token["id"]) as client:
        raw = client.get(f"/orchestration/v1/{token['project_id']}/services")
        assert raw.status_code == 200, raw.text
        service = raw.json()["services"][0]
        assert set(service) == {"id", "host", "hostname", "binary", "topic", "engine_id",
                                "report_interval", "created_at", "updated_at", "deleted_at",
                                "status"}  # fmt: skip
        assert service["deleted_at"] is None and service["report_interval"] >= 1
    refused = cloud.openstack("orchestration", "service", "list", cloud=DEMO, check=False,
                              json_output=False)  # fmt: skip
    assert refused.returncode != 0, refused.stdout
    assert "not authorized to perform the requested action: service:index" in refused.stderr
    member = cloud.openstack("token", "issue", cloud=DEMO)
    with cloud.http(member["id"]) as client:
        resp = client.get(f"/orchestration/v1/{member['project_id']}/services")
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"]["type"] == "Forbidden" and resp.json()["code"] == 403


TINY = """
heat_template_version: 2018-08-31
description: one value
parameters:
  word: {type: string, default: hi}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: word}}}
outputs:
  v: {value: {get_attr: [v, value]}}
"""


def test_stacks_detail_lists_the_projects_stacks_in_full(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("detail")
    create_wait(cloud, name, template_file(tmp_path, "t.yaml", TINY), "--parameter", "word=yo")
    member = cloud.openstack("token", "issue", cloud=DEMO)
    with cloud.http(member["id"]) as client:
        theirs = client.get(f"/orchestration/v1/{member['project_id']}/stacks/detail")
        assert theirs.status_code == 200, theirs.text
        assert name not in {s["stack_name"] for s in theirs.json()["stacks"]}
    token = cloud.openstack("token", "issue")
    with cloud.http(token["id"]) as client:
        resp = client.get(f"/orchestration/v1/{token['project_id']}/stacks/detail")
        assert resp.status_code == 200, resp.text
        found = [s for s in resp.json()["stacks"] if s["stack_name"] == name]
        assert len(found) == 1, resp.json()
        stack = found[0]
        assert stack["stack_status"] == "CREATE_COMPLETE" and "outputs" not in stack
        assert stack["parameters"]["word"] == "yo" and stack["template_description"] == "one value"
        assert stack["parameters"]["OS::stack_name"] == name and "disable_rollback" in stack
    delete_wait(cloud, name)
