"""Identity benchmark: password tokens against the bcrypt cost, token validation, project lists.

Aimed at any Keystone (``--auth-url`` and credentials, which must be allowed to validate
tokens), or, without ``--auth-url``, at a private ``onestack up`` it starts in a temporary
data directory on a free port (bcrypt cost 12, Keystone's default) and stops afterwards.
The load runs in this process (aiohttp, keep-alive, uvloop when available), the server in
its own. The raw bcrypt figure is taken in turn with the single-client token issues, so the
two (and their ratio) see the same load on the machine; it is measured here, so the ratio
means something only when the Keystone runs on this machine.

    .venv/bin/python bench/identity.py                 # own cloud, 5 s per phase
    .venv/bin/python bench/identity.py --count 200     # fixed number of requests per phase
    .venv/bin/python bench/identity.py --auth-url http://127.0.0.1:5000/v3 \\
        --username admin --password secret --project admin --json

Prints figures, not test results: each beside its target with PASS or MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import bcrypt

from localcloud import LocalCloud

HASH_RATIO_TARGET = 1.10  # single-client password-token median within 10% of one bcrypt check
VALIDATE_MEDIAN_TARGET_MS = 2.0
VALIDATE_RATE_TARGET = 5000.0  # issue #19: about 25x Keystone on this machine kind


# --- figures -------------------------------------------------------------------------------
def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``samples`` (not empty)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Phase:
    """One measured phase: per-request latencies (s), wall time (s), failures."""

    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    errors: int = 0
    last_error: int | None = None  # the status of the last unexpected answer

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 95) * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "requests": len(self.latencies),
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 3),
            "median_ms": round(self.median_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "max_ms": round(max(self.latencies) * 1000, 3),
            "per_second": round(self.rate, 1),
        }


@dataclass
class Figure:
    label: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None  # None: no target, shown for reference

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": round(self.value, 3),
            "unit": self.unit,
            "target": self.target or None,
            "pass": self.ok,
        }


# --- the cloud under test ------------------------------------------------------------------
@dataclass
class Credentials:
    auth_url: str
    username: str
    password: str
    project: str
    user_domain: str = "Default"
    project_domain: str = "Default"

    def token_body(self) -> bytes:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.username,
                            "domain": {"name": self.user_domain},
                            "password": self.password,
                        }
                    },
                },
                "scope": {
                    "project": {"name": self.project, "domain": {"name": self.project_domain}}
                },
            }
        }
        return json.dumps(body).encode()


# --- load generation -----------------------------------------------------------------------
@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    expect: int


async def run_phase(
    session: aiohttp.ClientSession,
    name: str,
    req: Request,
    concurrency: int,
    duration: float | None,
    count: int | None,
) -> Phase:
    """``concurrency`` clients send ``req`` back to back, for ``duration`` s or ``count`` in all."""
    phase = Phase(name, concurrency)
    remaining = count if count is not None else -1
    started = time.perf_counter()
    deadline = started + duration if duration is not None else math.inf
    last_end = started

    async def client() -> None:
        nonlocal remaining, last_end
        while time.perf_counter() < deadline and remaining != 0:
            remaining -= 1
            t0 = time.perf_counter()
            async with session.request(
                req.method, req.url, headers=req.headers, data=req.body
            ) as resp:
                await resp.read()
                status = resp.status
            t1 = time.perf_counter()
            if status != req.expect:
                phase.errors += 1
                phase.last_error = status
                if phase.errors > 20 and not phase.latencies:
                    raise SystemExit(f"{name}: {req.method} {req.url} keeps answering {status}")
                continue
            phase.latencies.append(t1 - t0)
            last_end = max(last_end, t1)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    phase.elapsed = last_end - started
    if not phase.latencies:
        raise SystemExit(
            f"{name}: {req.method} {req.url}: no successful request "
            f"({phase.errors} failed, last with {phase.last_error})"
        )
    return phase


async def issue_token(session: aiohttp.ClientSession, creds: Credentials) -> str:
    async with session.post(
        f"{creds.auth_url}/auth/tokens",
        data=creds.token_body(),
        headers={"Content-Type": "application/json"},
    ) as resp:
        body = await resp.text()
        if resp.status != 201:
            raise SystemExit(f"token issue failed: {resp.status} {body[:300]}")
        return resp.headers["X-Subject-Token"]


async def projects_path_for(session: aiohttp.ClientSession, auth_url: str, token: str) -> str:
    """``/projects``, or ``/auth/projects`` for a user without the right to list them all."""
    async with session.get(f"{auth_url}/projects", headers={"X-Auth-Token": token}) as resp:
        await resp.read()
        if resp.status == 200:
            return "/projects"
        if resp.status != 403:
            raise SystemExit(f"GET {auth_url}/projects answered {resp.status}")
    print("  .. no right to GET /v3/projects: timing /v3/auth/projects", file=sys.stderr)
    return "/auth/projects"


class RawBcrypt:
    """``bcrypt.checkpw`` of a cost-``rounds`` hash, timed on its own (in a worker thread)."""

    secret = b"benchmark-password-0123456789"

    def __init__(self, rounds: int) -> None:
        self.hashed = bcrypt.hashpw(self.secret, bcrypt.gensalt(rounds))
        self.samples: list[float] = []

    def _check(self) -> float:
        t0 = time.perf_counter()
        if not bcrypt.checkpw(self.secret, self.hashed):
            raise AssertionError("bcrypt.checkpw refused its own hash")
        return time.perf_counter() - t0

    async def sample(self) -> None:
        self.samples.append(await asyncio.to_thread(self._check))


async def paired_issue_phase(
    session: aiohttp.ClientSession,
    req: Request,
    raw: RawBcrypt,
    duration: float | None,
    count: int | None,
    min_pairs: int,
) -> Phase:
    """One client: a raw bcrypt check, then one token issue, in turn, so that both figures
    (and their ratio) see the same machine load. ``elapsed`` counts the requests only."""
    phase = Phase("issue x1", 1)
    started = time.perf_counter()
    deadline = started + duration if duration is not None else math.inf
    while len(phase.latencies) < min_pairs or (
        time.perf_counter() < deadline and (count is None or len(phase.latencies) < count)
    ):
        await raw.sample()
        t0 = time.perf_counter()
        async with session.request(req.method, req.url, headers=req.headers, data=req.body) as r:
            await r.read()
            status = r.status
        t1 = time.perf_counter()
        if status != req.expect:
            raise SystemExit(f"issue x1: {req.method} {req.url} answered {status}")
        phase.latencies.append(t1 - t0)
        phase.elapsed += t1 - t0
    return phase


@dataclass
class Plan:
    concurrency: int
    duration: float | None
    count: int | None
    hash_rounds: int
    hash_samples: int
    warmup: int = 20


async def measure(
    creds: Credentials, plan: Plan, progress: bool, server_cpu: Callable[[], float] | None = None
) -> dict[str, Any]:
    """``server_cpu``: the server's CPU seconds so far (own cloud only), for CPU per request."""

    def say(text: str) -> None:
        if progress:
            print(f"  .. {text}", file=sys.stderr, flush=True)

    raw = await asyncio.to_thread(RawBcrypt, plan.hash_rounds)

    connector = aiohttp.TCPConnector(limit=max(plan.concurrency, 1), keepalive_timeout=120)
    async with aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=60),
        auto_decompress=False,
    ) as session:
        admin_token = await issue_token(session, creds)
        subject_token = await issue_token(session, creds)
        issue = Request(
            "POST",
            f"{creds.auth_url}/auth/tokens",
            {"Content-Type": "application/json"},
            creds.token_body(),
            201,
        )
        validate = Request(
            "GET",
            f"{creds.auth_url}/auth/tokens",
            {"X-Auth-Token": admin_token, "X-Subject-Token": subject_token},
            None,
            200,
        )
        projects_path = await projects_path_for(session, creds.auth_url, admin_token)
        projects = Request(
            "GET", f"{creds.auth_url}{projects_path}", {"X-Auth-Token": admin_token}, None, 200
        )
        d, n, c = plan.duration, plan.count, plan.concurrency

        say(f"password token issue, 1 client, in turn with raw bcrypt (cost {plan.hash_rounds})")
        issue_1 = await paired_issue_phase(session, issue, raw, d, n, plan.hash_samples)
        hash_ms = statistics.median(raw.samples) * 1000
        say(f"password token issue, {c} clients")
        issue_c = await run_phase(session, f"issue x{c}", issue, c, d, n)
        say("token validation warm-up")
        await run_phase(session, "warm-up", validate, c, None, plan.warmup * c)
        say("token validation, 1 client")
        validate_1 = await run_phase(session, "validate x1", validate, 1, d, n)
        say(f"token validation, {c} clients")
        cpu_before = server_cpu() if server_cpu else 0.0
        validate_c = await run_phase(session, f"validate x{c}", validate, c, d, n)
        cpu_used = server_cpu() - cpu_before if server_cpu else 0.0
        say("project list, 1 client")
        await run_phase(session, "warm-up", projects, 1, None, plan.warmup)
        projects_1 = await run_phase(session, "projects x1", projects, 1, d, n)

    phases = [issue_1, issue_c, validate_1, validate_c, projects_1]
    ratio = issue_1.median_ms / hash_ms
    cores = os.cpu_count() or 1
    figures = [
        Figure(f"raw bcrypt checkpw, cost {plan.hash_rounds}, median", hash_ms, "ms"),
        Figure("token issue (password), 1 client, median", issue_1.median_ms, "ms"),
        Figure("token issue (password), 1 client, p95", issue_1.p95_ms, "ms"),
        Figure(
            "token issue median / bcrypt median",
            ratio,
            "x",
            f"<= {HASH_RATIO_TARGET:.2f}",
            ratio <= HASH_RATIO_TARGET,
        ),
        Figure(
            f"token issue (password), {c} clients",
            issue_c.rate,
            "/s",
            f"ideal ~{cores * 1000 / hash_ms:.1f}/s ({cores} cores)",
        ),
        Figure(f"token issue (password), {c} clients, median", issue_c.median_ms, "ms"),
        Figure(
            "token validation, 1 client, median",
            validate_1.median_ms,
            "ms",
            f"< {VALIDATE_MEDIAN_TARGET_MS:g} ms",
            validate_1.median_ms < VALIDATE_MEDIAN_TARGET_MS,
        ),
        Figure("token validation, 1 client, p95", validate_1.p95_ms, "ms"),
        Figure(
            f"token validation, {c} clients",
            validate_c.rate,
            "/s",
            f"> {VALIDATE_RATE_TARGET:g}/s",
            validate_c.rate > VALIDATE_RATE_TARGET,
        ),
        Figure(f"token validation, {c} clients, median", validate_c.median_ms, "ms"),
    ]
    if server_cpu is not None:  # what load on a shared machine does not distort
        requests = len(validate_c.latencies) + validate_c.errors
        figures.append(
            Figure(f"server CPU per validation, {c} clients", cpu_used * 1000 / requests, "ms")
        )
    figures += [
        Figure(f"GET /v3{projects_path}, 1 client, median", projects_1.median_ms, "ms"),
        Figure(f"GET /v3{projects_path}, 1 client, p95", projects_1.p95_ms, "ms"),
    ]
    return {
        "hash_samples_ms": [round(t * 1000, 2) for t in raw.samples],
        "phases": {p.name: p.summary() for p in phases},
        "figures": figures,
    }


