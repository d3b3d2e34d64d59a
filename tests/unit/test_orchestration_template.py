"""The HOT template layer on its own: versions and their functions, evaluation of the
intrinsic functions, parameters and constraints, conditions, the dependency order."""

from __future__ import annotations

from typing import Any

import pytest

from onestack.orchestration.errors import (
    CircularDependencyException,
    InvalidTemplateVersion,
    StackValidationFailed,
    UserParameterMissing,
)
from onestack.orchestration.template import functions, hot, parameters


class Scope:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def param(self, name: str) -> Any:
        return self.values[name]

    def resource_ref(self, name: str) -> Any:
        return f"id-of-{name}"

    def attribute(self, resource: str, attr: str | None) -> Any:
        return {"networks": {"net": ["10.0.0.5", "fd00::5"]}}.get(attr or "", f"{resource}.{attr}")

    def condition(self, name: str) -> bool:
        return name == "yes"

    def file(self, name: str) -> Any:
        return f"content of {name}"


NEWEST = functions.version_functions("2018-08-31")


def ev(snippet: Any, version: str = "2018-08-31", **values: Any) -> Any:
    return functions.evaluate(snippet, functions.version_functions(version), Scope(values))


def test_versions_grow_and_aliases_resolve() -> None:
    # Heat's HOTemplate20130523 has list_join (heat-tempest-plugin's test_server_signal.yaml
    # uses it); repeat comes with 2015-04-30.
    assert "list_join" in functions.version_functions("2013-05-23")
    assert "repeat" not in functions.version_functions("2014-10-16")
    assert "repeat" in functions.version_functions("2015-04-30")
    assert functions.version_functions("rocky") == NEWEST
    assert {"if", "equals", "map_replace"} <= functions.version_functions("newton")
    with pytest.raises(InvalidTemplateVersion):
        hot.parse({"heat_template_version": "2012-12-12"})


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ({"get_param": "p"}, "v"),
        ({"get_param": ["j", "a", 1]}, 2),
        ({"get_resource": "r"}, "id-of-r"),
        ({"get_attr": ["srv", "networks", "net", 0]}, "10.0.0.5"),
        ({"str_replace": {"template": "a $x b", "params": {"$x": {"get_param": "p"}}}}, "a v b"),
        ({"list_join": [",", ["a", "b"], ["c"]]}, "a,b,c"),
        ({"str_split": [",", "a,b,c", 1]}, "b"),
        ({"repeat": {"for_each": {"%x%": ["1", "2"]}, "template": "n-%x%"}}, ["n-1", "n-2"]),
        ({"digest": ["sha256", "x"]}, functions.hashlib.sha256(b"x").hexdigest()),
        ({"map_merge": [{"a": 1}, {"b": 2, "a": 3}]}, {"a": 3, "b": 2}),
        ({"map_replace": [{"k": "v"}, {"keys": {"k": "K"}, "values": {"v": "V"}}]}, {"K": "V"}),
        ({"if": ["yes", "t", "f"]}, "t"),
        ({"if": ["no", 1, {"get_param": "p"}]}, "v"),
        ({"equals": [{"get_param": "p"}, "v"]}, True),
        ({"contains": ["a", ["a", "b"]]}, True),
        ({"filter": [[None], [1, None, 2]]}, [1, 2]),
        ({"list_concat_unique": [[1, 2], [2, 3]]}, [1, 2, 3]),
        (
            {
                "make_url": {
                    "scheme": "https",
                    "host": "h",
                    "port": 8,
                    "path": "/p",
                    "query": {"a": "b c"},
                }
            },
            "https://h:8/p?a=b%20c",
        ),
        ({"get_file": "f.sh"}, "content of f.sh"),
    ],
)
def test_functions_evaluate(snippet: Any, expected: Any) -> None:
    assert ev(snippet, p="v", j={"a": [1, 2]}) == expected


def test_function_names_are_data_in_versions_without_them() -> None:
    assert ev({"repeat": {"template": "x"}}, "2014-10-16") == {"repeat": {"template": "x"}}
    assert ev({"list_join": [",", ["a", "b"]]}, "2013-05-23") == "a,b"


def test_str_replace_strict_wants_every_param() -> None:
    with pytest.raises(StackValidationFailed, match="not found in the template: x"):
        ev({"str_replace_strict": {"template": "abc", "params": {"x": "y"}}})


