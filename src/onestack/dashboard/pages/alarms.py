"""The project's alarms (Aodh): the list with each alarm's state, an alarm on an instance's
metric (``gnocchi_resources_threshold``), its detail with the state history, enabling and
disabling it, and its deletion."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, FormError, confirm
from onestack.dashboard.web import Ctx, page

SERVICE = "alarming"
KIND = "gnocchi_resources_threshold"
AGGREGATIONS = ("mean", "min", "max", "sum", "std", "count", "last", "first", "median")
COMPARISONS = (
    ("gt", "greater than"),
    ("ge", "greater than or equal to"),
    ("lt", "less than"),
    ("le", "less than or equal to"),
    ("eq", "equal to"),
    ("ne", "not equal to"),
)
SEVERITIES = ("low", "moderate", "critical")
METRICS = ("cpu", "vcpus", "memory", "memory.usage", "disk.root.size", "disk.ephemeral.size")
ACTIONS = (
    ("alarm_actions", "Alarm Actions"),
    ("ok_actions", "OK Actions"),
    ("insufficient_data_actions", "Insufficient Data Actions"),
)
# Aodh's refusals name the rule's members: the fields are named after them.
FIELDS = [
    Field("name", required=True),
    Field("description"),
    Field("resource_id", required=True),
    Field("metric", value="cpu", required=True),
    Field("aggregation_method", value="mean"),
    Field("comparison_operator", value="gt"),
    Field("threshold", required=True),
    Field("granularity", value="300"),
    Field("evaluation_periods", value="1"),
    Field("severity", value="low"),
    *(Field(name, type="textarea") for name, _ in ACTIONS),
]


def row(alarm: dict[str, Any]) -> dict[str, Any]:
    rule = alarm.get(f"{alarm.get('type')}_rule") or {}
    condition = ""
    if "threshold" in rule:
        words = dict(COMPARISONS).get(rule.get("comparison_operator", ""), "")
        condition = (
            f"{rule.get('aggregation_method', '')}({rule.get('metric', '')}) {words} "
            f"{rule['threshold']:g}"
        )
    return {
        "id": alarm["alarm_id"],
        "name": alarm.get("name", ""),
        "type": alarm.get("type", ""),
        "state": alarm.get("state", ""),
        "severity": alarm.get("severity", ""),
        "enabled": bool(alarm.get("enabled")),
        "condition": condition,
        "resource_id": rule.get("resource_id", ""),
        "rule": rule,
    }


@page()
async def index(ctx: Ctx) -> Response:
    marker = ctx.request.query_params.get("marker")
    alarms = await ctx.api.get(
        SERVICE, "/v2/alarms", limit=ctx.page_size + 1, marker=marker, sort="name:asc"
    )
    more = len(alarms) > ctx.page_size
    rows = [row(a) for a in alarms[: ctx.page_size]]
    next_marker = rows[-1]["id"] if more and rows else ""
    return ctx.render(
        "project/alarms.html",
        rows=rows,
        next_url=ctx.url("/project/alarms/", marker=next_marker) if next_marker else "",
        paged=bool(marker),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _check(form: Form) -> None:
    """The numbers, beyond the required fields."""
    for name in ("threshold", "granularity", "evaluation_periods"):
        if name not in form.errors and form.values[name]:
            try:
                float(form.values[name])
            except ValueError:
                form.errors[name] = "Enter a number."


def alarm_body(values: dict[str, str]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "resource_type": "instance",
        "resource_id": values["resource_id"],
        "metric": values["metric"].strip(),
        "aggregation_method": values["aggregation_method"],
        "comparison_operator": values["comparison_operator"],
        "threshold": float(values["threshold"]),
    }
    for name in ("granularity", "evaluation_periods"):
        if values[name].strip():
            number = float(values[name])
            rule[name] = int(number) if number.is_integer() else number
    body: dict[str, Any] = {
        "name": values["name"].strip(),
        "type": KIND,
        "severity": values["severity"],
        f"{KIND}_rule": rule,
        **{name: _lines(values[name]) for name, _ in ACTIONS},
    }
    if values["description"].strip():
        body["description"] = values["description"].strip()
    return body


def _refused(form: Form, exc: APIError) -> None:
    """Aodh's refusal beside the field it concerns (an action by its URL), else above."""
    for name, _ in ACTIONS:
        if any(url in exc.message for url in _lines(form.values[name])):
            form.refused(FormError(exc.message, name))
            return
    form.refused(exc)


