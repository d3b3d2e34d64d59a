"""HOT's intrinsic functions: which versions have which, how each evaluates, and the walk
that finds what a snippet refers to (for the dependency graph and up-front validation).

A function is a one-key mapping whose key is a function of the template's version. An
evaluation asks a ``Scope`` for what lies outside the snippet (parameters, resources'
ids and attributes, conditions)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from onestack.orchestration.errors import StackValidationFailed
from onestack.orchestration.template import cfn, yaqlfn

# Functions each HOT version adds to its predecessor (Heat's hot/template.py classes).
_ADDED: list[tuple[str, frozenset[str]]] = [
    (
        "2013-05-23",
        frozenset(
            {
                "get_param",
                "get_resource",
                "get_attr",
                "get_file",
                "str_replace",
                "resource_facade",
                "list_join",
            }
        ),
    ),
    # Heat's 2014-10-16 adds no HOT function: it drops the CloudFormation ones (Fn::*, Ref).
    ("2014-10-16", frozenset()),
    ("2015-04-30", frozenset({"repeat", "digest"})),
    ("2015-10-15", frozenset({"str_split"})),
    ("2016-04-08", frozenset({"map_merge"})),
    ("2016-10-14", frozenset({"map_replace", "if", "yaql", "equals", "not", "and", "or"})),
    ("2017-02-24", frozenset({"str_replace_strict", "filter"})),
    (
        "2017-09-01",
        frozenset(
            {"make_url", "list_concat", "list_concat_unique", "contains", "str_replace_vstrict"}
        ),
    ),
    ("2018-03-02", frozenset()),
    ("2018-08-31", frozenset()),
]
ALIASES = {
    "newton": "2016-10-14",
    "ocata": "2017-02-24",
    "pike": "2017-09-01",
    "queens": "2018-03-02",
    "rocky": "2018-08-31",
}
VERSIONS: dict[str, frozenset[str]] = {}
_acc: frozenset[str] = frozenset()
for _date, _names in _ADDED:
    _acc = _acc | _names
    VERSIONS[_date] = _acc
# Conditions appear with 2016-10-14; these functions may be used inside them.
CONDITION_FUNCTIONS = frozenset({"equals", "not", "and", "or", "get_param", "contains", "yaql"})
DESCRIPTIONS = {
    "get_param": "A function for resolving parameter references.",
    "get_resource": "A function for resolving resource references.",
    "get_attr": "A function for resolving resource attributes.",
    "get_file": "A function for including a file inline.",
    "str_replace": "A function for performing string substitutions.",
    "str_replace_strict": "A function for performing string substitutions; every param "
    "must be found.",
    "str_replace_vstrict": "A function for performing string substitutions; every param "
    "must be found and non-empty.",
    "resource_facade": "A function for retrieving data in a parent provider template.",
    "list_join": "A function for joining strings.",
    "repeat": "A function for iterating over a list of items.",
    "digest": "A function for performing digest operations.",
    "str_split": "A function for splitting delimited strings into a list.",
    "map_merge": "A function for merging maps.",
    "map_replace": "A function for performing substitutions on maps.",
    "if": "A function to return corresponding value based on condition evaluation.",
    "yaql": "A function for executing a yaql expression.",
    "equals": "A function for comparing whether two values are equal.",
    "not": "A function that acts as a NOT operator on a condition.",
    "and": "A function that acts as an AND operator on conditions.",
    "or": "A function that acts as an OR operator on conditions.",
    "filter": "A function to filter out values from a list.",
    "contains": "A function for checking whether the specific value is in the sequence.",
    "make_url": "A function for building URLs.",
    "list_concat": "A function for extending lists.",
    "list_concat_unique": "A function for extending lists with unique items.",
}


def version_functions(version: str) -> frozenset[str]:
    return VERSIONS[ALIASES.get(version, version)]


class Scope(Protocol):
    """What an evaluation needs from outside the snippet."""

    def param(self, name: str) -> Any: ...

    def resource_ref(self, name: str) -> Any: ...

    def attribute(self, resource: str, attr: str | None) -> Any: ...

    def condition(self, name: str) -> bool: ...

    def file(self, name: str) -> Any: ...

    def parent_facade(self, attr: str) -> Any: ...


@dataclass(frozen=True)
class Ref:
    """One reference a snippet makes: ``kind`` is "param", "resource", "attr" or "file"."""

    kind: str
    target: str
    path: str
    attr: str | None = None
    # The literal first key into the attribute's value (``novnc`` of
    # ``[server, console_urls, novnc]``): an attribute made when read makes only that part.
    key: str | None = None


def _fail(path: str, message: str) -> StackValidationFailed:
    return StackValidationFailed(message=f"{path}: {message}" if path else message)


def _fn_of(snippet: Any, functions: frozenset[str]) -> tuple[str, Any] | None:
    if isinstance(snippet, dict) and len(snippet) == 1:
        key = next(iter(snippet))
        if key in functions:
            return key, snippet[key]
    return None


def references(snippet: Any, functions: frozenset[str], path: str) -> list[Ref]:
    """Every parameter, resource, attribute and file ``snippet`` refers to, with the path of
    each (``resources.server.properties.networks[0].network``); 400 on a malformed call."""
    found: list[Ref] = []
    _walk(snippet, functions, path, found)
    return found


def _walk(snippet: Any, functions: frozenset[str], path: str, out: list[Ref]) -> None:
    call = _fn_of(snippet, functions)
    if call is not None:
        name, args = call
        here = f"{path}.{name}"
        if name in ("get_param", "get_resource", "get_file"):
            target = args[0] if name == "get_param" and isinstance(args, list) and args else args
            if not isinstance(target, str):
                if isinstance(target, dict):  # computed: checked when evaluated
                    _walk(target, functions, here, out)
                    return
                raise _fail(here, f"Arguments to {name} must be a string")
            kind = {"get_param": "param", "get_resource": "resource", "get_file": "file"}[name]
            out.append(Ref(kind, target, here))
            if name == "get_param" and isinstance(args, list):
                _walk(args[1:], functions, here, out)
            return
        if name == "get_attr":
            if not isinstance(args, list) or not args or not isinstance(args[0], str):
                raise _fail(here, "Arguments to get_attr must be a list [resource, attribute, ...]")
            attr = args[1] if len(args) > 1 and isinstance(args[1], str) else None
            key = args[2] if len(args) > 2 and isinstance(args[2], str) else None
            out.append(Ref("attr", args[0], here, attr, key))
            _walk(args[1:], functions, here, out)
            return
        if name == "yaql":
            _check_yaql(args, here)
        if name == "resource_facade":
            _check_facade(args, here)
        if name == "Fn::MemberListToMap":
            cfn.check_member_list(args, here)
        _walk(args, functions, here, out)
        return
    if isinstance(snippet, dict):
        for key, value in snippet.items():
            _walk(value, functions, f"{path}.{key}", out)
    elif isinstance(snippet, list):
        for i, value in enumerate(snippet):
            _walk(value, functions, f"{path}[{i}]", out)


_YAQL_SYNTAX = """yaql:
  expression: $.data.var1.sum()
  data:
    var1: [3, 2, 1]"""


def _check_yaql(args: Any, path: str) -> None:
    """Heat's up-front check: the arguments' shape, and a literal expression parses."""
    if not isinstance(args, dict):
        raise _fail(path, 'Arguments to "yaql" must be a map.')
    if "expression" not in args or set(args) - {"expression", "data"}:
        raise _fail(path, f'"yaql" syntax should be {_YAQL_SYNTAX}')
    if isinstance(args["expression"], dict):
        return  # computed: parsed when evaluated
    try:
        yaqlfn.parse(args["expression"])
    except yaqlfn.YaqlError as exc:
        raise _fail(path, str(exc)) from None


FACADE_ATTRIBUTES = ("metadata", "deletion_policy", "update_policy")


def _check_facade(args: Any, path: str) -> str:
    if args not in FACADE_ATTRIBUTES:
        raise _fail(path, 'Incorrect arguments to "resource_facade" should be one of: '
                    + ", ".join(FACADE_ATTRIBUTES))  # fmt: skip
    return str(args)


def _base64(args: Any, scope: Scope, path: str) -> Any:
    """Heat's ``Fn::Base64`` is a placeholder: the string as given (Nova encodes user data)."""
    if not isinstance(args, str):
        raise _fail(path, 'Arguments to "Fn::Base64" must be a string')
    return args


