"""CloudFormation-format templates (``AWSTemplateFormatVersion: 2010-09-09``), as Heat
accepts them: translated into the HOT document they mean (``Ref`` to a parameter or a
resource, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Split``, ``Fn::Replace``, the conditions'
``Fn::Equals``/``Not``/``And``/``Or``/``If``, ``Fn::FindInMap`` over ``Mappings``), which
the HOT parser then checks and the engine runs. ``Fn::Select``, ``Fn::Base64``,
``Fn::GetAZs`` and ``Fn::MemberListToMap`` stay functions of their own. The stack keeps
the template as written."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from onestack.orchestration.errors import InvalidTemplateVersion, StackValidationFailed

VERSION_KEY = "AWSTemplateFormatVersion"
VERSIONS = ("2010-09-09",)
# Heat's own name for the same format (its early templates).
HEAT_KEY, HEAT_VERSIONS = "HeatTemplateFormatVersion", ("2012-12-12",)
SECTIONS = {VERSION_KEY, HEAT_KEY, "Description", "Mappings", "Parameters", "Resources",
            "Outputs", "Conditions"}  # fmt: skip
HOT_VERSION = "2016-10-14"  # the HOT functions the translation uses (if, equals, ...)
FUNCTIONS = frozenset({"Fn::Select", "Fn::Base64", "Fn::GetAZs", "Fn::MemberListToMap"})
PSEUDO = {"AWS::StackName": "OS::stack_name", "AWS::StackId": "OS::stack_id",
          "AWS::AccountId": "OS::project_id"}  # fmt: skip
REGION = "RegionOne"
_TYPES = {"String": "string", "Number": "number", "CommaDelimitedList": "comma_delimited_list",
          "Json": "json", "Boolean": "boolean"}  # fmt: skip
_RESOURCE_KEYS = {"Type": "type", "Properties": "properties", "Metadata": "metadata",
                  "DependsOn": "depends_on", "DeletionPolicy": "deletion_policy",
                  "UpdatePolicy": "update_policy", "Condition": "condition",
                  "Description": "description"}  # fmt: skip
_RENAMED = {"Fn::GetAtt": "get_attr", "Fn::Join": "list_join", "Fn::Split": "str_split",
            "Fn::Equals": "equals", "Fn::Not": "not", "Fn::And": "and", "Fn::Or": "or",
            "Fn::If": "if"}  # fmt: skip
DESCRIPTIONS = {
    "Ref": "A function for resolving parameters or resource references.",
    "Fn::GetAtt": "A function for resolving resource attributes.",
    "Fn::Join": "A function for joining strings.",
    "Fn::Select": "A function for selecting an item from a list or map.",
    "Fn::Split": "A function for splitting strings into a list.",
    "Fn::Replace": "A function for performing string substitutions.",
    "Fn::Base64": "A placeholder function for converting to base64.",
    "Fn::GetAZs": "A function for retrieving the availability zones.",
    "Fn::FindInMap": "A function for resolving keys in the template mappings.",
    "Fn::MemberListToMap": "A function to convert lists with enumerated keys and values to "
    "mapping.",
    "Fn::Equals": "A function for comparing whether two values are equal.",
    "Fn::Not": "A function that acts as a NOT operator on a condition.",
    "Fn::And": "A function that acts as an AND operator on conditions.",
    "Fn::Or": "A function that acts as an OR operator on conditions.",
    "Fn::If": "A function to return corresponding value based on condition evaluation.",
    "Fn::ResourceFacade": "A function for retrieving data in a parent provider template.",
}
# Fn::ResourceFacade's arguments, as HOT's resource_facade names them.
_FACADE = {"Metadata": "metadata", "DeletionPolicy": "deletion_policy",
           "UpdatePolicy": "update_policy"}  # fmt: skip


def is_cfn(raw: dict[str, Any]) -> bool:
    return VERSION_KEY in raw or HEAT_KEY in raw


def version_names() -> list[str]:
    return [f"{VERSION_KEY}.{v}" for v in VERSIONS] + [f"{HEAT_KEY}.{v}" for v in HEAT_VERSIONS]


def _fail(path: str, message: str) -> StackValidationFailed:
    return StackValidationFailed(message=f"{path}: {message}")


def translate(raw: dict[str, Any]) -> dict[str, Any]:
    """The HOT document ``raw`` (a CFN template) means; 400 naming the path of a problem."""
    key, known = (VERSION_KEY, VERSIONS) if VERSION_KEY in raw else (HEAT_KEY, HEAT_VERSIONS)
    version = str(raw.get(key))
    if version not in known:
        raise InvalidTemplateVersion(
            explanation=f'"{key}: {version}". "{key}" should be one of: '
            + ", ".join(f'"{key}.{v}"' for v in known)
        )
    for key in raw:
        if key not in SECTIONS:
            raise StackValidationFailed(message=f"The template section is invalid: {key}")
    for key in ("Parameters", "Resources", "Outputs", "Mappings", "Conditions"):
        if not isinstance(raw.get(key) or {}, dict):
            raise StackValidationFailed(message=f"The template section is invalid: {key}")
    params = raw.get("Parameters") or {}
    resources = raw.get("Resources") or {}
    mappings = raw.get("Mappings") or {}

    def fn(snippet: Any, path: str) -> Any:
        return _functions(snippet, path, set(params), mappings)

    out: dict[str, Any] = {"heat_template_version": HOT_VERSION}
    if "Description" in raw:
        out["description"] = raw["Description"]
    out["parameters"] = {name: _parameter(name, p) for name, p in params.items()}
    out["resources"] = {name: _resource(name, r, fn) for name, r in resources.items()}
    outputs: dict[str, Any] = {}
    for name, spec in (raw.get("Outputs") or {}).items():
        path = f"Outputs.{name}"
        if not isinstance(spec, dict):
            raise _fail(path, "Output definition must be a map")
        unknown = set(spec) - {"Value", "Description", "Condition"}
        if unknown:
            raise _fail(path, f'"{sorted(unknown)[0]}" is not a valid keyword inside an output')
        item: dict[str, Any] = {"value": fn(spec.get("Value"), f"{path}.Value")}
        if "Description" in spec:
            item["description"] = spec["Description"]
        if "Condition" in spec:
            item["condition"] = spec["Condition"]
        outputs[name] = item
    out["outputs"] = outputs
    if raw.get("Conditions"):
        out["conditions"] = {
            name: fn(cond, f"Conditions.{name}") for name, cond in raw["Conditions"].items()
        }
    return out


def _parameter(name: str, spec: Any) -> dict[str, Any]:
    path = f"Parameters.{name}"
    if not isinstance(spec, dict):
        raise _fail(path, "Parameter definition must be a map")
    ptype = str(spec.get("Type", ""))
    hot_type = _TYPES.get(ptype, "string" if ptype.startswith("AWS::") else None)
    if hot_type is None:
        raise _fail(path, f"Invalid type ({ptype})")
    out: dict[str, Any] = {"type": hot_type}
    if "Default" in spec:
        out["default"] = spec["Default"]
    if "Description" in spec:
        out["description"] = spec["Description"]
    if str(spec.get("NoEcho", "false")).lower() == "true":
        out["hidden"] = True
    said = {"description": spec["ConstraintDescription"]} if "ConstraintDescription" in spec \
        else {}  # fmt: skip
    constraints: list[dict[str, Any]] = []
    if "AllowedValues" in spec:
        constraints.append({"allowed_values": spec["AllowedValues"], **said})
    if "AllowedPattern" in spec:
        constraints.append({"allowed_pattern": spec["AllowedPattern"], **said})
    for lo, hi, kind in (("MinLength", "MaxLength", "length"), ("MinValue", "MaxValue", "range")):
        bounds = {k: float(spec[c]) if kind == "range" else int(spec[c])
                  for k, c in (("min", lo), ("max", hi)) if c in spec}  # fmt: skip
        if bounds:
            constraints.append({kind: bounds, **said})
    if constraints:
        out["constraints"] = constraints
    return out


def _resource(name: str, spec: Any, fn: Callable[[Any, str], Any]) -> dict[str, Any]:
    path = f"Resources.{name}"
    if not isinstance(spec, dict):
        raise _fail(path, "Resource definition must be a map")
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key not in _RESOURCE_KEYS:
            raise _fail(path, f'"{key}" is not a valid keyword inside a resource definition')
        if key in ("Properties", "Metadata"):
            value = fn(value, f"{path}.{key}")
        out[_RESOURCE_KEYS[key]] = value
    return out


def _functions(snippet: Any, path: str, params: set[str], mappings: dict[str, Any]) -> Any:
    def walk(value: Any, here: str) -> Any:
        if isinstance(value, list):
            return [walk(v, f"{here}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, args = next(iter(value.items()))
            at = f"{here}.{key}"
            if key == "Ref":
                if not isinstance(args, str):
                    raise _fail(at, "Arguments to Ref must be a name")
                if args == "AWS::Region":
                    return REGION
                if args in PSEUDO:
                    return {"get_param": PSEUDO[args]}
                return {"get_param": args} if args in params else {"get_resource": args}
            if key in _RENAMED:
                return {_RENAMED[key]: walk(args, at)}
            if key == "Fn::Replace":
                if not isinstance(args, list) or len(args) != 2:
                    raise _fail(at, 'Arguments to "Fn::Replace" must be [{map}, "string"]')
                return {"str_replace": {"template": walk(args[1], at),
                                        "params": walk(args[0], at)}}  # fmt: skip
            if key == "Fn::FindInMap":
                return _find_in_map(args, at, mappings)
            if key == "Fn::ResourceFacade":
                if not isinstance(args, str) or args not in _FACADE:
                    raise _fail(at, 'Incorrect arguments to "Fn::ResourceFacade" should be '
                                f"one of: {', '.join(_FACADE)}")  # fmt: skip
                return {"resource_facade": _FACADE[args]}
            if key == "Condition" and isinstance(args, str):
                return args  # a condition named inside Conditions
        return {k: walk(v, f"{here}.{k}") for k, v in value.items()}

    return walk(snippet, path)


def _find_in_map(args: Any, path: str, mappings: dict[str, Any]) -> Any:
    if not isinstance(args, list) or len(args) != 3 or not all(isinstance(a, str) for a in args):
        raise _fail(path, 'Arguments to "Fn::FindInMap" must be [map, key, value] (strings)')
    try:
        return mappings[args[0]][args[1]][args[2]]
    except (KeyError, TypeError):
        raise _fail(path, f"No mapping {args[0]}.{args[1]}.{args[2]}") from None


# --- the functions that stay functions ----------------------------------------------------


def select(args: Any, path: str) -> Any:
    """Heat's ``Fn::Select``: an index into a list (or a key into a map); out of range: ""."""
    if not isinstance(args, list) or len(args) != 2:
        raise _fail(path, 'Arguments to "Fn::Select" must be [index, collection]')
    index, collection = args
    if isinstance(collection, str):
        try:
            collection = json.loads(collection)
        except ValueError:
            raise _fail(path, '"Fn::Select" collection must be a list or a map') from None
    if collection is None:
        return ""
    if isinstance(collection, list):
        try:
            return collection[int(index)]
        except (ValueError, TypeError):
            raise _fail(path, f'"Fn::Select" index must be an integer, not "{index}"') from None
        except IndexError:
            return ""
    if isinstance(collection, dict):
        return collection.get(str(index), "")
    raise _fail(path, '"Fn::Select" collection must be a list or a map')


