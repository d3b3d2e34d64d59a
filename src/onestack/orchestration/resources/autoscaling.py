"""``OS::Heat::AutoScalingGroup`` (its members are the nested stack's resources) and
``OS::Heat::ScalingPolicy``, whose signal resizes an autoscaling group."""

from __future__ import annotations

import copy
import math
import secrets
import time
import uuid
from typing import Any

from onestack.common import errors
from onestack.orchestration.errors import ResourceFailure, StackValidationFailed, not_allowed
from onestack.orchestration.resources import rolling
from onestack.orchestration.resources.base import Checking, Context, Created, Plugin, Prop
from onestack.orchestration.resources.stacks import (
    GROUP_VERSION,
    StackBacked,
    check_member_def,
    literal_int,
    member_definition,
    nested_engine,
)


class AutoScalingGroup(StackBacked):
    type_name = "OS::Heat::AutoScalingGroup"
    description = "An autoscaling group that can scale arbitrary resources."
    properties = {
        "min_size": Prop("integer", required=True, update_allowed=True,
                         description="Minimum number of resources in the group."),
        "max_size": Prop("integer", required=True, update_allowed=True,
                         description="Maximum number of resources in the group."),
        "desired_capacity": Prop("integer", update_allowed=True,
                                 description="Desired initial number of resources."),
        "cooldown": Prop("integer", update_allowed=True,
                         description="Cooldown period, in seconds."),
        "resource": Prop("map", required=True, update_allowed=True,
                         description="Resource definition for the resources in the group."),
        "rolling_updates": Prop("map", update_allowed=True,
                                description="Policy for rolling updates for this group."),
    }  # fmt: skip
    attributes = {
        "outputs": "A map of resource names to the specified attribute of each resource.",
        "outputs_list": "A list of the specified attribute of each individual resource.",
        "current_size": "The current size of AutoscalingResourceGroup.",
        "refs": "A list of resource IDs for the resources in the group.",
        "refs_map": "A map of resource names to IDs for the resources in the group.",
    }

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        path = f"resources.{rdef.name}.properties"
        low = literal_int(rdef.properties.get("min_size"), env)
        high = literal_int(rdef.properties.get("max_size"), env)
        want = literal_int(rdef.properties.get("desired_capacity"), env)
        if low is not None and low < 0:
            raise StackValidationFailed(message=f"Property error: {path}.min_size: {low} is "
                                        "out of range (min: 0, max: None)")  # fmt: skip
        if low is not None and high is not None and high < low:
            raise StackValidationFailed(message=f"{path}: max_size can not be less than "
                                        "min_size")  # fmt: skip
        if want is not None and (
            (low is not None and want < low) or (high is not None and want > high)
        ):
            raise StackValidationFailed(message=f"{path}: desired_capacity must be between "
                                        "min_size and max_size")  # fmt: skip
        check_member_def(rdef.properties.get("resource"), env, f"{path}.resource")
        rolling.check_policy(rdef, env, {"rolling_update": rolling.ROLLING})

    @classmethod
    def bounds(cls, props: dict[str, Any]) -> tuple[int, int, int | None]:
        """min_size, max_size and desired_capacity (None when not given)."""
        want = props.get("desired_capacity")
        return int(props["min_size"]), int(props["max_size"]), None if want is None else int(want)

    async def member(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The definition each member is made from."""
        return member_definition(props["resource"])

    async def batching(self, c: Context, props: dict[str, Any]) -> rolling.Batching | None:
        """The rolling update the update_policy (or the deprecated property) asks for."""
        policy = await rolling.policy_of(c, "rolling_update", rolling.ROLLING)
        if policy is None and props.get("rolling_updates"):
            got = rolling.settings(props["rolling_updates"], rolling.ROLLING, "rolling_updates")
            policy = rolling.Batching(
                int(got["min_in_service"]), int(got["max_batch_size"]), float(got["pause_time"])
            )
        return policy

    @staticmethod
    def _template(member: dict[str, Any], names: list[str]) -> dict[str, Any]:
        return {
            "heat_template_version": GROUP_VERSION,
            "resources": {n: copy.deepcopy(member) for n in names},
        }

    @staticmethod
    def _names(current: list[str], size: int) -> list[str]:
        """Grow with new names, shrink by the oldest members first (Heat's default)."""
        names = current[max(0, len(current) - size) :]
        while len(names) < size:
            names.append(secrets.token_hex(6))
        return names

    async def attributes_of(self, c: Context, child: Any) -> dict[str, Any]:
        members = await nested_engine().members(c, child)
        keys: list[str] = []
        for _n, _id, attrs in members:
            keys += [k for k in attrs if k not in keys]
        return {
            "outputs": {k: {n: a.get(k) for n, _id, a in members} for k in keys},
            "outputs_list": {k: [a.get(k) for _n, _id, a in members] for k in keys},
            "current_size": len(members),
            "refs": [pid for _n, pid, _a in members],
            "refs_map": {n: pid for n, pid, _a in members},
        }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        low, high, want = self.bounds(props)
        size = max(low, min(high, low if want is None else want))
        member = await self.member(c, props)
        return await self._create(c, self._template(member, self._names([], size)), {})

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        nested = nested_engine()
        want = await self.member(c, new)
        child = await nested.child(c, physical_id)
        if any(
            d != want for d in ((child.template.get("resources") or {}) if child else {}).values()
        ):
            await self._rolling_update(c, physical_id, new, want)
        child = await nested.child(c, physical_id)
        current = list((child.template.get("resources") or {}) if child else [])
        low, high, size = self.bounds(new)
        if size is None or size == self.bounds(old)[2]:
            size = len(current)
        size = max(low, min(high, size))
        tmpl = self._template(want, self._names(current, size))
        return await self._update(c, physical_id, tmpl, {})

    async def _rolling_update(
        self, c: Context, physical_id: str, new: dict[str, Any], want: dict[str, Any]
    ) -> None:
        """The members given the new definition in batches, the oldest first, the group
        keeping its size (the resize to a new capacity follows)."""
        policy = await self.batching(c, new)
        nested = nested_engine()

        async def have() -> dict[str, Any]:
            child = await nested.child(c, physical_id)
            return dict((child.template.get("resources") or {}) if child else {})

        capacity = len(await have())
        if policy is None or not capacity:
            return

        async def apply(size: int, num_new: int) -> None:
            # Members still of the old definition first: replaced first, dropped first.
            members = sorted((await have()).items(), key=lambda item: item[1] == want)
            batch = rolling.member_definitions(
                members, lambda _n: want, size, num_new, lambda: secrets.token_hex(6)
            )
            tmpl = {"heat_template_version": GROUP_VERSION, "resources": batch}
            await self._update(c, physical_id, tmpl, {})

        steps = rolling.batches(capacity, capacity, policy, grown_count=True)
        await rolling.run_batches(c, steps, policy.pause_time, apply)

    async def resize(self, c: Context, row: Any, size: int) -> None:
        """Scale to ``size`` (within min and max): the group's nested stack updated, the
        group's row UPDATE_IN_PROGRESS then COMPLETE (or FAILED) with events."""
        nested = nested_engine()
        store = nested.engine_of(c).store
        props = row.properties
        low, high, _want = self.bounds(props)
        size = max(low, min(high, size))
        child = await nested.child(c, row.physical_resource_id)
        if child is None:
            return
        current = list(child.template.get("resources") or {})
        if size == len(current):
            return
        await store.resource_state(row.id, "UPDATE", "IN_PROGRESS", f"Scaling to {size}")
        try:
            tmpl = self._template(await self.member(c, props), self._names(current, size))
            attrs = await self._update(c, row.physical_resource_id, tmpl, {})
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            await store.resource_state(
                row.id, "UPDATE", "FAILED", f"{type(exc).__name__}: resources.{row.name}: "
                f"{reason}",
            )  # fmt: skip
            return
        await store.resource_state(
            row.id, "UPDATE", "COMPLETE", "state changed", attributes={**row.attributes, **attrs}
        )


ADJUSTMENTS = ("change_in_capacity", "exact_capacity", "percent_change_in_capacity")


def new_capacity(current: int, kind: str, adjustment: float, min_step: int | None) -> int:
    """Heat's scaling arithmetic (heat/scaling/scalingutil.py)."""
    if kind == "change_in_capacity":
        return current + int(adjustment)
    if kind == "exact_capacity":
        return int(adjustment)
    delta = current * adjustment / 100.0
    if abs(delta) < 1.0:
        rounded = int(math.floor(delta) if delta < 0.0 else math.ceil(delta))
    else:
        rounded = int(math.ceil(delta) if delta < 0.0 else math.floor(delta))
    if min_step and abs(rounded) < min_step:
        rounded = min_step if rounded >= 0 else -min_step
    return current + rounded


class ScalingPolicy(Plugin):
    type_name = "OS::Heat::ScalingPolicy"
    description = "A resource to manage scaling of OS::Heat::AutoScalingGroup."
    properties = {
        "auto_scaling_group_id": Prop("string", required=True,
                                      description="AutoScaling group ID to apply policy to."),
        "adjustment_type": Prop("string", required=True, update_allowed=True,
                                description="Type of adjustment (absolute or percentage)."),
        "scaling_adjustment": Prop("number", required=True, update_allowed=True,
                                   description="Size of adjustment."),
        "cooldown": Prop("number", update_allowed=True, description="Cooldown period, in "
                         "seconds."),
        "min_adjustment_step": Prop("integer", update_allowed=True,
                                    description="Minimum number of resources that are added or "
                                    "removed when percent_change_in_capacity."),
    }  # fmt: skip
    attributes = {
        "alarm_url": "A signed url to handle the alarm (no token needed: Aodh's webhook).",
        "signal_url": "A url to handle the alarm using native API (a token is needed).",
    }

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        kind = rdef.properties.get("adjustment_type")
        if isinstance(kind, str) and kind not in ADJUSTMENTS:
            raise StackValidationFailed(
                message=f"Property error: resources.{rdef.name}.properties.adjustment_type: "
                f"{not_allowed(kind, ADJUSTMENTS)}"
            )

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        from onestack.orchestration.resources.waits import signal_url

        secret = secrets.token_urlsafe(24)
        url = signal_url(c)
        attrs = {"alarm_url": f"{url}?signature={secret}", "signal_url": url}
        return Created(str(uuid.uuid4()), attrs, {"__signal_secret": secret})

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        return {}

    @classmethod
    def scaling(cls, props: dict[str, Any]) -> tuple[Any, str, float, float, int | None]:
        """The group's reference, the adjustment type (in this type's words), the
        adjustment, the cooldown and the minimum step."""
        return (
            props.get("auto_scaling_group_id"),
            str(props["adjustment_type"]),
            float(props["scaling_adjustment"]),
            float(props.get("cooldown") or 0),
            props.get("min_adjustment_step"),
        )

    async def signal(self, c: Context, row: Any, details: dict[str, Any]) -> None:
        """Adjust the group now unless the policy is cooling down; the group resizes in
        the background (the webhook answers at once, as Heat's does)."""
        nested = nested_engine()
        store = nested.engine_of(c).store
        group_ref, kind, adjustment, cooldown, min_step = self.scaling(row.properties)
        last = float((row.data or {}).get("__last_adjust") or 0)
        if time.time() - last < cooldown:
            await store.resource_event(row.id, "SIGNAL", "COMPLETE",
                                       "Signal ignored: the policy is in cooldown")  # fmt: skip
            return
        from onestack.orchestration.resources import plugin_type

        group = None
        for other in await store.resources(c.stack_id):
            if other.physical_resource_id == group_ref:
                group = other
        group_cls = plugin_type(group.type) if group is not None else None
        if group is None or group_cls is None or not issubclass(group_cls, AutoScalingGroup):
            raise StackValidationFailed(
                message=f"Resource {c.resource_name}: its auto_scaling_group_id names no "
                "group of this stack"
            )
        if group.status == "IN_PROGRESS":
            await store.resource_event(row.id, "SIGNAL", "COMPLETE",
                                       "Signal ignored: the group is being changed")  # fmt: skip
            return
        child = await nested.child(c, group.physical_resource_id)
        current = len((child.template.get("resources") or {}) if child else {})
        size = new_capacity(current, kind, adjustment, min_step)
        await store.resource_fields(row.id, data={**row.data, "__last_adjust": time.time()})
        reason = details.get("reason") if isinstance(details, dict) else None
        await store.resource_event(
            row.id, "SIGNAL", "COMPLETE",
            f"Signal: {reason or 'alarm'}: group {group.name} {current} -> {size}",
        )  # fmt: skip
        at = Context(c.runtime, c.ctx, c.stack_id, c.stack_name, group.name)
        c.runtime.spawn(group_cls().resize(at, group, size), f"scale-{group.id}")


PLUGINS: tuple[type[Plugin], ...] = (AutoScalingGroup, ScalingPolicy)
