"""Role-based access rules in oslo.policy's syntax, with per-service defaults.

Each service declares ``RuleDefault``s in its ``policies.py``; an operator may override any
rule (or add base rules) in a YAML file of ``"name": "check string"``. The evaluator supports
the oslo.policy check-string grammar: ``role:X``, ``rule:X``, ``KEY:VALUE`` generic checks with
``%(target.attr)s`` substitution, quoted or literal left sides (``'x':%(a)s``, ``True:%(b)s``),
``@`` / ``!`` / ``""``, ``and`` / ``or`` / ``not`` and parentheses.
We evaluate it ourselves rather than import oslo.policy: its oslo.config stack costs more
start-up time than the whole rest of the API.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from onestack.common import errors
from onestack.common.context import RequestContext

Check = Callable[[Mapping[str, Any], Mapping[str, Any], "Enforcer"], bool]


@dataclass(frozen=True)
class RuleDefault:
    name: str
    check_str: str
    description: str = ""
    scope_types: tuple[str, ...] = ()


class PolicySyntaxError(ValueError):
    pass


def _tokenize(text: str) -> list[str]:
    """oslo.policy's tokens: words split on spaces, with their outer parentheses peeled off
    (so ``%(target.id)s`` keeps its own)."""
    tokens: list[str] = []
    for word in text.split():
        body = word.lstrip("(")
        tokens.extend("(" * (len(word) - len(body)))
        if not body:
            continue
        core = body.rstrip(")")
        trailing = len(body) - len(core)
        if core:
            tokens.append(core)
        tokens.extend(")" * trailing)
    return tokens


_SUBST = re.compile(r"%\(([^)]+)\)s")


def _always(_t: Mapping[str, Any], _c: Mapping[str, Any], _e: Enforcer) -> bool:
    return True


def _never(_t: Mapping[str, Any], _c: Mapping[str, Any], _e: Enforcer) -> bool:
    return False


def _substitute(match: str, target: Mapping[str, Any]) -> str | None:
    """``%(key)s`` substitution from the flattened target; None when a key is missing."""
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        value = target.get(m.group(1))
        if value is None and m.group(1) not in target:
            missing = True
            return ""
        return str(value)

    out = _SUBST.sub(repl, match)
    return None if missing else out


def _lookup(creds: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    if path in creds:
        return True, creds[path]
    node: Any = creds
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _role_check(match: str) -> Check:
    def check(target: Mapping[str, Any], creds: Mapping[str, Any], _e: Enforcer) -> bool:
        wanted = _substitute(match, target)
        if wanted is None:
            return False
        return wanted.lower() in (r.lower() for r in creds.get("roles", ()))

    return check


def _rule_check(name: str) -> Check:
    def check(target: Mapping[str, Any], creds: Mapping[str, Any], e: Enforcer) -> bool:
        return e.check_rule(name, target, creds)

    return check


def _generic_check(kind: str, match: str) -> Check:
    literal: str | None = None
    try:
        literal = str(ast.literal_eval(kind))
    except (ValueError, SyntaxError):
        literal = None

    def check(target: Mapping[str, Any], creds: Mapping[str, Any], _e: Enforcer) -> bool:
        wanted = _substitute(match, target)
        if wanted is None:
            return False
        if literal is not None:
            return wanted == literal
        found, value = _lookup(creds, kind)
        if not found or value is None:
            return False
        if isinstance(value, list | tuple | set):
            return wanted in (str(v) for v in value)
        return wanted == str(value)

    return check


def _atom(token: str) -> Check:
    if token == "@":
        return _always
    if token == "!":
        return _never
    if ":" not in token:
        raise PolicySyntaxError(f"not a check: {token!r}")
    kind, match = token.split(":", 1)
    if kind == "role":
        return _role_check(match)
    if kind == "rule":
        return _rule_check(match)
    return _generic_check(kind, match)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def parse(self) -> Check:
        if not self.tokens:
            return _always
        check = self._or()
        if self.pos != len(self.tokens):
            raise PolicySyntaxError(f"unexpected {self.tokens[self.pos]!r}")
        return check

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise PolicySyntaxError("unexpected end of rule")
        self.pos += 1
        return token

    def _or(self) -> Check:
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda t, c, e: any(p(t, c, e) for p in parts)

    def _and(self) -> Check:
        parts = [self._not()]
        while self._peek() == "and":
            self._take()
            parts.append(self._not())
        if len(parts) == 1:
            return parts[0]
        return lambda t, c, e: all(p(t, c, e) for p in parts)

    def _not(self) -> Check:
        if self._peek() == "not":
            self._take()
            inner = self._not()
            return lambda t, c, e: not inner(t, c, e)
        token = self._take()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise PolicySyntaxError("missing ')'")
            return inner
        if token in (")", "and", "or"):
            raise PolicySyntaxError(f"unexpected {token!r}")
        return _atom(token)


def parse_rule(text: str) -> Check:
    return _Parser(text).parse()


def flatten(target: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"target": {"user": {"id": 1}}}`` → ``{"target.user.id": 1, ...}`` (and the originals)."""
    flat: dict[str, Any] = {}
    for key, value in target.items():
        name = f"{prefix}{key}"
        flat[name] = value
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
    return flat


