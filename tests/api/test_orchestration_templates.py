"""Template languages beyond plain HOT (#17) through ``openstack stack``: the ``yaql``
function (values from parameters and resources, a syntax error a 400 naming the path
before anything is made, a hostile expression stopped by its deadline or yaql's quotas
while the API keeps answering), and CloudFormation-format templates (Parameters with
constraints, Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Replace, Fn::Base64,
Fn::GetAZs, Fn::FindInMap, Conditions, Outputs)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

YAQL = """
heat_template_version: 2018-08-31
parameters:
  nums: {type: json, default: [1, 2, 3, 4]}
resources:
  rnd: {type: OS::Heat::RandomString, properties: {length: 6}}
  total:
    type: OS::Heat::Value
    properties:
      value:
        yaql:
          expression: $.data.nums.where($ > 1).sum()
          data: {nums: {get_param: nums}}
  shout:
    type: OS::Heat::Value
    properties:
      value:
        yaql:
          expression: $.data.s.toUpper() + '-' + str($.data.s.len())
          data: {s: {get_attr: [rnd, value]}}
outputs:
  total: {value: {get_attr: [total, value]}}
  shout: {value: {get_attr: [shout, value]}}
  rnd: {value: {get_attr: [rnd, value]}}
  keys:
    value:
      yaql:
        expression: $.data.keys().orderBy($)
        data: {b: 1, a: 2}
"""


def test_yaql_values(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("yaql")
    shown = create_wait(cloud, name, template_file(tmp_path, "y.yaml", YAQL),
                        "--parameter", "nums=[5, 1, 10]")  # fmt: skip
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["total"] == 15
    assert out["shout"] == f"{out['rnd'].upper()}-6" and out["keys"] == ["a", "b"]
    delete_wait(cloud, name)


def test_yaql_syntax_error_is_a_400_naming_the_path(cloud: Cloud, tmp_path: Path) -> None:
    text = """
heat_template_version: 2018-08-31
resources:
  v:
    type: OS::Heat::Value
    properties: {value: {yaql: {expression: "$.data.x.sum(", data: {x: [1]}}}}
"""
    name = unique("yaqlbad")
    bad = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "b.yaml", text), name,
                          check=False, json_output=False)  # fmt: skip
    assert bad.returncode != 0
    assert "resources.v.properties.value.yaql" in bad.stderr
    assert "Bad expression" in bad.stderr, bad.stderr
    assert cloud.openstack("stack", "show", name, check=False).returncode != 0
    shape = text.replace("data: {x: [1]}", "datum: 1").replace("$.data.x.sum(", "$.x")
    odd = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "s.yaml", shape),
                          name, check=False, json_output=False)  # fmt: skip
    assert odd.returncode != 0 and '"yaql" syntax should be' in odd.stderr, odd.stderr


SLOW = """
heat_template_version: 2018-08-31
resources:
  slow:
    type: OS::Heat::Value
    properties:
      value:
        yaql:
          expression: >-
            range(199).select(range(199).select(range(199).select(range(199).len()).sum()).sum()).sum()
"""
BIG = """
heat_template_version: 2018-08-31
resources:
  big:
    type: OS::Heat::Value
    properties: {value: {yaql: {expression: "range(0, 100000000).sum()"}}}
"""


def test_hostile_yaql_is_stopped_and_the_api_keeps_answering(cloud: Cloud, tmp_path: Path) -> None:
    slow = unique("yslow")
    answered: list[float] = []

    def probe() -> None:  # while the engine evaluates, the API answers
        for _ in range(4):
            t = time.monotonic()
            cloud.openstack("stack", "list", json_output=False)
            answered.append(time.monotonic() - t)

    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "slow.yaml", SLOW), slow,
                    json_output=False)  # fmt: skip
    prober = threading.Thread(target=probe)
    prober.start()
    shown = wait_stack(cloud, slow, ("CREATE_FAILED", "CREATE_COMPLETE"))
    prober.join()
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "yaql evaluation took longer than 2 s" in shown["stack_status_reason"], shown
    assert len(answered) == 4
    big = unique("ybig")
    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "big.yaml", BIG), big,
                    json_output=False)  # fmt: skip
    shown = wait_stack(cloud, big, ("CREATE_FAILED", "CREATE_COMPLETE"))
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "Collection length exceeds 200 elements" in shown["stack_status_reason"], shown
    # The worker killed at the deadline was replaced: yaql still works.
    ok = unique("yok")
    shown = create_wait(cloud, ok, template_file(tmp_path, "ok.yaml", YAQL))
    assert {o["output_key"]: o["output_value"] for o in shown["outputs"]}["total"] == 9
    for stack in (slow, big, ok):
        delete_wait(cloud, stack)


CFN = """
AWSTemplateFormatVersion: '2010-09-09'
Description: cfn test
Parameters:
  Size:
    Type: Number
    Default: 8
    MinValue: 4
    MaxValue: 16
  Flavor:
    Type: String
    Default: small
    AllowedValues: [small, large]
    ConstraintDescription: must be small or large
  Names:
    Type: CommaDelimitedList
    Default: "a,b,c"
