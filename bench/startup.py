"""Start-up benchmark: wall time from spawning ``onestack up`` until it answers GET /identity/v3.

Each run spawns ``python -m onestack up --data-dir TMP --port FREE`` on an empty data dir with no
accelerator probe cache (a fresh machine: the KVM probe runs, the compute agent registers once
it answers while the API already serves), again on an empty data dir with the cache (first
start: migrations, bootstrap, password hashes at the default bcrypt cost) and, after SIGINT,
again on the same data dir (restart), polling every 5 ms: identity answers while the other
services still import and start (their requests wait), so each start also shows the time until
its banner, every service started. Also prints how long the interpreter takes to import what
``up`` needs, with the heaviest imports (``-X importtime``).

    .venv/bin/python bench/startup.py              # 5 runs of each
    .venv/bin/python bench/startup.py --runs 3 --json

Prints figures, not test results: each beside its target with PASS or MISS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import READY_LINE, LocalCloud, child_env, free_port

TARGET_S = 2.0
TARGETS_S = {"fresh": TARGET_S, "first": TARGET_S, "restart": 1.0}  # issue #19: restart < 1 s
POLL_S = 0.005


def answers(port: int, timeout: float) -> bool:
    """One GET /identity/v3: True once the API answers (any status below 500)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=max(timeout, 0.05))
    try:
        conn.request("GET", "/identity/v3")
        return conn.getresponse().status < 500
    except (ConnectionError, TimeoutError, http.client.HTTPException, OSError):
        return False
    finally:
        conn.close()


@dataclass
class Start:
    kind: str  # "first" | "restart"
    ready_s: float
    stop_s: float
    cpu_s: float = 0.0  # the server's CPU time when it first answered: what load does not stretch
    # Until every service has started (the banner): identity answers first, a request for
    # another service waits until then (#19).
    all_s: float = 0.0


def wait_ready(cloud: LocalCloud, t0: float, timeout: float) -> float:
    """Seconds from ``t0`` (the spawn) until the API answers."""
    assert cloud.process is not None
    deadline = t0 + timeout
    while True:
        now = time.perf_counter()
        if answers(cloud.port, deadline - now):
            return time.perf_counter() - t0
        if cloud.process.poll() is not None:
            text = cloud.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"onestack up exited {cloud.process.returncode}:\n{text}")
        if time.perf_counter() >= deadline:
            cloud.stop()
            raise SystemExit(f"onestack up did not answer within {timeout:.0f}s; see {cloud.log}")
        time.sleep(POLL_S)


def forget_the_probe() -> None:
    """A fresh machine (or a reboot): no remembered accelerator probe (/run is a tmpfs)."""
    from onestack.compute.drivers.qemu import accel

    accel.CACHE.unlink(missing_ok=True)


def timed_start(cloud: LocalCloud, kind: str, timeout: float) -> Start:
    if kind == "fresh":
        forget_the_probe()
    cloud.port = free_port()
    banners = banners_in(cloud)  # a restart appends to the first start's log
    t0 = time.perf_counter()
    proc = cloud.spawn()
    ready = wait_ready(cloud, t0, timeout)
    cpu = cloud.cpu_seconds()
    every = wait_banner(cloud, t0, timeout, banners)
    stopped = cloud.stop()
    if proc.returncode != 0:
        text = cloud.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"onestack up exited {proc.returncode} after SIGINT:\n{text}")
    return Start(kind, ready, stopped, cpu, every)


def banners_in(cloud: LocalCloud) -> int:
    try:
        return cloud.log.read_text(errors="replace").count(READY_LINE)
    except FileNotFoundError:
        return 0


def wait_banner(cloud: LocalCloud, t0: float, timeout: float, before: int = 0) -> float:
    """Seconds from ``t0`` until the banner (after ``before`` of them): every service started."""
    while banners_in(cloud) <= before:
        if time.perf_counter() >= t0 + timeout or cloud.process is None:
            raise SystemExit(f"onestack up printed no banner within {timeout:.0f}s")
        time.sleep(POLL_S)
    return time.perf_counter() - t0


