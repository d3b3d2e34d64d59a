"""The oslo.policy check-string evaluator, the operator override file, and identity's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.policy import (
    Enforcer,
    PolicySyntaxError,
    RuleDefault,
    flatten,
    parse_rule,
)
from onestack.identity.policies import RULES as IDENTITY_RULES


def ev(
    text: str,
    creds: dict[str, Any] | None = None,
    target: dict[str, Any] | None = None,
    enforcer: Enforcer | None = None,
) -> bool:
    """Evaluate one check string the way ``Enforcer.allowed`` does (target flattened)."""
    return parse_rule(text)(flatten(target or {}), creds or {}, enforcer or Enforcer())


# --- atoms ---------------------------------------------------------------------------------
class TestRoleCheck:
    def test_role_present(self) -> None:
        assert ev("role:admin", {"roles": ["member", "admin"]})

    def test_role_absent(self) -> None:
        assert not ev("role:admin", {"roles": ["member", "reader"]})

    def test_role_is_case_insensitive(self) -> None:
        assert ev("role:Admin", {"roles": ["ADMIN"]})

    def test_no_roles_at_all(self) -> None:
        assert not ev("role:admin", {})

    def test_role_name_from_target(self) -> None:
        assert ev("role:%(wanted)s", {"roles": ["member"]}, {"wanted": "member"})
        assert not ev("role:%(wanted)s", {"roles": ["member"]}, {"wanted": "admin"})

    def test_role_from_missing_target_key_denies(self) -> None:
        assert not ev("role:%(wanted)s", {"roles": ["member"]}, {})


class TestRuleCheck:
    def test_refers_to_a_registered_rule(self) -> None:
        enforcer = Enforcer([RuleDefault("ops", "role:ops")])
        assert ev("rule:ops", {"roles": ["ops"]}, enforcer=enforcer)
        assert not ev("rule:ops", {"roles": ["member"]}, enforcer=enforcer)

    def test_base_rules_are_always_there(self) -> None:
        assert ev("rule:admin_required", {"roles": ["admin"]})
        assert ev("rule:admin_required", {"roles": [], "is_admin": 1})
        assert not ev("rule:admin_required", {"roles": ["member"], "is_admin": False})

    def test_unknown_rule_denies(self) -> None:
        assert not ev("rule:no_such_rule", {"roles": ["admin"]})

    def test_rule_chain(self) -> None:
        enforcer = Enforcer(
            [RuleDefault("a", "rule:b or role:x"), RuleDefault("b", "role:y and role:z")]
        )
        assert ev("rule:a", {"roles": ["x"]}, enforcer=enforcer)
        assert ev("rule:a", {"roles": ["y", "z"]}, enforcer=enforcer)
        assert not ev("rule:a", {"roles": ["y"]}, enforcer=enforcer)


class TestGenericCheck:
    def test_nested_target_is_flattened(self) -> None:
        target = {"target": {"user": {"id": "u1"}}}
        assert ev("user_id:%(target.user.id)s", {"user_id": "u1"}, target)
        assert not ev("user_id:%(target.user.id)s", {"user_id": "u2"}, target)

    def test_already_flattened_target(self) -> None:
        target = {"target.user.id": "u1"}
        assert ev("user_id:%(target.user.id)s", {"user_id": "u1"}, target)
        assert not ev("user_id:%(target.user.id)s", {"user_id": "u2"}, target)

    def test_constant_match(self) -> None:
        assert ev("system_scope:all", {"system_scope": "all"})
        assert not ev("system_scope:all", {"system_scope": None})
        assert not ev("system_scope:all", {})

    def test_nested_credentials_by_dotted_path(self) -> None:
        creds = {"token": {"project": {"domain": {"id": "d1"}}}}
        assert ev("token.project.domain.id:%(domain)s", creds, {"domain": "d1"})
        assert not ev("token.project.domain.id:%(domain)s", creds, {"domain": "d2"})
        # A path that stops half way is a miss, not an error.
        assert not ev("token.project.name.first:%(domain)s", creds, {"domain": "d1"})

    def test_flattened_credentials_key(self) -> None:
        assert ev("token.user_id:%(u)s", {"token.user_id": "u1"}, {"u": "u1"})

    def test_values_compared_as_strings(self) -> None:
        assert ev("count:%(n)s", {"count": 3}, {"n": 3})
        assert ev("count:3", {"count": 3})
        assert not ev("count:4", {"count": 3})

    def test_missing_target_key_denies(self) -> None:
        assert not ev("project_id:%(project_id)s", {"project_id": "p1"}, {})
        assert not ev("project_id:%(target.project.id)s", {"project_id": "p1"}, {"target": {}})

    def test_missing_credential_denies(self) -> None:
        assert not ev("project_id:%(project_id)s", {}, {"project_id": "p1"})

    def test_unscoped_credentials_never_match_a_none_target(self) -> None:
        # oslo.policy would compare "None" == "None"; a None credential must never match.
        creds = {"project_id": None}
        assert not ev("project_id:%(project_id)s", creds, {"project_id": None})

    def test_list_valued_credentials(self) -> None:
        creds = {"group_ids": ["g1", "g2"], "numbers": [1, 2]}
        assert ev("group_ids:%(g)s", creds, {"g": "g2"})
        assert not ev("group_ids:%(g)s", creds, {"g": "g3"})
        assert ev("numbers:2", creds)
        assert not ev("numbers:3", creds)

    def test_tuple_valued_credentials(self) -> None:
        assert ev("tags:%(t)s", {"tags": ("a", "b")}, {"t": "b"})

    def test_several_substitutions_in_one_match(self) -> None:
        creds = {"fqdn": "web.d1"}
        assert ev("fqdn:%(name)s.%(domain)s", creds, {"name": "web", "domain": "d1"})
        assert not ev("fqdn:%(name)s.%(domain)s", creds, {"name": "web"})


class TestLiteralLeftSide:
    def test_quoted_string(self) -> None:
        assert ev("'member':%(role_name)s", {}, {"role_name": "member"})
        assert not ev("'member':%(role_name)s", {}, {"role_name": "admin"})

    def test_double_quoted_string(self) -> None:
        assert ev('"x":%(a)s', {}, {"a": "x"})

    def test_quoted_literal_ignores_credentials(self) -> None:
        # The left side is the literal, not a credential named "x".
        assert not ev("'x':%(a)s", {"x": "y", "'x'": "y"}, {"a": "y"})

    def test_boolean_literal(self) -> None:
        assert ev("True:%(enabled)s", {}, {"enabled": True})
        assert not ev("True:%(enabled)s", {}, {"enabled": False})
        assert ev("False:%(enabled)s", {}, {"enabled": False})

    def test_number_literal(self) -> None:
        assert ev("1:%(n)s", {}, {"n": 1})
        assert not ev("1:%(n)s", {}, {"n": 2})

    def test_literal_with_missing_target_key_denies(self) -> None:
        assert not ev("True:%(enabled)s", {}, {})


class TestSpecialChecks:
    def test_at_allows(self) -> None:
        assert ev("@")

    def test_bang_denies(self) -> None:
        assert not ev("!", {"roles": ["admin"]})

    @pytest.mark.parametrize("text", ["", "   ", "\t\n"])
    def test_empty_rule_allows(self, text: str) -> None:
        assert ev(text)

    def test_bang_in_expression(self) -> None:
        assert ev("! or role:a", {"roles": ["a"]})
        assert not ev("@ and !", {})


# --- operators -----------------------------------------------------------------------------
def roles(*names: str) -> dict[str, Any]:
    return {"roles": list(names)}


class TestOperators:
    def test_and(self) -> None:
        assert ev("role:a and role:b", roles("a", "b"))
        assert not ev("role:a and role:b", roles("a"))

    def test_or(self) -> None:
        assert ev("role:a or role:b", roles("b"))
        assert not ev("role:a or role:b", roles("c"))

    def test_and_binds_tighter_than_or(self) -> None:
        # a or (b and c)
        assert ev("role:a or role:b and role:c", roles("a"))
        assert not ev("role:a or role:b and role:c", roles("b"))
        assert ev("role:a or role:b and role:c", roles("b", "c"))
        # (a and b) or c
        assert ev("role:a and role:b or role:c", roles("c"))
        assert not ev("role:a and role:b or role:c", roles("a"))

    def test_parentheses_override_precedence(self) -> None:
        assert not ev("(role:a or role:b) and role:c", roles("a"))
        assert ev("(role:a or role:b) and role:c", roles("a", "c"))
        assert ev("role:a and (role:b or role:c)", roles("a", "c"))
        assert not ev("role:a and (role:b or role:c)", roles("b", "c"))

    def test_not_binds_tighter_than_and(self) -> None:
        # (not a) and b
        assert ev("not role:a and role:b", roles("b"))
        assert not ev("not role:a and role:b", roles("a", "b"))
        assert not ev("not role:a and role:b", roles())

    def test_not_of_group(self) -> None:
        assert ev("not (role:a or role:b)", roles("c"))
        assert not ev("not (role:a or role:b)", roles("b"))

    def test_double_not(self) -> None:
        assert ev("not not role:a", roles("a"))
        assert not ev("not not role:a", roles())

    def test_not_of_a_missing_key_is_true(self) -> None:
        # The inner check denies on the missing key; ``not`` inverts it (oslo.policy too).
        assert ev("not project_id:%(nope)s", {"project_id": "p1"}, {})

    def test_nested_parentheses(self) -> None:
        text = "((role:a and (role:b or role:c)) or role:d)"
        assert ev(text, roles("a", "c"))
        assert ev(text, roles("d"))
        assert not ev(text, roles("a"))

    def test_parentheses_with_spaces_inside(self) -> None:
        assert ev("( role:a or role:b ) and role:c", roles("b", "c"))
        assert not ev("( role:a or role:b ) and role:c", roles("b"))


class TestParenthesesNextToSubstitutions:
    creds = {"roles": ["reader"], "project_id": "p1"}

    def test_group_ending_in_substitution(self) -> None:
        text = "(role:reader and project_id:%(project_id)s)"
        assert ev(text, self.creds, {"project_id": "p1"})
        assert not ev(text, self.creds, {"project_id": "p2"})

    def test_double_group_ending_in_substitution(self) -> None:
        text = "((role:reader and project_id:%(project_id)s))"
        assert ev(text, self.creds, {"project_id": "p1"})
        assert not ev(text, self.creds, {"project_id": "p2"})

    def test_group_starting_with_substitution(self) -> None:
        text = "(project_id:%(project_id)s and role:reader) or role:admin"
        assert ev(text, self.creds, {"project_id": "p1"})
        assert not ev(text, self.creds, {"project_id": "p2"})

    def test_dotted_substitution_inside_group(self) -> None:
        text = "role:admin or (role:reader and project_id:%(target.project.id)s)"
        assert ev(text, self.creds, {"target": {"project": {"id": "p1"}}})
        assert not ev(text, self.creds, {"target": {"project": {"id": "p2"}}})

    def test_group_around_single_substitution(self) -> None:
        assert ev("(project_id:%(project_id)s)", self.creds, {"project_id": "p1"})
        assert not ev("(project_id:%(project_id)s)", self.creds, {"project_id": "p9"})

    def test_base_rule_project_reader(self) -> None:
        assert ev("rule:project_reader", self.creds, {"project_id": "p1"})
        assert not ev("rule:project_reader", self.creds, {"project_id": "p2"})
        assert not ev("rule:project_member", self.creds, {"project_id": "p1"})


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        "text",
        [
            "role:a and",
            "or role:a",
            "and role:a",
            "(role:a",
            "role:a)",
            "role:a role:b",
            "admin",
            "()",
            "not",
            "role:a or or role:b",
        ],
    )
    def test_rejected(self, text: str) -> None:
        with pytest.raises(PolicySyntaxError):
            parse_rule(text)

    def test_bad_default_is_refused_at_registration(self) -> None:
        with pytest.raises(PolicySyntaxError):
            Enforcer([RuleDefault("x", "role:a and (role:b")])


def test_flatten_keeps_originals_and_adds_dotted_keys() -> None:
    target = {"target": {"user": {"id": "u1"}}, "x": 1}
    flat = flatten(target)
    assert flat["target.user.id"] == "u1"
    assert flat["target.user"] == {"id": "u1"}
    assert flat["target"] == {"user": {"id": "u1"}}
    assert flat["x"] == 1


# --- the Enforcer --------------------------------------------------------------------------
def ctx(**kw: Any) -> RequestContext:
    kw.setdefault("request_id", "req-1")
    kw.setdefault("user_id", "u1")
    return RequestContext(**kw)


def project_ctx(*role_names: str, project_id: str = "p1", **kw: Any) -> RequestContext:
    return ctx(project_id=project_id, project_domain_id="d1", roles=role_names, **kw)


SVC_DEFAULTS = [
    RuleDefault("svc:do", "role:admin", "Do the thing."),
    RuleDefault("svc:read", "rule:project_reader", "Read the thing."),
    RuleDefault("svc:scoped", "@", "Any scoped caller.", ("project", "domain")),
]


class TestEnforcer:
    def test_enforce_allows(self) -> None:
        enforcer = Enforcer(SVC_DEFAULTS)
        assert enforcer.allowed(project_ctx("admin"), "svc:do")
        # enforce() answers nothing and raises nothing when the rule allows the caller.
        assert enforcer.enforce(project_ctx("admin"), "svc:do") is None
        assert not enforcer.allowed(project_ctx("member"), "svc:do")

    def test_enforce_raises_forbidden(self) -> None:
        with pytest.raises(errors.Forbidden) as info:
            Enforcer(SVC_DEFAULTS).enforce(project_ctx("member"), "svc:do")
        assert info.value.code == 403
        assert "svc:do" in info.value.message

    def test_target_is_flattened_for_the_rule(self) -> None:
        enforcer = Enforcer(SVC_DEFAULTS)
        assert enforcer.allowed(project_ctx("reader"), "svc:read", {"project_id": "p1"})
        assert not enforcer.allowed(project_ctx("reader"), "svc:read", {"project_id": "p2"})

    def test_no_target_means_missing_keys(self) -> None:
        assert not Enforcer(SVC_DEFAULTS).allowed(project_ctx("reader"), "svc:read")

    def test_unregistered_action_is_a_programming_error(self) -> None:
        with pytest.raises(KeyError):
            Enforcer(SVC_DEFAULTS).allowed(project_ctx("admin"), "svc:nope")

    def test_scope_types_refuse_unscoped(self) -> None:
        enforcer = Enforcer(SVC_DEFAULTS)
        assert not enforcer.allowed(ctx(roles=("admin",)), "svc:scoped")
        with pytest.raises(errors.Forbidden):
            enforcer.enforce(ctx(roles=("admin",)), "svc:scoped")

    def test_scope_types_refuse_other_scope(self) -> None:
        enforcer = Enforcer(SVC_DEFAULTS)
        system = ctx(system_scope="all", roles=("admin",))
        assert not enforcer.allowed(system, "svc:scoped")
        assert enforcer.allowed(project_ctx("member"), "svc:scoped")
        assert enforcer.allowed(ctx(domain_id="d1", roles=("reader",)), "svc:scoped")

    def test_no_scope_types_admits_unscoped(self) -> None:
        assert Enforcer(SVC_DEFAULTS).allowed(ctx(roles=("admin",)), "svc:do")

    def test_context_is_admin_credential_is_never_true(self) -> None:
        # is_admin:1 in admin_required must not be satisfiable by a normal token.
        enforcer = Enforcer([RuleDefault("x", "rule:admin_required")])
        assert not enforcer.allowed(project_ctx("member", "reader"), "x")


class TestRememberedAnswers:
    """The Enforcer remembers answers; none may outlive what it was computed from."""

    def test_each_credential_and_target_leaf_is_asked_on_its_own(self) -> None:
        enforcer = Enforcer(
            [RuleDefault("x", "role:reader and user_id:%(target.owner.id)s and domain_id:d1")]
        )
        target = {"target": {"owner": {"id": "u1"}}}
        caller = ctx(domain_id="d1", roles=("reader",))
        assert enforcer.allowed(caller, "x", target)
        assert enforcer.allowed(caller, "x", target)  # remembered, the same
        assert not enforcer.allowed(caller, "x", {"target": {"owner": {"id": "u2"}}})
        assert not enforcer.allowed(caller, "x", {"target": {"owner": {}}})
        assert not enforcer.allowed(ctx(domain_id="d2", roles=("reader",)), "x", target)
        assert not enforcer.allowed(
            ctx(user_id="u2", domain_id="d1", roles=("reader",)), "x", target
        )
        assert not enforcer.allowed(ctx(domain_id="d1", roles=("member",)), "x", target)
        assert enforcer.allowed(caller, "x", target)

    def test_values_that_are_no_strings_are_not_confused(self) -> None:
        # 1 == True as dict keys, not as the strings a rule compares.
        enforcer = Enforcer([RuleDefault("x", "'True':%(flag)s")])
        assert enforcer.allowed(ctx(), "x", {"flag": True})
        assert not enforcer.allowed(ctx(), "x", {"flag": 1})
        assert enforcer.allowed(ctx(), "x", {"flag": True})

    def test_a_policy_file_and_new_defaults_forget_the_answers(self, tmp_path: Path) -> None:
        enforcer = Enforcer(SVC_DEFAULTS)
        assert enforcer.allowed(project_ctx("admin"), "svc:do")
        path = tmp_path / "policy.yaml"
        path.write_text('"svc:do": "role:operator"\n')
        enforcer.load_file(str(path))
        assert not enforcer.allowed(project_ctx("admin"), "svc:do")
        enforcer.register([RuleDefault("svc:more", "role:admin", "More.")])
        assert enforcer.allowed(project_ctx("admin"), "svc:more")
        enforcer.register([RuleDefault("svc:more", "role:operator", "More, for operators.")])
        assert not enforcer.allowed(project_ctx("admin"), "svc:more")
        assert not enforcer.allowed(project_ctx("admin"), "svc:do")  # the override stays


class TestPolicyFile:
    def write(self, tmp_path: Path, text: str) -> str:
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        return str(path)

    def test_override_replaces_default(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, '"svc:do": "role:operator"\n')
        enforcer = Enforcer(SVC_DEFAULTS, path)
        assert enforcer.allowed(project_ctx("operator"), "svc:do")
        assert not enforcer.allowed(project_ctx("admin"), "svc:do")
        # The other defaults stay.
        assert enforcer.allowed(project_ctx("reader"), "svc:read", {"project_id": "p1"})

    def test_override_adds_a_base_rule(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            '"ops_only": "role:ops and system_scope:all"\n'
            '"svc:do": "rule:ops_only or role:admin"\n',
        )
        enforcer = Enforcer(SVC_DEFAULTS, path)
        assert enforcer.allowed(ctx(system_scope="all", roles=("ops",)), "svc:do")
        assert not enforcer.allowed(project_ctx("ops"), "svc:do")
        assert enforcer.allowed(project_ctx("admin"), "svc:do")

    def test_overriding_a_base_rule_changes_rules_that_use_it(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, 'admin_required: "role:cloud_admin"\n')
        enforcer = Enforcer(IDENTITY_RULES, path)
        assert not enforcer.allowed(project_ctx("admin"), "identity:create_domain")
        assert enforcer.allowed(project_ctx("cloud_admin"), "identity:create_domain")

    def test_override_survives_a_later_register(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, '"svc:do": "role:operator"\n')
        enforcer = Enforcer(SVC_DEFAULTS, path)
        enforcer.register([RuleDefault("svc:do", "role:admin")])
        assert enforcer.allowed(project_ctx("operator"), "svc:do")
        assert not enforcer.allowed(project_ctx("admin"), "svc:do")

    def test_override_keeps_default_scope_types(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, '"svc:scoped": "role:admin"\n')
        enforcer = Enforcer(SVC_DEFAULTS, path)
        assert not enforcer.allowed(ctx(roles=("admin",)), "svc:scoped")
        assert enforcer.allowed(project_ctx("admin"), "svc:scoped")

    def test_empty_string_override_allows(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, '"svc:do": ""\n')
        assert Enforcer(SVC_DEFAULTS, path).allowed(project_ctx("member"), "svc:do")

    def test_empty_file_changes_nothing(self, tmp_path: Path) -> None:
        enforcer = Enforcer(SVC_DEFAULTS, self.write(tmp_path, ""))
        assert enforcer.overrides == {}
        assert not enforcer.allowed(project_ctx("member"), "svc:do")

    def test_file_that_is_not_a_mapping(self, tmp_path: Path) -> None:
        with pytest.raises(PolicySyntaxError):
            Enforcer(SVC_DEFAULTS, self.write(tmp_path, "- role:admin\n"))

    def test_bad_check_string_in_file(self, tmp_path: Path) -> None:
        with pytest.raises(PolicySyntaxError):
            Enforcer(SVC_DEFAULTS, self.write(tmp_path, '"svc:do": "role:a and"\n'))


# --- identity's real rules -----------------------------------------------------------------
ADMIN = ctx(
    user_id="admin-user",
    project_id="p-admin",
    project_domain_id="default",
    roles=("admin", "member", "reader"),
)
MEMBER = ctx(user_id="alice", project_id="p1", project_domain_id="d1", roles=("member", "reader"))
READER = ctx(user_id="bob", project_id="p1", project_domain_id="d1", roles=("reader",))
SYSTEM_READER = ctx(user_id="sysread", system_scope="all", roles=("reader",))
DOMAIN_ADMIN = ctx(user_id="dadmin", domain_id="d1", roles=("admin", "member", "reader"))
DOMAIN_READER = ctx(user_id="dreader", domain_id="d1", roles=("reader",))
UNSCOPED = ctx(user_id="alice", roles=())


@pytest.fixture(scope="module")
def identity() -> Enforcer:
    return Enforcer(IDENTITY_RULES)


def project_target(project_id: str, domain_id: str) -> dict[str, Any]:
    return {"target": {"project": {"id": project_id, "domain_id": domain_id}}}


def user_target(user_id: str, domain_id: str) -> dict[str, Any]:
    return {"target": {"user": {"id": user_id, "domain_id": domain_id}}}


class TestIdentityRules:
    def test_every_rule_parses_and_is_scoped(self, identity: Enforcer) -> None:
        for rule in IDENTITY_RULES:
            assert rule.name in identity.rules
            assert set(rule.scope_types) == {"system", "domain", "project"}

    def test_member_gets_own_project_not_another(self, identity: Enforcer) -> None:
        assert identity.allowed(MEMBER, "identity:get_project", project_target("p1", "d1"))
        assert not identity.allowed(MEMBER, "identity:get_project", project_target("p2", "d1"))
        assert not identity.allowed(MEMBER, "identity:get_project", project_target("p2", "d2"))

    def test_get_project_before_it_is_known_to_exist(self, identity: Enforcer) -> None:
        # The 404 path authorizes with only the id.
        target = {"target": {"project": {"id": "p1"}}}
        assert identity.allowed(MEMBER, "identity:get_project", target)
        assert not identity.allowed(MEMBER, "identity:get_project", {"target": {"project": {}}})

    def test_reader_cannot_create_project(self, identity: Enforcer) -> None:
        target = {"target": {"project": {"domain_id": "d1"}}}
        assert not identity.allowed(READER, "identity:create_project", target)
        assert not identity.allowed(MEMBER, "identity:create_project", target)
        assert not identity.allowed(SYSTEM_READER, "identity:create_project", target)
        with pytest.raises(errors.Forbidden):
            identity.enforce(READER, "identity:create_project", target)

    def test_admin_can_create_project_and_list_users(self, identity: Enforcer) -> None:
        assert identity.allowed(
            ADMIN, "identity:create_project", {"target": {"project": {"domain_id": "d9"}}}
        )
        assert identity.allowed(ADMIN, "identity:list_users", {"target": {"domain_id": None}})
        assert identity.allowed(ADMIN, "identity:list_users", {"target": {"domain_id": "d2"}})

    def test_member_cannot_list_users(self, identity: Enforcer) -> None:
        assert not identity.allowed(MEMBER, "identity:list_users", {"target": {"domain_id": None}})
        assert not identity.allowed(MEMBER, "identity:list_users", {"target": {"domain_id": "d1"}})

    def test_system_reader_reads_everything_writes_nothing(self, identity: Enforcer) -> None:
        assert identity.allowed(SYSTEM_READER, "identity:list_users", {"target": {}})
        assert identity.allowed(SYSTEM_READER, "identity:list_domains")
        assert identity.allowed(SYSTEM_READER, "identity:get_project", project_target("p2", "d2"))
        assert identity.allowed(SYSTEM_READER, "identity:get_user", user_target("x", "d2"))
        assert not identity.allowed(SYSTEM_READER, "identity:create_domain")
        assert not identity.allowed(
            SYSTEM_READER, "identity:create_user", {"target": {"user": {"domain_id": "d1"}}}
        )
        assert not identity.allowed(SYSTEM_READER, "identity:delete_user", user_target("x", "d1"))

    def test_project_reader_is_not_a_system_reader(self, identity: Enforcer) -> None:
        assert not identity.allowed(READER, "identity:list_domains")
        assert not identity.allowed(READER, "identity:list_services")

    def test_domain_reader_lists_users_of_its_domain_only(self, identity: Enforcer) -> None:
        assert identity.allowed(
            DOMAIN_READER, "identity:list_users", {"target": {"domain_id": "d1"}}
        )
        assert not identity.allowed(
            DOMAIN_READER, "identity:list_users", {"target": {"domain_id": "d2"}}
        )
        assert identity.allowed(DOMAIN_READER, "identity:get_user", user_target("x", "d1"))
        assert not identity.allowed(DOMAIN_READER, "identity:get_user", user_target("x", "d2"))

    def test_domain_reader_cannot_write(self, identity: Enforcer) -> None:
        assert not identity.allowed(
            DOMAIN_READER, "identity:create_user", {"target": {"user": {"domain_id": "d1"}}}
        )
        assert not identity.allowed(
            DOMAIN_READER, "identity:delete_project", project_target("p1", "d1")
        )

    def test_domain_admin_manages_its_domain(self, identity: Enforcer) -> None:
        assert identity.allowed(
            DOMAIN_ADMIN, "identity:create_user", {"target": {"user": {"domain_id": "d1"}}}
        )
        assert identity.allowed(DOMAIN_ADMIN, "identity:delete_project", project_target("p1", "d1"))
        assert identity.allowed(
            DOMAIN_ADMIN, "identity:list_users", {"target": {"domain_id": "d1"}}
        )

    def test_any_admin_role_passes_admin_required(self, identity: Enforcer) -> None:
        # Keystone's legacy admin_required is "role:admin or is_admin:1": an admin role on any
        # scope is cloud admin. This pins that behaviour; change it here and in policies.py.
        assert identity.allowed(
            DOMAIN_ADMIN, "identity:create_user", {"target": {"user": {"domain_id": "d2"}}}
        )

    def test_user_reads_itself_but_not_others(self, identity: Enforcer) -> None:
        assert identity.allowed(MEMBER, "identity:get_user", user_target("alice", "d1"))
        assert not identity.allowed(MEMBER, "identity:get_user", user_target("bob", "d1"))
        assert not identity.allowed(MEMBER, "identity:update_user", user_target("alice", "d1"))

    def test_get_domain_through_the_token_project(self, identity: Enforcer) -> None:
        assert identity.allowed(MEMBER, "identity:get_domain", {"target": {"domain": {"id": "d1"}}})
        assert not identity.allowed(
            MEMBER, "identity:get_domain", {"target": {"domain": {"id": "d2"}}}
        )
        assert identity.allowed(
            DOMAIN_READER, "identity:get_domain", {"target": {"domain": {"id": "d1"}}}
        )
        assert not identity.allowed(
            DOMAIN_READER, "identity:get_domain", {"target": {"domain": {"id": "d2"}}}
        )

    def test_application_credentials_belong_to_their_owner(self, identity: Enforcer) -> None:
        def owner(user_id: str) -> dict[str, Any]:
            return {"user_id": user_id, "target": {"user": {"id": user_id}}}

        rule = "identity:create_application_credential"
        assert identity.allowed(MEMBER, rule, owner("alice"))
        assert not identity.allowed(MEMBER, rule, owner("bob"))
        # Not even an admin creates one for someone else.
        assert not identity.allowed(ADMIN, rule, owner("alice"))
        assert identity.allowed(ADMIN, "identity:delete_application_credential", owner("alice"))

    def test_token_subject_validates_own_token(self, identity: Enforcer) -> None:
        def token_of(user_id: str) -> dict[str, Any]:
            return {"target": {"token": {"user_id": user_id}}}

        assert identity.allowed(MEMBER, "identity:validate_token", token_of("alice"))
        assert not identity.allowed(MEMBER, "identity:validate_token", token_of("bob"))
        service = ctx(user_id="nova", project_id="service", roles=("service",))
        assert identity.allowed(service, "identity:validate_token", token_of("bob"))
        assert identity.allowed(SYSTEM_READER, "identity:validate_token", token_of("bob"))
        assert not identity.allowed(SYSTEM_READER, "identity:revoke_token", token_of("bob"))

    def test_empty_rule_needs_only_a_scope(self, identity: Enforcer) -> None:
        assert identity.allowed(READER, "identity:list_regions")
        assert not identity.allowed(UNSCOPED, "identity:list_regions")

    def test_unscoped_token_is_refused_even_for_own_user(self, identity: Enforcer) -> None:
        assert not identity.allowed(UNSCOPED, "identity:get_user", user_target("alice", "d1"))

    def test_grants_for_domain_reader(self, identity: Enforcer) -> None:
        on_project = {"target": {"project": {"id": "p1", "domain_id": "d1"}}}
        on_domain = {"target": {"domain": {"id": "d1"}}}
        other = {"target": {"domain": {"id": "d2"}}}
        assert identity.allowed(DOMAIN_READER, "identity:list_grants", on_project)
        assert identity.allowed(DOMAIN_READER, "identity:list_grants", on_domain)
        assert not identity.allowed(DOMAIN_READER, "identity:list_grants", other)
        assert not identity.allowed(DOMAIN_READER, "identity:create_grant", on_domain)
        assert identity.allowed(DOMAIN_ADMIN, "identity:create_grant", on_domain)

    def test_project_admin_changes_own_project_tags(self, identity: Enforcer) -> None:
        project_admin = ctx(user_id="padmin", project_id="p1", roles=("admin",))
        assert identity.allowed(
            project_admin, "identity:update_project_tags", project_target("p1", "d1")
        )
        assert not identity.allowed(
            MEMBER, "identity:update_project_tags", project_target("p1", "d1")
        )