# --- output --------------------------------------------------------------------------------
def fmt_value(f: Figure) -> str:
    if f.unit == "x":
        return f"{f.value:.3f} x"
    if f.unit == "/s":
        return f"{f.value:,.1f} /s"
    return f"{f.value:.2f} ms"


def print_table(meta: dict[str, Any], result: dict[str, Any]) -> None:
    print(f"OneStack identity benchmark - {meta['target']}")
    print(
        f"  {meta['cpus']} CPUs, python {meta['python']}, bcrypt {meta['bcrypt']}, "
        f"concurrency {meta['concurrency']}, {meta['per_phase']} per phase, "
        f"load average {' '.join(str(x) for x in meta['load_average'])} at start"
    )
    figures: list[Figure] = result["figures"]
    width = max(len(f.label) for f in figures)
    print(f"  {'figure':<{width}}  {'value':>12}  {'target':<28} verdict")
    for f in figures:
        print(f"  {f.label:<{width}}  {fmt_value(f):>12}  {f.target:<28} {f.verdict}".rstrip())
    print("  phases:")
    for name, p in result["phases"].items():
        errors = f", {p['errors']} errors" if p["errors"] else ""
        print(
            f"    {name:<14} {p['requests']:>6} req in {p['elapsed_s']:6.2f}s  "
            f"{p['per_second']:>9,.1f}/s  median {p['median_ms']:8.2f} ms  "
            f"p95 {p['p95_ms']:8.2f} ms  max {p['max_ms']:8.2f} ms{errors}"
        )
    missed = [f.label for f in figures if f.ok is False]
    print(f"  {len(missed)} target(s) missed" + (": " + "; ".join(missed) if missed else ""))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--auth-url", help="Keystone v3 URL; default: start a private onestack up")
    p.add_argument("--username", default="admin")
    p.add_argument("--password", default=None)
    p.add_argument("--project", default="admin")
    p.add_argument("--user-domain", default="Default", help="user domain name")
    p.add_argument("--project-domain", default="Default", help="project domain name")
    p.add_argument("--concurrency", type=int, default=8, help="clients for throughput phases")
    bound = p.add_mutually_exclusive_group()
    bound.add_argument("--duration", type=float, help="seconds per phase (default 5)")
    bound.add_argument("--count", type=int, help="requests per phase instead of a duration")
    p.add_argument(
        "--hash-rounds", type=int, default=12, help="bcrypt cost (own cloud and raw figure)"
    )
    p.add_argument(
        "--hash-samples", type=int, default=7, help="at least this many raw bcrypt checks"
    )
    p.add_argument("--json", action="store_true", help="print machine-readable results")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if args.auth_url and args.password is None:
        p.error("--auth-url needs --password")
    if args.duration is None and args.count is None:
        args.duration = 5.0
    return args