BASE_RULES: tuple[RuleDefault, ...] = (
    RuleDefault("admin_required", "role:admin or is_admin:1", "Any admin token."),
    RuleDefault("service_role", "role:service", "A service user."),
    RuleDefault("system_reader", "role:reader and system_scope:all", "System-scope reader."),
    RuleDefault("system_admin", "role:admin and system_scope:all", "System-scope admin."),
    RuleDefault("project_reader", "role:reader and project_id:%(project_id)s", "Project reader."),
    RuleDefault("project_member", "role:member and project_id:%(project_id)s", "Project member."),
    RuleDefault("project_admin", "role:admin and project_id:%(project_id)s", "Project admin."),
    RuleDefault("owner", "user_id:%(user_id)s", "The user the target belongs to."),
)


# Policy answers remembered per (rule, caller's credentials, target): enough for the
# questions a busy cloud asks over and over, cleared whole when full.
DECISIONS = 4096

_Key = tuple[Any, ...]
_NESTED = object()


def _decision_key(action: str, ctx: RequestContext, flat: Mapping[str, Any]) -> _Key | None:
    """What a rule's answer depends on: every field ``policy_credentials`` reads and the
    target's leaves; None (not remembered) for a target with a value other than a string
    or None (``1`` and ``True`` are one key to a dict, not to a rule comparing strings)."""
    leaves: list[tuple[str, object]] = []
    for key, value in flat.items():
        if value is None or type(value) is str:
            leaves.append((key, value))
        elif isinstance(value, Mapping):
            leaves.append((key, _NESTED))  # its leaves are in ``flat`` too
        else:
            return None
    return (
        action,
        ctx.user_id,
        ctx.user_domain_id,
        ctx.project_id,
        ctx.project_domain_id,
        ctx.domain_id,
        ctx.system_scope,
        ctx.roles,
        frozenset(leaves),
    )


class Enforcer:
    """Holds the compiled rules; defaults from code, overrides from the operator's file.

    An answer is remembered: the same token asking the same question (a service validating
    tokens, a client polling a resource) was a tenth of a small request's CPU evaluating the
    same rules. Rules are pure functions of the credentials and the target, so the answer
    holds until the rules change (``register``, ``load_file``), which forgets them all."""

    def __init__(self, defaults: Iterable[RuleDefault] = (), policy_file: str = "") -> None:
        self.defaults: dict[str, RuleDefault] = {}
        self.rules: dict[str, Check] = {}
        self._decisions: dict[_Key, bool] = {}
        self.register(BASE_RULES)
        self.register(defaults)
        self.overrides: dict[str, str] = {}
        if policy_file:
            self.load_file(policy_file)

    def register(self, defaults: Iterable[RuleDefault]) -> None:
        self._decisions.clear()
        for rule in defaults:
            self.defaults[rule.name] = rule
            if rule.name not in getattr(self, "overrides", {}):
                self.rules[rule.name] = parse_rule(rule.check_str)

    def load_file(self, path: str) -> None:
        data = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(data, dict):
            raise PolicySyntaxError(f"{path}: expected a mapping of rule names to check strings")
        self._decisions.clear()
        for name, text in data.items():
            self.overrides[str(name)] = str(text)
            self.rules[str(name)] = parse_rule(str(text))

    def check_rule(self, name: str, target: Mapping[str, Any], creds: Mapping[str, Any]) -> bool:
        rule = self.rules.get(name)
        return rule is not None and rule(target, creds, self)

    def allowed(
        self, ctx: RequestContext, action: str, target: Mapping[str, Any] | None = None
    ) -> bool:
        default = self.defaults.get(action)
        if default is None:
            raise KeyError(f"unregistered policy rule {action}")
        if default.scope_types and ctx.scope not in default.scope_types:
            return False
        flat = flatten(target or {})
        key = _decision_key(action, ctx, flat)
        if key is not None:
            known = self._decisions.get(key)
            if known is not None:
                return known
        ok = self.check_rule(action, flat, ctx.policy_credentials())
        if key is not None:
            if len(self._decisions) >= DECISIONS:
                self._decisions.clear()
            self._decisions[key] = ok
        return ok

    def enforce(
        self, ctx: RequestContext, action: str, target: Mapping[str, Any] | None = None
    ) -> None:
        """Raise 403 unless ``ctx`` may perform ``action`` on ``target``."""
        if not self.allowed(ctx, action, target):
            raise errors.Forbidden(action=action)