Mappings:
  Sizes:
    small: {Cpus: 1}
    large: {Cpus: 4}
Conditions:
  IsLarge: {"Fn::Equals": [{Ref: Flavor}, large]}
Resources:
  Secret:
    Type: OS::Heat::RandomString
    Properties: {length: {Ref: Size}}
  Joined:
    Type: OS::Heat::Value
    Properties:
      value:
        Fn::Join:
          - "-"
          - [{Ref: "AWS::StackName"}, {"Fn::Select": [1, {Ref: Names}]},
             {"Fn::GetAtt": [Secret, value]}]
  Replaced:
    Type: OS::Heat::Value
    DependsOn: Joined
    Properties:
      value:
        Fn::Replace:
          - {"%flavor%": {Ref: Flavor}, "%cpus%": {"Fn::FindInMap": [Sizes, small, Cpus]}}
          - "flavor %flavor% has %cpus% cpus"
  Large:
    Type: OS::Heat::Value
    Condition: IsLarge
    Properties: {value: big}
Outputs:
  Joined: {Value: {"Fn::GetAtt": [Joined, value]}, Description: joined}
  Secret: {Value: {"Fn::GetAtt": [Secret, value]}}
  SecretId: {Value: {Ref: Secret}}
  Replaced: {Value: {"Fn::GetAtt": [Replaced, value]}}
  Split: {Value: {"Fn::Split": [",", "x,y,z"]}}
  Base64: {Value: {"Fn::Base64": "#!/bin/sh"}}
  Zones: {Value: {"Fn::GetAZs": ""}}
  Region: {Value: {Ref: "AWS::Region"}}
  Missing: {Value: {"Fn::Select": [7, {Ref: Names}]}}
  Members:
    Value:
      Fn::MemberListToMap:
        - Name
        - Value
        - [{"Fn::Join": ["", [".member.0.Name=", {Ref: Flavor}]]}, ".member.0.Value=v=1",
           ".member.1.Name=k2", Name.2=k3, Value.2=v3, ".member.1.Value=v2"]
