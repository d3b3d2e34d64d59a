"""Metering on the real data plane: the guests' CPU through the qemu pollster, and an alarm
on it that calls a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time

import pytest

from tests.e2e.compute_cloud.lab import BOOT_TIMEOUT, Lab, ssh_root
from tests.support.guests import DATAPLANE_MARKS
from tests.support.webhooks import receiver

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]


def cpu_ns(lab: Lab, uuid: str) -> float:
    """The guest's last ``cpu`` measure (ns of vCPU time), through gnocchiclient."""
    rows = lab.demo("metric", "measures", "show", "--resource-id", uuid, "cpu", "--refresh")
    return float(rows[-1]["value"]) if rows else 0.0


async def test_metering_reads_the_guests_cpu_and_an_alarm_calls_a_webhook(
    lab: Lab, vm1: str
) -> None:
    """The qemu driver's pollster (QMP vCPU threads) feeds metering: while the guest burns
    CPU its cpu counter grows by seconds and an alarm on its CPU rate fires a webhook; once
    the burn is over the alarm is ok again."""
    with contextlib.suppress(subprocess.CalledProcessError, AssertionError):
        lab.demo("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                 "--remote-ip", "0.0.0.0/0", "web")  # fmt: skip
    fip = lab.floating_ip("vm1")
    (lab.tmp / "mykey.pem").chmod(0o600)  # ssh refuses a key others may read
    deadline = time.monotonic() + BOOT_TIMEOUT
    while (tried := await asyncio.to_thread(ssh_root, lab, fip, "true", 20)).returncode != 0:
        assert time.monotonic() < deadline, f"no SSH to vm1: {tried.stderr}"
        await asyncio.sleep(1)
    resource = lab.demo("metric", "resource", "show", vm1)
    assert resource["type"] == "instance" and "cpu" in resource["metrics"]
    with receiver() as hook:
        lab.demo(
            "alarm", "create", "--name", "vm1-busy", "--type", "gnocchi_resources_threshold",
            "--metric", "cpu", "--aggregation-method", "rate:mean", "--granularity", "1",
            "--comparison-operator", "gt", "--threshold", str(0.1e9),  # a tenth of a vCPU
            "--resource-type", "instance", "--resource-id", vm1, "--alarm-action", hook.url,
        )  # fmt: skip
        before = cpu_ns(lab, vm1)
        burn = "end=$(( $(date +%s) + 30 )); while [ $(date +%s) -lt $end ]; do :; done"
        await asyncio.to_thread(ssh_root, lab, fip, burn, 60)
        # A poll after the burn: waited for (a fixed 2 s missed it on a loaded host).
        deadline = time.monotonic() + 30
        while (grown := cpu_ns(lab, vm1) - before) <= 3e9 and time.monotonic() < deadline:
            await asyncio.sleep(1)
        assert grown > 3e9, f"30 s of burning added only {grown / 1e9:.2f} s of vCPU time"
        rate = lab.demo("metric", "measures", "show", "--resource-id", vm1, "cpu",
                        "--aggregation", "rate:mean", "--granularity", "1")  # fmt: skip
        assert max(r["value"] for r in rate) > 0.1e9, rate  # ns of vCPU per second
        body = (await asyncio.to_thread(hook.wait, 1, 30))[0]
    assert body["alarm_name"] == "vm1-busy" and body["current"] == "alarm"
    # The project's CPU rate across its instances: the burn shows in it.
    rates = lab.demo("metric", "aggregates", "--resource-type", "instance", "--granularity", "1",
                     "(aggregate rate:mean (metric cpu mean))",
                     f"project_id={resource['project_id']}")  # fmt: skip
    assert max(r["value"] for r in rates) > 0.1e9, rates
    assert body["reason_data"]["type"] == "threshold"
    assert body["reason_data"]["most_recent"] > 0.1e9
    # The burn over, the rate falls under the threshold again: the alarm fired for the burn.
    deadline = time.monotonic() + 60
    while (state := lab.demo("alarm", "state", "get", "vm1-busy")["state"]) != "ok":
        assert time.monotonic() < deadline, f"the idle guest keeps the alarm {state}"
        await asyncio.sleep(1)
