"""Every benchmark, then one table: figure, value, reference, target, PASS/MISS (``make bench``).

Each ``bench/<name>.py`` runs in turn with ``--json`` (its progress on stderr as it goes); the
rows are whatever of its figures it judged against a target, or showed beside a reference,
whatever the shape of its JSON. Exits 1 when any figure is a MISS or a benchmark failed, so a
regression is visible; the benchmarks that need root and QEMU decide for themselves what they
can measure here.

    .venv/bin/python bench/all.py                       # every benchmark
    .venv/bin/python bench/all.py scheduler identity    # some of them
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The order of the old ``make bench`` chain, then the newer services' benchmarks.
BENCHES = (
    "startup",
    "identity",
    "image",
    "network",
    "testimage",
    "scheduler",
    "compute",
    "object",
    "volume",
    "metering",
    "orchestration",
    "dashboard",
)
NAME_KEYS = ("name", "label", "figure")
VALUE_KEYS = (
    ("value", ""),
    ("ours", ""),
    ("median_ms", "ms"),
    ("placements_per_second", "/s"),
    ("max_s", "s"),  # the start-up targets hold every run, not the median
    ("median_s", "s"),
)
REFERENCE_KEYS = ("reference", "swift", "keystone", "raw")
TARGET_KEYS = (("target", ""), ("target_ms", "ms"), ("target_s", "s"))


def verdict_of(d: dict[str, Any]) -> str | None:
    """PASS, MISS, '' (a figure shown for reference) or None (not a figure)."""
    for key in ("verdict", "result"):
        if isinstance(d.get(key), str) and d[key] in ("PASS", "MISS", ""):
            return str(d[key])
    if "pass" in d and (d["pass"] is None or isinstance(d["pass"], bool)):
        return "" if d["pass"] is None else ("PASS" if d["pass"] else "MISS")
    return None


def fmt(value: Any, unit: str) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        value = f"{value:,.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:,}"
    return f"{value} {unit}".strip()


def row(bench: str, path: list[str], d: dict[str, Any], verdict: str) -> dict[str, str]:
    name = next((str(d[k]) for k in NAME_KEYS if d.get(k)), "")
    if not name:
        name = " ".join([*path, *(str(d[k]) for k in ("weigher",) if k in d)]) or bench
    unit = str(d.get("unit") or "")
    value = next((fmt(d[k], unit or u) for k, u in VALUE_KEYS if k in d and d[k] is not None), "-")
    reference = next((fmt(d[k], unit) for k in REFERENCE_KEYS if d.get(k) is not None), "-")
    target = "-"
    for key, u in TARGET_KEYS:
        if d.get(key) not in (None, ""):
            t = d[key]
            if isinstance(t, str):
                target = t
            elif "placements_per_second" in d:  # a rate: more is better
                target = f"> {fmt(t, '/s')}"
            else:
                target = f"< {fmt(t, unit or u)}"
            break
    return {
        "bench": bench,
        "figure": name,
        "value": value,
        "reference": reference,
        "target": target,
        "verdict": verdict,
    }


def rows_of(bench: str, data: Any, path: list[str] | None = None) -> list[dict[str, str]]:
    """Every judged (or reference) figure in a benchmark's JSON, wherever it sits."""
    path = path or []
    out: list[dict[str, str]] = []
    if isinstance(data, dict):
        verdict = verdict_of(data)
        if verdict is not None and (verdict or any(k in data for k in REFERENCE_KEYS)):
            out.append(row(bench, path, data, verdict))
            return out
        for key, value in data.items():
            out += rows_of(bench, value, [*path, str(key)])
    elif isinstance(data, list):
        for item in data:
            out += rows_of(bench, item, path)
    return out


def run(bench: str, extra: list[str]) -> tuple[list[dict[str, str]], str | None]:
    """The rows of one benchmark, or the reason it gave none."""
    argv = [sys.executable, str(HERE / f"{bench}.py"), "--json", *extra]
    print(f"== {bench} (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    started = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    took = time.perf_counter() - started
    print(f"   {bench} took {took:.0f}s, exit {proc.returncode}", file=sys.stderr, flush=True)
    start = proc.stdout.find("{") if "{" in proc.stdout else proc.stdout.find("[")
    try:
        data = json.loads(proc.stdout[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        data = None
    if data is None:
        return [], f"no results (exit {proc.returncode})"
    rows = rows_of(bench, data)  # some exit 1 on a MISS of their own: the rows say so
    return rows, None if rows else f"no judged figures in its output (exit {proc.returncode})"


def print_table(rows: list[dict[str, str]]) -> None:
    cols = ("bench", "figure", "value", "reference", "target", "verdict")
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    widths["figure"] = min(widths["figure"], 60)
    print("  ".join(c.ljust(widths[c]) for c in cols).rstrip())
    for r in rows:
        print("  ".join(r[c][: widths[c]].ljust(widths[c]) for c in cols).rstrip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("benches", nargs="*", help=f"default: all ({', '.join(BENCHES)})")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    unknown = set(args.benches) - set(BENCHES)
    if unknown:
        p.error(f"no such benchmark: {', '.join(sorted(unknown))}")
    load_before = os.getloadavg()
    rows: list[dict[str, str]] = []
    for bench in args.benches or BENCHES:
        got, problem = run(bench, [])
        rows += got
        if problem is not None:
            rows.append(
                {
                    "bench": bench,
                    "figure": "(the benchmark itself)",
                    "value": problem,
                    "reference": "-",
                    "target": "runs",
                    "verdict": "MISS",
                }
            )
    misses = [r for r in rows if r["verdict"] == "MISS"]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        load_after = os.getloadavg()
        print(
            f"OneStack benchmarks - {os.cpu_count()} CPUs, load average "
            f"{load_before[0]:.2f} at start, {load_after[0]:.2f} at the end"
        )
        print_table(rows)
        print(f"{len(rows)} figures, {len(misses)} MISS")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
