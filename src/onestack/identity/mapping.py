"""Keystone's federation mapping: rules that turn a remote user's assertion (attributes set by
the trusted front: ``REMOTE_USER``, an IdP's claims) into a local user, groups and projects.

A rule applies when every one of its ``remote`` conditions holds. A condition names an
attribute (``type``) and may require one of some values (``any_one_of``), none of them
(``not_any_of``), either as regular expressions (``regex``); or keep only some values
(``whitelist``) or drop some (``blacklist``). A condition with no requirement, and the
white/blacklisted ones, capture the attribute's values for ``{0}``, ``{1}``... (in the order of
the rule's conditions) in the rule's ``local`` part. Attribute values are split on ``;`` as
Keystone splits them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from onestack.common import errors

Text = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Closed(BaseModel):
    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Remote(_Closed):
    type: Text
    any_one_of: list[str] | None = None
    not_any_of: list[str] | None = None
    whitelist: list[str] | None = None
    blacklist: list[str] | None = None
    regex: StrictBool = False

    @model_validator(mode="after")
    def _one_requirement(self) -> Remote:
        given = [self.any_one_of, self.not_any_of, self.whitelist, self.blacklist]
        if sum(x is not None for x in given) > 1:
            raise ValueError(
                "a remote condition has at most one of any_one_of, not_any_of, whitelist "
                "and blacklist"
            )
        if self.regex and (self.whitelist is not None or self.blacklist is not None):
            raise ValueError("regex applies to any_one_of and not_any_of only")
        return self


class DomainRef(_Closed):
    id: Text | None = None
    name: Text | None = None

    @model_validator(mode="after")
    def _one(self) -> DomainRef:
        if (self.id is None) == (self.name is None):
            raise ValueError("a domain is named by exactly one of id or name")
        return self


class LocalUser(_Closed):
    id: Text | None = None
    name: Text | None = None
    email: Text | None = None
    type: Literal["ephemeral", "local"] = "ephemeral"
    domain: DomainRef | None = None


class LocalGroup(_Closed):
    id: Text | None = None
    name: Text | None = None
    domain: DomainRef | None = None

    @model_validator(mode="after")
    def _named(self) -> LocalGroup:
        if self.id is None and (self.name is None or self.domain is None):
            raise ValueError("a group is named by its id, or by its name and domain")
        return self


class RoleRef(_Closed):
    name: Text


class LocalProject(_Closed):
    name: Text
    roles: list[RoleRef] = Field(min_length=1)


class Local(_Closed):
    user: LocalUser | None = None
    group: LocalGroup | None = None
    groups: Text | None = None  # names, from a captured list; with ``domain``
    group_ids: Text | None = None
    domain: DomainRef | None = None
    projects: list[LocalProject] | None = None

    @model_validator(mode="after")
    def _something(self) -> Local:
        if not any((self.user, self.group, self.groups, self.group_ids, self.projects)):
            raise ValueError("a local rule maps a user, group, groups, group_ids or projects")
        if self.groups is not None and self.domain is None:
            raise ValueError("groups by name need their domain")
        return self


class Rule(_Closed):
    local: list[Local] = Field(min_length=1)
    remote: list[Remote] = Field(min_length=1)


class Rules(_Closed):
    """A mapping's rules, validated as Keystone's mapping schema (1.0)."""

    rules: list[Rule] = Field(min_length=1)
    schema_version: Literal["1.0"] | None = None


@dataclass
class Mapped:
    """What the rules made of an assertion: the user's fields, groups and projects."""

    user: dict[str, Any] = field(default_factory=dict)
    group_ids: list[str] = field(default_factory=list)
    group_names: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (name, domain)
    projects: list[dict[str, Any]] = field(default_factory=list)


def _values(assertion: dict[str, str], name: str) -> list[str] | None:
    lowered = {k.lower(): v for k, v in assertion.items()}
    raw = lowered.get(name.lower())
    if raw is None:
        return None
    return [v for v in raw.split(";") if v != ""]


