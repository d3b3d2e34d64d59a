"""``openstack stack event list --follow`` prints a stack's events as it runs (heatclient polls
with the last event as marker, in log format), and ``stack output show --all`` gives every
output at once: both through the real CLI, as #17's acceptance names them."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

SLOW = """
heat_template_version: 2018-08-31
resources:
  first: {type: OS::Heat::TestResource, properties: {value: one, wait_secs: 3}}
  second: {type: OS::Heat::TestResource, properties: {value: two}, depends_on: first}
outputs:
  one: {value: {get_attr: [first, output]}, description: the first}
  two: {value: {get_attr: [second, output]}}
"""


def follow(cloud: Cloud, name: str, lines: list[str]) -> subprocess.Popen[str]:
    """``stack event list --follow`` never exits (heatclient loops until interrupted): its
    lines are collected by a thread until the test stops it."""
    argv = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "onestack",
            "stack", "event", "list", "--follow", name]  # fmt: skip
    env = {**cloud.env, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout
    threading.Thread(target=lambda: lines.extend(out), daemon=True).start()
    return proc


def test_event_list_follow_and_output_show_all(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("follow")
    tf = template_file(tmp_path, "slow.yaml", SLOW)
    cloud.openstack("stack", "create", "-t", tf, name, json_output=False)
    lines: list[str] = []
    proc = follow(cloud, name, lines)
    try:
        done = f"[{name}]: CREATE_COMPLETE"
        deadline = time.monotonic() + 90
        while not any(done in line for line in lines) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
            time.sleep(0.5)
        seen = [line.split("]: ", 1)[0].rsplit("[", 1)[1] + " " + line.split("]: ", 1)[1].split()[0]
                for line in list(lines) if "]: " in line]  # fmt: skip
        assert f"{name} CREATE_COMPLETE" in seen, lines
        # Each event once, in order, though heatclient asked again every 5 s with a marker;
        # heatclient names a resource stack.resource from the stack's own first event.
        assert len(seen) == len(set(seen)), seen
        order = [seen.index(f"{r} {s}") for r, s in (
            (name, "CREATE_IN_PROGRESS"), (f"{name}.first", "CREATE_IN_PROGRESS"),
            (f"{name}.first", "CREATE_COMPLETE"), (f"{name}.second", "CREATE_IN_PROGRESS"),
            (f"{name}.second", "CREATE_COMPLETE"), (name, "CREATE_COMPLETE"))]  # fmt: skip
        assert order == sorted(order), seen
    finally:
        proc.kill()
        proc.wait(30)
    wait_stack(cloud, name, ("CREATE_COMPLETE",))
    every = cloud.openstack("stack", "output", "show", name, "--all")
    assert set(every) == {"one", "two"}, every
    assert every["one"]["output_value"] == "one" and every["one"]["description"] == "the first"
    assert every["two"]["output_value"] == "two"
    delete_wait(cloud, name)