def _yaql(args: Any, scope: Scope, path: str) -> Any:
    _check_yaql(args, path)
    try:
        return yaqlfn.evaluate(args["expression"], args.get("data", {}))
    except yaqlfn.YaqlError as exc:
        raise _fail(path, str(exc)) from None


def evaluate(snippet: Any, functions: frozenset[str], scope: Scope, path: str = "") -> Any:
    """``snippet`` with every function call replaced by its value."""
    call = _fn_of(snippet, functions)
    if call is not None:
        name, args = call
        here = f"{path}.{name}" if path else name
        if name == "if":  # lazy: only the chosen branch is evaluated
            return _if(args, functions, scope, here)
        impl = _IMPLS.get(name)
        if impl is None:
            raise _fail(here, f"The function {name} is not supported by this cloud.")
        return impl(evaluate(args, functions, scope, here), scope, here)
    if isinstance(snippet, dict):
        return {k: evaluate(v, functions, scope, f"{path}.{k}") for k, v in snippet.items()}
    if isinstance(snippet, list):
        return [evaluate(v, functions, scope, f"{path}[{i}]") for i, v in enumerate(snippet)]
    return snippet


def _if(args: Any, functions: frozenset[str], scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) not in (2, 3):
        raise _fail(path, 'Arguments to "if" must be [condition, value_if_true, value_if_false]')
    cond = args[0]
    chosen = (
        scope.condition(cond)
        if isinstance(cond, str)
        else bool(evaluate(cond, functions, scope, path))
    )
    if chosen:
        return evaluate(args[1], functions, scope, path)
    return evaluate(args[2], functions, scope, path) if len(args) == 3 else None


