"""The metrics of each resource type our collection makes (Ceilometer's
``gnocchi_resources.yaml``): a resource is made with all of them at once, as Ceilometer's
Gnocchi publisher does, so a new server's ``cpu`` reads as an empty series, not a 404, until
its first poll. Each metric's unit and kind are those of the samples that feed it (the
compute pollsters', the listener's): a counter gets the ``-rate`` policy, as its first sample
would have had it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricDefinition:
    unit: str
    cumulative: bool = False  # a counter: the -rate variant of the archive policy


def _counters(unit_of: dict[str, str]) -> dict[str, MetricDefinition]:
    return {name: MetricDefinition(unit, True) for name, unit in unit_of.items()}


RESOURCE_METRICS: dict[str, dict[str, MetricDefinition]] = {
    # The compute pollsters' (onestack.compute.agent.pollsters.guest_samples); memory.usage
    # only from a driver that can tell, named anyway as Ceilometer's definition names it.
    "instance": {
        "cpu": MetricDefinition("ns", True),
        "vcpus": MetricDefinition("vcpu"),
        "memory": MetricDefinition("MB"),
        "memory.usage": MetricDefinition("MB"),
        "disk.root.size": MetricDefinition("GB"),
    },
    "instance_disk": _counters(
        {
            "disk.device.read.bytes": "B",
            "disk.device.write.bytes": "B",
            "disk.device.read.requests": "request",
            "disk.device.write.requests": "request",
        }
    ),
    "instance_network_interface": _counters(
        {
            "network.incoming.bytes": "B",
            "network.outgoing.bytes": "B",
            "network.incoming.packets": "packet",
            "network.outgoing.packets": "packet",
        }
    ),
    # The listener's (onestack.metering.listener): notifications and the central polls.
    "volume": {"volume.size": MetricDefinition("GB")},
    "image": {"image.size": MetricDefinition("B")},
    "network": {"network": MetricDefinition("network")},
    "port": {"port": MetricDefinition("port")},
    "floatingip": {"ip.floating": MetricDefinition("ip.floating")},
    "router": {"router": MetricDefinition("router")},
    "swift_account": {
        "storage.objects.containers": MetricDefinition("container"),
        "storage.objects": MetricDefinition("object"),
        "storage.objects.size": MetricDefinition("B"),
    },
    # A metering label's bytes (l3.meter): the only generic resources collection makes.
    "generic": {"bandwidth": MetricDefinition("B")},
}


def metrics_of(resource_type: str) -> dict[str, MetricDefinition]:
    """The metrics a new resource of this type is made with (none for a type we do not
    define)."""
    return RESOURCE_METRICS.get(resource_type, {})
