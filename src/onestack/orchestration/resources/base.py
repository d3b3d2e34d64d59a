"""What a resource type is: its properties and attributes schema, and how it is created and
deleted. One module per family of types (``heat``, ``neutron``, ...) registers its plugins;
a plugin reaches other services only through their typed facades on ``Context.runtime``."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from onestack.common.context import RequestContext

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "list": (list,),
    "map": (dict,),
}


# What a get_attr reads: (attribute, its first key); (None, None) is every attribute,
# (name, None) the whole attribute.
Asked = tuple[str | None, str | None]


@dataclass(frozen=True)
class Prop:
    type: str  # string, integer, number, boolean, list, map
    required: bool = False
    default: Any = None
    description: str = ""
    update_allowed: bool = False

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": False,
            "description": self.description,
        }
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Context:
    """Who a plugin acts as and where: the stack owner's context and the process."""

    runtime: Runtime
    ctx: RequestContext
    stack_id: str
    stack_name: str
    resource_name: str


@dataclass
class Created:
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Checking:
    """What a definition's deeper check sees (a nested template's own check): the template
    it is in, the parameter values, the client's files, and the nested templates it sits
    in (a loop among them is a 400)."""

    tmpl: Any  # template.hot.Template
    values: dict[str, Any]
    files: dict[str, Any]
    max_resources: int
    trail: tuple[str, ...] = ()
    # Template validate (not a create): a template resource's properties are not checked
    # against its template's parameters (Heat validates only the nested templates then).
    lenient: bool = False


