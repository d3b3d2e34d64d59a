"""The ipsets of our remote-group rules: each group's member addresses, one set per family.

A set's members change by swapping in a full new set (``ipset restore``: create a temporary
set, fill it, swap, destroy), so a rule never matches a half-filled set. Blocking calls: the
driver runs them in its worker thread.
"""

from __future__ import annotations

from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.shell import run


class Ipsets:
    def __init__(self, names: Names) -> None:
        self.names = names
        self._members: dict[str, tuple[str, ...]] = {}  # as last loaded, per set

    def sync(self, wanted: dict[str, tuple[str, ...]]) -> None:
        """Make each set of ``wanted`` hold its members (one process for all that changed)."""
        prefix = self.names.prefix
        changes = []
        for name, members in sorted(wanted.items()):
            if self._members.get(name) == members:
                continue
            family = "inet6" if name[len(prefix)] == "6" else "inet"
            tmp = f"{prefix}n{name[len(prefix) + 1 :]}"
            changes.append(f"create {name} hash:net family {family} -exist")
            changes.append(f"create {tmp} hash:net family {family} -exist")
            changes.append(f"flush {tmp}")
            changes += [f"add {tmp} {ip}" for ip in members]
            changes.append(f"swap {tmp} {name}")
            changes.append(f"destroy {tmp}")
        if changes:
            run(["ipset", "restore"], input="\n".join(changes) + "\n")
            self._members.update(wanted)

    def destroy_stale(self, wanted: set[str]) -> None:
        """Destroy our sets (and leftover temporary ones) that are not in ``wanted``."""
        for name in run(["ipset", "list", "-n"], check=False).stdout.split():
            if (self.names.owns_ipset(name) or self._is_tmp(name)) and name not in wanted:
                run(["ipset", "destroy", name], check=False)
                self._members.pop(name, None)

    def _is_tmp(self, name: str) -> bool:
        p = self.names.prefix
        return name.startswith(p + "n") and self.names.owns_ipset(p + "4" + name[len(p) + 1 :])