def test_parameters_types_constraints_and_sources() -> None:
    params = parameters.parse_parameters(
        {
            "n": {"type": "number", "constraints": [{"range": {"min": 1, "max": 5}}]},
            "l": {"type": "comma_delimited_list", "default": "a,b"},
            "b": {"type": "boolean", "default": "yes"},
            "s": {"type": "string", "constraints": [{"allowed_pattern": "[a-z]+",
                                                     "description": "lowercase only"}]},
        }
    )  # fmt: skip
    values = parameters.resolve(params, {"n": "3"}, {"s": "abc"}, {})
    assert values == {"n": 3, "l": ["a", "b"], "b": True, "s": "abc"}
    with pytest.raises(StackValidationFailed, match="out of range"):
        parameters.resolve(params, {"n": "9", "s": "a"}, {}, {})
    with pytest.raises(StackValidationFailed, match="lowercase only"):
        parameters.resolve(params, {"n": "1", "s": "A"}, {}, {})
    with pytest.raises(UserParameterMissing):
        parameters.resolve(params, {"s": "a"}, {}, {})
    with pytest.raises(StackValidationFailed, match=r"\(zz\) was not defined"):
        parameters.resolve(params, {"zz": 1, "n": 1, "s": "a"}, {}, {})


def _tmpl(resources: dict[str, Any], **more: Any) -> hot.Template:
    return hot.parse({"heat_template_version": "2018-08-31", "resources": resources, **more})


def test_conditions_drop_resources_and_graph_orders() -> None:
    t = _tmpl(
        {
            "a": {"type": "OS::Heat::RandomString"},
            "b": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["a", "value"]}}},
            "c": {"type": "OS::Heat::None", "condition": "never", "depends_on": "b"},
        },
        parameters={"env": {"type": "string", "default": "dev"}},
        conditions={"never": {"equals": [{"get_param": "env"}, "prod"]}},
    )
    live, conds = hot.check(t, {"env": "dev"}, {}, 1000)
    assert conds == {"never": False} and set(live) == {"a", "b"}
    assert hot.order(live) == ["a", "b"]
    with pytest.raises(StackValidationFailed, match="Maximum resources"):
        hot.check(t, {"env": "dev"}, {}, 1)


def test_floating_ip_associations_wait_for_router_interfaces() -> None:
    """As heat-tempest-plugin's test_server_signal.yaml: the association names its port
    through the server's addresses, the interface nothing waits for; the association is
    made after (and undone before) every router interface."""
    t = _tmpl(
        {
            "net": {"type": "OS::Neutron::Net"},
            "router": {"type": "OS::Neutron::Router"},
            "iface": {"type": "OS::Neutron::RouterInterface",
                      "properties": {"router": {"get_resource": "router"}}},
            "fip": {"type": "OS::Neutron::FloatingIP", "properties": {"floating_network": "p"}},
            "bound": {"type": "OS::Neutron::FloatingIP",
                      "properties": {"floating_network": "p", "port_id": "x"}},
            "assoc": {"type": "OS::Neutron::FloatingIPAssociation",
                      "properties": {"floatingip_id": {"get_resource": "fip"},
                                     "port_id": {"get_attr": ["net", "name"]}}},
        }
    )  # fmt: skip
    live, _ = hot.check(t, {}, {}, 1000)
    assert hot.requires(live["assoc"], live) == {"fip", "net", "iface"}
    assert hot.requires(live["bound"], live) == {"iface"}
    assert hot.requires(live["fip"], live) == set()


def test_cycles_are_named() -> None:
    t = _tmpl(
        {
            "a": {"type": "OS::Heat::None", "depends_on": ["c"]},
            "b": {"type": "OS::Heat::None", "depends_on": ["a"]},
            "c": {"type": "OS::Heat::None", "depends_on": ["b"]},
        }
    )
    with pytest.raises(CircularDependencyException, match="a -> c -> b -> a"):
        hot.check(t, {}, {}, 1000)


