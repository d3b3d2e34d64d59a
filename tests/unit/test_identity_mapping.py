"""Keystone's federation mapping rules: conditions, captures, locals, the REMOTE_USER
fallback, the schema, and that no header is trusted unless configured."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from starlette.datastructures import Headers

from onestack.common import errors
from onestack.config import IdentitySettings
from onestack.identity.api.federation import trusted_assertion
from onestack.identity.mapping import Rules, apply_rules


def rules(*rule: dict[str, Any]) -> Rules:
    return Rules.model_validate({"rules": list(rule)})


USER_AND_GROUPS = {
    "local": [
        {"user": {"name": "{0}"}},
        {"groups": "{1}", "domain": {"id": "default"}},
    ],
    "remote": [{"type": "openstack_user"}, {"type": "groups", "blacklist": ["banned"]}],
}


def test_direct_captures_fill_the_user_and_every_group() -> None:
    mapped = apply_rules(
        rules(USER_AND_GROUPS), {"openstack_user": "alice", "groups": "a;banned;b"}
    )
    assert mapped.user == {"type": "ephemeral", "name": "alice"}
    assert mapped.group_names == [("a", {"id": "default"}), ("b", {"id": "default"})]


def test_attribute_names_are_case_insensitive_as_headers_are() -> None:
    mapped = apply_rules(rules(USER_AND_GROUPS), {"OpenStack_User": "bob", "GROUPS": "x"})
    assert mapped.user["name"] == "bob"


def test_any_one_of_and_not_any_of_with_and_without_regex() -> None:
    admins = {
        "local": [{"group": {"id": "g-admins"}}],
        "remote": [
            {"type": "REMOTE_USER"},
            {"type": "orgPersonType", "any_one_of": [".*Admin$"], "regex": True},
            {"type": "status", "not_any_of": ["suspended"]},
        ],
    }
    r = rules(admins)
    mapped = apply_rules(
        r, {"REMOTE_USER": "carol", "orgPersonType": "Staff;SysAdmin", "status": "ok"}
    )
    assert mapped.group_ids == ["g-admins"]
    assert mapped.user == {"type": "ephemeral", "name": "carol"}  # from REMOTE_USER
    for assertion in (
        {"REMOTE_USER": "carol", "orgPersonType": "Staff", "status": "ok"},
        {"REMOTE_USER": "carol", "orgPersonType": "SysAdmin", "status": "ok;suspended"},
        {"REMOTE_USER": "carol", "status": "ok"},  # a missing attribute fails the rule
    ):
        with pytest.raises(errors.Unauthorized):
            apply_rules(r, assertion)


def test_whitelist_ids_local_users_and_projects() -> None:
    r = rules(
        {
            "local": [
                {"user": {"id": "{0}", "name": "{0}", "type": "local", "domain": {"name": "D"}}},
                {"group_ids": "{1}"},
                {"projects": [{"name": "home-{0}", "roles": [{"name": "member"}]}]},
            ],
            "remote": [{"type": "uid"}, {"type": "gids", "whitelist": ["g1", "g3"]}],
        }
    )
    mapped = apply_rules(r, {"uid": "u9", "gids": "g1;g2;g3"})
    assert mapped.user == {"type": "local", "id": "u9", "name": "u9", "domain": {"name": "D"}}
    assert mapped.group_ids == ["g1", "g3"]
    assert mapped.projects == [{"name": "home-u9", "roles": ["member"]}]


def test_nothing_mapped_is_unauthorized() -> None:
    r = rules({"local": [{"group": {"id": "g"}}], "remote": [{"type": "x", "any_one_of": ["y"]}]})
    with pytest.raises(errors.Unauthorized):
        apply_rules(r, {"x": "z", "REMOTE_USER": "eve"})


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [{"local": [], "remote": [{"type": "a"}]}],
        [{"local": [{"user": {"name": "{0}"}}], "remote": []}],
        [
            {
                "local": [{"user": {"name": "x"}}],
                "remote": [{"type": "a", "any_one_of": ["b"], "not_any_of": ["c"]}],
            }
        ],
        [{"local": [{"user": {"name": "x"}}], "remote": [{"type": "a", "bogus": 1}]}],
        [{"local": [{"groups": "{0}"}], "remote": [{"type": "a"}]}],  # names without a domain
        [{"local": [{"user": {"name": "x", "type": "other"}}], "remote": [{"type": "a"}]}],
    ],
)
def test_schema_refuses_what_keystone_refuses(bad: list[Any]) -> None:
    with pytest.raises(ValidationError):
        Rules.model_validate({"rules": bad})


def test_no_header_is_trusted_unless_configured() -> None:
    headers = Headers({"x-remote-user": "root", "remote_user": "root", "x-fed-groups": "admins"})
    assert trusted_assertion(IdentitySettings(), headers) == {}
    on = IdentitySettings(
        federation_remote_user_header="X-Remote-User", federation_assertion_header_prefix="X-Fed-"
    )
    assert trusted_assertion(on, headers) == {"REMOTE_USER": "root", "groups": "admins"}