def run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop  # the cheapest client loop; comes with uvicorn[standard]

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan(args.concurrency, args.duration, args.count, args.hash_rounds, args.hash_samples)
    cloud: LocalCloud | None = None
    load_before = os.getloadavg()  # other work on the machine skews every figure
    started = time.perf_counter()
    try:
        if args.auth_url:
            creds = Credentials(
                args.auth_url.rstrip("/"),
                args.username,
                args.password,
                args.project,
                args.user_domain,
                args.project_domain,
            )
            target = creds.auth_url
        else:
            cloud = LocalCloud(hash_rounds=args.hash_rounds)
            if not args.quiet:
                print("  .. starting onestack up", file=sys.stderr, flush=True)
            cloud.start()
            creds = Credentials(cloud.auth_url, "admin", cloud.admin_password(), "admin")
            target = f"own onestack up at {creds.auth_url} (ready in {cloud.ready_in:.2f}s)"
        server_cpu = cloud.cpu_seconds if cloud is not None else None
        result = run(measure(creds, plan, progress=not args.quiet, server_cpu=server_cpu))
    finally:
        if cloud is not None:
            cloud.close()
    meta = {
        "target": target,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "bcrypt": importlib.metadata.version("bcrypt"),
        "concurrency": args.concurrency,
        "load_average": [round(x, 2) for x in load_before],
        "per_phase": f"{args.duration:g}s" if args.count is None else f"{args.count} requests",
        "total_s": round(time.perf_counter() - started, 1),
    }
    if args.json:
        out = dict(meta, **result)
        out["figures"] = [f.as_dict() for f in result["figures"]]
        print(json.dumps(out, indent=2))
    else:
        print_table(meta, result)
        print(f"  total {meta['total_s']}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
