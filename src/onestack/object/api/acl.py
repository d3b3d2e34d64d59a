"""Container ACLs as Swift's keystoneauth reads them.

``X-Container-Read: .r:*,.rlistings,PROJECT_ID:*,PROJECT_ID:USER_ID,*:USER_ID,ROLE`` -
referrer entries (``.r:``) let anyone (or matching Referers) read objects, ``.rlistings``
lists the container to them too; the others name projects, users or roles. Write ACLs hold
the same user entries (referrers cannot write)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from onestack.common.context import RequestContext
from onestack.object import errors


@dataclass(frozen=True, slots=True)
class ACL:
    referrers: tuple[str, ...]
    entries: tuple[str, ...]


EMPTY = ACL((), ())


def parse(value: str) -> ACL:
    """Swift's ``parse_acl`` (version 1); 400 on a malformed referrer entry."""
    if not value:
        return EMPTY
    referrers: list[str] = []
    entries: list[str] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        if ":" in item and item.split(":", 1)[0].strip().lower() in (
            ".r",
            ".ref",
            ".referer",
            ".referrer",
        ):
            ref = item.split(":", 1)[1].strip()
            if not ref or ref in ("-", "-*"):
                raise errors.BadRequest(f"Error: Invalid ACL referrer designation: {item}")
            referrers.append(ref)
        elif item.startswith(".") and item not in (".rlistings",):
            raise errors.BadRequest(f"Error: Unknown designator {item!r} in ACL")
        else:
            entries.append(item)
    return ACL(tuple(referrers), tuple(entries))


def clean(value: str) -> str:
    """The ACL as stored: validated, spaces dropped."""
    parse(value)
    return ",".join(p.strip() for p in value.split(",") if p.strip())


def referrer_allowed(referer: str, referrers: tuple[str, ...]) -> bool:
    """Swift's ``referrer_allowed``: ``*`` allows all; ``-host`` denies, ``.domain`` matches
    subdomains; the last matching entry decides."""
    allowed = False
    host = urlparse(referer).hostname or "" if referer else ""
    for ref in referrers:
        deny = ref.startswith("-")
        pattern = ref[1:] if deny else ref
        if pattern == "*" or (
            host and (host == pattern or (pattern.startswith(".") and host.endswith(pattern)))
        ):
            allowed = not deny
    return allowed


def user_allowed(acl: ACL, ctx: RequestContext) -> bool:
    project = ctx.project_id or ""
    project_name = ctx.project_name or ""
    candidates = {
        f"{project}:{ctx.user_id}",
        f"{project}:*",
        f"*:{ctx.user_id}",
        "*:*",
        f"{project_name}:{ctx.user_name}",
        f"{project_name}:*",
        f"*:{ctx.user_name}",
    }
    roles = set(ctx.roles)
    return any(entry in candidates or entry in roles for entry in acl.entries)
