"""Request bodies tests send again and again (no imports of the test support, to stay a leaf)."""

from __future__ import annotations

from typing import Any


def password_body(
    password: str,
    *,
    name: str | None = None,
    user_id: str | None = None,
    scope: Any = None,
) -> dict[str, Any]:
    """``POST /v3/auth/tokens`` with a password, the user by id or by name in Default."""
    user: dict[str, Any] = {"password": password}
    if user_id is not None:
        user["id"] = user_id
    else:
        user["name"] = name
        user["domain"] = {"id": "default"}
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def project_scope(project_id: str) -> dict[str, Any]:
    return {"project": {"id": project_id}}


def project_name_scope(name: str) -> dict[str, Any]:
    return {"project": {"name": name, "domain": {"id": "default"}}}
