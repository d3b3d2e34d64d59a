"""What can be done to an instance, and the one-click actions (start, stop, reboot, pause,
suspend, shelve, lock, resize confirm/revert): which are offered for the instance's state
(Nova's own rules, as Horizon offers them), the confirmation page of the disruptive ones,
and the action itself with the API's refusal shown when the state changed meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, FormError, confirm
from onestack.dashboard.web import Ctx, NotFound, page

LIST = "/project/instances/"


@dataclass(frozen=True)
class Action:
    """One entry of an instance's menu: ``body`` for the server's action call (a simple
    action), or a form page of its own (``form``)."""

    label: str
    states: tuple[str, ...]  # the statuses Nova starts it from (empty: any)
    body: dict[str, Any] | None = None
    confirm: str = ""  # the question of a disruptive action's confirmation page
    done: str = ""  # the success message ({name}: the instance's name)
    form: bool = False
    danger: bool = False


_RUNNING = ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED")

# In menu order. The statuses are Nova's vm_states as the API shows them.
ACTIONS: dict[str, Action] = {
    "start": Action("Start Instance", ("SHUTOFF",), {"os-start": None}, done="Started {name}."),
    "stop": Action(
        "Shut Off Instance",
        ("ACTIVE", "ERROR"),
        {"os-stop": None},
        confirm='Shut off the instance "{name}"?',
        done="Shutting off {name}.",
        danger=True,
    ),
    "reboot_soft": Action(
        "Soft Reboot Instance",
        ("ACTIVE",),
        {"reboot": {"type": "SOFT"}},
        confirm='Soft reboot the instance "{name}"?',
        done="Soft rebooting {name}.",
        danger=True,
    ),
    "reboot_hard": Action(
        "Hard Reboot Instance",
        (*_RUNNING, "ERROR"),
        {"reboot": {"type": "HARD"}},
        confirm='Hard reboot the instance "{name}"? Its guest is reset, unsaved data is lost.',
        done="Hard rebooting {name}.",
        danger=True,
    ),
    "confirm_resize": Action(
        "Confirm Resize/Migrate",
        ("VERIFY_RESIZE",),
        {"confirmResize": None},
        done="Confirmed {name}'s resize.",
    ),
    "revert_resize": Action(
        "Revert Resize/Migrate",
        ("VERIFY_RESIZE",),
        {"revertResize": None},
        confirm='Revert the resize of "{name}" to its old flavor?',
        done="Reverting {name}'s resize.",
        danger=True,
    ),
    "snapshot": Action("Create Snapshot", _RUNNING, form=True),
    "attach_volume": Action("Attach Volume", _RUNNING, form=True),
    "detach_volume": Action("Detach Volume", _RUNNING, form=True),
    "attach_interface": Action("Attach Interface", ("ACTIVE", "SHUTOFF", "PAUSED"), form=True),
    "detach_interface": Action("Detach Interface", ("ACTIVE", "SHUTOFF", "PAUSED"), form=True),
    "associate": Action("Associate Floating IP", _RUNNING, form=True),
    "disassociate": Action("Disassociate Floating IP", _RUNNING, form=True),
    "resize": Action("Resize Instance", ("ACTIVE", "SHUTOFF"), form=True),
    "rebuild": Action("Rebuild Instance", ("ACTIVE", "SHUTOFF", "ERROR"), form=True),
    "pause": Action(
        "Pause Instance",
        ("ACTIVE",),
        {"pause": None},
        confirm='Pause the instance "{name}"?',
        done="Paused {name}.",
    ),
    "unpause": Action("Resume Instance", ("PAUSED",), {"unpause": None}, done="Unpaused {name}."),
    "suspend": Action(
        "Suspend Instance",
        ("ACTIVE",),
        {"suspend": None},
        confirm='Suspend the instance "{name}"?',
        done="Suspended {name}.",
    ),
    "resume": Action(
        "Resume Suspended Instance", ("SUSPENDED",), {"resume": None}, done="Resumed {name}."
    ),
    "shelve": Action(
        "Shelve Instance",
        _RUNNING,
        {"shelve": None},
        confirm='Shelve the instance "{name}"? Its guest stops and its host is freed.',
        done="Shelving {name}.",
    ),
    "unshelve": Action(
        "Unshelve Instance",
        ("SHELVED", "SHELVED_OFFLOADED"),
        {"unshelve": None},
        done="Unshelving {name}.",
    ),
    "lock": Action("Lock Instance", (), {"lock": None}, done="Locked {name}."),
    "unlock": Action("Unlock Instance", (), {"unlock": None}, done="Unlocked {name}."),
    "delete": Action("Delete Instance", (), form=True, danger=True),
}


def allowed(server: dict[str, Any], *, is_admin: bool = False) -> list[tuple[str, Action]]:
    """The actions the instance's state allows now, as Horizon offers them: none while a
    task runs but delete; a locked instance's only unlock and delete for a non-admin."""
    status = str(server.get("status", ""))
    locked = bool(server.get("locked"))
    busy = bool(server.get("OS-EXT-STS:task_state")) or status in ("BUILD", "DELETED")
    offered: list[tuple[str, Action]] = []
    for name, action in ACTIONS.items():
        if (name == "lock" and locked) or (name == "unlock" and not locked):
            pass
        elif name == "delete":
            offered.append((name, action))
        elif busy or (locked and not is_admin and name != "unlock"):
            pass
        elif not action.states or status in action.states:
            offered.append((name, action))
    return offered


