"""Software configs and deployments (Heat's ``/software_configs`` and
``/software_deployments``), and how a guest reaches them without a token.

Delivery (this cloud's stand-in for os-collect-config and heat-config): a server made with
``user_data_format: SOFTWARE_CONFIG`` gets as user data a small shell hook
(``HOOK``) that polls a *hook URL* naming the stack and the server's resource, signed with
the orchestration secret. The hook URL answers the server's deployments, each with a
script URL (the config with its inputs exported) and a signal URL, both signed for that
one deployment. The guest runs the script and POSTs ``{"deploy_stdout", "deploy_stderr",
"deploy_status_code"}`` to the signal URL: the deployment goes COMPLETE when the code is 0,
FAILED otherwise, and a stack's ``OS::Heat::SoftwareDeployment`` that waits on it follows.
A signature opens only what it was made for: the hook URL one server's list, a signal URL
one deployment."""

from __future__ import annotations

import hashlib
import hmac
import shlex
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.secrets import shared_secret
from onestack.orchestration.errors import EntityNotFound, StackValidationFailed
from onestack.orchestration.models import Resource, SoftwareConfig, SoftwareDeployment
from onestack.orchestration.schemas import (
    SoftwareConfigCreate,
    SoftwareDeploymentCreate,
    SoftwareDeploymentUpdate,
    check_group,
)

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

SIGNAL_TRANSPORTS = ("CFN_SIGNAL", "HEAT_SIGNAL", "TEMP_URL_SIGNAL", "NO_SIGNAL")


