"""What a resource's properties and the stack's outputs see when they are evaluated: the
parameter values, the pseudo parameters, the resources made so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onestack.orchestration.errors import (
    StackValidationFailed,
    TemplateOutputError,
    UserParameterMissing,
)

# A nested stack's resource's attribute naming the outputs in error (their messages): a
# reference to one fails as Heat's does, the parent's output then in error in turn.
OUTPUT_ERRORS = "__output_errors"


@dataclass
class Made:
    """A resource as far as references go: its id and attributes (empty until created)."""

    physical_id: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class StackScope:
    values: dict[str, Any]
    pseudo: dict[str, Any]
    conditions: dict[str, bool]
    files: dict[str, Any]
    made: dict[str, Made]
    # A nested stack's view of the resource that owns it; None for a stack at the top.
    facade: dict[str, Any] | None = None

    def param(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name not in self.values:
            # Only an output reaches here (a resource's reference is refused before): Heat
            # makes it that output's error.
            raise UserParameterMissing(key=name)
        return self.values[name]

    def resource_ref(self, name: str) -> Any:
        made = self.made.get(name)
        return made.physical_id if made else None

    def attribute(self, resource: str, attr: str | None) -> Any:
        made = self.made.get(resource)
        if made is None:
            return None
        failed = made.attributes.get(OUTPUT_ERRORS) or {}
        if attr in failed:
            raise TemplateOutputError(resource=resource, attribute=attr, reason=failed[attr])
        if attr is None or attr == "show":
            return {k: v for k, v in made.attributes.items() if k != OUTPUT_ERRORS}
        return made.attributes.get(attr)

    def condition(self, name: str) -> bool:
        return self.conditions.get(name, False)

    def file(self, name: str) -> Any:
        return self.files.get(name)

    def parent_facade(self, attr: str) -> Any:
        """Heat's ``resource_facade``: the parent resource's metadata, deletion_policy or
        update_policy (Heat's defaults when its definition has none)."""
        if self.facade is None:
            raise StackValidationFailed(
                message="resource_facade is only available in a nested stack's template "
                "(this stack has no parent resource)"
            )
        defaults: dict[str, Any] = {"metadata": {}, "deletion_policy": "Delete",
                                    "update_policy": {}}  # fmt: skip
        found = self.facade.get(attr)
        return defaults.get(attr) if found is None else found