def path_of(server_id: str, name: str) -> str:
    """Where an action's form or confirmation lives."""
    if name == "delete":
        return f"/project/instances/{server_id}/delete/"
    if ACTIONS[name].form:
        return f"/project/instances/{server_id}/{name}/"
    return f"/project/instances/{server_id}/action/{name}/"


async def server_of(ctx: Ctx) -> dict[str, Any]:
    server_id = ctx.request.path_params["server_id"]
    found: dict[str, Any] = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    return found


def label_of(server: dict[str, Any]) -> str:
    return str(server.get("name") or server["id"])


def form_of(
    ctx: Ctx,
    server: dict[str, Any],
    name: str,
    fields: list[Field],
    button: str,
    *,
    intro: str = "",
    danger: bool = False,
) -> Form:
    """An action's form page: ``intro`` says what it does; ``danger`` marks a disruptive
    one (the form is its confirmation)."""
    return Form(
        fields=fields,
        title=ACTIONS[name].label,
        button=button,
        action=ctx.url(path_of(server["id"], name)),
        cancel=ctx.url(LIST),
        intro=intro,
        danger=danger,
        template="project/instance_form.html",
    )


# What a form action does once its values are checked: the success message.
Do = Callable[[dict[str, Any]], Awaitable[str]]


async def run(ctx: Ctx, server: dict[str, Any], form: Form, do: Do) -> Response:
    """GET: the form; POST: the required fields, then ``do``; back to the list with its
    message, or the form again (400) with the refusal beside the field it names."""
    if ctx.request.method == "GET":
        form.fill(ctx.request.query_params)
        return form.render(ctx, server=server)
    await form.read(ctx)
    if not form.errors:
        try:
            message = await do(form.values)
        except APIError as exc:
            if exc.status >= 500 or (exc.status == 404 and "nstance" in exc.message):
                raise
            form.refused(exc)
        except FormError as exc:
            form.refused(exc)
        else:
            ctx.flash("success", message)
            return ctx.redirect(LIST)
    return form.render(ctx, server=server)


@page()
async def act(ctx: Ctx) -> Response:
    """GET: the confirmation page (or, for a harmless action, the same page with its
    button); POST: the action, then back with Nova's answer as the message."""
    name = ctx.request.path_params["action"]
    action = ACTIONS.get(name)
    if action is None or action.body is None:
        raise NotFound()
    server = await server_of(ctx)
    label = server.get("name") or server["id"]
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            action.label,
            (action.confirm or f'{action.label}: "{{name}}"?').format(name=label),
            LIST,
            action=path_of(server["id"], name),
        )
    form = await ctx.form()
    to = str(form.get("next", "")) or LIST
    try:
        await ctx.api.post("compute", f"/servers/{server['id']}/action", action.body)
    except APIError as exc:
        if exc.status in (403, 404):
            raise
        ctx.flash("error", f"Unable to {action.label.lower()} {label}: {exc.message}")
    else:
        ctx.flash("success", action.done.format(name=label))
    return ctx.redirect(to if to in (LIST, f"/project/instances/{server['id']}/") else LIST)


ROUTES = [
    Route("/project/instances/{server_id}/action/{action}/", act, methods=["GET", "POST"]),
]