def test_str_replace_vstrict_and_the_condition_operators() -> None:
    params = {"template": "a-x", "params": {"x": {"get_param": "p"}}}
    assert ev({"str_replace_vstrict": params}, p="b") == "a-b"
    with pytest.raises(StackValidationFailed, match='empty value for param "x"'):
        ev({"str_replace_vstrict": params}, p="")
    with pytest.raises(StackValidationFailed, match="not found in the template: y"):
        ev({"str_replace_vstrict": {"template": "a", "params": {"y": "z"}}})
    # Named conditions resolve through the scope (only "yes" holds); literals are booleans.
    assert ev({"not": "no"}) is True and ev({"not": {"equals": [1, 1]}}) is False
    assert ev({"and": ["yes", {"equals": [{"get_param": "p"}, "v"]}]}, p="v") is True
    assert ev({"and": ["yes", "no"]}) is False
    assert ev({"or": ["no", {"not": "yes"}]}) is False and ev({"or": ["no", "yes"]}) is True
    with pytest.raises(StackValidationFailed, match='"or" must be a list of at least two'):
        ev({"or": ["yes"]})


def test_length_and_allowed_values_constraints() -> None:
    params = parameters.parse_parameters(
        {
            "name": {"type": "string", "constraints": [{"length": {"min": 2, "max": 4}}]},
            "size": {"type": "string", "constraints": [{"allowed_values": ["s", "m"]}]},
            "sizes": {"type": "comma_delimited_list", "default": "s",
                      "constraints": [{"allowed_values": ["s", "m"]}]},
        }
    )  # fmt: skip
    ok = parameters.resolve(params, {"name": "abc", "size": "m", "sizes": "s,m"}, {}, {})
    assert ok == {"name": "abc", "size": "m", "sizes": ["s", "m"]}
    with pytest.raises(StackValidationFailed, match=r"'name' is invalid: length \(5\)"):
        parameters.resolve(params, {"name": "abcde", "size": "s"}, {}, {})
    with pytest.raises(StackValidationFailed, match="'size' is invalid: \"l\" is not an allowed"):
        parameters.resolve(params, {"name": "ab", "size": "l"}, {}, {})
    with pytest.raises(StackValidationFailed, match="'sizes' is invalid"):
        parameters.resolve(params, {"name": "ab", "size": "s", "sizes": "s,xl"}, {}, {})


def test_member_list_to_map_as_heat() -> None:
    """Heat's ``Fn::MemberListToMap`` (cfn/functions.py with aws_utils.extract_param_pairs):
    only ``.member.N.<name>`` entries count, by index N; an index lacking the key or the
    value is left out; its errors, in Heat's words."""
    cfn_fns = hot.parse({"AWSTemplateFormatVersion": "2010-09-09"}).functions
    members = [".member.1.Name=b", ".member.1.Value=2=two", ".member.0.Value=1",
               ".member.0.Name=a", ".member.2.Name=lonely", "Name.3=x", "Value.3=y",
               "p.member.4.Name=z", "p.member.4.Value=z"]  # fmt: skip
    snippet = {"Fn::MemberListToMap": ["Name", "Value", members]}
    assert functions.evaluate(snippet, cfn_fns, Scope({})) == {"a": "1", "b": "2=two"}
    assert list(functions.evaluate(snippet, cfn_fns, Scope({}))) == ["a", "b"]
    assert "Fn::MemberListToMap" not in NEWEST  # a CloudFormation function only
    wrong = {
        "Fn::MemberListToMap": ["Name", ["x=y"]],
    }
    with pytest.raises(StackValidationFailed, match=r"Wrong Arguments try: \"\n +\{'Fn::Mem"):
        functions.references(wrong, cfn_fns, "outputs.o.value")
    cases = [
        ([1, "Value", []], "Fn::MemberListToMap Key Name must be a string"),
        (["Name", {"Ref": "p"}, []], "Fn::MemberListToMap Value Name must be a string"),
    ]
    for args, message in cases:
        with pytest.raises(StackValidationFailed, match=message):
            functions.references({"Fn::MemberListToMap": args}, cfn_fns, "o")
    bad = [
        (7, "Member list must be a list"),
        ([".member.0.Name=a", 3], "Member list items must be strings"),
        ([".member.0.Name=a", "noequals"],
         "dictionary update sequence element #1 has length 1; 2 is required"),
    ]  # fmt: skip
    for member_list, message in bad:
        call = {"Fn::MemberListToMap": ["Name", "Value", member_list]}
        with pytest.raises(StackValidationFailed, match=f"^o.Fn::MemberListToMap: {message}$"):
            functions.evaluate(call, cfn_fns, Scope({}), "o")