def _matches(condition: list[str], value: str, regex: bool) -> bool:
    if regex:
        return any(re.search(pattern, value) for pattern in condition)
    return value in condition


def _captures(rule: Rule, assertion: dict[str, str]) -> list[list[str]] | None:
    """The values the rule's conditions capture, or None when a condition fails."""
    captured: list[list[str]] = []
    for remote in rule.remote:
        values = _values(assertion, remote.type)
        if values is None:
            return None
        if remote.any_one_of is not None:
            if not any(_matches(remote.any_one_of, v, remote.regex) for v in values):
                return None
        elif remote.not_any_of is not None:
            if any(_matches(remote.not_any_of, v, remote.regex) for v in values):
                return None
        elif remote.whitelist is not None:
            captured.append([v for v in values if v in remote.whitelist])
        elif remote.blacklist is not None:
            captured.append([v for v in values if v not in remote.blacklist])
        else:
            captured.append(values)
    return captured


_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _fill(template: str, captured: list[list[str]]) -> list[str]:
    """The template with ``{n}`` replaced; a placeholder alone stands for all its values."""
    whole = _PLACEHOLDER.fullmatch(template)
    try:
        if whole:
            return list(captured[int(whole.group(1))])
        return [_PLACEHOLDER.sub(lambda m: ";".join(captured[int(m.group(1))]), template)]
    except IndexError:
        raise errors.BadRequest(
            f"Mapping rule refers to an unmatched remote value: {template}"
        ) from None


def _one(template: str, captured: list[list[str]]) -> str | None:
    filled = _fill(template, captured)
    return ";".join(filled) if filled else None


def _domain(ref: DomainRef | None) -> dict[str, str] | None:
    return None if ref is None else ref.model_dump(exclude_none=True)


def _apply(local: Local, captured: list[list[str]], out: Mapped) -> None:
    if local.user is not None:
        user: dict[str, Any] = {"type": local.user.type}
        for key in ("id", "name", "email"):
            template = getattr(local.user, key)
            if template is not None:
                value = _one(template, captured)
                if value:
                    user[key] = value
        domain = _domain(local.user.domain or local.domain)
        if domain is not None:
            user["domain"] = domain
        out.user = {**out.user, **user}
    if local.group is not None:
        if local.group.id is not None:
            out.group_ids.extend(_fill(local.group.id, captured))
        else:
            domain = _domain(local.group.domain)
            assert local.group.name is not None and domain is not None
            out.group_names.extend((n, domain) for n in _fill(local.group.name, captured))
    if local.groups is not None:
        domain = _domain(local.domain)
        assert domain is not None
        out.group_names.extend((n, domain) for n in _fill(local.groups, captured))
    if local.group_ids is not None:
        out.group_ids.extend(_fill(local.group_ids, captured))
    for project in local.projects or ():
        name = _one(project.name, captured)
        if name:
            out.projects.append({"name": name, "roles": [r.name for r in project.roles]})


def apply_rules(rules: Rules, assertion: dict[str, str]) -> Mapped:
    """Every applying rule's local part, merged; a user named by no rule is ``REMOTE_USER``.
    Unauthorized when nothing maps."""
    out = Mapped()
    for rule in rules.rules:
        captured = _captures(rule, assertion)
        if captured is not None:
            for local in rule.local:
                _apply(local, captured, out)
    if not out.user.get("name") and not out.user.get("id"):
        remote_user = _values(assertion, "REMOTE_USER")
        if remote_user and (out.user or out.group_ids or out.group_names):
            out.user = {"type": "ephemeral", **out.user, "name": remote_user[0]}
    if not out.user.get("name") and not out.user.get("id"):
        raise errors.Unauthorized("Could not map any federated user properties to identity values.")
    out.group_ids = list(dict.fromkeys(out.group_ids))
    out.group_names = list(
        {(n, tuple(sorted(d.items()))): (n, d) for n, d in out.group_names}.values()
    )
    return out
