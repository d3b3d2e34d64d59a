"""A seeded fuzzer of the whole route table: malformed bodies, queries and path ids sent to
every route of every service as an admin and as a member, against a real running cloud.

A finding is a 5xx, a dropped connection, a request that does not answer in time (a wedge),
or a write that succeeded but left something a later read cannot show (persisted poison).
Bodies are mutations of a valid seed where one is known (so the fuzz reaches past the first
check), else shapes that are wrong in every way a careless or hostile client finds.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
from starlette.routing import Route

from onestack.app import SERVICES

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")

# Values that have broken services before: out-of-range integers, wrong types, deep nesting,
# characters that databases, regular expressions or URLs choke on.
NASTY: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    2**31,
    2**63,
    2**64 + 7,
    4611686018427387904,
    -(2**63) - 1,
    1.5e308,
    0.5,
    "",
    " ",
    "☃",
    "\u2603" * 300,
    "a" * 5000,
    "[",
    "(?P<x",
    "%00",
    "../../etc/passwd",
    "99999999999999999999",
    "-1",
    "null",
    "true",
    "2038-01-19T03:14:08Z",
    "garbage",
    "gte:garbage",
    [],
    {},
    [None],
    [1, "a", {}],
    {"": None},
    {"a": {"b": {"c": [1, 2, {"d": None}]}}},
)

QUERY_KEYS = (
    "limit",
    "marker",
    "sort_key",
    "sort_dir",
    "sort",
    "fields",
    "changes-since",
    "changes-before",
    "created_at",
    "updated_at",
    "name",
    "id",
    "ip",
    "ip6",
    "all_tenants",
    "all_projects",
    "project_id",
    "tenant_id",
    "status",
    "tags",
    "member_status",
    "visibility",
    "length",
    "offset",
    "page_reverse",
    "detailed",
    "host",
    "start",
    "end",
)
QUERY_VALUES = (
    "99999999999999999999",
    "-1",
    "0",
    "abc",
    "[",
    "gte:garbage",
    "%00",
    "☃",
    "",
    "a" * 3000,
    "true",
    "2038-01-19T03:14:08Z",
    "name:desc:x",
)
PATH_VALUES = (
    "99999999999999999999",
    "0",
    "-1",
    "%E2%98%83",
    "a" * 300,
    "null",
    "..",
    "%2e%2e",
    "00000000-0000-0000-0000-000000000000",
)


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value} if depth % 2 else [value]
    return value


@dataclass(frozen=True)
class Target:
    service: str
    method: str
    template: str  # the full path below the cloud's URL, with ``{param}`` placeholders

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.template)


# The object store routes inside one mount (Swift's proxy dispatches on the path's depth):
# its paths, written out.
OBJECT_ROUTES = (
    ("GET", "/object/info"),
    ("GET", "/object/healthcheck"),
    *(
        (method, "/object/v1/AUTH_{account}" + below)
        for below, methods in (
            ("", ("GET", "POST")),
            ("/{container}", ("GET", "PUT", "POST", "DELETE")),
            ("/{container}/{object}", ("GET", "PUT", "POST", "DELETE", "COPY")),
        )
        for method in methods
    ),
)
# Swift is driven by headers more than bodies: these, with nasty values, go to its routes.
OBJECT_HEADERS = (
    "X-Object-Meta-Fz",
    "X-Container-Meta-Quota-Bytes",
    "X-Container-Meta-Quota-Count",
    "X-Account-Meta-Temp-URL-Key",
    "X-Container-Read",
    "X-Container-Write",
    "X-Versions-Location",
    "X-History-Location",
    "X-Delete-At",
    "X-Delete-After",
    "X-Copy-From",
    "Destination",
    "X-Object-Manifest",
    "X-Static-Large-Object",
    "X-Symlink-Target",
    "Range",
    "If-Match",
    "If-Modified-Since",
    "Content-Type",
    "Etag",
)
HEADER_VALUES: tuple[str | bytes, ...] = (
    "-1",
    "99999999999999999999",
    "abc",
    "bytes=5-1",
    "bytes=99999999999999999999-",
    "bytes=-0,0-,1-2,,",
    "/",
    "c/o/../../x",
    "%00",
    "\u2603".encode(),  # raw UTF-8 in a header
    "a" * 5000,
    "",
    "0",
    "1e999",
    ".r:*,.rlistings",
)


def route_table() -> list[Target]:
    """Every (method, path) the cloud serves, from the services' own route lists (the object
    store's from ``OBJECT_ROUTES``)."""
    runtime = SimpleNamespace(public_url="http://fuzz")
    out: list[Target] = []
    for spec in SERVICES:
        for route in spec.routes(runtime):  # type: ignore[arg-type]
            if not isinstance(route, Route):
                continue
            for method in sorted(route.methods or ()):
                if method == "HEAD":
                    continue
                out.append(Target(spec.name, method, spec.prefix + route.path))
    out += [Target("object", method, path) for method, path in OBJECT_ROUTES]
    return out