async def _instances(ctx: Ctx) -> list[tuple[str, str]]:
    """The choices of instance: one page of the project's (names from the one call)."""
    found = await ctx.api.get("compute", "/servers", limit=ctx.page_size * 5)
    named = [(str(s["id"]), f"{s.get('name') or s['id']} ({s['id']})") for s in found["servers"]]
    return [("", "Choose an instance"), *named]


@page()
async def create(ctx: Ctx) -> Response:
    form = Form(fields=FIELDS, template="project/alarm_create.html")
    form.values["resource_id"] = ctx.request.query_params.get("instance", "")
    if ctx.request.method == "POST":
        await form.read(ctx)
        _check(form)
        if not form.errors:
            try:
                made = await ctx.api.post(SERVICE, "/v2/alarms", alarm_body(form.values))
            except APIError as exc:
                _refused(form, exc)
            else:
                ctx.flash("success", f'Alarm "{made["name"]}" created.')
                return ctx.redirect(f"/project/alarms/{made['alarm_id']}/")
    return form.render(
        ctx,
        instances=await _instances(ctx),
        aggregations=[(a, a) for a in AGGREGATIONS],
        comparisons=COMPARISONS,
        severities=[(s, s) for s in SEVERITIES],
        metrics=METRICS,
        actions=ACTIONS,
    )


@page()
async def detail(ctx: Ctx) -> Response:
    alarm_id = ctx.request.path_params["alarm_id"]
    alarm = await ctx.api.get(SERVICE, f"/v2/alarms/{alarm_id}")
    history = await ctx.api.get(
        SERVICE, f"/v2/alarms/{alarm_id}/history", limit=ctx.page_size, sort="timestamp:desc"
    )
    return ctx.render(
        "project/alarm_detail.html",
        alarm=alarm,
        info=row(alarm),
        history=history,
        actions=ACTIONS,
    )


@page()
async def toggle(ctx: Ctx) -> Response:
    """POST: enable or disable the alarm (its whole body sent back, as Aodh's PUT wants)."""
    alarm_id = ctx.request.path_params["alarm_id"]
    alarm = await ctx.api.get(SERVICE, f"/v2/alarms/{alarm_id}")
    enabled = str((await ctx.form()).get("enabled", "")) == "1"
    readonly = ("alarm_id", "timestamp", "state_timestamp", "state_reason", "project_id",
                "user_id")  # fmt: skip
    body = {k: v for k, v in alarm.items() if k not in readonly}
    body["enabled"] = enabled
    try:
        await ctx.api.put(SERVICE, f"/v2/alarms/{alarm_id}", body)
    except APIError as exc:
        if exc.status in (401, 403, 404):
            raise
        ctx.flash("error", f'Unable to change alarm "{alarm["name"]}": {exc.message}')
    else:
        word = "enabled" if enabled else "disabled"
        ctx.flash("success", f'Alarm "{alarm["name"]}" {word}.')
    return ctx.redirect(f"/project/alarms/{alarm_id}/")


@page()
async def delete(ctx: Ctx) -> Response:
    alarm_id = ctx.request.path_params["alarm_id"]
    alarm = await ctx.api.get(SERVICE, f"/v2/alarms/{alarm_id}")
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Alarm",
            f'Delete the alarm "{alarm["name"]}"? It cannot be undone.',
            f"/project/alarms/{alarm_id}/",
            action=f"/project/alarms/{alarm_id}/delete/",
        )
    await ctx.api.delete(SERVICE, f"/v2/alarms/{alarm_id}")
    ctx.flash("success", f'Alarm "{alarm["name"]}" deleted.')
    return ctx.redirect("/project/alarms/")


ROUTES = [
    Route("/project/alarms/", index, methods=["GET"]),
    Route("/project/alarms/create/", create, methods=["GET", "POST"]),
    Route("/project/alarms/{alarm_id}/", detail, methods=["GET"]),
    Route("/project/alarms/{alarm_id}/toggle/", toggle, methods=["POST"]),
    Route("/project/alarms/{alarm_id}/delete/", delete, methods=["GET", "POST"]),
]
