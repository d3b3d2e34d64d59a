"""``resource_facade`` and the wait condition handle's transports (#17), through
``openstack stack``: a nested template (HOT's ``resource_facade``, CloudFormation's
``Fn::ResourceFacade``) sees its parent resource's metadata, deletion_policy and update_policy
(Heat's defaults when the parent gives none); a change of the parent's metadata alone reaches
it on update (a PATCH, ``--existing``, which keeps the stack's resource_registry); a stack at
the top using it fails with the cause; a wrong argument is a 400 before anything is made. A
handle's ``signal`` attribute is a JSON map a client signals it with; a ``NO_SIGNAL`` handle
is signalled without anyone calling; a transport Heat does not know, or one this cloud does
not offer, is a 400."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import (
    assert_heat_400,
    create_wait,
    delete_wait,
    template_file,
    wait_stack,
)

pytestmark = pytest.mark.cli

FACADE = """
heat_template_version: 2013-05-23
resources:
  policy: {type: OS::Heat::Value, properties: {value: {resource_facade: deletion_policy}}}
outputs:
  meta: {value: {resource_facade: metadata}}
  dp: {value: {get_attr: [policy, value]}}
  up: {value: {resource_facade: update_policy}}
"""
CFN_FACADE = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  policy:
    Type: OS::Heat::Value
    Properties: {value: {'Fn::ResourceFacade': DeletionPolicy}}
Outputs:
  meta: {Value: {'Fn::ResourceFacade': Metadata}}
  dp: {Value: {'Fn::GetAtt': [policy, value]}}
"""
PARENT = """
heat_template_version: 2018-08-31
parameters:
  role: {type: string}
resources:
  plain: {type: My::Facade}
  dressed:
    type: My::Facade
    metadata: {role: {get_param: role}, tier: 2}
    deletion_policy: Retain  # Snapshot: a template resource has none (Heat: 400)
    update_policy: {batch: {max: 2}}
  cfn:
    type: My::CfnFacade
    metadata: {from: cfn}
    deletion_policy: Delete
outputs:
  plain: {value: [{get_attr: [plain, meta]}, {get_attr: [plain, dp]}, {get_attr: [plain, up]}]}
  dressed:
    value: [{get_attr: [dressed, meta]}, {get_attr: [dressed, dp]}, {get_attr: [dressed, up]}]
  cfn: {value: [{get_attr: [cfn, meta]}, {get_attr: [cfn, dp]}]}
"""
ENV = "resource_registry:\n  My::Facade: facade.yaml\n  My::CfnFacade: cfn.yaml\n"


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_resource_facade_sees_the_parent_resource(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("facade")
    template_file(tmp_path, "facade.yaml", FACADE)
    template_file(tmp_path, "cfn.yaml", CFN_FACADE)
    tf = template_file(tmp_path, "parent.yaml", PARENT)
    ef = template_file(tmp_path, "env.yaml", ENV)
    shown = create_wait(cloud, name, tf, "-e", ef, "--parameter", "role=web")
    out = outputs(shown)
    assert out["plain"] == [{}, "Delete", {}], out
    assert out["dressed"] == [{"role": "web", "tier": 2}, "Retain", {"batch": {"max": 2}}]
    assert out["cfn"] == [{"from": "cfn"}, "Delete"], out
    # The parent's metadata changed alone: the nested stack is updated and sees it.
    cloud.openstack("stack", "update", "--existing", "--parameter", "role=db", name,
                    json_output=False)  # fmt: skip
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"))
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown
    out = outputs(shown)
    assert out["dressed"][0] == {"role": "db", "tier": 2} and out["plain"][0] == {}, out
    events = cloud.openstack("stack", "event", "list", name)
    updated = {e["resource_name"] for e in events if e["resource_status"] == "UPDATE_COMPLETE"}
    assert "dressed" in updated and "plain" not in updated, events
    kept = cloud.openstack("stack", "resource", "show", name, "dressed")["physical_resource_id"]
    delete_wait(cloud, name)
    delete_wait(cloud, kept)  # retained: its own delete


TOP = """
heat_template_version: 2018-08-31
resources:
  v: {type: OS::Heat::Value, properties: {value: {resource_facade: metadata}}}
"""
BAD_ARG = """
heat_template_version: 2018-08-31
resources:
  v: {type: OS::Heat::Value, properties: {value: {resource_facade: wibble}}}
"""


def test_resource_facade_outside_a_nested_stack_and_bad_arguments(
    cloud: Cloud, tmp_path: Path
) -> None:
    name = unique("facadetop")
    tf = template_file(tmp_path, "top.yaml", TOP)
    cloud.openstack("stack", "create", "-t", tf, name, json_output=False)
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"))
    assert shown["stack_status"] == "CREATE_FAILED", shown
    assert "resource_facade is only available in a nested stack" in shown["stack_status_reason"]
    delete_wait(cloud, name)
    token = cloud.openstack("token", "issue")
    with cloud.http(token["id"]) as client:
        base = f"/orchestration/v1/{token['project_id']}"
        for path in (f"{base}/validate", f"{base}/stacks"):
            body = {"stack_name": unique("facadebad"), "template": BAD_ARG}
            assert_heat_400(
                client.post(path, json=body), "StackValidationFailed",
                "resources.v.properties.value.resource_facade: Incorrect arguments to "
                '"resource_facade" should be one of: metadata, deletion_policy, update_policy',
            )  # fmt: skip
    names = {s["Stack Name"] for s in cloud.openstack("stack", "list")}
    assert not any(n.startswith("facadebad") for n in names)


HANDLES = """
heat_template_version: 2018-08-31
resources:
  token: {type: OS::Heat::WaitConditionHandle}
  quiet: {type: OS::Heat::WaitConditionHandle, properties: {signal_transport: NO_SIGNAL}}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: quiet}, count: 2, timeout: 60}
outputs:
  token: {value: {get_attr: [token, signal]}}
  endpoint: {value: {get_attr: [token, endpoint]}}
  secret: {value: {get_attr: [token, token]}}
  quiet: {value: [{get_attr: [quiet, signal]}, {get_attr: [quiet, token]},
                  {get_attr: [quiet, endpoint]}, {get_attr: [quiet, curl_cli]}]}
  data: {value: {get_attr: [wait, data]}}
"""


def test_wait_condition_handle_signal_attribute_and_no_signal(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("handles")
    shown = create_wait(cloud, name, template_file(tmp_path, "h.yaml", HANDLES))
    out = outputs(shown)
    # NO_SIGNAL: nothing to call with, and the wait condition completed without a call.
    assert out["quiet"] == ["{}", None, None, None], out
    assert json.loads(out["data"]) == {"1": None, "2": None}
    # TOKEN_SIGNAL: the map carries what curl_cli does; a client signals the handle with it.
    signal = json.loads(out["token"])
    assert signal == {"alarm_url": out["endpoint"], "token": out["secret"]}, signal
    sent = httpx.post(signal["alarm_url"], headers={"X-Auth-Token": signal["token"]},
                      json={"status": "SUCCESS", "id": "a", "data": "ok"}, timeout=30)  # fmt: skip
    assert sent.status_code == 200, sent.text
    meta = cloud.openstack("stack", "resource", "metadata", name, "token")
    assert meta["a"] == {"data": "ok", "reason": "Signal 1 received", "status": "SUCCESS"}
    shape = cloud.openstack("orchestration", "resource", "type", "show",
                            "OS::Heat::WaitConditionHandle")  # fmt: skip
    assert {"token", "endpoint", "curl_cli", "signal"} <= set(shape["attributes"])
    assert "data" not in shape["attributes"]
    delete_wait(cloud, name)


def test_unknown_or_unoffered_signal_transport_is_a_400(cloud: Cloud) -> None:
    token = cloud.openstack("token", "issue")
    where = "resources.h.properties.signal_transport"
    cases = {
        "FOO": f'{where}: "FOO" is not an allowed value ["CFN_SIGNAL", "TEMP_URL_SIGNAL", '
        '"HEAT_SIGNAL", "NO_SIGNAL", "ZAQAR_SIGNAL", "TOKEN_SIGNAL"]',
        "ZAQAR_SIGNAL": f"{where}: ZAQAR_SIGNAL is not offered by this cloud (only "
        "TOKEN_SIGNAL, NO_SIGNAL)",
    }
    with cloud.http(token["id"]) as client:
        for transport, message in cases.items():
            template = {"heat_template_version": "2018-08-31", "resources": {"h": {
                "type": "OS::Heat::WaitConditionHandle",
                "properties": {"signal_transport": transport}}}}  # fmt: skip
            resp = client.post(f"/orchestration/v1/{token['project_id']}/validate",
                               json={"template": template})  # fmt: skip
            assert_heat_400(resp, "StackValidationFailed", f"Property error: {message}")
