"""The compute scheduler: pure filters and weighers (``select_hosts``) over host candidates,
and atomic claims of the chosen hosts' resources in the database (``schedule``)."""

from onestack.compute.scheduler.claims import (
    claim,
    confirm_resize,
    load_candidates,
    migration_consumer,
    release,
    reschedule,
    resize_claim,
    revert_resize,
    schedule,
)
from onestack.compute.scheduler.filters import FILTERS, filter_hosts
from onestack.compute.scheduler.hosts import (
    HostCandidate,
    MaxRetriesExceeded,
    NoValidHost,
    Placement,
    RequestSpec,
    parse_availability_zone,
)
from onestack.compute.scheduler.select import rank_hosts, select_hosts
from onestack.compute.scheduler.weighers import weigh_hosts

__all__ = [
    "FILTERS",
    "HostCandidate",
    "MaxRetriesExceeded",
    "NoValidHost",
    "Placement",
    "RequestSpec",
    "claim",
    "confirm_resize",
    "filter_hosts",
    "load_candidates",
    "migration_consumer",
    "parse_availability_zone",
    "rank_hosts",
    "release",
    "reschedule",
    "resize_claim",
    "revert_resize",
    "schedule",
    "select_hosts",
    "weigh_hosts",
]