@dataclass
class Finding:
    kind: str  # "5xx", "drop", "wedge", "poison"
    target: Target
    url: str
    status: int | None
    detail: str


@dataclass
class Report:
    sent: Counter[str] = field(default_factory=Counter)  # by status class
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def summary(self) -> str:
        groups = Counter(
            (f.kind, f.target.method, f.target.template, f.status) for f in self.findings
        )
        lines = [f"sent: {dict(sorted(self.sent.items()))}; findings: {len(self.findings)}"]
        for (kind, method, template, status), count in groups.most_common():
            example = next(
                f for f in self.findings if (f.target.template, f.status) == (template, status)
            )
            lines.append(
                f"  {kind} {status} x{count}: {method} {template}  e.g. {example.url[:160]} "
                f"{example.detail[:200]}"
            )
        return "\n".join(lines)


def mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """One change somewhere in ``value``: a leaf replaced by a nasty value, a key dropped or
    added, or a deep nest."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        choice = rng.random()
        out = dict(value)
        if choice < 0.1:
            del out[key]
        elif choice < 0.2:
            out["".join(rng.choices(string.ascii_lowercase, k=6))] = rng.choice(NASTY)
        else:
            out[key] = mutate(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and rng.random() < 0.8:
        out_list = list(value)
        i = rng.randrange(len(out_list))
        out_list[i] = mutate(rng, out_list[i], depth + 1)
        return out_list
    if rng.random() < 0.03:
        return deep(rng.choice((20, 50, 300)))
    return rng.choice(NASTY)


class Fuzzer:
    def __init__(
        self,
        url: str,
        tokens: dict[str, str],
        ids: dict[str, list[str]],
        seeds: dict[tuple[str, str], list[Any]],
        *,
        seed: int = 1,
        timeout: float = 20.0,
        refresh: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.url = url
        self.tokens = tokens
        self.ids = ids
        self.seeds = seeds
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.report = Report()
        self.client = httpx.Client(timeout=timeout)
        self.refresh = refresh

    def close(self) -> None:
        self.client.close()

    # -- generation ------------------------------------------------------------------------
    def path_value(self, name: str) -> str:
        pool = self.ids.get(name) or self.ids.get("id") or []
        if pool and self.rng.random() < 0.6:
            return self.rng.choice(pool)
        return self.rng.choice(PATH_VALUES)

    def fill(self, target: Target) -> str:
        path = target.template
        for name in target.params:
            path = re.sub(r"\{" + name + r"(?::[^}]+)?\}", self.path_value(name), path, count=1)
        return path

    def query(self) -> dict[str, str]:
        count = self.rng.choice((0, 1, 1, 2, 3))
        return {self.rng.choice(QUERY_KEYS): self.rng.choice(QUERY_VALUES) for _ in range(count)}

    def body(self, target: Target) -> bytes | None:
        if target.method not in ("POST", "PUT", "PATCH"):
            return None
        seeds = [s for (m, rx), found in self.seeds.items() for s in found
                 if m == target.method and re.fullmatch(rx, target.template)]  # fmt: skip
        roll = self.rng.random()
        if seeds and roll < 0.85:
            return json.dumps(mutate(self.rng, self.rng.choice(seeds))).encode()
        if roll < 0.87:
            depth = self.rng.choice((300, 1000, 100000))
            return b'{"a":' * depth + b"1" + b"}" * depth
        if roll < 0.9:
            return self.rng.choice(
                (b"{", b"\xff\xfe", b"[]", b"null", b'{"a": 1e999}', b'"x"', b"")
            )
        return json.dumps(mutate(self.rng, {"x": {}}), default=str).encode()

    # -- sending ---------------------------------------------------------------------------
    def send(
        self, target: Target, who: str, path: str, query: dict[str, str], body: bytes | None
    ) -> httpx.Response | None:
        headers: dict[str, str | bytes] = {
            "X-Auth-Token": self.tokens[who],
            "Content-Type": "application/json",
        }
        if target.template.startswith("/compute"):
            headers["OpenStack-API-Version"] = self.rng.choice(("compute 2.1", "compute latest"))
        if target.service == "object":
            for _ in range(self.rng.choice((0, 1, 2, 3))):
                headers[self.rng.choice(OBJECT_HEADERS)] = self.rng.choice(HEADER_VALUES)
        url = self.url + path
        try:
            resp = self.client.request(
                target.method, url, params=query, content=body, headers=headers
            )
        except httpx.TimeoutException as exc:
            self.report.sent["wedge"] += 1
            self.report.add(Finding("wedge", target, url, None, repr(exc)))
            return None
        except httpx.TransportError as exc:
            self.report.sent["drop"] += 1
            self.report.add(Finding("drop", target, url, None, repr(exc)))
            return None
        self.report.sent[f"{resp.status_code // 100}xx"] += 1
        if resp.status_code >= 500:
            sent = (body or b"")[:300].decode(errors="replace")
            self.report.add(
                Finding("5xx", target, f"{url}?{query}", resp.status_code, f"body={sent}")
            )
        return resp

    def check_poison(self, target: Target, who: str, path: str) -> None:
        """After a write succeeded: the resource and its collection still read."""
        for read in (path, path.rsplit("/", 1)[0]):
            if not read.count("/") > 2:
                continue
            try:
                resp = self.client.get(self.url + read, headers={"X-Auth-Token": self.tokens[who]})
            except httpx.HTTPError as exc:
                self.report.add(Finding("poison", target, read, None, repr(exc)))
                continue
            if resp.status_code >= 500:
                self.report.add(
                    Finding("poison", target, read, resp.status_code, "read after write")
                )

    def run(self, targets: list[Target], rounds: int) -> Report:
        for _ in range(rounds):
            for n, target in enumerate(targets):
                if self.refresh is not None and n % 25 == 0:
                    # Tokens of the fuzzing users may have been revoked by what it sent.
                    self.tokens = self.refresh()
                for who in self.tokens:
                    path = self.fill(target)
                    resp = self.send(target, who, path, self.query(), self.body(target))
                    if (
                        resp is not None
                        and resp.status_code < 300
                        and target.method in ("POST", "PUT", "PATCH")
                    ):
                        self.check_poison(target, who, path)
        return self.report


def raw_requests(url: str, token: str) -> Iterator[tuple[str, bytes]]:
    """Requests httpx will not build (a NUL in the path): written on a socket."""
    for path in (
        "/compute/v2.1/servers/%00",
        "/network/v2.0/networks/%00",
        "/identity/v3/%00",
        "/network/v2.0/networks?name=%00",
        "/compute/v2.1/servers?name=a%00b",
    ):
        yield (
            path,
            (
                f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n"
                "Connection: close\r\n\r\n"
            ).encode(),
        )
