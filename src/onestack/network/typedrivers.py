"""Which network types this cloud offers (ML2's ``type_drivers``)."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

# Where every type can be built: bridges, VXLAN devices and plain host-local bridges.
ALWAYS = ("flat", "vxlan", "local")


def kernel_has_vlan() -> bool:
    """802.1q loaded, built in, or loadable: ``vlan`` networks can be built on this host."""
    if Path("/proc/net/vlan").exists() or Path("/sys/module/8021q").exists():
        return True
    modules = Path("/lib/modules") / os.uname().release
    for index in ("modules.builtin", "modules.dep"):
        with contextlib.suppress(OSError):
            if "/8021q.ko" in (modules / index).read_text():
                return True
    return False


@functools.cache
def enabled_types(setting: str) -> frozenset[str]:
    """The configured types; ``auto``: the ones that always work, plus vlan where it can."""
    if setting and setting != "auto":
        return frozenset(t.strip() for t in setting.split(",") if t.strip())
    return frozenset((*ALWAYS, "vlan")) if kernel_has_vlan() else frozenset(ALWAYS)
