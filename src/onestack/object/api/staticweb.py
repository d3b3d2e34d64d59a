"""Static web sites from containers (Swift's staticweb): GETs and HEADs without a token (or
with ``X-Web-Mode: true``) to a container whose metadata says so.

- ``X-Container-Meta-Web-Index: index.html``: ``/c/`` and ``/c/dir/`` serve that object;
- ``X-Container-Meta-Web-Listings: true``: paths without an index get an HTML listing
  (``-Web-Listings-CSS`` links a style sheet, ``-Web-Listings-Label`` names it);
- ``X-Container-Meta-Web-Error: error.html``: errors serve ``<status>error.html``;
- ``X-Container-Meta-Web-Directory-Type``: the type of 0-byte directory markers.

A container path without its trailing slash is redirected (301) to it. The container's
read ACL decides as for every read (``.r:*,.rlistings`` for listings)."""

from __future__ import annotations

import dataclasses
import html
from urllib.parse import quote

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import auth, objects, symlink
from onestack.object.api.http import (
    HTML,
    SwiftRequest,
    encode_headers,
    iso_date,
    respond,
    respond_stream,
)
from onestack.object.api.metadata import expired
from onestack.object.drivers import base
from onestack.object.drivers.base import Listing, ObjectInfo, Subdir
from onestack.object.service import ObjectService

READS = ("GET", "HEAD")
STYLE = (
    '  <style type="text/css">\n'
    "   h1 {font-size: 1em; font-weight: bold;}\n"
    "   th {text-align: left; padding: 0px 1em 0px 1em;}\n"
    "   td {padding: 0px 1em 0px 1em;}\n"
    "   a {text-decoration: none;}\n"
    "  </style>\n"
)


@dataclasses.dataclass(frozen=True)
class Site:
    index: str
    error: str
    listings: bool
    label: str
    css: str
    dir_type: str

    @property
    def enabled(self) -> bool:
        return bool(self.index or self.listings)


def applies(req: SwiftRequest) -> bool:
    """A request static web answers (or may): a read of a container or an object, without a
    token or asking for web mode."""
    return (
        req.method in READS
        and bool(req.container)
        and req.authorized_by != "tempurl"  # a temp URL reads its one object
        and (req.ctx is None or req.flag("x-web-mode"))
    )


async def _site(svc: ObjectService, req: SwiftRequest) -> Site:
    info = await svc.container(req.account, req.container)
    meta = info.metadata if info is not None else {}

    def get(key: str) -> str:
        return meta.get(f"x-container-meta-web-{key}", "").strip()

    listings = get("listings").lower() in ("1", "true", "yes", "on", "t", "y")
    return Site(
        get("index"),
        get("error"),
        listings,
        get("listings-label"),
        get("listings-css"),
        get("directory-type") or "application/directory",
    )


def _path(req: SwiftRequest) -> str:
    raw: bytes = req.scope.get("raw_path") or req.scope["path"].encode()
    return raw.decode("latin-1").split("?", 1)[0]


async def _redirect(req: SwiftRequest, send: Send) -> None:
    location = _path(req) + "/"
    await respond(send, req, 301, [(b"location", location.encode("latin-1"))])


async def _find(svc: ObjectService, req: SwiftRequest, name: str) -> ObjectInfo | None:
    try:
        info = await svc.store.object_info(req.account, req.container, name)
    except base.NotFound:
        return None
    return None if expired(info) else info


async def _serve(svc: ObjectService, req: SwiftRequest, send: Send, name: str) -> None:
    sub = dataclasses.replace(req, obj=name, extra={})
    await auth.authorize(svc, sub, sub.account, sub.container, name, "GET")
    await objects.get_or_head(svc, sub, send)


async def _fail(
    svc: ObjectService,
    req: SwiftRequest,
    send: Send,
    site: Site,
    err: errors.SwiftError,
    body: bytes = b"",
) -> None:
    """An error answer: the container's ``<status><web-error>`` object when there is one,
    else ``body``, else Swift's page for ``err``."""
    status = err.code
    page = await _find(svc, req, f"{status}{site.error}") if site.error else None
    if page is None:
        if not body:
            raise err
        await respond(send, req, status, [], body)
        return
    opened = await svc.store.open_object(req.account, req.container, page.name)
    try:
        headers = [("Content-Type", page.content_type), ("Etag", page.etag)]
        chunks = opened.read(0, page.size)
        await respond_stream(send, req, status, encode_headers(headers), chunks, page.size)
    finally:
        await opened.close()


async def handle(svc: ObjectService, req: SwiftRequest, send: Send) -> bool:
    """Answer a static web request; False when the request is not one (the caller goes on
    as for any other request)."""
    site = await _site(svc, req)
    if req.obj:
        return await _object(svc, req, send, site)
    if not site.enabled:
        if req.flag("x-web-mode"):
            raise errors.NotFound()
        return False
    try:
        await auth.authorize(svc, req, req.account, req.container, "", req.method)
    except errors.SwiftError as err:
        await _fail(svc, req, send, site, err)
        return True
    if not _path(req).endswith("/"):
        await _redirect(req, send)
    elif site.index and await _find(svc, req, site.index) is not None:
        await _serve(svc, req, send, site.index)
    else:
        await _listing(svc, req, send, site, "")
    return True


