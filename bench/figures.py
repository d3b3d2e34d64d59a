"""How the benchmarks report: a figure is the median and p95 of samples against a target."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any


def figure(name: str, samples_ms: list[float], target: float | None) -> dict[str, Any]:
    median = statistics.median(samples_ms)
    p95 = (
        statistics.quantiles(samples_ms, n=20, method="inclusive")[18]
        if len(samples_ms) > 1
        else samples_ms[0]
    )
    verdict = "" if target is None else ("PASS" if median < target else "MISS")
    return {
        "name": name,
        "median_ms": round(median, 2),
        "p95_ms": round(p95, 2),
        "samples": len(samples_ms),
        "target_ms": target,
        "verdict": verdict,
    }


def judged(
    name: str,
    value: float | str,
    unit: str = "",
    *,
    target: str = "",
    ok: bool | None = None,
    reference: float | str | None = None,
) -> dict[str, Any]:
    """One row of ``bench/all.py``'s table: ``value`` against ``target`` (a phrase such as
    "< 10 s"), PASS or MISS by ``ok``; ``ok`` None is a figure shown for reference only (its
    ``reference`` key is there, even empty, so the table shows it without a verdict)."""
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "reference": reference,
        "target": target,
        "verdict": "" if ok is None else ("PASS" if ok else "MISS"),
    }


def print_table(title: str, figures: list[dict[str, Any]], width: int = 52) -> None:
    print(title)
    for f in figures:
        target = f"< {f['target_ms']:.0f} ms  {f['verdict']}" if f["target_ms"] else "-"
        print(
            f"  {f['name']:<{width}} median {f['median_ms']:8.1f} ms  p95 {f['p95_ms']:8.1f} ms"
            f"  n={f['samples']:<4} target {target}"
        )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