def wall(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time of running ``argv`` to completion."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def import_profile(timeout: float) -> dict[str, Any]:
    """Every import of a real ``up`` (first start) under ``-X importtime``, up to serving."""
    cloud = LocalCloud(prefix="onestack-startup-")
    try:
        t0 = time.perf_counter()
        cloud.spawn(("-X", "importtime"))
        ready = wait_ready(cloud, t0, timeout)
        wait_banner(cloud, t0, timeout)  # the services imported after identity answers too
        cloud.stop()
        self_us = 0
        top: dict[str, int] = {}
        modules = 0
        for line in cloud.log.read_text(errors="replace").splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            own, _cumulative, name = line[len("import time:") :].split("|", 2)
            if not own.strip().isdigit():
                continue  # the header line
            modules += 1
            self_us += int(own)
            root = name.strip().split(".")[0]  # each module's own time, summed per package
            top[root] = top.get(root, 0) + int(own)
        heaviest = sorted(top.items(), key=lambda kv: kv[1], reverse=True)[:10]
        return {
            "modules": modules,
            "import_total_s": self_us / 1e6,
            "ready_with_importtime_s": ready,
            "heaviest": [{"package": k, "self_s": v / 1e6} for k, v in heaviest],
        }
    finally:
        cloud.close()


def verdict(value: float, kind: str) -> str:
    return "PASS" if value < TARGETS_S[kind] else "MISS"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=5, help="first starts and restarts each")
    p.add_argument("--timeout", type=float, default=60, help="seconds to wait for one start")
    p.add_argument("--no-importtime", action="store_true", help="skip the -X importtime run")
    p.add_argument("--json", action="store_true", help="print machine-readable results")
    args = p.parse_args(argv)

    load_before = os.getloadavg()  # other work on the machine skews every figure
    starts: list[Start] = []
    for i in range(args.runs):
        fresh = LocalCloud(prefix="onestack-startup-")
        try:
            starts.append(timed_start(fresh, "fresh", args.timeout))
        finally:
            fresh.close()
        cloud = LocalCloud(prefix="onestack-startup-")  # both starts on the same data dir
        try:
            starts.append(timed_start(cloud, "first", args.timeout))
            starts.append(timed_start(cloud, "restart", args.timeout))
        finally:
            cloud.close()
        print(f"  .. run {i + 1}/{args.runs}", file=sys.stderr, flush=True)

    env = child_env(Path(tempfile.gettempdir()))
    interpreter_s = wall([sys.executable, "-c", "pass"], env, 3)
    eager_s = wall([sys.executable, "-c", "import onestack.cli, onestack.server"], env, 3)
    imports = None if args.no_importtime else import_profile(args.timeout)

    result: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    result["load_average"] = [round(x, 2) for x in load_before]
    for kind in ("fresh", "first", "restart"):
        ready = [s.ready_s for s in starts if s.kind == kind]
        result[kind] = {
            "name": f"{kind} start -> API answers (slowest of {len(ready)})",
            "runs_s": [round(r, 3) for r in ready],
            "median_s": round(statistics.median(ready), 3),
            "max_s": round(max(ready), 3),
            "cpu_median_s": round(statistics.median(s.cpu_s for s in starts if s.kind == kind), 3),
            "every_service_median_s": round(
                statistics.median(s.all_s for s in starts if s.kind == kind), 3
            ),
            "stop_median_s": round(
                statistics.median(s.stop_s for s in starts if s.kind == kind), 3
            ),
            "target_s": TARGETS_S[kind],
            "pass": max(ready) < TARGETS_S[kind],
        }
    result["interpreter_s"] = round(interpreter_s, 3)
    result["import_onestack_server_s"] = round(eager_s, 3)
    if imports is not None:
        result["importtime"] = imports

    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"OneStack start-up benchmark - {result['cpus']} CPUs, python {result['python']}, "
        f"load average {' '.join(str(x) for x in result['load_average'])} at start"
    )
    print(
        f"  spawn -> GET /identity/v3 answered, {args.runs} runs each, targets < 2 s, restart < 1 s"
    )
    print(f"  {'':<26} {'median':>8} {'max':>8}  verdict  {'cpu':>6}  {'all':>6}  runs")
    for kind, label in (
        ("fresh", "fresh machine (no probe)"),
        ("first", "first start (empty dir)"),
        ("restart", "restart (same dir)"),
    ):
        r = result[kind]
        runs = " ".join(f"{x:.2f}" for x in r["runs_s"])
        print(
            f"  {label:<26} {r['median_s']:7.2f}s {r['max_s']:7.2f}s  "
            f"{verdict(r['max_s'], kind):<7}  {r['cpu_median_s']:5.2f}s  "
            f"{r['every_service_median_s']:5.2f}s  {runs}"
        )
    print("  (cpu: the server's CPU time when it answered; all: until every service started)")
    print(
        f"  stop after SIGINT (median): first {result['first']['stop_median_s']:.2f}s, "
        f"restart {result['restart']['stop_median_s']:.2f}s"
    )
    print(
        f"  imported: python -c 'import onestack.cli, onestack.server' {eager_s:.3f}s wall "
        f"(python -c pass {interpreter_s:.3f}s; imports ~{eager_s - interpreter_s:.3f}s)"
    )
    if imports is not None:
        print(
            f"  -X importtime, real up: {imports['modules']} modules, "
            f"{imports['import_total_s']:.3f}s importing (ready in "
            f"{imports['ready_with_importtime_s']:.2f}s under importtime); by package:"
        )
        for h in imports["heaviest"]:
            print(f"    {h['package']:<22} {h['self_s']:6.3f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
