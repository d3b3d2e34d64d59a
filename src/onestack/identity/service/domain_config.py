"""Domain-specific configuration (Keystone's /v3/domains/{id}/config): the identity and ldap
options a domain overrides, stored and served as Keystone does. OneStack's identity backend
is SQL for every domain; an ``identity.driver`` stored here is configuration, not a switch."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.identity import models
from onestack.identity.service.base import IdentityContext

_LDAP_DEFAULTS: dict[str, Any] = {
    "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com",
    "query_scope": "one", "page_size": 0, "alias_dereferencing": "default",
    "debug_level": None, "chase_referrals": None, "user_tree_dn": None, "user_filter": None,
    "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn",
    "user_name_attribute": "sn", "user_mail_attribute": "mail",
    "user_description_attribute": "description", "user_pass_attribute": "userPassword",
    "user_enabled_attribute": "enabled", "user_enabled_invert": False,
    "user_enabled_mask": 0, "user_enabled_default": "True",
    "user_attribute_ignore": ["default_project_id"],
    "user_default_project_id_attribute": None, "user_enabled_emulation": False,
    "user_enabled_emulation_dn": None, "user_enabled_emulation_use_group_config": False,
    "user_additional_attribute_mapping": [], "group_tree_dn": None, "group_filter": None,
    "group_objectclass": "groupOfNames", "group_id_attribute": "cn",
    "group_name_attribute": "ou", "group_members_are_ids": False,
    "group_member_attribute": "member", "group_desc_attribute": "description",
    "group_attribute_ignore": [], "group_additional_attribute_mapping": [],
    "tls_cacertfile": None, "tls_cacertdir": None, "use_tls": False,
    "tls_req_cert": "demand", "use_pool": True, "pool_size": 10, "pool_retry_max": 3,
    "pool_retry_delay": 0.1, "pool_connection_timeout": -1,
    "pool_connection_lifetime": 600, "use_auth_pool": True, "auth_pool_size": 100,
    "auth_pool_connection_lifetime": 60,
}  # fmt: skip
# The options a domain may set (Keystone's whitelist) with their defaults, and the sensitive
# ones, which are stored but never shown.
DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": _LDAP_DEFAULTS,
}
SENSITIVE = {"identity": set[str](), "ldap": {"password"}}
SECURITY_COMPLIANCE = ("password_regex", "password_regex_description")


def _invalid(reason: str) -> errors.Forbidden:
    return errors.Forbidden(f"Invalid domain specific configuration: {reason}")


def check_group_option(group: str | None, option: str | None) -> None:
    if group is not None and group not in DEFAULTS:
        raise _invalid(f"Group {group} is not supported for domain specific configurations")
    known = (
        group is None or option is None or option in DEFAULTS[group] or (option in SENSITIVE[group])
    )
    if not known:
        raise _invalid(
            f"Option {option} in group {group} is not supported for domain specific configurations"
        )


def check_config(config: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(config, dict) or not config:
        raise _invalid("No options specified")
    for group, options in config.items():
        if not isinstance(options, dict) or not options:
            raise _invalid(f"The value of group {group} specified in the config should be a "
                           "dictionary of options")  # fmt: skip
        for option in options:
            check_group_option(group, option)
    return config


def _not_found(domain_id: str, group: str | None, option: str | None) -> errors.NotFound:
    what = (
        f"option {option} in group {group}"
        if option
        else (f"group {group}" if group else "any options")
    )
    return errors.NotFound(f"Could not find {what} in domain configuration for domain {domain_id}.")


class DomainConfig:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    async def _rows(
        self, domain_id: str, group: str | None = None, option: str | None = None
    ) -> list[models.DomainConfigOption]:
        stmt = select(models.DomainConfigOption).where(
            models.DomainConfigOption.domain_id == domain_id
        )
        if group is not None:
            stmt = stmt.where(models.DomainConfigOption.group == group)
        if option is not None:
            stmt = stmt.where(models.DomainConfigOption.option == option)
        async with self.context.db.session() as s:
            return list((await s.scalars(stmt)).all())

    async def get(
        self, domain_id: str, group: str | None = None, option: str | None = None
    ) -> dict[str, Any]:
        """The domain's shown options, as ``{group: {option: value}}`` (or ``{option: value}``
        when one option is asked for); 404 when nothing matches."""
        check_group_option(group, option)
        rows = [r for r in await self._rows(domain_id, group, option) if not r.sensitive]
        if not rows:
            raise _not_found(domain_id, group, option)
        if option is not None:
            return {option: rows[0].value}
        out: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: (r.group, r.option)):
            out.setdefault(row.group, {})[row.option] = row.value
        return out

    async def create(self, domain_id: str, config: Any) -> tuple[dict[str, Any], bool]:
        """Replace the domain's whole configuration; True when it had none before."""
        config = check_config(config)
        existed = bool(await self._rows(domain_id))
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.DomainConfigOption).where(
                    models.DomainConfigOption.domain_id == domain_id
                )
            )
            self._add(s, domain_id, config)
        return await self.get(domain_id), not existed

    @staticmethod
    def _add(s: Any, domain_id: str, config: dict[str, dict[str, Any]]) -> None:
        for group, options in config.items():
            for option, value in options.items():
                s.add(
                    models.DomainConfigOption(
                        domain_id=domain_id,
                        group=group,
                        option=option,
                        value=value,
                        sensitive=option in SENSITIVE[group],
                    )
                )

    async def update(
        self, domain_id: str, config: Any, group: str | None = None, option: str | None = None
    ) -> dict[str, Any]:
        """Merge ``config`` in; with a group (and option) in the path only that may change,
        and it must exist already."""
        update = {group: config} if group and option else config
        update = check_config(update)
        check_group_option(group, option)
        if group is not None:
            if list(update) != [group] or (option is not None and list(update[group]) != [option]):
                only = f"option {option} in group {group}" if option else f"group {group}"
                raise _invalid(f"Trying to update {only}, so that, and only that, must be given")
            if not await self._rows(domain_id, group, option):
                raise _not_found(domain_id, group, option)
        async with self.context.db.session() as s:
            for grp, options in update.items():
                await s.execute(
                    delete(models.DomainConfigOption).where(
                        models.DomainConfigOption.domain_id == domain_id,
                        models.DomainConfigOption.group == grp,
                        models.DomainConfigOption.option.in_(list(options)),
                    )
                )
            await s.flush()
            self._add(s, domain_id, update)
        return await self.get(domain_id)

    async def delete(
        self, domain_id: str, group: str | None = None, option: str | None = None
    ) -> None:
        check_group_option(group, option)
        if group is not None and not await self._rows(domain_id, group, option):
            raise _not_found(domain_id, group, option)
        stmt = delete(models.DomainConfigOption).where(
            models.DomainConfigOption.domain_id == domain_id
        )
        if group is not None:
            stmt = stmt.where(models.DomainConfigOption.group == group)
        if option is not None:
            stmt = stmt.where(models.DomainConfigOption.option == option)
        async with self.context.db.session() as s:
            await s.execute(stmt)

    @staticmethod
    def defaults(group: str | None = None, option: str | None = None) -> dict[str, Any]:
        check_group_option(group, option)
        if group is None:
            return {g: dict(opts) for g, opts in DEFAULTS.items()}
        if option is None:
            return {group: dict(DEFAULTS[group])}
        if option not in DEFAULTS[group]:  # a sensitive option has no default to show
            raise _invalid(f"Reading the default for option {option} in group {group} is not "
                           "supported")  # fmt: skip
        return {option: DEFAULTS[group][option]}