"""


def test_cloudformation_template(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("cfn")
    tf = template_file(tmp_path, "cfn.yaml", CFN)
    shown = create_wait(cloud, name, tf, "--parameter", "Size=10")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    assert shown["description"] == "cfn test"
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert len(out["Secret"]) == 10 and out["Joined"] == f"{name}-b-{out['Secret']}"
    assert out["Replaced"] == "flavor small has 1 cpus"
    assert out["Split"] == ["x", "y", "z"] and out["Base64"] == "#!/bin/sh"
    assert out["Zones"] == ["nova"] and out["Region"] == "RegionOne" and out["Missing"] == ""
    assert out["Members"] == {"small": "v=1", "k2": "v2"}  # Heat's: only ".member.N." ones
    resources = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}
    assert set(resources) == {"Secret", "Joined", "Replaced"}  # Large: its condition is false
    assert out["SecretId"] == resources["Secret"]["physical_resource_id"]
    tmpl = cloud.openstack("stack", "template", "show", name)
    assert tmpl["AWSTemplateFormatVersion"] == "2010-09-09" and "Resources" in tmpl
    versions = {v["Version"]: v["Type"] for v in
                cloud.openstack("orchestration", "template", "version", "list")}  # fmt: skip
    assert versions["AWSTemplateFormatVersion.2010-09-09"] == "cfn"
    fns = cloud.openstack("orchestration", "template", "function", "list",
                          "AWSTemplateFormatVersion.2010-09-09")  # fmt: skip
    assert {"Fn::GetAtt", "Fn::Join", "Fn::Select", "Ref"} <= {f["Functions"] for f in fns}
    heat_format = CFN.replace(
        "AWSTemplateFormatVersion: '2010-09-09'", "HeatTemplateFormatVersion: '2012-12-12'"
    )
    valid = cloud.openstack(
        "orchestration", "template", "validate", "-t",
        template_file(tmp_path, "h.yaml", heat_format),
    )  # fmt: skip
    assert valid["Description"] == "cfn test"
    assert set(valid["Parameters"]) == {"Size", "Flavor", "Names"}
    delete_wait(cloud, name)


def test_cloudformation_bad_input(cloud: Cloud, tmp_path: Path) -> None:
    tf = template_file(tmp_path, "cfn.yaml", CFN)
    bad = cloud.openstack("stack", "create", "-t", tf, "--parameter", "Flavor=huge",
                          unique("cfnbad"), check=False, json_output=False)  # fmt: skip
    assert bad.returncode != 0 and "must be small or large" in bad.stderr, bad.stderr
    small = cloud.openstack("stack", "create", "-t", tf, "--parameter", "Size=2",
                            unique("cfnbad"), check=False, json_output=False)  # fmt: skip
    assert small.returncode != 0 and "Size" in small.stderr, small.stderr
    dangling = CFN.replace("{Ref: Size}", "{Ref: Nothing}")
    ref = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "d.yaml", dangling),
                          unique("cfnbad"), check=False, json_output=False)  # fmt: skip
    assert ref.returncode != 0 and '"Nothing"' in ref.stderr, ref.stderr
    two = CFN.replace("- Name\n        - Value\n", "- Name\n")
    fn = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "m.yaml", two),
                         unique("cfnbad"), check=False, json_output=False)  # fmt: skip
    assert fn.returncode != 0 and "Fn::MemberListToMap: Wrong Arguments try:" in fn.stderr, (
        fn.stderr
    )
    version = CFN.replace("'2010-09-09'", "'2011-01-01'")
    old = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "v.yaml", version),
                          unique("cfnbad"), check=False, json_output=False)  # fmt: skip
    assert old.returncode != 0 and "AWSTemplateFormatVersion" in old.stderr, old.stderr


# Heat's hot/template.py: each version's ``functions`` (condition_functions apart).
HOT_20161014 = {"get_attr", "get_file", "get_param", "get_resource", "list_join", "repeat",
                "resource_facade", "str_replace", "digest", "str_split", "map_merge", "yaql",
                "map_replace", "if"}  # fmt: skip
HOT_20170224 = HOT_20161014 | {"filter", "str_replace_strict"}
HOT_20170901 = HOT_20170224 | {"make_url", "list_concat", "str_replace_vstrict",
                               "list_concat_unique", "contains"}  # fmt: skip
VSTRICT = """
heat_template_version: %s
resources:
  v:
    type: OS::Heat::Value
    properties: {value: {str_replace_vstrict: {template: a-x, params: {x: b}}}}
outputs:
  v: {value: {get_attr: [v, value]}}
"""


def test_template_function_lists_are_heats(cloud: Cloud, tmp_path: Path) -> None:
    """``orchestration template function list``: each version's functions as Heat lists
    them (str_replace_vstrict from 2017-09-01 on), the condition functions (equals, not,
    and, or) only with ``--with_conditions``."""

    def listed(version: str, *more: str) -> set[str]:
        rows = cloud.openstack("orchestration", "template", "function", "list",
                               f"heat_template_version.{version}", *more)  # fmt: skip
        return {r["Functions"] for r in rows}

    assert listed("2016-10-14") == HOT_20161014
    assert listed("2016-10-14", "--with_conditions") == HOT_20161014 | {"equals", "not",
                                                                         "and", "or"}  # fmt: skip
    assert listed("2017-02-24") == HOT_20170224
    for version in ("2017-09-01", "2018-03-02", "2018-08-31"):
        assert listed(version) == HOT_20170901, version
    assert listed("2018-08-31", "--with_conditions") == HOT_20170901 | {"equals", "not",
                                                                         "and", "or"}  # fmt: skip
    for version, value in (
        ("2017-09-01", "a-b"),
        ("2017-02-24", {"str_replace_vstrict": {"template": "a-x", "params": {"x": "b"}}}),
    ):
        name = unique("vstrict")
        shown = create_wait(cloud, name, template_file(tmp_path, f"{version}.yaml",
                                                       VSTRICT % version))  # fmt: skip
        assert shown["stack_status"] == "CREATE_COMPLETE", shown
        out = cloud.openstack("stack", "output", "show", name, "v")
        assert out["output_value"] == value, (version, out)
        delete_wait(cloud, name)


HOT_2013_CFN = """
heat_template_version: 2013-05-23
parameters:
  x: {type: string, default: ex}