def when(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _secret(runtime: Runtime) -> bytes:
    return shared_secret(runtime.settings.data_dir, "orchestration_signal_secret").encode()


def sign(runtime: Runtime, purpose: str) -> str:
    return hmac.new(_secret(runtime), purpose.encode(), hashlib.sha256).hexdigest()[:40]


def verify(runtime: Runtime, purpose: str, signature: str) -> None:
    if not signature or not hmac.compare_digest(sign(runtime, purpose), signature):
        raise errors.Forbidden("Signature does not match.")


def guest_base_url(runtime: Runtime) -> str:
    """Where guests reach the cloud (``orchestration.guest_url``): the public URL may be one
    only the host reaches (127.0.0.1 by default)."""
    return runtime.settings.orchestration.guest_url.rstrip("/") or runtime.public_url


def base(runtime: Runtime, project_id: str) -> str:
    return f"{guest_base_url(runtime)}/orchestration/v1/{project_id}/software_deployments"


def hook_url(runtime: Runtime, project_id: str, stack_id: str, resource: str) -> str:
    sig = sign(runtime, f"hook:{stack_id}:{resource}")
    return f"{base(runtime, project_id)}/hook/{stack_id}/{resource}?sig={sig}"


def signal_url(runtime: Runtime, project_id: str, deployment_id: str) -> str:
    sig = sign(runtime, f"deployment:{deployment_id}")
    return f"{base(runtime, project_id)}/{deployment_id}/signal?sig={sig}"


def script_url(runtime: Runtime, project_id: str, deployment_id: str) -> str:
    sig = sign(runtime, f"deployment:{deployment_id}")
    return f"{base(runtime, project_id)}/{deployment_id}/script?sig={sig}"


# The guest side: a POSIX shell with wget (busybox's is enough). User data scripts run in
# the foreground of the test image's init, so the loop goes to the background.
HOOK = r"""#!/bin/sh
# OneStack software-config hook: polls this server's deployments, runs each script once,
# and signals its stdout, stderr and exit status back to orchestration.
HOOK_URL=%(url)s
STATE=${HEAT_HOOK_STATE:-/var/lib/heat-config}
mkdir -p "$STATE"
json() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' "$1" | awk '{printf "%%s\\n", $0}'; }
poll() {
    wget -q -O "$STATE/list" "$HOOK_URL&format=text" || return 0
    while read -r id script signal; do
        [ -n "$id" ] && [ ! -e "$STATE/$id.done" ] || continue
        wget -q -O "$STATE/$id.sh" "$script" || continue
        (cd "$STATE" && sh "$STATE/$id.sh" > "$STATE/$id.out" 2> "$STATE/$id.err")
        code=$?
        printf '{"deploy_stdout": "%%s", "deploy_stderr": "%%s", "deploy_status_code": %%s}' \
            "$(json "$STATE/$id.out")" "$(json "$STATE/$id.err")" "$code" > "$STATE/$id.json"
        wget -q -O /dev/null --header 'Content-Type: application/json' \
            --post-file "$STATE/$id.json" "$signal" && touch "$STATE/$id.done"
    done < "$STATE/list"
}
if [ -n "$HEAT_HOOK_ONCE" ]; then poll; exit 0; fi
(while :; do poll; sleep ${HEAT_HOOK_INTERVAL:-5}; done) > /dev/null 2>&1 &
"""


def hook_script(runtime: Runtime, project_id: str, stack_id: str, resource: str) -> str:
    return HOOK % {"url": shlex.quote(hook_url(runtime, project_id, stack_id, resource))}


def config_view(row: SoftwareConfig, detail: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "group": row.group,
        "creation_time": when(row.created_at),
    }
    if detail:
        out["config"] = row.config.get("config", "")
        out["inputs"] = row.config.get("inputs", [])
        out["outputs"] = row.config.get("outputs", [])
        out["options"] = row.config.get("options", {})
    return out


def deployment_view(row: SoftwareDeployment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "config_id": row.config_id,
        "server_id": row.server_id,
        "input_values": row.input_values,
        "output_values": row.output_values,
        "action": row.action,
        "status": row.status,
        "status_reason": row.status_reason,
        "creation_time": when(row.created_at),
    }
    if row.updated_at:
        out["updated_time"] = when(row.updated_at)
    return out


class SoftwareService:
    def __init__(self, db: Database, runtime: Runtime) -> None:
        self.db = db
        self.runtime = runtime

    # --- configs ------------------------------------------------------------------------

    async def create_config(
        self, ctx: RequestContext, body: SoftwareConfigCreate
    ) -> SoftwareConfig:
        row = SoftwareConfig(
            id=str(uuid.uuid4()),
            project_id=ctx.project_id or "",
            name=body.name,
            group=body.group,
            config={
                "config": body.config,
                "inputs": body.inputs,
                "outputs": body.outputs,
                "options": body.options,
            },
            created_at=utcnow(),
        )
        async with self.db.session() as s:
            s.add(row)
        return row

    async def config(self, ctx: RequestContext | None, config_id: str) -> SoftwareConfig:
        async with self.db.session() as s:
            row = await s.get(SoftwareConfig, config_id)
        if row is None or (
            ctx is not None and not ctx.is_admin and row.project_id != ctx.project_id
        ):
            raise EntityNotFound(entity="Software Config", name=config_id)
        return row

    async def configs(
        self, ctx: RequestContext, every: bool, limit: int | None, marker: str | None
    ) -> list[SoftwareConfig]:
        async with self.db.session() as s:
            stmt = select(SoftwareConfig)
            if not every:
                stmt = stmt.where(SoftwareConfig.project_id == ctx.project_id)
            rows = list(
                await s.scalars(stmt.order_by(SoftwareConfig.created_at, SoftwareConfig.id))
            )
        if marker:
            ids = [r.id for r in rows]
            rows = rows[ids.index(marker) + 1 :] if marker in ids else rows
        return rows[:limit] if limit else rows

    async def delete_config(self, ctx: RequestContext | None, config_id: str) -> None:
        row = await self.config(ctx, config_id)
        async with self.db.session() as s:
            used = await s.scalar(
                select(SoftwareDeployment.id).where(SoftwareDeployment.config_id == row.id)
            )
            if used is not None:
                raise StackValidationFailed(
                    message=f"Software config with id {row.id} can not be deleted as it is "
                    "referenced."
                )
            found = await s.get(SoftwareConfig, row.id)
            if found is not None:
                await s.delete(found)

    # --- deployments --------------------------------------------------------------------

    async def create_deployment(
        self, ctx: RequestContext, body: SoftwareDeploymentCreate, dep_id: str | None = None
    ) -> SoftwareDeployment:
        """``dep_id``: the id a stack's deployment resource chose (an API caller names none)."""
        config = await self.config(ctx, body.config_id)
        check_group(config.group)
        row = SoftwareDeployment(
            id=dep_id or str(uuid.uuid4()),
            project_id=ctx.project_id or "",
            config_id=config.id,
            server_id=body.server_id,
            input_values=body.input_values,
            output_values={},
            action=body.action,
            status=body.status,
            status_reason=body.status_reason,
            created_at=utcnow(),
        )
        async with self.db.session() as s:
            s.add(row)
        return row

    async def deployment(self, ctx: RequestContext | None, dep_id: str) -> SoftwareDeployment:
        async with self.db.session() as s:
            row = await s.get(SoftwareDeployment, dep_id)
        if row is None or (
            ctx is not None and not ctx.is_admin and row.project_id != ctx.project_id
        ):
            raise EntityNotFound(entity="Software Deployment", name=dep_id)
        return row

    async def deployments(
        self, ctx: RequestContext | None, server_id: str | None
    ) -> list[SoftwareDeployment]:
        async with self.db.session() as s:
            stmt = select(SoftwareDeployment)
            if ctx is not None and not ctx.is_admin:
                stmt = stmt.where(SoftwareDeployment.project_id == ctx.project_id)
            if server_id:
                stmt = stmt.where(SoftwareDeployment.server_id == server_id)
            return list(
                await s.scalars(stmt.order_by(SoftwareDeployment.created_at, SoftwareDeployment.id))
            )

    async def update_deployment(
        self, ctx: RequestContext | None, dep_id: str, body: SoftwareDeploymentUpdate
    ) -> SoftwareDeployment:
        await self.deployment(ctx, dep_id)
        changes = body.changes()
        if "config_id" in changes:
            check_group((await self.config(ctx, changes["config_id"])).group)
        async with self.db.session() as s:
            row = await s.get(SoftwareDeployment, dep_id)
            if row is None:
                raise EntityNotFound(entity="Software Deployment", name=dep_id)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
        return row

    async def delete_deployment(self, ctx: RequestContext | None, dep_id: str) -> None:
        await self.deployment(ctx, dep_id)
        async with self.db.session() as s:
            row = await s.get(SoftwareDeployment, dep_id)
            if row is not None:
                await s.delete(row)

    async def metadata(self, ctx: RequestContext | None, server_id: str) -> list[dict[str, Any]]:
        """The configs deployed to the server (Heat's metadata: sorted by config name)."""
        out = []
        for dep in await self.deployments(ctx, server_id):
            async with self.db.session() as s:
                config = await s.get(SoftwareConfig, dep.config_id)
            if config is not None:
                out.append(config_view(config))
        return sorted(out, key=lambda c: str(c["name"]))

    # --- the guest's side ---------------------------------------------------------------

    async def hook_server(self, stack_id: str, resource: str) -> str | None:
        """The server a hook URL names (None until its create recorded the id)."""
        async with self.db.session() as s:
            row = await s.scalar(
                select(Resource).where(Resource.stack_id == stack_id, Resource.name == resource)
            )
        return row.physical_resource_id if row is not None else None

    async def hook_listing(self, project_id: str, server_id: str) -> list[dict[str, str]]:
        """The server's deployments in progress, each with its script and signal URLs."""
        out = []
        for dep in await self.deployments(None, server_id):
            if dep.project_id != project_id or dep.status != "IN_PROGRESS":
                continue
            out.append(
                {
                    "id": dep.id,
                    "config_id": dep.config_id,
                    "script_url": script_url(self.runtime, project_id, dep.id),
                    "signal_url": signal_url(self.runtime, project_id, dep.id),
                }
            )
        return out

    async def script(self, dep_id: str) -> str:
        """What the guest runs for a deployment: its inputs exported, then the config."""
        dep = await self.deployment(None, dep_id)
        config = await self.config(None, dep.config_id)
        lines = ["#!/bin/sh"]
        for item in config.config.get("inputs", []):
            name = str(item.get("name", ""))
            if name.isidentifier():
                value = dep.input_values.get(name, item.get("value", item.get("default")))
                lines.append(f"export {name}={shlex.quote('' if value is None else str(value))}")
        body = config.config.get("config", "")
        if config.group != "script" and not str(body).startswith("#!"):
            body = ""  # cloud-config or MIME parts: cloud-init's, nothing for the hook to run
        text = str(body)
        if text.startswith("#!"):
            lines.append(f"cat > ./deploy-{dep.id} <<'ONESTACK_DEPLOY_EOF'")
            lines.append(text.rstrip("\n"))
            lines.append("ONESTACK_DEPLOY_EOF")
            lines.append(f"chmod 700 ./deploy-{dep.id} && exec ./deploy-{dep.id}")
        else:
            lines.append(text)
        return "\n".join(lines) + "\n"

    async def signal(self, dep_id: str, details: dict[str, Any]) -> SoftwareDeployment:
        """The guest's outcome: COMPLETE for status code 0 (and no error output), FAILED
        otherwise (Heat's ``signal_software_deployment``)."""
        dep = await self.deployment(None, dep_id)
        config = await self.config(None, dep.config_id)
        reasons: list[str] = []
        status = "COMPLETE"
        code = details.get("deploy_status_code")
        if code is not None and str(code) != "0":
            status = "FAILED"
            reasons.append(
                f"deploy_status_code : Deployment exited with non-zero status code: {code}"
            )
        outputs = dict(details)
        for out in config.config.get("outputs", []):
            if out.get("error_output") and details.get(out["name"]):
                status = "FAILED"
                reasons.append(f"{out['name']} : {details[out['name']]}")
        done = SoftwareDeploymentUpdate(
            output_values=outputs, status=status,
            status_reason=", ".join(reasons) or "Outputs received",
        )  # fmt: skip
        return await self.update_deployment(None, dep_id, done)
