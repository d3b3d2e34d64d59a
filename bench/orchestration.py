"""Orchestration benchmark (#17): a stack of 200 resources through the Heat API of a private
``onestack up`` on the fake data plane (networks, subnets, ports, random strings and servers
on the ports) created, updated with 10% of its resources changed (replaced), and deleted:
seconds for each and resources per second, with the most resources the engine had in
progress at once (concurrency between independent resources); then the engine's idle cost
(CPU seconds of the whole process over 10 s with the stack at rest).

    .venv/bin/python bench/orchestration.py [--networks 20] [--json]

Prints figures beside their targets (create < 10 s) with PASS or MISS; exits 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import httpx

from figures import load
from localcloud import LocalCloud

CREATE_TARGET_S = 10.0
FAKE = {
    "ONESTACK_NETWORK_DRIVER": "fake",
    "ONESTACK_COMPUTE_DRIVER": "fake",
    "ONESTACK_VOLUME_DRIVER": "fake",
}


def template(networks: int, salt: int, changed: int) -> tuple[dict[str, Any], int]:
    """Per network: a subnet, three ports, four random strings, one server on a port; the
    first ``changed`` random strings get length ``salt`` (a replacement on update)."""
    res: dict[str, Any] = {}
    strings = 0
    for n in range(networks):
        res[f"net{n}"] = {"type": "OS::Neutron::Net"}
        res[f"sub{n}"] = {
            "type": "OS::Neutron::Subnet",
            "properties": {"network": {"get_resource": f"net{n}"}, "cidr": f"10.{100 + n}.0.0/24"},
        }
        for p in range(3):
            res[f"port{n}_{p}"] = {
                "type": "OS::Neutron::Port",
                "properties": {
                    "network": {"get_resource": f"net{n}"},
                    "fixed_ips": [{"subnet": {"get_resource": f"sub{n}"}}],
                },
            }
        for r in range(4):
            length = salt if strings < changed else 16
            res[f"rnd{n}_{r}"] = {
                "type": "OS::Heat::RandomString",
                "properties": {"length": length},
            }
            strings += 1
        res[f"vm{n}"] = {
            "type": "OS::Nova::Server",
            "properties": {"image": "bench-img", "flavor": "m1.nano",
                           "networks": [{"port": {"get_resource": f"port{n}_0"}}]},
        }  # fmt: skip
    return {"heat_template_version": "2018-08-31", "resources": res}, len(res)


def wait(http: httpx.Client, base: str, name: str, wanted: str) -> float:
    started = time.perf_counter()
    while True:
        resp = http.get(f"{base}/stacks/{name}", follow_redirects=True)
        if resp.status_code == 404 and wanted == "DELETE_COMPLETE":
            return time.perf_counter() - started
        status = resp.json()["stack"]["stack_status"]
        if status == wanted:
            return time.perf_counter() - started
        if status.endswith("FAILED"):
            raise SystemExit(f"{name}: {status}: {resp.json()['stack']['stack_status_reason']}")
        time.sleep(0.05)


def peak_in_progress(events: list[dict[str, Any]], action: str) -> int:
    """The most resources between their ACTION_IN_PROGRESS and ACTION_COMPLETE at once."""
    running, peak = 0, 0
    for e in events:
        if e["resource_name"] == "bench":
            continue  # the stack's own events
        if e["resource_status"] == f"{action}_IN_PROGRESS":
            running += 1
        elif e["resource_status"] in (f"{action}_COMPLETE", f"{action}_FAILED"):
            running -= 1
        peak = max(peak, running)
    return peak


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cloud = LocalCloud(hash_rounds=4, env=FAKE)
    try:
        cloud.start()
        token, project = cloud.token_and_project()
        http = httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": token}, timeout=120)
        quota = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        http.put(f"/compute/v2.1/os-quota-sets/{project}", json=quota).raise_for_status()
        for kind in ("network", "subnet", "port"):
            http.put(f"/network/v2.0/quotas/{project}", json={"quota": {kind: -1}})
        meta = {"name": "bench-img", "disk_format": "raw", "container_format": "bare"}
        image = http.post("/image/v2/images", json=meta).json()
        octets = {"Content-Type": "application/octet-stream"}
        upload = http.put(f"/image/v2/images/{image['id']}/file", content=b"\0" * 4096,
                          headers=octets)  # fmt: skip
        upload.raise_for_status()
        base = f"/orchestration/v1/{project}"
        tmpl, count = template(args.networks, 16, 0)
        changed = count // 10
        resp = http.post(f"{base}/stacks", json={"stack_name": "bench", "template": tmpl})
        resp.raise_for_status()
        create_s = wait(http, base, "bench", "CREATE_COMPLETE")
        events = http.get(f"{base}/stacks/bench/events", follow_redirects=True).json()["events"]
        create_peak = peak_in_progress(events, "CREATE")
        new, _ = template(args.networks, 24, changed)
        http.put(f"{base}/stacks/bench", json={"template": new}).raise_for_status()
        update_s = wait(http, base, "bench", "UPDATE_COMPLETE")
        assert cloud.process is not None
        pid = cloud.process.pid
        idle_before = cpu_seconds(pid)
        time.sleep(10)
        idle_cpu = cpu_seconds(pid) - idle_before
        http.delete(f"{base}/stacks/bench").raise_for_status()
        delete_s = wait(http, base, "bench", "DELETE_COMPLETE")
        figures = {
            "resources": count,
            "create_s": round(create_s, 2),
            "create_resources_per_s": round(count / create_s, 1),
            "create_peak_in_progress": create_peak,
            "update_changed": changed,
            "update_s": round(update_s, 2),
            "delete_s": round(delete_s, 2),
            "delete_resources_per_s": round(count / delete_s, 1),
            "idle_cpu_s_per_10s": round(idle_cpu, 3),
            "load": load(),
        }
        if args.json:
            print(json.dumps(figures))
            return
        verdict = "PASS" if create_s < CREATE_TARGET_S else "MISS"
        print(f"Orchestration: a stack of {count} resources (fake data plane); load {load()}")
        print(
            f"  create  {create_s:7.2f} s  {count / create_s:6.1f} resources/s  "
            f"peak {create_peak} in progress  target < {CREATE_TARGET_S:.0f} s  {verdict}"
        )
        print(f"  update  {update_s:7.2f} s  ({changed} resources replaced)")
        print(f"  delete  {delete_s:7.2f} s  {count / delete_s:6.1f} resources/s")
        print(f"  idle    {idle_cpu:7.3f} CPU s over 10 s (the whole process, stack at rest)")
    finally:
        cloud.close()


if __name__ == "__main__":
    main()