def _get_param(args: Any, scope: Scope, path: str) -> Any:
    keys = args if isinstance(args, list) else [args]
    if not keys or not isinstance(keys[0], str):
        raise _fail(path, "Arguments to get_param must be a name and an optional path")
    return _index(scope.param(keys[0]), keys[1:], path)


def _index(value: Any, keys: list[Any], path: str) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, IndexError, TypeError):
                return None
        elif value is None:
            return None
        else:
            raise _fail(path, f'Path components in attributes must be strings or ints, "{key}"')
    return value


def _get_attr(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or not args:
        raise _fail(path, "Arguments to get_attr must be a list [resource, attribute, ...]")
    attr = args[1] if len(args) > 1 else None
    rest = list(args[2:])
    if isinstance(attr, str) and attr.startswith("resource.") and rest:
        # A group member's attribute: [group, resource.0, name] is [group, resource.0.name].
        attr, rest = f"{attr}.{rest[0]}", rest[1:]
    return _index(scope.attribute(str(args[0]), attr), rest, path)


def _str_replace(strict: int) -> Callable[[Any, Scope, str], Any]:
    def impl(args: Any, scope: Scope, path: str) -> Any:
        if not isinstance(args, dict) or "template" not in args or "params" not in args:
            raise _fail(path, '"str_replace" arguments must be a map with template and params')
        text, params = args["template"], args["params"]
        if not isinstance(text, str) or not isinstance(params, dict):
            raise _fail(path, '"str_replace" template must be a string and params a map')
        for key in sorted(params, key=lambda k: -len(str(k))):
            value = params[key]
            if strict and str(key) not in text:
                raise _fail(path, f"The following params were not found in the template: {key}")
            if strict == 2 and value in ("", None):
                raise _fail(path, f'str_replace_vstrict has an empty value for param "{key}"')
            if isinstance(value, (dict, list)):
                value = json.dumps(value)
            elif value is None:
                value = ""
            elif isinstance(value, bool):
                value = str(value).lower()
            text = text.replace(str(key), str(value))
        return text

    return impl


def _list_join(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) < 2 or not isinstance(args[0], str):
        raise _fail(path, "Arguments to list_join must be [delimiter, list, ...]")
    items: list[Any] = []
    for part in args[1:]:
        if not isinstance(part, list):
            raise _fail(path, "Arguments to list_join after the delimiter must be lists")
        items.extend(part)
    return args[0].join(json.dumps(i) if isinstance(i, (dict, list)) else str(i) for i in items)


def _str_split(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) not in (2, 3):
        raise _fail(path, "Arguments to str_split must be [delimiter, string, (index)]")
    parts = str(args[1]).split(args[0])
    if len(args) == 3:
        try:
            return parts[int(args[2])]
        except (ValueError, IndexError):
            raise _fail(path, f"Incorrect index to str_split: {args[2]}") from None
    return parts


def _repeat(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, dict) or "template" not in args or "for_each" not in args:
        raise _fail(path, 'Arguments to "repeat" must be a map with template and for_each')
    for_each = args["for_each"]
    if not isinstance(for_each, dict) or not all(isinstance(v, list) for v in for_each.values()):
        raise _fail(path, 'The values of the "for_each" argument to "repeat" must be lists')
    combos: list[dict[str, Any]] = [{}]
    for key, values in for_each.items():
        combos = [{**c, key: v} for c in combos for v in values]

    def fill(tmpl: Any, subs: dict[str, Any]) -> Any:
        if isinstance(tmpl, str):
            for k, v in subs.items():
                tmpl = tmpl.replace(k, str(v))
            return tmpl
        if isinstance(tmpl, dict):
            return {fill(k, subs): fill(v, subs) for k, v in tmpl.items()}
        if isinstance(tmpl, list):
            return [fill(v, subs) for v in tmpl]
        return tmpl

    return [fill(args["template"], c) for c in combos]


def _digest(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) != 2:
        raise _fail(path, "Arguments to digest must be [algorithm, value]")
    try:
        return hashlib.new(str(args[0]), str(args[1]).encode()).hexdigest()
    except ValueError:
        raise _fail(path, f"Algorithm {args[0]} is not available") from None


def _map_merge(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or not all(isinstance(m, dict) for m in args):
        raise _fail(path, "Arguments to map_merge must be a list of maps")
    out: dict[str, Any] = {}
    for m in args:
        out.update(m)
    return out


def _map_replace(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or not args or not isinstance(args[0], dict):
        raise _fail(path, "Arguments to map_replace must be [map, {keys: ..., values: ...}]")
    repl = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    keys, values = repl.get("keys", {}), repl.get("values", {})
    return {keys.get(k, k): values.get(v, v) if isinstance(v, str) else v
            for k, v in args[0].items()}  # fmt: skip


def _equals(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) != 2:
        raise _fail(path, 'Arguments to "equals" must be of the form: [value_1, value_2]')
    return args[0] == args[1]


def _not(args: Any, scope: Scope, path: str) -> Any:
    return not (scope.condition(args) if isinstance(args, str) else bool(args))


def _bools(args: Any, scope: Scope, path: str, name: str) -> list[bool]:
    if not isinstance(args, list) or len(args) < 2:
        raise _fail(path, f'Arguments to "{name}" must be a list of at least two conditions')
    return [scope.condition(a) if isinstance(a, str) else bool(a) for a in args]


def _contains(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[1], (list, str)):
        raise _fail(path, 'Arguments to "contains" must be of the form: [value1, [value1, value2]]')
    return args[0] in args[1]


def _filter(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[1], list):
        raise _fail(path, 'Arguments to "filter" must be of the form: [values_to_filter, list]')
    drop = args[0] if isinstance(args[0], list) else [args[0]]
    return [v for v in args[1] if v not in drop]


def _make_url(args: Any, scope: Scope, path: str) -> Any:
    if not isinstance(args, dict) or "host" not in args:
        raise _fail(path, '"make_url" needs a map with at least "host"')
    url = f"{args.get('scheme', 'http')}://{args['host']}"
    if args.get("port"):
        url += f":{args['port']}"
    url += "/" + quote(str(args.get("path", "")).lstrip("/"))
    query = args.get("query")
    if isinstance(query, dict) and query:
        url += "?" + "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in query.items())
    if args.get("fragment"):
        url += "#" + quote(str(args["fragment"]))
    return url


def _list_concat(unique: bool) -> Callable[[Any, Scope, str], Any]:
    def impl(args: Any, scope: Scope, path: str) -> Any:
        if not isinstance(args, list) or not all(isinstance(a, list) for a in args):
            raise _fail(path, "Arguments to list_concat must be lists")
        out: list[Any] = []
        for part in args:
            for item in part:
                if not unique or item not in out:
                    out.append(item)
        return out

    return impl


def _get_file(args: Any, scope: Scope, path: str) -> Any:
    return scope.file(str(args))


_IMPLS: dict[str, Callable[[Any, Scope, str], Any]] = {
    "get_param": _get_param,
    "get_resource": lambda a, s, p: s.resource_ref(str(a)),
    "get_attr": _get_attr,
    "get_file": _get_file,
    "str_replace": _str_replace(0),
    "str_replace_strict": _str_replace(1),
    "str_replace_vstrict": _str_replace(2),
    "list_join": _list_join,
    "str_split": _str_split,
    "repeat": _repeat,
    "digest": _digest,
    "map_merge": _map_merge,
    "map_replace": _map_replace,
    "equals": _equals,
    "not": _not,
    "and": lambda a, s, p: all(_bools(a, s, p, "and")),
    "or": lambda a, s, p: any(_bools(a, s, p, "or")),
    "contains": _contains,
    "filter": _filter,
    "make_url": _make_url,
    "list_concat": _list_concat(False),
    "list_concat_unique": _list_concat(True),
    "yaql": _yaql,
    "resource_facade": lambda a, s, p: s.parent_facade(_check_facade(a, p)),
    "Fn::Select": lambda a, s, p: cfn.select(a, p),
    "Fn::Split": _str_split,  # HOT 2013-05-23's: [delimiter, string]
    "Fn::Base64": _base64,
    "Fn::GetAZs": lambda a, s, p: ["nova"],  # the one availability zone
    "Fn::MemberListToMap": lambda a, s, p: cfn.member_list_to_map(a, p),
}
NAME = re.compile(r"^[A-Za-z0-9_.:\-]+$")  # a resource, parameter or output name
