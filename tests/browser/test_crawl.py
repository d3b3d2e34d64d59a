"""Every page a user can reach by following links: it renders (never a 5xx), and carries no
inline script or style (the CSP would block them in a browser) and no token in a link, as the
admin and as a member; and the cloud's log holds no token afterwards."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import pytest

from tests.support.browser import server, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique

SKIP = re.compile(r"/auth/logout/|/download|/static/")
# A Keystone (Fernet) token: what may never appear in a page's links or in the cloud's log.
FERNET = re.compile(r"gAAAAA[A-Za-z0-9_=-]{40,}")
LIMIT = 400


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "a" and named.get("href"):
            self.links.append(str(named["href"]))
        if "style" in named:
            self.inline.append(f"<{tag} style=...>")
        if any(k.startswith("on") for k in named):
            self.inline.append(f"<{tag} on...=>")
        if tag == "script" and not named.get("src"):
            self.inline.append("<script> without src")


def signed_in(cloud: Cloud, user: str) -> httpx.Client:
    client = httpx.Client(base_url=cloud.url, timeout=60)
    login = client.get("/dashboard/auth/login/").text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)
    assert csrf is not None
    form = {"username": user, "password": cloud.secrets[f"{user}_password"],
            "csrfmiddlewaretoken": csrf.group(1)}  # fmt: skip
    assert client.post("/dashboard/auth/login/", data=form).status_code == 303
    return client


@pytest.mark.parametrize("user", ["admin", "demo"])
def test_every_linked_page_renders_without_inline_code(cloud: Cloud, user: str) -> None:
    tok = token(cloud, "demo")
    server(cloud, tok, unique("crawl"))  # an instance, so its pages are linked too
    client = signed_in(cloud, user)
    seen: set[str] = set()
    queue = deque(["/dashboard/project/"])
    problems: list[str] = []
    while queue and len(seen) < LIMIT:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        resp = client.get(path)
        if resp.status_code >= 500:
            problems.append(f"{path}: {resp.status_code}")
            continue
        if not resp.headers.get("content-type", "").startswith("text/html"):
            continue
        parsed = Page()
        parsed.feed(resp.text)
        problems += [f"{path}: {what}" for what in parsed.inline]
        problems += [f"{path}: a token in {href}" for href in parsed.links if FERNET.search(href)]
        for href in parsed.links:
            target = urldefrag(urljoin(f"{cloud.url}{path}", href))[0]
            parts = urlsplit(target)
            if parts.netloc != urlsplit(cloud.url).netloc:
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local.startswith("/dashboard/") and not SKIP.search(local):
                queue.append(local)
    client.close()
    assert not problems, "\n".join(problems)
    print(f"{user}: {len(seen)} pages")
    assert len(seen) > 10, seen
    # The dashboard's calls with the user's token, and every page the crawl made, logged
    # nothing that carries a token.
    leaked = FERNET.findall(cloud.log.read_text(errors="replace"))
    assert not leaked, f"{len(leaked)} token(s) in {cloud.log}"
