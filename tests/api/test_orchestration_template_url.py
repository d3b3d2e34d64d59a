"""A stack's template by URL (#17): ``template_url`` instead of ``template`` on create,
preview, update and template validate, fetched by the cloud as Heat's API fetches it, and
each failure a 400 worded as Heat's ("Could not retrieve template: ..."): a 404, a template
over ``max_template_size``, a server that does not answer, a scheme not allowed. The test
cloud lets a template URL name any port (tests/support/cloud.py); the server is this test's
on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import http_client, unique
from tests.support.heat import assert_heat_400, base_path, delete_wait, wait_stack
from tests.support.keystone import token_info
from tests.support.webserve import serve_directory

pytestmark = pytest.mark.cli

admin = http_client("onestack")

FIRST = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: first}
resources:
  val: {type: OS::Heat::Value, properties: {value: {get_param: word}}}
outputs:
  word: {value: {get_attr: [val, value]}}
"""
SECOND = FIRST.replace("default: first", "default: second")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "first.yaml").write_text(FIRST)
    (tmp_path / "second.yaml").write_text(SECOND)
    # Over Heat's default max_template_size (524288 bytes), and announced as such.
    (tmp_path / "big.yaml").write_text(FIRST + "#" + "x" * 600_000 + "\n")
    with serve_directory(tmp_path) as base:
        yield base


def _base(cloud: Cloud, client: httpx.Client) -> str:
    return base_path(token_info(cloud, str(client.headers["X-Auth-Token"]))["project"]["id"])


def _word(cloud: Cloud, name: str, status: str) -> object:
    shown = wait_stack(cloud, name, (status, status.replace("COMPLETE", "FAILED")))
    assert shown["stack_status"] == status, shown["stack_status_reason"]
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}["word"]


def test_create_preview_update_validate_from_a_url(
    cloud: Cloud, admin: httpx.Client, served: str
) -> None:
    base = _base(cloud, admin)
    stacks = f"{base}/stacks"
    checked = admin.post(f"{base}/validate", json={"template_url": f"{served}/first.yaml"})
    assert checked.status_code == 200, checked.text
    assert checked.json()["Parameters"]["word"]["Default"] == "first"
    name = unique("byurl")
    preview = admin.post(
        f"{stacks}/preview", json={"stack_name": name, "template_url": f"{served}/first.yaml"}
    )
    assert preview.status_code == 200, preview.text
    assert [r["resource_name"] for r in preview.json()["stack"]["resources"]] == ["val"]
    made = admin.post(stacks, json={"stack_name": name, "template_url": f"{served}/first.yaml"})
    assert made.status_code == 201, made.text
    url = f"{stacks}/{name}/{made.json()['stack']['id']}"
    assert _word(cloud, name, "CREATE_COMPLETE") == "first"
    changed = admin.put(url, json={"template_url": f"{served}/second.yaml"})
    assert changed.status_code == 202, changed.text
    assert _word(cloud, name, "UPDATE_COMPLETE") == "second"
    # The stack keeps the template fetched, not the URL: its template is the text served.
    assert admin.get(f"{url}/template").json()["parameters"]["word"]["default"] == "second"
    delete_wait(cloud, name)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_each_failure_is_heats_400(cloud: Cloud, admin: httpx.Client, served: str) -> None:
    base = _base(cloud, admin)
    stacks = f"{base}/stacks"
    dead = f"http://127.0.0.1:{_closed_port()}/t.yaml"
    cases = [
        (f"{served}/missing.yaml", f"Failed to retrieve template from {served}/missing.yaml"),
        (f"{served}/big.yaml", "Template exceeds maximum allowed size (524288 bytes)"),
        (dead, f"Failed to retrieve template from {dead}"),
        ("ftp://127.0.0.1/t.yaml", "Invalid URL scheme ftp"),
        ("file:///etc/passwd", "Invalid URL scheme file"),
    ]
    name = unique("badurl")
    for url, reason in cases:
        resp = admin.post(stacks, json={"stack_name": name, "template_url": url})
        assert_heat_400(resp, "HTTPBadRequest", f"Could not retrieve template: {reason}")
    resp = admin.post(f"{base}/validate", json={"template_url": cases[0][0]})
    assert_heat_400(resp, "HTTPBadRequest", f"Could not retrieve template: {cases[0][1]}")
    assert admin.get(stacks, params={"name": name}).json()["stacks"] == []
