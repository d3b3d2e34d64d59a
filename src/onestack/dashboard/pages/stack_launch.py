"""Launching and updating a stack: a template (uploaded, by URL or pasted) and an optional
environment, checked by Heat's ``validate``, then a form made from the template's
parameters (labels, descriptions, defaults, hidden ones as passwords, constraints as hints)."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.pages.stacks import SERVICE, stack_path, template_text
from onestack.dashboard.web import Ctx, page

SOURCES = (("file", "File"), ("url", "URL"), ("raw", "Direct Input"))
NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]*$")
PARAM = "param__"


async def _text(form: FormData, field: str) -> str:
    value = form.get(field)
    if isinstance(value, UploadFile):
        data = await value.read()
        return data.decode("utf-8", "replace")
    return str(value or "")


async def read_source(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    """The template and environment the source form names: (values, errors by field)."""
    values = {
        "template_source": str(form.get("template_source", "raw")),
        "template_url": str(form.get("template_url", "")).strip(),
        "template_data": str(form.get("template_data", "")),
        "environment_source": str(form.get("environment_source", "raw")),
        "environment_data": str(form.get("environment_data", "")),
    }
    errors: dict[str, str] = {}
    if values["template_source"] == "file":
        values["template_data"] = await _text(form, "template_upload")
        if not values["template_data"].strip():
            errors["template_upload"] = "Choose a template file."
    elif values["template_source"] == "url":
        values["template_data"] = ""
        if not values["template_url"].startswith(("http://", "https://")):
            errors["template_url"] = "Enter the template's http or https URL."
    elif not values["template_data"].strip():
        errors["template_data"] = "This field is required."
    if values["template_source"] != "url":
        values["template_url"] = ""  # a URL typed before the source changed is not sent
    if values["environment_source"] == "file":
        values["environment_data"] = await _text(form, "environment_upload")
    return values, errors


def template_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if values.get("template_url"):
        body["template_url"] = values["template_url"]
    else:
        body["template"] = values["template_data"]
    if values.get("environment_data", "").strip():
        body["environment"] = values["environment_data"]
    return body


def hint(spec: dict[str, Any]) -> str:
    """The parameter's constraints in words."""
    parts = []
    if "MinLength" in spec or "MaxLength" in spec:
        parts.append(f"Length {spec.get('MinLength', 0)} to {spec.get('MaxLength', 'any')}.")
    if "MinValue" in spec or "MaxValue" in spec:
        parts.append(f"From {spec.get('MinValue', 'any')} to {spec.get('MaxValue', 'any')}.")
    if "AllowedPattern" in spec:
        parts.append(f"Must match {spec['AllowedPattern']}.")
    if spec.get("ConstraintDescription"):
        parts.append(str(spec["ConstraintDescription"]))
    return " ".join(parts)


