"""Swift's bulk middleware: ``?bulk-delete`` (a body of URL-quoted ``/container/object``
or ``/container`` lines, up to 10,000) and ``?extract-archive=tar|tar.gz|tar.bz2`` (each file
of the archive an object; at the account's level its first path part is the container,
created when missing). Both answer 200 with a report, in text, JSON or XML as Accept asks."""

from __future__ import annotations

import asyncio
import tarfile
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any, cast
from urllib.parse import unquote
from xml.sax.saxutils import escape

import orjson
from starlette.types import Send

from onestack.object import errors
from onestack.object.api import auth, writes
from onestack.object.api.http import SwiftRequest, now_ts, respond
from onestack.object.api.metadata import (
    POLICY,
    check_container_name,
    check_object_name,
    content_type,
)
from onestack.object.drivers import base
from onestack.object.drivers.base import Chunk, ContainerInfo
from onestack.object.service import ObjectService

MAX_DELETES = 10000
MAX_FAILED = 1000
MAX_CONTAINERS_PER_EXTRACTION = 10000
MAX_PATH_LENGTH = 1024 + 256 + 2
READ_BLOCK = 1024 * 1024
ARCHIVE_MODES = {"tar": "r|", "tar.gz": "r|gz", "tar.bz2": "r|bz2"}


def _report(req: SwiftRequest, fields: dict[str, Any]) -> tuple[bytes, bytes]:
    accept = req.header("accept", "text/plain")
    if "json" in accept:
        return orjson.dumps(fields), b"application/json"
    if "xml" in accept:
        inner = "".join(
            f"<{k.lower().replace(' ', '_')}>"
            + (
                "".join(
                    f"<object><name>{escape(n)}</name><status>{escape(s)}</status></object>"
                    for n, s in v
                )
                if k == "Errors"
                else escape(str(v))
            )
            + f"</{k.lower().replace(' ', '_')}>"
            for k, v in fields.items()
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<delete>{inner}</delete>'.encode(),
            b"application/xml",
        )
    lines = [f"{k}: {v}" for k, v in fields.items() if k != "Errors"]
    lines.append("Errors:")
    lines += [f"{name}, {status}" for name, status in fields["Errors"]]
    return ("\n".join(lines) + "\n").encode(), b"text/plain"


async def _delete_one(svc: ObjectService, req: SwiftRequest, path: str) -> str | None:
    """Delete one path; None when done, "404" when not found, else the failure's status."""
    from onestack.object.api.objects import delete_one

    container, _, name = path.lstrip("/").partition("/")
    if not container:
        return "400 Bad Request"
    try:
        await auth.authorize(svc, req, req.account, container, name, "DELETE")
        if name:
            await delete_one(svc, req.account, container, name)
        else:
            try:
                await svc.store.delete_container(req.account, container)
            except base.NotFound:
                raise errors.NotFound() from None
            except base.ContainerNotEmpty:
                raise errors.Conflict() from None
            svc.forget_container(req.account, container)
            svc.forget_account(req.account)
    except errors.SwiftError as exc:
        if exc.code == 404:
            return "404"
        return f"{exc.code} {exc.title}"
    return None


async def delete_paths(svc: ObjectService, req: SwiftRequest, send: Send, paths: list[str]) -> None:
    deleted = not_found = 0
    failures: list[tuple[str, str]] = []
    for path in paths:
        outcome = await _delete_one(svc, req, path)
        if outcome is None:
            deleted += 1
        elif outcome == "404":
            not_found += 1
        else:
            failures.append((path, outcome))
            if len(failures) >= MAX_FAILED:
                break
    status = "200 OK"
    if failures:
        status = (
            "409 Conflict" if all(s.startswith("409") for _, s in failures) else "400 Bad Request"
        )
    fields = {
        "Number Deleted": deleted,
        "Number Not Found": not_found,
        "Response Body": "",
        "Response Status": status,
        "Errors": failures,
    }
    body, ctype = _report(req, fields)
    await respond(send, req, 200, [], body, ctype)


