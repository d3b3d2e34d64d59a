"""Aodh's resource types through alarming's facade: the Gnocchi aggregation
alarms (``OS::Aodh::GnocchiAggregationByResourcesAlarm``, ``...ByMetricsAlarm``) and
``OS::Aodh::Alarm`` (Heat's legacy meter alarm, made as the Gnocchi aggregation alarm Aodh
keeps today). Their ``alarm_actions`` are usually a scaling policy's ``alarm_url``."""

from __future__ import annotations

import json
from typing import Any

from onestack.orchestration.resources.base import Context, Created, Plugin, Prop

_COMMON = {
    "description": Prop("string", update_allowed=True, description="Description for the alarm."),
    "enabled": Prop("boolean", default=True, update_allowed=True,
                    description="True if alarm evaluation/actioning is enabled."),
    "alarm_actions": Prop("list", default=[], update_allowed=True,
                          description="URLs to invoke when the state goes to alarm."),
    "ok_actions": Prop("list", default=[], update_allowed=True,
                       description="URLs to invoke when the state goes to ok."),
    "insufficient_data_actions": Prop("list", default=[], update_allowed=True,
                                      description="URLs to invoke on insufficient data."),
    "repeat_actions": Prop("boolean", default=True, update_allowed=True,
                           description="False to trigger actions only on a state change."),
    "severity": Prop("string", default="low", update_allowed=True,
                     description="Severity of the alarm (low, moderate, critical)."),
    "time_constraints": Prop("list", default=[], update_allowed=True,
                             description="Describe time constraints for the alarm."),
    "comparison_operator": Prop("string", update_allowed=True,
                                description="Operator to compare the metric with threshold."),
    "threshold": Prop("number", required=True, update_allowed=True,
                      description="Threshold to evaluate against."),
    "evaluation_periods": Prop("integer", update_allowed=True,
                               description="Number of periods to evaluate over."),
}  # fmt: skip
_STATISTICS = {"avg": "mean", "sum": "sum", "min": "min", "max": "max", "count": "count"}


def _alarming(c: Context) -> Any:
    from onestack.alarming.facade import AlarmingAPI

    return c.runtime.service(AlarmingAPI)


class _Alarm(Plugin):
    attributes = {"show": "Detailed information about the alarm."}
    alarm_type = "gnocchi_aggregation_by_resources_threshold"  # Aodh's type of the alarm made

    def rule(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": f"{c.stack_name}-{c.resource_name}",
            "type": self.alarm_type,
            f"{self.alarm_type}_rule": self.rule(c, props),
        }
        for key in ("enabled", "alarm_actions", "ok_actions", "insufficient_data_actions",
                    "repeat_actions", "severity", "time_constraints"):  # fmt: skip
            if props.get(key) is not None:
                body[key] = props[key]
        if props.get("description"):
            body["description"] = props["description"]
        return body

    @staticmethod
    def threshold_fields(props: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"threshold": props["threshold"]}
        for key in ("comparison_operator", "evaluation_periods"):
            if props.get(key) is not None:
                out[key] = props[key]
        return out

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        alarm = await _alarming(c).create(c.ctx, self.body(c, props))
        return Created(alarm["alarm_id"])

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        await _alarming(c).update(c.ctx, physical_id, self.body(c, new))
        return {}

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await _alarming(c).delete(c.ctx, physical_id)

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        return {"show": await _alarming(c).show(c.ctx, physical_id)}


class GnocchiAggregationByResourcesAlarm(_Alarm):
    type_name = "OS::Aodh::GnocchiAggregationByResourcesAlarm"
    description = "A resource that implements alarm with specified aggregation of resources."
    properties = {
        **_COMMON,
        "metric": Prop("string", required=True, update_allowed=True, description="Metric name "
                       "watched by the alarm."),
        "aggregation_method": Prop("string", required=True, update_allowed=True,
                                   description="The aggregation method to compare to the "
                                   "threshold."),
        "granularity": Prop("integer", update_allowed=True, description="The time range in "
                            "seconds."),
        "resource_type": Prop("string", required=True, update_allowed=True,
                              description="Resource type."),
        "query": Prop("string", required=True, update_allowed=True,
                      description="A query to filter resource (JSON)."),
    }  # fmt: skip

    def rule(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        out = self.threshold_fields(props)
        for key in ("metric", "aggregation_method", "granularity", "resource_type", "query"):
            if props.get(key) is not None:
                out[key] = props[key]
        return out


class GnocchiAggregationByMetricsAlarm(_Alarm):
    type_name = "OS::Aodh::GnocchiAggregationByMetricsAlarm"
    description = "A resource that implements alarm with specified aggregation of metrics."
    alarm_type = "gnocchi_aggregation_by_metrics_threshold"
    properties = {
        **_COMMON,
        "metrics": Prop("list", required=True, update_allowed=True, description="A list of "
                        "metric ids."),
        "aggregation_method": Prop("string", update_allowed=True, description="The "
                                   "aggregation method to compare to the threshold."),
        "granularity": Prop("integer", update_allowed=True, description="The time range in "
                            "seconds."),
    }  # fmt: skip

    def rule(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        out = self.threshold_fields(props)
        out["metrics"] = [str(m) for m in props["metrics"]]
        for key in ("aggregation_method", "granularity"):
            if props.get(key) is not None:
                out[key] = props[key]
        return out


class MeterAlarm(_Alarm):
    type_name = "OS::Aodh::Alarm"
    description = (
        "A resource that implements alarming service of Aodh (a meter's statistic over the "
        "stack's servers, kept as a Gnocchi aggregation alarm)."
    )
    properties = {
        **_COMMON,
        "meter_name": Prop("string", required=True, update_allowed=True,
                           description="Meter name watched by the alarm."),
        "period": Prop("integer", update_allowed=True, description="Period (seconds) to "
                       "evaluate over."),
        "statistic": Prop("string", update_allowed=True, description="Meter statistic to "
                          "evaluate (count, avg, sum, min, max)."),
        "matching_metadata": Prop("map", default={}, update_allowed=True,
                                  description="Meter should match this resource metadata "
                                  "(key=value) additionally to the meter_name."),
        "query": Prop("list", default=[], update_allowed=True,
                      description="A list of query factors (field, op, value)."),
    }  # fmt: skip

    def rule(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        out = self.threshold_fields(props)
        out["metric"] = props["meter_name"]
        out["aggregation_method"] = _STATISTICS.get(str(props.get("statistic") or "avg"), "mean")
        if props.get("period"):
            out["granularity"] = props["period"]
        out["resource_type"] = "instance"
        # The resource attributes to match: Heat's metadata.user_metadata.<key> become the
        # server's own metadata keys; without any, the stack owner's project.
        terms: list[dict[str, Any]] = [
            {"=": {str(k).rsplit(".", 1)[-1]: v}}
            for k, v in (props.get("matching_metadata") or {}).items()
        ]
        terms += [
            {"=": {str(q.get("field", "")).rsplit(".", 1)[-1]: q.get("value")}}
            for q in props.get("query") or []
            if isinstance(q, dict)
        ]
        if not terms:
            terms = [{"=": {"project_id": c.ctx.project_id}}]
        out["query"] = json.dumps(terms[0] if len(terms) == 1 else {"and": terms})
        return out


PLUGINS: tuple[type[Plugin], ...] = (
    GnocchiAggregationByResourcesAlarm,
    GnocchiAggregationByMetricsAlarm,
    MeterAlarm,
)