def _as_text(value: Any) -> str:
    """A parameter's value as its input holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def fields(params: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """One input per parameter, with the value typed, else the environment's (Heat's
    ``Value``), else the default (the environment's parameter_defaults included)."""
    found = []
    for name, spec in params.items():
        hidden = str(spec.get("NoEcho", "false")).lower() == "true"
        if "Value" in spec:
            # A hidden one is not sent to the browser: left empty, it is not sent back
            # either, and the environment's value stays in force.
            shown = "" if hidden else _as_text(spec["Value"])
        else:
            shown = _as_text(spec.get("Default"))
        kind = str(spec.get("Type", "String"))
        found.append(
            {
                "name": name,
                "input": PARAM + name,
                "label": spec.get("Label") or name,
                "description": spec.get("Description", ""),
                "value": values.get(PARAM + name, shown),
                "type": "password" if hidden else "number" if kind == "Number" else "text",
                "choices": [str(v) for v in spec.get("AllowedValues", [])]
                or (["true", "false"] if kind == "Boolean" else []),
                "hint": hint(spec),
                "required": "Default" not in spec and "Value" not in spec,
            }
        )
    return found


async def _validate(ctx: Ctx, values: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Heat's view of the template: (its parameters, '' or Heat's refusal)."""
    try:
        found = await ctx.api.post(SERVICE, "/validate", template_body(values))
    except APIError as exc:
        if exc.status in (401, 403):
            raise
        return {}, exc.message
    return dict(found.get("Parameters", {})), ""


def _source_page(
    ctx: Ctx, values: dict[str, str], errors: dict[str, str], **extra: Any
) -> Response:
    return ctx.render(
        "project/stack_template.html",
        status=400 if errors else 200,
        values=values,
        errors=errors,
        sources=SOURCES,
        **extra,
    )


def _launch_page(
    ctx: Ctx, values: dict[str, str], params: dict[str, Any], errors: dict[str, str], **extra: Any
) -> Response:
    return ctx.render(
        "project/stack_launch.html",
        status=400 if errors else 200,
        values=values,
        params=fields(params, values),
        errors=errors,
        carried=("template_url", "template_data", "environment_data"),
        **extra,
    )


@page()
async def select_template(ctx: Ctx) -> Response:
    """GET: where the template comes from; POST: validated, the launch form."""
    extra = {"title": "Select Template", "action": ctx.url("/project/stacks/select_template/")}
    if ctx.request.method == "GET":
        return _source_page(
            ctx, {"template_source": "file", "environment_source": "file"}, {}, **extra
        )
    values, errors = await read_source(await ctx.form())
    if not errors:
        params, problem = await _validate(ctx, values)
        if not problem:
            values.update({"stack_name": "", "timeout_mins": "60", "rollback": ""})
            return _launch_page(ctx, values, params, {}, **_launch_extra(ctx))
        errors["form"] = problem
    return _source_page(ctx, values, errors, **extra)


def _launch_extra(ctx: Ctx, stack: dict[str, Any] | None = None) -> dict[str, Any]:
    if stack is None:
        return {
            "title": "Launch Stack",
            "action": ctx.url("/project/stacks/launch/"),
            "stack": None,
        }
    return {
        "title": f"Update Stack: {stack['stack_name']}",
        "action": ctx.url(f"/project/stacks/edit_stack/{stack['id']}/"),
        "stack": stack,
    }


def _form_values(form: FormData) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}


def place_error(message: str, params: dict[str, Any]) -> dict[str, str]:
    """Heat's refusal beside the parameter it names, else above the form."""
    for name in params:
        if f"({name})" in message or f"'{name}'" in message or f'"{name}"' in message:
            return {PARAM + name: message}
    return {"form": message}


def stack_fields(values: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    body = template_body(values)
    body["parameters"] = {
        n: values.get(PARAM + n, "") for n in params if values.get(PARAM + n, "") != ""
    }
    timeout = values.get("timeout_mins", "").strip()
    if timeout:
        body["timeout_mins"] = int(timeout) if timeout.isdigit() else timeout
    body["disable_rollback"] = values.get("rollback") != "on"
    return body


@page()
async def launch(ctx: Ctx) -> Response:
    values = _form_values(await ctx.form())
    params, problem = await _validate(ctx, values)
    if problem:
        return _launch_page(ctx, values, params, {"form": problem}, **_launch_extra(ctx))
    errors = {}
    name = values.get("stack_name", "").strip()
    if not name:
        errors["stack_name"] = "This field is required."
    elif not NAME.match(name):
        errors["stack_name"] = "Start with a letter; then letters, digits, _ . and - only."
    for f in fields(params, values):
        if f["required"] and not values.get(f["input"], "").strip():
            errors[f["input"]] = "This field is required."
    if not errors:
        body = {"stack_name": name, **stack_fields(values, params)}
        try:
            made = await ctx.api.post(SERVICE, "/stacks", body)
        except APIError as exc:
            errors = place_error(exc.message, params)
        else:
            ctx.flash("success", f'Launch of stack "{name}" started.')
            return ctx.redirect(f"/project/stacks/stack/{made['stack']['id']}/")
    return _launch_page(ctx, values, params, errors, **_launch_extra(ctx))


@page()
async def change_template(ctx: Ctx) -> Response:
    """GET: the new template's source (the current one pasted); POST: the parameters form."""
    stack_id = ctx.request.path_params["stack_id"]
    path = await stack_path(ctx, stack_id)
    stack = (await ctx.api.get(SERVICE, path))["stack"]
    extra = {
        "title": f"Change Template: {stack['stack_name']}",
        "action": ctx.url(f"/project/stacks/change_template/{stack_id}/"),
    }
    if ctx.request.method == "GET":
        current = await template_text(ctx, path)
        values = {"template_source": "raw", "template_data": current, "environment_source": "raw"}
        return _source_page(ctx, values, {}, **extra)
    values, errors = await read_source(await ctx.form())
    if not errors:
        params, problem = await _validate(ctx, values)
        if not problem:
            kept = stack.get("parameters") or {}
            for name, spec in params.items():
                if str(spec.get("NoEcho", "")).lower() != "true" and name in kept:
                    values[PARAM + name] = str(kept[name])
            values["timeout_mins"] = str(stack.get("timeout_mins") or "")
            values["rollback"] = "" if stack.get("disable_rollback", True) else "on"
            return _launch_page(ctx, values, params, {}, **_launch_extra(ctx, stack))
        errors["form"] = problem
    return _source_page(ctx, values, errors, **extra)


@page()
async def edit_stack(ctx: Ctx) -> Response:
    stack_id = ctx.request.path_params["stack_id"]
    path = await stack_path(ctx, stack_id)
    stack = (await ctx.api.get(SERVICE, path))["stack"]
    values = _form_values(await ctx.form())
    params, problem = await _validate(ctx, values)
    errors = {"form": problem} if problem else {}
    for f in fields(params, values) if not problem else []:
        if f["required"] and not values.get(f["input"], "").strip() and f["type"] != "password":
            errors[f["input"]] = "This field is required."
    if not errors:
        try:
            # PATCH: a parameter left out (a hidden one) keeps its value, as Horizon sends it.
            await ctx.api.patch(SERVICE, path, stack_fields(values, params))
        except APIError as exc:
            errors = place_error(exc.message, params)
        else:
            ctx.flash("success", f'Update of stack "{stack["stack_name"]}" started.')
            return ctx.redirect(f"/project/stacks/stack/{stack_id}/", tab="events")
    return _launch_page(ctx, values, params, errors, **_launch_extra(ctx, stack))


ROUTES = [
    Route("/project/stacks/select_template/", select_template, methods=["GET", "POST"]),
    Route("/project/stacks/launch/", launch, methods=["POST"]),
    Route("/project/stacks/change_template/{stack_id}/", change_template, methods=["GET", "POST"]),
    Route("/project/stacks/edit_stack/{stack_id}/", edit_stack, methods=["POST"]),
]