async def bulk_delete(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    raw = await req.read_body(MAX_DELETES * (MAX_PATH_LENGTH + 1))
    paths = [
        unquote(line.strip())
        for line in raw.decode("utf-8", "replace").splitlines()
        if line.strip()
    ]
    if len(paths) > MAX_DELETES:
        raise errors.TooLarge(f"Maximum Bulk Deletes: {MAX_DELETES} per request")
    await delete_paths(svc, req, send, paths)


# --- archive extraction ----------------------------------------------------------------------
async def _spool(req: SwiftRequest) -> IO[bytes]:
    """The archive on disk (never whole in memory), to be read by ``tarfile``."""
    spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
    async for chunk in req.body_chunks():
        await asyncio.to_thread(spool.write, chunk)
    spool.seek(0)
    return spool


async def _member_chunks(reader: IO[bytes]) -> AsyncIterator[Chunk]:
    while block := await asyncio.to_thread(reader.read, READ_BLOCK):
        yield block


def _open_archive(spool: IO[bytes], mode: str) -> tarfile.TarFile:
    """A streaming reader of the spooled archive (closed with the spool)."""
    return tarfile.open(fileobj=spool, mode=cast(Any, mode))


async def _target_container(
    svc: ObjectService, req: SwiftRequest, container: str, made: list[str]
) -> ContainerInfo:
    """The container a file of the archive goes to, made when missing (``made`` counts)."""
    info = await svc.container(req.account, container)
    if info is None:
        if len(made) >= MAX_CONTAINERS_PER_EXTRACTION:
            raise errors.BadRequest("More than 10000 containers to create")
        await svc.store.create_container(req.account, container, {}, POLICY, now_ts())
        svc.forget_container(req.account, container)
        made.append(container)
        info = await svc.container(req.account, container)
        assert info is not None
    return info


async def _extract_member(
    svc: ObjectService,
    req: SwiftRequest,
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    target: tuple[str, str],
    made: list[str],
) -> None:
    container, name = target
    check_container_name(container, container)
    check_object_name(name)
    await auth.authorize(svc, req, req.account, container, name, "PUT")
    info = await _target_container(svc, req, container, made)
    await writes.check_quotas(svc, req.account, info, member.size)
    reader = archive.extractfile(member)
    assert reader is not None
    await writes.store_object(
        svc,
        req.account,
        container,
        name,
        _member_chunks(reader),
        length=member.size,
        content_type=content_type({}, name),
        metadata={},
        quota=info,
    )


def _target(req: SwiftRequest, member: tarfile.TarInfo) -> tuple[str, str]:
    """(container, object) of an archive's file: below the request's container (and
    prefix), or, at the account's level, its first path part names the container."""
    path = member.name.lstrip("./").lstrip("/")
    if req.container:
        return req.container, "/".join(p for p in (req.obj, path) if p)
    container, _, name = path.partition("/")
    return container, name


async def extract(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    mode = ARCHIVE_MODES.get(req.query.get("extract-archive", ""))
    if mode is None:
        raise errors.BadRequest("Unsupported archive format")
    spool = await _spool(req)
    created = 0
    failures: list[tuple[str, str]] = []
    made: list[str] = []
    report_body = ""
    try:
        archive = await asyncio.to_thread(_open_archive, spool, mode)
        while (member := await asyncio.to_thread(archive.next)) is not None:
            target = _target(req, member)
            if not member.isfile() or not all(target):
                continue
            try:
                await _extract_member(svc, req, archive, member, target, made)
                created += 1
            except errors.SwiftError as exc:
                failures.append((f"/{target[0]}/{target[1]}", f"{exc.code} {exc.title}"))
                if len(failures) >= MAX_FAILED:
                    break
    except tarfile.TarError:
        failures.append(("", "400 Bad Request"))
        report_body = "Invalid Tar File: not a tar file"
    finally:
        spool.close()
    svc.forget_account(req.account)
    status = "201 Created" if not failures else "400 Bad Request"
    fields = {
        "Number Files Created": created,
        "Response Body": report_body,
        "Response Status": status,
        "Errors": failures,
    }
    body, ctype = _report(req, fields)
    await respond(send, req, 200, [], body, ctype)