resources:
  r: {type: OS::Heat::RandomString, properties: {length: 4}}
  v:
    type: OS::Heat::Value
    properties:
      value: {"Fn::Join": ["-", [{Ref: x}, {Ref: r}]]}
outputs:
  joined: {value: {get_attr: [v, value]}}
  param: {value: {Ref: x}}
  split: {value: {"Fn::Split": [",", "a,b,c"]}}
  replaced: {value: {"Fn::Replace": [{"%x%": {Ref: x}}, "is %x%"]}}
  selected: {value: {"Fn::Select": [1, [p, q]]}}
  b64: {value: {"Fn::Base64": plain}}
  zones: {value: {"Fn::GetAZs": ""}}
  stack: {value: {Ref: "OS::stack_name"}}
"""


def test_hot_2013_05_23_has_the_cloudformation_functions(cloud: Cloud, tmp_path: Path) -> None:
    """Heat's HOTemplate20130523 keeps Ref (a parameter's value or a resource's id, which
    the resource then waits for), Fn::Join, Fn::Split, Fn::Replace, Fn::Select, Fn::Base64
    and Fn::GetAZs; 2014-10-16 and 2015-04-30 keep Fn::Select alone; later versions refuse
    each as Heat's Removed function does, before anything is made."""
    name = unique("hot2013")
    create_wait(cloud, name, template_file(tmp_path, "h.yaml", HOT_2013_CFN))
    out = {o["output_key"]: o["output_value"]
           for o in cloud.openstack("stack", "show", name)["outputs"]}  # fmt: skip
    r = cloud.openstack("stack", "resource", "show", name, "r")["physical_resource_id"]
    assert out == {"joined": f"ex-{r}", "param": "ex", "split": ["a", "b", "c"],
                   "replaced": "is ex", "selected": "q", "b64": "plain", "zones": ["nova"],
                   "stack": name}, out  # fmt: skip
    events = cloud.openstack("stack", "event", "list", name)
    order = [(e["resource_name"], e["resource_status"]) for e in events]
    assert order.index(("r", "CREATE_COMPLETE")) < order.index(("v", "CREATE_IN_PROGRESS"))
    listed = {
        f["Functions"]
        for f in cloud.openstack(
            "orchestration", "template", "function", "list", "heat_template_version.2013-05-23"
        )
    }
    assert {"Ref", "Fn::Join", "Fn::Select", "Fn::MemberListToMap", "list_join"} <= listed
    listed = {
        f["Functions"]
        for f in cloud.openstack(
            "orchestration", "template", "function", "list", "heat_template_version.2015-04-30"
        )
    }
    assert "Fn::Select" in listed and "Ref" not in listed and "Fn::Join" not in listed
    delete_wait(cloud, name)
    select = ("resources:\n  v: {type: OS::Heat::Value, properties: {value: "
              '{"Fn::Select": [0, [a]]}}}\n')  # fmt: skip
    ok = cloud.openstack(
        "orchestration",
        "template",
        "validate",
        "-t",
        template_file(tmp_path, "s.yaml", "heat_template_version: 2015-04-30\n" + select),
    )
    assert ok["Parameters"] == {}, ok
    for version, function, text in (
        ("2015-10-15", "Fn::Select", select),
        (
            "2014-10-16",
            "Ref",
            "resources:\n  a: {type: OS::Heat::None}\noutputs:\n  o: {value: {Ref: a}}\n",
        ),
        (
            "2018-08-31",
            "Fn::Join",
            "resources:\n  v: {type: OS::Heat::Value, properties: "
            '{value: {"Fn::Join": [",", [a]]}}}\n',
        ),
    ):
        refused = cloud.openstack(
            "stack",
            "create",
            "-t",
            template_file(
                tmp_path, f"{version}.yaml", f"heat_template_version: {version}\n" + text
            ),
            unique("removed"),
            json_output=False,
            check=False,
        )
        assert refused.returncode != 0
        assert (
            f"The template version is invalid: The function {function} is not supported "
            "in this version of HOT."
        ) in refused.stderr, refused.stderr
