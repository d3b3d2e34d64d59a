"""Object Storage benchmark: the figures of issue #15 beside Swift's, measured in one run.

It starts a private ``onestack up`` (disk store, temporary data dir, free port) and measures:
- 4 KiB PUT and GET, one client, sequential: the median latency;
- 4 KiB PUT/s and GET/s with 16 clients (``bench/objload.py``, a lean keep-alive client in a
  process of its own, so it has the second core);
- a 1 GiB PUT and GET (``curl``, a C client) beside, in the same run, the raw disk rate (the
  same file written with one fsync at the end; read back cold) and a bare loopback HTTP
  transfer of the same size (``objload.py --serve``: no framework, no disk; same curl);
- for reference, md5's rate on one core (the same size in 1 MiB updates): a PUT computes
  Swift's ETag, the md5 of its body, which no two cores can share (each byte's state depends
  on the one before), so that rate bounds any PUT that checks the ETag. The PUT is printed
  as a share of each: disk, bare HTTP and md5;
- a JSON listing of a 10,000-object container;
- the idle memory (RSS) of the whole cloud (every process of ``onestack up``).

Swift's figures (2.38, one replica, XFS loop device, tempauth, the same kind of machine)
come from the issue; targets are the issue's.

    .venv/bin/python bench/object.py                  # everything
    .venv/bin/python bench/object.py --big-mib 256 --json

Prints each figure beside its reference and target with PASS or MISS; exits 0 either way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from figures import load
from image import cold_rounds, curl, evict, make_file, raw_write
from localcloud import LocalCloud, free_port

HERE = Path(__file__).resolve().parent
SMALL = 4096
NO_EXPECT = ("-H", "Expect:")  # the body at once, to both servers (no 100-continue wait)
SWIFT = {  # the measurements of Swift 2.38
    "put_ms": 14.0,
    "get_ms": 6.7,
    "put_per_s": 150.0,
    "get_per_s": 265.0,
    "big_put_mib_s": 165.0,
    "big_get_mib_s": 380.0,
    "listing_ms": 350.0,
    "idle_rss_mib": 565.0,
}


def token_and_account(cloud: LocalCloud) -> tuple[str, str]:
    token, project = cloud.token_and_project()
    return token, f"{cloud.url}/object/v1/AUTH_{project}"


def load_run(url: str, token: str, method: str, clients: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            str(HERE / "objload.py"),
            "--url",
            url,
            "--token",
            token,
            "--method",
            method,
            "--clients",
            str(clients),
            "--seconds",
            str(seconds),
            "--size",
            str(SMALL),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    if result["errors"]:
        raise SystemExit(f"{method}: {result['errors']} errors, first {result['first_error']}")
    return result


def sequential(url: str, token: str, count: int) -> tuple[float, float]:
    """Median ms of ``count`` 4 KiB PUTs, then of as many GETs, on one connection."""
    body = os.urandom(SMALL)
    headers = {"X-Auth-Token": token}
    puts, gets = [], []
    with httpx.Client(headers=headers) as client:
        for i in range(count):
            started = time.perf_counter()
            client.put(f"{url}/seq-{i}", content=body).raise_for_status()
            puts.append((time.perf_counter() - started) * 1000)
        for i in range(count):
            started = time.perf_counter()
            client.get(f"{url}/seq-{i}").raise_for_status()
            gets.append((time.perf_counter() - started) * 1000)
    return statistics.median(puts), statistics.median(gets)


def tree_rss_mib(pid: int) -> float:
    """RSS of ``pid`` and all its descendants (the whole cloud), MiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo += [int(c) for c in children]
    return total / 1024


def md5_seconds(mib: int) -> float:
    """Seconds for md5 of ``mib`` MiB in 1 MiB updates, here (one core, as a PUT's is)."""
    block = os.urandom(1024 * 1024)
    md5 = hashlib.md5(usedforsecurity=False)
    started = time.perf_counter()
    for _ in range(mib):
        md5.update(block)
    return time.perf_counter() - started