# Heat's MemberListToMap message for arguments that are not three (its text, indentation too).
_MEMBER_LIST_USAGE = """
            {'Fn::MemberListToMap': ['Name', 'Value',
                                     ['.member.0.Name=key',
                                      '.member.0.Value=door']]}
            """
# Heat's aws_utils.extract_param_list with no prefix: ".member.<index>.<name>" from the start.
_MEMBER = re.compile(r"\.member\.([0-9]+)\.(.*)")


def check_member_list(args: Any, path: str) -> tuple[Any, Any, Any]:
    """Heat's MemberListToMap construction: three arguments, the first two literal strings
    (a function there is no string to Heat either)."""
    if not isinstance(args, (list, str, dict)):
        raise _fail(path, f"cannot unpack non-iterable {type(args).__name__} object")
    if len(args) != 3:
        raise _fail(path, f'Wrong Arguments try: "{_MEMBER_LIST_USAGE}"')
    key, value, members = list(args)
    for what, name in (("Key", key), ("Value", value)):
        if not isinstance(name, str):
            raise _fail(path, f"Fn::MemberListToMap {what} Name must be a string")
    return key, value, members


def member_list_to_map(args: Any, path: str) -> dict[Any, Any]:
    """Heat's ``Fn::MemberListToMap``: ``[key name, value name, [".member.N.<name>=..."]]``
    to ``{key: value}`` of each index N that has both (in order of N)."""
    key_name, value_name, members = check_member_list(args, path)
    if not isinstance(members, Iterable):
        raise _fail(path, "Member list must be a list")
    partials: dict[str, str] = {}
    for number, item in enumerate(members):
        if not isinstance(item, str):
            raise _fail(path, "Member list items must be strings")
        pair = item.split("=", 1)
        if len(pair) != 2:
            raise _fail(path, f"dictionary update sequence element #{number} has length 1; "
                        "2 is required")  # fmt: skip
        partials[pair[0]] = pair[1]
    found = []
    for name, value in partials.items():
        match = _MEMBER.match(name)
        if match:
            found.append((int(match.group(1)), (match.group(2), value)))
    found.sort(key=lambda m: m[0])
    grouped = [dict(kv for _, kv in group) for _, group in itertools.groupby(found, lambda m: m[0])]
    return {m[key_name]: m[value_name] for m in grouped if key_name in m and value_name in m}
