"""Orchestration (#17) on the real data plane: a Heat stack builds a whole application and
deletes it without a trace; an autoscaling group grows by a real guest on its CPU alarm."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.compute_cloud.lab import BOOT_TIMEOUT, PREFIX, Lab, qemu_pids, wait_page
from tests.e2e.orchestration import (
    APP,
    APP_ENV,
    BURN_AFTER,
    BURN_FOR,
    SCALING,
    host_leftovers,
)
from tests.support.guests import DATAPLANE_MARKS
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]


async def test_a_heat_stack_builds_an_application_on_the_data_plane_and_deletes_it_all(
    world: Lab,
) -> None:
    """#17 acceptance: ``stack create -t app.yaml --parameter ... -e env.yaml --wait`` builds
    a network, subnet, router with gateway, security group, two servers of the test image
    with user data, a floating IP, a volume attached to one server and a container, all real;
    ``stack delete`` leaves no QEMU, instance directory, tap, namespace or volume file."""
    lab = world
    template = template_file(lab.tmp, "app.yaml", APP)
    env = template_file(lab.tmp, "env.yaml", APP_ENV)
    try:
        shown = await asyncio.to_thread(
            create_wait, lab.cloud, "app", template, "--parameter", "image=onestack-test",
            "--parameter", "key=mykey", "-e", env, "--timeout", "5", cloud="onestack-demo",
        )  # fmt: skip
        assert shown["stack_status"] == "CREATE_COMPLETE", shown
        out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        lab.servers.update({"heat-web": out["web"], "heat-db": out["db"]})
        for name in ("heat-web", "heat-db"):
            assert lab.status(name) == "ACTIVE"
            assert qemu_pids(lab.servers[name]), f"no QEMU runs {name}"
            lab.wait_console(name, rf"stack-user-data-ran {name}")
        seen = lab.wait_console("heat-db", r"stack-volume-seen (vd\w+) (\d+)", 60)
        assert int(seen.group(2)) * 512 == 1024**3, "the guest's disk is not the volume's size"
        volume = lab.demo("volume", "show", out["volume"])
        assert volume["status"] == "in-use"
        assert volume["attachments"][0]["server_id"] == out["db"]
        volume_file = lab.cloud.data_dir / "volumes" / f"volume-{out['volume']}.qcow2"
        assert volume_file.exists()
        page = await asyncio.to_thread(wait_page, f"http://{out['fip']}/")
        assert "onestack-guest heat-web" in page, "the floating IP does not reach heat-web"
        assert lab.demo("container", "show", out["container"])["container"] == out["container"]
        ports = [p["ID"] for p in lab.cli("port", "list", "--network", out["net"])]
        ports += [p["ID"] for p in lab.cli("port", "list", "--device-id", out["router"])]
    finally:
        await asyncio.to_thread(delete_wait, lab.cloud, "app", "onestack-demo", 120)
    for name in ("heat-web", "heat-db"):
        uuid = lab.servers.pop(name)
        assert qemu_pids(uuid) == [], f"{name}'s QEMU outlived the stack"
        assert not (lab.instances / uuid).exists()
    assert not volume_file.exists(), "the volume's file outlived the stack"
    assert out["container"] not in {c["Name"] for c in lab.demo("container", "list")}
    ids = [out["net"], out["router"], *ports]
    # The network agent tears down in its next round after the deletes (as Neutron's agents
    # do, a moment after the API has answered): give it a few rounds, not forever.
    deadline = time.monotonic() + 30
    while (left := host_leftovers(PREFIX, ids)) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert left == []
    assert lab.cli("floating", "ip", "list", "--floating-ip-address", out["fip"]) == []


async def test_an_alarm_on_the_groups_cpu_grows_it_by_a_real_server_then_shrinks_it(
    world: Lab,
) -> None:
    """#17 autoscaling end to end: metering polls the group's members (metering.server_group),
    an alarm on their mean CPU rate calls the scale-up policy's webhook while the member's
    user data burns its vCPU, the group grows by one QEMU guest, and once the burn stops the
    low alarm's webhook shrinks it back to one."""
    lab = world
    template = template_file(lab.tmp, "asg.yaml", SCALING)
    sdk = lab.cloud.sdk("onestack-demo")  # polls in this process: a CLI run costs a second

    def group() -> tuple[list[str], str]:
        """The members (once the size output agrees) and the group resource's status."""
        stack = sdk.orchestration.get("/stacks/asg").json()["stack"]
        out = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
        path = f"/stacks/asg/{stack['id']}/resources/asg"
        status = sdk.orchestration.get(path).json()["resource"]["resource_status"]
        refs = list(out["refs"] or []) if out["size"] == len(out["refs"] or []) else []
        return refs, status

    async def size_becomes(n: int, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            refs, status = await asyncio.to_thread(group)
            if len(refs) == n and status != "UPDATE_IN_PROGRESS":
                return refs
            assert time.monotonic() < deadline, f"the group has {len(refs)} members, not {n}"
            await asyncio.sleep(0.5)

    async def console_shows(server: str, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in sdk.compute.get_server_console_output(server)["output"]:
            assert time.monotonic() < deadline, f"{text!r} not on {server}'s console"
            await asyncio.sleep(0.5)

    def group_cpu(stack_id: str) -> list[float]:
        """The group's mean CPU rate of the last seconds, as the alarms read it."""
        search = {"=": {"server_group": stack_id}}
        body = {"operations": "(aggregate rate:mean (metric cpu mean))", "search": search,
                "resource_type": "instance"}  # fmt: skip
        params = {"granularity": 1, "start": time.time() - 8, "needed_overlap": 0}
        found = sdk.session.post("/v1/aggregates", endpoint_filter={"service_type": "metric"},
                                 params=params, json=body, raise_exc=False)  # fmt: skip
        if found.status_code == 404:  # metering has no cpu metric of the member yet
            return []
        assert found.status_code == 200, found.text
        return [float(v) for _t, _g, v in found.json()["measures"]["aggregated"] if v is not None]

    async def idle_or_burning(server: str, stack_id: str, timeout: float) -> None:
        """Until the group's last 4 points are each under 5% of a vCPU (its boot's tail
        over), or the burn began (a slow host: no idle time to arm in)."""
        deadline = time.monotonic() + timeout
        while True:
            points = await asyncio.to_thread(group_cpu, stack_id)
            if len(points) >= 4 and max(points[-4:]) < 50_000_000:
                return
            output = sdk.compute.get_server_console_output(server)["output"]
            if "autoscale-burn-start" in output:
                return
            assert time.monotonic() < deadline, f"the group is not idle: {points}"
            await asyncio.sleep(0.5)

    first = added = ""
    try:
        shown = await asyncio.to_thread(
            create_wait, lab.cloud, "asg", template, "--parameter", "image=onestack-test",
            cloud="onestack-demo",
        )  # fmt: skip
        assert shown["stack_status"] == "CREATE_COMPLETE", shown
        (first,) = await size_becomes(1, 10)
        lab.servers[first] = first
        await console_shows(first, "onestack-guest ready", BOOT_TIMEOUT)
        # Booted and idle, its burn BURN_AFTER s from its user data: the alarms are armed (an
        # update in place of the two alarms; the member keeps its user data). Armed on a
        # window still holding the boot's tail, the high alarm leaves "insufficient data" by
        # the last point alone (Aodh's rule), and a busy one grows the group.
        await idle_or_burning(first, shown["id"], BURN_AFTER + 30)
        lab.demo("stack", "update", "--existing", "--parameter", "armed=true", "asg")
        await asyncio.to_thread(wait_stack, lab.cloud, "asg", ("UPDATE_COMPLETE",), 60,
                                cloud="onestack-demo")  # fmt: skip
        await console_shows(first, "autoscale-burn-start", BURN_AFTER + 30)
        started = time.monotonic()
        assert await size_becomes(1, 1) == [first], "the group changed before any load"
        grown = await size_becomes(2, BURN_FOR)
        grew_s = time.monotonic() - started
        (added,) = set(grown) - {first}
        lab.servers[added] = added
        assert lab.wait_status(added, "ACTIVE")["id"] == added and qemu_pids(added), (
            "the new member is no real guest"
        )
        await console_shows(first, "autoscale-burn-end", BURN_FOR + 30)
        stopped = time.monotonic()
        (kept,) = await size_becomes(1, 120)
        shrank_s = time.monotonic() - stopped
        (removed,) = {first, added} - {kept}
        assert qemu_pids(removed) == [], "the removed member's QEMU still runs"
        del lab.servers[removed]
        events = lab.demo("stack", "event", "list", "asg")
        signalled = {
            e["resource_name"] for e in events if e["resource_status"] == "SIGNAL_COMPLETE"
        }
        assert {"up", "down"} <= signalled, events
        print(f"autoscaling: grew {grew_s:.1f} s after the burn began, shrank {shrank_s:.1f} s "
              "after it stopped")  # fmt: skip
    except Exception:
        for e in lab.demo("stack", "event", "list", "asg"):  # what happened, for the failure
            print(e["event_time"], e["resource_name"], e["resource_status"],
                  e["resource_status_reason"])  # fmt: skip
        for name in ("cpu_high", "cpu_low"):
            alarm = lab.demo("stack", "resource", "show", "asg", name)["physical_resource_id"]
            print(name, lab.demo("alarm-history", "show", alarm))
        raise
    finally:
        await asyncio.to_thread(delete_wait, lab.cloud, "asg", "onestack-demo", 120)
    for uuid in (first, added):  # both known: a failure above raised
        assert qemu_pids(uuid) == []
        lab.servers.pop(uuid, None)
