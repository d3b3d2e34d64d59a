"""The CloudFormation functions HOT templates have, as Heat's hot/template.py lists them:
HOT 2013-05-23 keeps ``Ref``, ``Fn::Join``, ``Fn::Split``, ``Fn::Replace``,
``Fn::ResourceFacade``, ``Fn::Select``, ``Fn::Base64``, ``Fn::GetAZs`` and
``Fn::MemberListToMap``; 2014-10-16 and 2015-04-30 keep ``Fn::Select`` alone; every other
use is Heat's ``Removed`` function, whose validation refuses the template. The ones that
name something (``Ref``) or have a HOT twin are rewritten into the HOT function they mean,
so references and the dependency graph see them; the others stay functions of their own."""

from __future__ import annotations

from typing import Any

from onestack.orchestration.errors import InvalidTemplateVersion
from onestack.orchestration.template import cfn

CFN = frozenset({"Ref", "Fn::Join", "Fn::Split", "Fn::Replace", "Fn::ResourceFacade",
                 "Fn::Select", "Fn::Base64", "Fn::GetAZs", "Fn::MemberListToMap"})  # fmt: skip
_LIVE = {"2013-05-23": CFN, "2014-10-16": frozenset({"Fn::Select"}),
         "2015-04-30": frozenset({"Fn::Select"})}  # fmt: skip
_REWRITTEN = frozenset({"Ref", "Fn::Join", "Fn::Replace", "Fn::ResourceFacade"})
_PSEUDO = ("OS::stack_name", "OS::stack_id", "OS::project_id")


def live(version: str) -> frozenset[str]:
    """The CloudFormation functions ``version`` has (for its function list)."""
    return _LIVE.get(version, frozenset())


def kept(version: str) -> frozenset[str]:
    """Those the evaluator runs as they are (the others are rewritten)."""
    return live(version) - _REWRITTEN


def translate(raw: dict[str, Any], version: str) -> dict[str, Any]:
    """``raw`` with its resources' and outputs' CloudFormation functions rewritten where
    ``version`` has them (``raw`` itself when it has none); 400 on one it does not have."""
    has, params = live(version), set(raw.get("parameters") or {}) | set(_PSEUDO)

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in CFN:
            name, args = next(iter(value.items()))
            if name not in has:
                raise InvalidTemplateVersion(
                    explanation=f"The function {name} is not supported in this version of HOT."
                )
            if name in _REWRITTEN:
                return _rewrite(name, walk(args, f"{path}.{name}"), params, f"{path}.{name}")
        return {k: walk(v, f"{path}.{k}") for k, v in value.items()}

    out = dict(raw)
    for section in ("resources", "outputs"):
        items = raw.get(section)
        if isinstance(items, dict):
            out[section] = {n: walk(d, f"{section}.{n}") for n, d in items.items()}
    return out if out != raw else raw


def _rewrite(name: str, args: Any, params: set[str], path: str) -> Any:
    if name == "Ref":  # Heat's cfn Ref: a parameter's value, else the resource's id
        return {"get_param": args} if isinstance(args, str) and args in params else {
            "get_resource": args}  # fmt: skip
    if name == "Fn::Join":
        return {"list_join": args}
    if name == "Fn::Replace":
        if not isinstance(args, list) or len(args) != 2:
            raise cfn._fail(path, 'Arguments to "Fn::Replace" must be [{map}, "string"]')
        return {"str_replace": {"template": args[1], "params": args[0]}}
    facade = {"Metadata": "metadata", "DeletionPolicy": "deletion_policy",
              "UpdatePolicy": "update_policy"}  # fmt: skip
    if not isinstance(args, str) or args not in facade:
        raise cfn._fail(path, 'Incorrect arguments to "Fn::ResourceFacade" should be one of: '
                        + ", ".join(facade))  # fmt: skip
    return {"resource_facade": facade[args]}