class Plugin(ABC):
    type_name: ClassVar[str]
    description: ClassVar[str] = ""
    properties: ClassVar[dict[str, Prop]] = {}
    attributes: ClassVar[dict[str, str]] = {}  # name: description
    # True: attributes beyond ``attributes`` exist (a deployment's outputs), not checked.
    open_attributes: ClassVar[bool] = False
    # True: ``signal`` is taken while the create still waits for it (before its id is
    # recorded): a software deployment waits for its outcome.
    signal_while_creating: ClassVar[bool] = False
    # True: ``signal`` is taken while the resource and its stack are being deleted (Heat's
    # no_signal_actions empty): a deployment's DELETE action waits for its outcome.
    signal_while_deleting: ClassVar[bool] = False
    # True: after a failed update (an engine gone mid-resize) the next update changes it in
    # place again rather than replacing it: a nested stack converges.
    update_failed_in_place: ClassVar[bool] = False
    # True: a change of the definition's metadata or update_policy alone is an update of it
    # too (Heat's nested stack resources: ``resource_facade`` in the nested stack sees them).
    follows_definition: ClassVar[bool] = False
    # True: every stack update replaces it, changed or not (Heat's ``_needs_update`` raising
    # UpdateReplace: an UpdateWaitConditionHandle gets a new id and no signals each time).
    replaced_on_update: ClassVar[bool] = False

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        """What ``check_properties`` cannot see (a nested template): 400 before anything is
        created."""
        return None

    async def signal(self, c: Context, row: Any, details: dict[str, Any]) -> None:
        """``POST .../resources/{name}/signal``: only resources that take signals say so."""
        from onestack.orchestration.errors import StackValidationFailed

        raise StackValidationFailed(
            message=f"Resource {c.resource_name} of type {self.type_name} does not take signals"
        )

    async def metadata(self, c: Context, row: Any) -> dict[str, Any]:
        """Heat's ``metadata_get``: the template's ``metadata`` as resolved when the resource
        was made, with what the resource itself keeps there over it (its ``metadata_set``:
        a wait handle's signals, a SOFTWARE_CONFIG server's deployments)."""
        return dict(row.rsrc_metadata or {})

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        """The first problem of ``props`` (only ``literal`` ones are type-checked: the others
        are function calls resolved later), or ""."""
        for name in props:
            if name not in cls.properties:
                return f"{path}: Unknown Property {name}"
        for name, prop in cls.properties.items():
            if prop.required and name not in props and prop.default is None:
                return f"{path}: Property {name} not assigned"
            if name in literal and props.get(name) is not None:
                bad = type_error(prop, props[name])
                if bad:
                    return f"{path}.{name}: {bad}"
        return ""

    @classmethod
    def with_defaults(cls, props: dict[str, Any]) -> dict[str, Any]:
        """Resolved properties with each schema default filled in, values coerced."""
        out = {k: p.default for k, p in cls.properties.items()}
        out.update({k: v for k, v in props.items() if v is not None})
        for name, prop in cls.properties.items():
            value = out.get(name)
            if value is None:
                continue
            if prop.type in ("integer", "number") and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    out[name] = int(value) if prop.type == "integer" else float(value)
            if prop.type == "boolean" and isinstance(value, str):
                out[name] = value.lower() in ("true", "1", "yes", "on")
            bad = type_error(prop, out[name])
            if bad:
                from onestack.orchestration.errors import ResourceFailure

                raise ResourceFailure(f"Property error: properties.{name}: {bad}")
        return out

    @abstractmethod
    async def create(self, c: Context, props: dict[str, Any]) -> Created: ...

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        """Remove what ``create`` made; a resource already gone counts as deleted."""
        return None

    async def snapshot_delete(
        self, c: Context, physical_id: str, data: dict[str, Any], state: tuple[str, str]
    ) -> None:
        """Heat's handle_snapshot_delete (``deletion_policy: Snapshot``): a copy that outlives
        the stack made (a volume's backup, a server's image) and waited for, then ``delete``;
        ``state`` is the resource's (action, status) before the delete. A type that does not
        override this refuses the policy when its template is checked."""
        raise NotImplementedError(self.type_name)

    @classmethod
    def takes_snapshot_delete(cls) -> bool:
        """Heat's check that the type has a handle_snapshot_delete of its own."""
        return cls.snapshot_delete is not Plugin.snapshot_delete

    async def update(
        self,
        c: Context,
        physical_id: str,
        data: dict[str, Any],
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:
        """Change the resource in place from ``old`` to ``new`` properties (only properties
        whose schema allows updates differ); the new attributes. ``Replace``: it cannot be
        changed in place, make a new one."""
        raise Replace()

    async def suspend(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        """Heat's handle_suspend: a resource without the notion has nothing to do."""
        return None

    async def resume(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        """Heat's handle_resume (called again on a resource already resumed)."""
        return None

    async def snapshot(self, c: Context, physical_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Heat's handle_snapshot: what to keep in the stack snapshot to restore from (a
        server's image); most resources keep nothing."""
        return {}

    async def delete_snapshot(self, c: Context, data: dict[str, Any]) -> None:
        """Remove what ``snapshot`` made (the snapshot is deleted)."""
        return None

    @classmethod
    def restore_properties(
        cls, props: dict[str, Any], snapshot_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Heat's handle_restore: the properties a restore converges on, given what
        ``snapshot`` kept."""
        return props

    async def restore_nested(
        self, c: Context, physical_id: str, kept: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A resource backed by a nested stack: that stack restored from its snapshot
        ``kept`` (its template, parameters and resources); the new attributes. None: it has
        no nested stack."""
        return None

    async def adopt(self, c: Context, given: dict[str, Any]) -> Created | None:
        """Adopt what the abandon data ``given`` recorded when it takes more than taking its
        id (a nested stack's resources, adopted in a new nested stack); None: the id."""
        return None

    async def orphans(self, c: Context) -> list[str]:
        """What a create of this resource that died before its id was recorded may have
        made (found by the mark ``create`` leaves on it); deleted before it starts over."""
        return []

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The attributes as they are now (a network's subnets grow after it was made), or
        None when what ``create`` recorded stays true."""
        return None

    async def live(self, c: Context, physical_id: str, asked: set[Asked]) -> dict[str, Any]:
        """The attributes among ``asked`` that are made anew each time they are read (Heat
        resolves them lazily: a server's ``console_urls`` makes console tokens); of one
        asked with a key, only that key's part (Heat's lazy mapping makes only it)."""
        return {}


class Replace(Exception):
    """The resource cannot be updated in place: the engine makes a new one, then deletes
    the old one (Heat's UpdateReplace)."""


def type_error(prop: Prop, value: Any) -> str:
    """What is wrong with ``value`` as ``prop``'s type (Heat's wording), or nothing."""
    types = _PY_TYPES[prop.type]
    if isinstance(value, bool) and prop.type in ("integer", "number"):
        return f'Value "{value}" is invalid for data type "{prop.type}".'
    if prop.type in ("integer", "number") and isinstance(value, str):
        try:
            float(value)
            return ""
        except ValueError:
            return f'Value "{value}" is invalid for data type "{prop.type}".'
    if prop.type == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return ""
    if prop.type == "boolean" and isinstance(value, str):
        return (
            ""
            if value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off")
            else (f'"{value}" is not a valid boolean')
        )
    if not isinstance(value, types):
        return f'Value "{value}" is invalid for data type "{prop.type}".'
    return ""