def big_transfers(cloud: LocalCloud, url: str, token: str, mib: int) -> dict[str, Any]:
    size = mib * 1024 * 1024
    md5 = md5_seconds(mib)
    source = cloud.root / "big.bin"
    make_file(source, size)
    store_root = cloud.data_dir / "objects"
    copy = cloud.data_dir / "raw-copy.bin"  # the store's filesystem, not its directory
    raw_w = raw_write(source, copy)
    port = free_port()
    bare = subprocess.Popen(
        [sys.executable, str(HERE / "objload.py"), "--serve", str(port), "--size", str(size)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert bare.stdout is not None
        bare.stdout.readline()
        started = time.perf_counter()
        curl(*NO_EXPECT, "-T", str(source), f"http://127.0.0.1:{port}/x", "-o", "/dev/null")
        bare_put = time.perf_counter() - started
        started = time.perf_counter()
        curl(f"http://127.0.0.1:{port}/x", "-o", "/dev/null")
        bare_get = time.perf_counter() - started
    finally:
        bare.terminate()
        bare.wait()
    auth = ["-H", f"X-Auth-Token: {token}"]
    evict(source)
    started = time.perf_counter()
    curl(*auth, *NO_EXPECT, "-T", str(source), f"{url}/big", "-o", "/dev/null")
    put = time.perf_counter() - started

    def download() -> float:
        started = time.perf_counter()
        curl(*auth, f"{url}/big", "-o", "/dev/null")
        return time.perf_counter() - started

    reads, gets = cold_rounds(copy, lambda: store_root.glob("objects/*/*.data"), download)
    raw_r, get = statistics.median(reads), statistics.median(gets)
    copy.unlink()
    source.unlink()

    def rate(seconds: float) -> float:
        return mib / seconds

    return {
        "put": rate(put),
        "get": rate(get),
        "raw_write": rate(raw_w),
        "raw_read": rate(raw_r),
        "raw_read_rounds": [rate(t) for t in reads],
        "get_rounds": [rate(t) for t in gets],
        "bare_put": rate(bare_put),
        "bare_get": rate(bare_get),
        "md5": rate(md5),
    }


def listing(url: str, token: str, count: int) -> tuple[float, float]:
    """Fill a container with ``count`` objects (16 clients), then the median ms of 5
    JSON listings of all of them, and the first one's ms (the first read of these rows
    since they were written: what a listing costs that no cache could serve)."""
    container = url.rsplit("/", 1)[0] + "/listing"
    headers = {"X-Auth-Token": token}
    httpx.put(container, headers=headers).raise_for_status()
    names = [f"obj-{i:06d}" for i in range(count)]

    async def fill() -> None:
        import asyncio

        from objload import Connection

        path = "/" + container.split("/", 3)[3]
        host_port = container.split("/")[2]
        host, port = host_port.split(":")

        async def worker(part: list[str]) -> None:
            conn = await Connection.open(host, int(port))
            for name in part:
                status, _ = await conn.request("PUT", f"{path}/{name}", headers, b"x")
                assert status == 201, status
            conn.close()

        await asyncio.gather(*(worker(names[i::16]) for i in range(16)))

    import asyncio

    asyncio.run(fill())
    samples = []
    with httpx.Client(headers=headers, timeout=60) as client:
        for _ in range(5):
            started = time.perf_counter()
            resp = client.get(container, params={"format": "json"})
            samples.append((time.perf_counter() - started) * 1000)
            assert len(resp.json()) == count
    return statistics.median(samples), samples[0]


def row(
    name: str, ours: float, unit: str, swift: float | None, target: str, ok: bool | None
) -> dict[str, Any]:
    return {
        "figure": name,
        "ours": round(ours, 1),
        "unit": unit,
        "swift": swift,
        "target": target,
        "verdict": "" if ok is None else ("PASS" if ok else "MISS"),
    }


def md5_rows(mib: int, big: dict[str, float]) -> list[dict[str, Any]]:
    """The md5 reference, and the PUT as a share of it, of the disk and of bare HTTP."""

    def share(of: str) -> float:
        return 100 * big["put"] / big[of]

    return [
        row(
            f"md5 of {mib} MiB in 1 MiB updates, one core",
            big["md5"],
            "MiB/s",
            None,
            "- (reference: bounds a PUT that computes Swift's ETag)",
            None,
        ),
        row(
            f"{mib} MiB PUT as % of md5 one core",
            share("md5"),
            "%",
            None,
            f"- ({share('raw_write'):.0f}% of disk, {share('bare_put'):.0f}% of bare HTTP)",
            None,
        ),
    ]


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    cloud = LocalCloud(
        hash_rounds=4,
        env={
            "ONESTACK_NETWORK_DRIVER": "fake",
            "ONESTACK_COMPUTE_DRIVER": "fake",
            "ONESTACK_OBJECT_DRIVER": "disk",
        },
    )
    rows: list[dict[str, Any]] = []
    try:
        cloud.start()
        time.sleep(args.settle)
        assert cloud.process is not None
        idle = tree_rss_mib(cloud.process.pid)
        token, account = token_and_account(cloud)
        url = f"{account}/bench"
        httpx.put(url, headers={"X-Auth-Token": token}).raise_for_status()
        put_ms, get_ms = sequential(url, token, args.sequential)
        rows.append(row("4 KiB PUT, sequential, median", put_ms, "ms", SWIFT["put_ms"], "-", None))
        rows.append(row("4 KiB GET, sequential, median", get_ms, "ms", SWIFT["get_ms"], "-", None))
        puts = load_run(url, token, "PUT", 16, args.seconds)["per_second"]
        gets = load_run(url, token, "GET", 16, args.seconds)["per_second"]
        rows.append(
            row("4 KiB PUT/s, 16 clients", puts, "/s", SWIFT["put_per_s"], ">= 1500", puts >= 1500)
        )
        rows.append(
            row("4 KiB GET/s, 16 clients", gets, "/s", SWIFT["get_per_s"], ">= 2600", gets >= 2600)
        )
        if args.big_mib:
            big = big_transfers(cloud, url, token, args.big_mib)
            floor_put = min(big["raw_write"], big["bare_put"])
            floor_get = min(big["raw_read"], big["bare_get"])
            rows.append(
                row(
                    f"{args.big_mib} MiB PUT",
                    big["put"],
                    "MiB/s",
                    SWIFT["big_put_mib_s"],
                    f">= 70% of {floor_put:.0f} (disk {big['raw_write']:.0f}, "
                    f"bare HTTP {big['bare_put']:.0f})",
                    big["put"] >= 0.7 * floor_put,
                )
            )
            rows += md5_rows(args.big_mib, big)
            rows.append(
                row(
                    f"{args.big_mib} MiB GET",
                    big["get"],
                    "MiB/s",
                    SWIFT["big_get_mib_s"],
                    f">= 70% of {floor_get:.0f} (disk cold {big['raw_read']:.0f}, "
                    f"bare HTTP {big['bare_get']:.0f}; medians of cold read / GET "
                    + ", ".join(
                        f"{r:.0f}/{g:.0f}"
                        for r, g in zip(big["raw_read_rounds"], big["get_rounds"], strict=True)
                    )
                    + ")",
                    big["get"] >= 0.7 * floor_get,
                )
            )
        if args.listing:
            ms, first = listing(url, token, args.listing)
            rows.append(
                row(f"JSON listing of {args.listing:,}, the first", first, "ms", None, "-", None)
            )
            rows.append(
                row(
                    f"JSON listing of {args.listing:,} objects",
                    ms,
                    "ms",
                    SWIFT["listing_ms"],
                    "< 35",
                    ms < 35,
                )
            )
        rows.append(
            row(
                "idle RSS of the whole cloud",
                idle,
                "MiB",
                SWIFT["idle_rss_mib"],
                "< 300",
                idle < 300,
            )
        )
    finally:
        cloud.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per concurrent phase")
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--big-mib", type=int, default=1024, help="0 skips the big transfers")
    parser.add_argument("--listing", type=int, default=10000, help="0 skips the listing")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds idle before RSS")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("bench/object.py needs curl")
    rows = run(args)
    if args.json:
        print(json.dumps({"load": load(), "figures": rows}, indent=2))
        return
    print(f"Object Storage (load {load()})")
    print(f"  {'figure':<46} {'ours':>10}  {'Swift 2.38':>10}  target")
    for r in rows:
        swift = "-" if r["swift"] is None else f"{r['swift']:g}"
        figure = f"  {r['figure']:<46} {r['ours']:>8g} {r['unit']:<5} {swift:>6}"
        print(f"{figure}  {r['target']} {r['verdict']}")


if __name__ == "__main__":
    main()
