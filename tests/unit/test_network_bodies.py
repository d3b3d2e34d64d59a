"""The networking API's body models (``network/api/bodies.py``): every attribute map compiles,
a body is walked in the order sent with Neutron's errors, and the document models take
Neutron's envelopes (bulk create included)."""

from __future__ import annotations

from typing import Any

import pytest

from onestack.common import errors, resource
from onestack.common.http import validate
from onestack.network import errors as nerr
from onestack.network.api import bodies
from onestack.network.api.attributes import MAPS


@pytest.mark.parametrize("member", sorted(MAPS))
def test_every_map_compiles_for_both_verbs(member: str) -> None:
    for creating in (True, False):
        model = bodies.member_body(member, creating)
        accepted = {a.name for a in MAPS[member] if (a.post if creating else a.put)}
        assert {f.alias for f in model.model_fields.values()} == accepted


def test_values_use_service_names_and_present_keeps_the_order_sent() -> None:
    sent = {"network_id": "n", "binding:host_id": "h", "name": "p", "tenant_id": "t"}
    values, present = bodies.parse("port", sent, creating=True)
    assert values == {"network_id": "n", "binding_host_id": "h", "name": "p", "project_id": "t"}
    assert present == ["network_id", "binding:host_id", "name", "tenant_id"]


def _refusal(model: Any, body: Any) -> tuple[str, str]:
    with pytest.raises(errors.OneStackError) as caught:
        validate(model, body)
    return type(caught.value).__name__, str(caught.value)


@pytest.mark.parametrize(
    ("body", "kind", "message"),
    [
        ([], "HTTPBadRequest", "Resource body required for port."),
        ({"network_id": "n", "bogus": 1, "also": 2}, "HTTPBadRequest",
         "Unrecognized attribute(s) 'also, bogus'"),
        ({"network_id": "n", "status": "UP"}, "HTTPBadRequest",
         "Cannot update read-only attribute status"),
        ({"binding:vif_type": "ovs"}, "HTTPBadRequest",
         "Attribute 'binding:vif_type' not allowed in POST"),
        # The first bad attribute sent is the one named, before a required one is missed.
        ({"admin_state_up": "maybe", "name": 5}, "InvalidInput",
         "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."),
        ({"name": "p"}, "HTTPBadRequest",
         "Failed to parse request. Required attribute 'network_id' not specified"),
        ({"network_id": "n", "tenant_id": "a", "project_id": "b"}, "HTTPBadRequest",
         "Specifying 'project_id' or 'tenant_id' other than the authenticated project in "
         "request requires admin privileges"),
    ],
)  # fmt: skip
def test_a_port_create_is_refused_as_neutron_refuses_it(body: Any, kind: str, message: str) -> None:
    found_kind, found = _refusal(bodies.member_body("port", True), body)
    assert found_kind == kind
    assert message in found


def test_an_update_refuses_what_only_a_create_sets() -> None:
    assert _refusal(bodies.member_body("port", False), {"network_id": "n"}) == (
        "HTTPBadRequest",
        "Cannot update read-only attribute network_id",
    )


def test_documents_take_one_member_or_a_bulk_create() -> None:
    create = bodies.document("network", "networks", True)
    one = validate(create, {"network": {"name": "a"}})
    assert not one.bulk and [m.values for m in one.members] == [{"name": "a"}]
    many = validate(create, {"networks": [{"name": "a"}, {"name": "b"}]})
    assert many.bulk and [m.raw for m in many.members] == [{"name": "a"}, {"name": "b"}]
    assert all(isinstance(m, resource.Member) for m in many.members)
    assert _refusal(create, {"networks": {}}) == (
        "BadRequest",
        "Resource body required for networks.",
    )
    assert _refusal(create, {"networks": [{}] * (bodies.MAX_BULK + 1)})[0] == "BadRequest"
    update = bodies.document("network", None, False)
    assert _refusal(update, {"networks": [{"name": "a"}]}) == (
        "BadRequest",
        "Resource body required for network.",
    )


def test_action_bodies_keep_their_own_errors() -> None:
    assert validate(bodies.RouterInterface, {"subnet_id": None}).given() == {"subnet_id": None}
    assert _refusal(bodies.RouterInterface, {"subnet_id": "s", "x": 1})[0] == "HTTPBadRequest"
    routes = {"router": {"routes": [{"destination": "10.1.0.0/24", "nexthop": "10.0.0.1"}]}}
    assert validate(bodies.ExtraRoutes, routes).routes == [("10.1.0.0/24", "10.0.0.1")]
    assert _refusal(bodies.ExtraRoutes, {"router": "x"})[0] == "BadRequest"
    assert _refusal(bodies.Tags, {"tags": "a"})[0] == "HTTPBadRequest"
    assert validate(bodies.qos_rule("dscp_marking"), {"dscp_marking_rule": {"dscp_mark": 8}})
    assert _refusal(bodies.Quota, {"quota": []}) == (
        "BadRequest",
        "Resource body required for quota.",
    )
    assert validate(bodies.ScheduledNetwork, {"network_id": "n"}).ident == "n"
    assert _refusal(bodies.ScheduledRouter, {"router_id": 5})[0] == "BadRequest"
    with pytest.raises(nerr.HTTPBadRequest):
        validate(bodies.SubPorts, {"sub_port": []})
    assert validate(bodies.FlavorProfile, {"service_profile": {"id": "sp"}}).id == "sp"
