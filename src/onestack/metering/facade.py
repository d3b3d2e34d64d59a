"""What other services (and this service's collector and evaluator) may ask of metering.

Alarming also shares two of metering's vocabularies: the aggregation methods a rule may name
(``AGGREGATION_METHODS``) and the filter language of a search (``compile_filter``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from onestack.common.context import RequestContext
from onestack.metering.filters import compile_filter
from onestack.metering.series import METHODS as AGGREGATION_METHODS

__all__ = [
    "AGGREGATION_METHODS",
    "SERVICE_CONTEXT",
    "MeteringAPI",
    "Point",
    "Sample",
    "compile_filter",
]


@dataclass(frozen=True)
class Sample:
    """One measure of a named metric of a resource (what a pollster or listener yields)."""

    resource_id: str
    resource_type: str
    name: str  # e.g. "cpu", "disk.device.read.bytes"
    unit: str
    value: float
    timestamp: float  # epoch seconds
    project_id: str | None = None
    user_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)  # the resource's
    archive_policy: str | None = None
    cumulative: bool = False  # a counter (its rate is what users want): a "-rate" policy


@dataclass(frozen=True)
class Point:
    timestamp: float  # epoch seconds of the bucket's start
    granularity: float  # seconds
    value: float


class MeteringAPI(Protocol):
    async def publish(self, samples: Sequence[Sample]) -> None:
        """Create or update the samples' resources and metrics, then queue their measures
        (Ceilometer's Gnocchi publisher)."""

    async def end_resource(self, resource_id: str, ended_at: float) -> None:
        """Mark a resource (and its ``instance_disk`` / ``instance_network_interface``
        children) ended."""

    async def resource_visible(self, ctx: RequestContext, resource_id: str) -> bool:
        """Whether ``ctx`` may see the resource (its project's, or one it created)."""

    async def metric_visible(self, ctx: RequestContext, metric_id: str) -> bool: ...

    async def measures(
        self,
        ctx: RequestContext,
        resource_id: str,
        metric: str,
        *,
        aggregation: str,
        granularity: float,
        start: float | None = None,
        stop: float | None = None,
    ) -> list[Point]:
        """A resource's named metric as ``ctx`` may read it; ``MetricNotFound`` /
        ``ResourceNotFound`` / ``AggregationNotFound`` (404s) otherwise."""

    async def aggregate(
        self,
        ctx: RequestContext,
        operations: Any,
        *,
        granularity: float,
        start: float | None = None,
        stop: float | None = None,
        search: Any = None,
        resource_type: str | None = None,
    ) -> list[Point]:
        """``POST /v1/aggregates``'s ``aggregated`` series (or the only series) as ``ctx``
        sees it; ``search`` over ``resource_type`` when given."""


SERVICE_CONTEXT = RequestContext(
    request_id="req-metering", user_id="metering", project_id="service", roles=("admin",)
)
