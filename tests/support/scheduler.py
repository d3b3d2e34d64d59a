"""Builders of the scheduler's inputs for its unit tests: a host with room and a boot request,
each with the defaults the tests start from."""

from __future__ import annotations

from typing import Any

from onestack.compute.scheduler.hosts import HostCandidate, RequestSpec


def host(name: str = "h1", **kw: Any) -> HostCandidate:
    """A host with 8 cores, 16 GiB and 100 GiB of disk; ``kw`` overrides any field."""
    args: dict[str, Any] = {
        "node_uuid": f"node-{name}",
        "host": name,
        "hypervisor_hostname": f"{name}.node",
        "total_vcpus": 8,
        "total_memory_mb": 16384,
        "total_disk_gb": 100,
    }
    args.update(kw)
    return HostCandidate(**args)


def spec(**kw: Any) -> RequestSpec:
    """A boot of one 1-core, 1 GiB, 10 GiB server; ``kw`` overrides any field."""
    args: dict[str, Any] = {
        "instance_uuid": "i-1",
        "project_id": "p1",
        "vcpus": 1,
        "memory_mb": 1024,
        "disk_gb": 10,
    }
    args.update(kw)
    return RequestSpec(**args)
