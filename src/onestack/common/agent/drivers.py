"""The one driver loader: a service's seam names its drivers (a factory each), which one
``auto`` prefers, and why each real one cannot run here; configuration picks by name.

A driver that cannot be had is ``DriverUnavailable`` (a 503 with the reason) whatever the
service; ``auto`` falls back to the next candidate and remembers why (the banner says it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from onestack.common import errors
from onestack.common.logging import get_logger

log = get_logger(__name__)

D = TypeVar("D")


class DriverUnavailable(errors.ServiceUnavailable):
    template = "The {seam} driver {name!r} cannot be used: {reason}."


@dataclass(frozen=True)
class LoadedDriver(Generic[D]):
    driver: D
    name: str
    fallback_reason: str | None = None  # why ``auto`` did not take its first choice


def load_driver(
    seam: str,
    wanted: str,
    factories: Mapping[str, Callable[[], D]],
    *,
    auto: Sequence[str] = (),
    why_not: Mapping[str, Callable[[], str | None]] | None = None,
) -> LoadedDriver[D]:
    """The driver called ``wanted``, made by its factory. ``auto`` tries the names in ``auto``
    in order and takes the first whose ``why_not`` check has no objection. A named driver
    whose check objects is refused, never silently swapped."""
    checks = why_not or {}
    if wanted == "auto":
        first_reason: str | None = None
        for name in auto:
            reason = checks[name]() if name in checks else None
            if reason is None:
                if first_reason is not None:
                    log.info("%s driver auto: %s (%s)", seam, name, first_reason)
                return LoadedDriver(factories[name](), name, first_reason)
            first_reason = first_reason or reason
        raise DriverUnavailable(seam=seam, name=wanted, reason=first_reason or "none is usable")
    if wanted not in factories:
        known = ", ".join(["auto", *factories] if auto else factories)
        raise DriverUnavailable(seam=seam, name=wanted, reason=f"unknown (available: {known})")
    reason = checks[wanted]() if wanted in checks else None
    if reason is not None:
        raise DriverUnavailable(seam=seam, name=wanted, reason=reason)
    return LoadedDriver(factories[wanted](), wanted)