async def _object(svc: ObjectService, req: SwiftRequest, send: Send, site: Site) -> bool:
    if not site.enabled:
        return False  # the object's own answer, as any read
    # Refused reads are refused before anything is looked up (Swift's subrequest is).
    await auth.authorize(svc, req, req.account, req.container, req.obj, "GET")
    found = await _find(svc, req, req.obj)
    if found is not None and not (found.content_type == site.dir_type and found.size <= 1):
        return False  # the object itself, as any read (its ACL decides)
    slash = _path(req).endswith("/")
    if site.index:
        index = req.obj + ("" if req.obj.endswith("/") else "/") + site.index
        if await _find(svc, req, index) is not None:
            if not slash:
                await _redirect(req, send)
            else:
                await _serve(svc, req, send, index)
            return True
    if slash:
        await _listing(svc, req, send, site, req.obj)
        return True
    await auth.authorize(svc, req, req.account, req.container, "", "GET")
    query = Listing(limit=1, prefix=req.obj + "/", delimiter="/")
    if await svc.store.list_objects(req.account, req.container, query):
        await _redirect(req, send)
    else:
        await _fail(svc, req, send, site, errors.NotFound())
    return True


def human_readable(value: int) -> str:
    """Swift's ``human_readable``: 1023, 1Ki, 15Mi."""
    amount = float(value)
    index = -1
    while amount >= 1024 and index + 1 < len("KMGTPEZY"):
        index += 1
        amount = round(amount / 1024)
    return f"{int(amount)}" if index == -1 else f"{round(amount)}{'KMGTPEZY'[index]}i"


def _css(site: Site, prefix: str) -> str:
    if site.css.startswith(("/", "http://", "https://")):
        href = quote(site.css, safe=":/")
    else:
        href = "../" * prefix.count("/") + quote(site.css)
    return f'  <link rel="stylesheet" type="text/css" href="{href}" />\n'


def _head(label: str, site: Site, prefix: str) -> str:
    style = _css(site, prefix) if site.css else STYLE
    return f"<!DOCTYPE html>\n<html>\n <head>\n  <title>Listing of {label}</title>\n{style}"


async def _listing(
    svc: ObjectService, req: SwiftRequest, send: Send, site: Site, prefix: str
) -> None:
    """The HTML listing of ``prefix`` (Swift's document structure, for style sheets)."""
    path = req.path
    if site.label:
        path = site.label + "/" + "/".join(path.split("/")[4:])
    label = html.escape(path)
    if not site.listings:
        body = _head(label, site, prefix) + (
            "</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site"
            " has disabled web listing.   <p>If you are the owner of this web site, you can"
            " enable   web listing by setting X-Container-Meta-Web-Listings.</p>"
        )
        if site.index:
            body += (
                "<h1>Index File Not Found</h1> <p>The owner of this web site has set "
                f" <b>X-Container-Meta-Web-Index: {html.escape(site.index)}</b>. "
                " However, this file is not found.</p>"
            )
        await _fail(
            svc, req, send, site, errors.NotFound(), (body + " </body>\n</html>\n").encode()
        )
        return
    try:
        await auth.authorize(svc, req, req.account, req.container, "", "GET")
    except errors.SwiftError as err:
        await _fail(svc, req, send, site, err)
        return
    query = Listing(prefix=prefix, delimiter="/")
    entries = await svc.store.list_objects(req.account, req.container, query)
    if prefix and not entries:
        await _fail(svc, req, send, site, errors.NotFound())
        return
    body = _rows(_head(label, site, prefix), label, prefix, entries)
    headers = [(b"x-backend-content-generator", b"staticweb")]
    await respond(send, req, 200, headers, body.encode(), HTML)


def _rows(head: str, label: str, prefix: str, entries: list[base.ObjectEntry | Subdir]) -> str:
    parts = [
        head,
        " </head>\n <body>\n",
        f'  <h1 id="title">Listing of {label}</h1>\n  <table id="listing">\n',
        '   <tr id="heading">\n    <th class="colname">Name</th>\n'
        '    <th class="colsize">Size</th>\n    <th class="coldate">Date</th>\n   </tr>\n',
    ]
    blank = '    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n'
    if prefix:
        parts.append(
            '   <tr id="parent" class="item">\n'
            f'    <td class="colname"><a href="../">../</a></td>\n{blank}   </tr>\n'
        )
    for e in entries:
        if isinstance(e, Subdir):
            sub = e.name[len(prefix) :]
            href = quote(sub).replace(".", "%2E")
            parts.append(
                '   <tr class="item subdir">\n'
                f'    <td class="colname"><a href="./{href}">{html.escape(sub)}</a></td>\n'
                f"{blank}   </tr>\n"
            )
    for e in entries:
        if not isinstance(e, Subdir):
            name = e.name[len(prefix) :]
            ctype = symlink.plain_type(e.content_type)
            kinds = " ".join("type-" + html.escape(t.lower()) for t in ctype.split("/"))
            date = html.escape(iso_date(e.timestamp)).split(".")[0].replace("T", " ")
            parts.append(
                f'   <tr class="item {kinds}">\n'
                f'    <td class="colname"><a href="./{quote(name).replace(".", "%2E")}">'
                f"{html.escape(name)}</a></td>\n"
                f'    <td class="colsize">{human_readable(e.size)}</td>\n'
                f'    <td class="coldate">{date}</td>\n   </tr>\n'
            )
    parts.append("  </table>\n </body>\n</html>\n")
    return "".join(parts)
