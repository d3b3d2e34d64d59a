"""Groups' ``update_policy`` as Heat does it (heat/scaling/rolling_update.py and
heat/scaling/template.py): a ``rolling_update`` gives members the new definition in
batches of at most ``max_batch_size``, keeping ``min_in_service`` members in service (the
group grows for a batch when it must) and pausing ``pause_time`` seconds between batches;
a ResourceGroup's ``batch_create`` makes its members the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onestack.common import errors
from onestack.orchestration.errors import ResourceFailure, StackValidationFailed
from onestack.orchestration.resources.base import Checking, Context

MAX_PAUSE = 3600  # Heat refuses a longer pause_time

# key: (type, minimum, default)
ROLLING = {
    "min_in_service": ("integer", 0, 0),
    "max_batch_size": ("integer", 1, 1),
    "pause_time": ("number", 0, 0),
}
BATCH_CREATE = {"max_batch_size": ("integer", 1, 1), "pause_time": ("number", 0, 0)}
Schema = dict[str, dict[str, tuple[str, int, int]]]


@dataclass(frozen=True)
class Batching:
    min_in_service: int
    max_batch_size: int
    pause_time: float


def needs_update(targ: int, curr: int, up_to_date: int) -> bool:
    # A group larger than its target needs a batch to shrink, whatever is up to date.
    return curr > targ or up_to_date < targ


def next_batch(
    targ: int, curr: int, up_to_date: int, batch_size: int, min_in_service: int
) -> tuple[int, int]:
    """The group's size after the next batch, and how many members get the new definition
    in it (by being made or changed)."""
    efft_min = min(min_in_service, targ, curr)
    efft_batch = min(batch_size, max(targ - up_to_date, 0))
    return efft_batch + max(min(curr, targ - efft_batch), efft_min), efft_batch


def batches(targ: int, curr: int, policy: Batching, grown_count: bool) -> list[tuple[int, int]]:
    """Each batch's (size, number of new definitions). ``grown_count``: a member made to
    keep the group in service counts as up to date (an autoscaling group's newest members
    stay, its oldest go); else it does not (a resource group keeps its lowest indexes)."""
    out: list[tuple[int, int]] = []
    updated = 0
    while needs_update(targ, curr, updated) and len(out) <= 2 * targ + 2:
        size, new = next_batch(targ, curr, updated, policy.max_batch_size, policy.min_in_service)
        out.append((size, new))
        updated += new if grown_count else new - max(size - max(curr, targ), 0)
        curr = size
    return out


def member_definitions(
    old: list[tuple[str, Any]],
    definition_for: Callable[[str], Any],
    size: int,
    num_new: int,
    new_name: Callable[[], str],
) -> dict[str, Any]:
    """The members of a batch: the last ``size`` of ``old`` (the first are dropped), up to
    ``num_new`` of them given their new definition, then members made to reach ``size``."""
    old = old[max(0, len(old) - size) :]
    num_create = size - len(old)
    num_replace = num_new - num_create
    out: dict[str, Any] = {}
    for name, have in old:
        want = definition_for(name)
        if have != want and num_replace > 0:
            num_replace -= 1
            have = want
        out[name] = have
    for _ in range(max(0, num_create)):
        name = new_name()
        out[name] = definition_for(name)
    return out


def check_policy(rdef: Any, env: Checking, schema: Schema) -> None:
    """A 400 before anything is made for an update_policy Heat would refuse."""
    from onestack.orchestration.template import functions, hot

    path = f"resources.{rdef.name}.update_policy"
    raw = rdef.update_policy
    if raw is None:
        return
    try:
        policy = functions.evaluate(raw, env.tmpl.functions, hot._CondScope(env.tmpl, env.values))
    except errors.OneStackError:
        return  # known only once made
    if not isinstance(policy, dict):
        raise StackValidationFailed(message=f"{path}: must be a map")
    for section, value in policy.items():
        if section not in schema:
            raise StackValidationFailed(message=f"{path}: Unknown Property {section}")
        settings(value or {}, schema[section], f"{path}.{section}")


def settings(value: Any, keys: dict[str, tuple[str, int, int]], path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StackValidationFailed(message=f"{path}: must be a map")
    out: dict[str, Any] = {k: default for k, (_t, _m, default) in keys.items()}
    for key, given in value.items():
        if key not in keys:
            raise StackValidationFailed(message=f"{path}: Unknown Property {key}")
        kind, low, _default = keys[key]
        try:
            number = float(given) if kind == "number" else int(str(given))
        except (TypeError, ValueError):
            raise StackValidationFailed(
                message=f'{path}.{key}: Value "{given}" is invalid for data type "{kind}".'
            ) from None
        if isinstance(given, bool) or number < low:
            raise StackValidationFailed(
                message=f"{path}.{key}: {given} is out of range (min: {low}, max: None)"
            )
        if key == "pause_time" and number > MAX_PAUSE:
            raise StackValidationFailed(
                message=f"{path}: Maximum pause_time allowed is 1hr(3600s), provided "
                f"{given} seconds."
            )
        out[key] = number
    return out


async def policy_of(c: Context, section: str, keys: dict[str, Any]) -> Batching | None:
    """The resource's ``update_policy`` section as its stack's template has it now (the
    new template during an update), None when it has none."""
    value = await section_of(c, section)
    if value is None:
        return None
    got = settings(value, keys, f"resources.{c.resource_name}.update_policy.{section}")
    return Batching(
        int(got.get("min_in_service", 0)), int(got["max_batch_size"]), float(got["pause_time"])
    )


async def section_of(c: Context, section: str) -> Any:
    """The resource's ``update_policy`` section, evaluated, as its stack's template has it
    now; None when it has none."""
    from onestack.orchestration.resources.stacks import nested_engine
    from onestack.orchestration.template import functions, hot

    parent = await nested_engine().parent_of(c)
    registry = (parent.environment or {}).get("resource_registry") or {}
    tmpl = hot.parse(parent.template, registry)
    rdef = tmpl.resources.get(c.resource_name)
    raw = rdef.update_policy if rdef is not None else None
    if raw is None:
        return None
    policy = functions.evaluate(raw, tmpl.functions, hot._CondScope(tmpl, parent.parameters))
    return policy.get(section) if isinstance(policy, dict) else None


async def run_batches(
    c: Context,
    steps: list[tuple[int, int]],
    pause: float,
    apply: Callable[[int, int], Any],
) -> None:
    """Each batch applied in turn (``apply(size, num_new)`` awaits the nested stack's
    update), with the pause between batches; refused when the pauses alone would outlast
    the stack's timeout, as Heat does."""
    from onestack.orchestration.resources.stacks import nested_engine

    parent = await nested_engine().parent_of(c)
    if parent.timeout_mins and pause * max(len(steps) - 1, 0) >= parent.timeout_mins * 60:
        raise ResourceFailure("The current update_policy will result in stack update timeout.")
    for index, (size, num_new) in enumerate(steps):
        await apply(size, num_new)
        if pause > 0 and index < len(steps) - 1:
            await asyncio.sleep(pause)
