"""Upload owners: who is alive, judged only on this host."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from onestack.image.service.owners import Owner, is_dead


def test_this_process_is_alive_and_round_trips() -> None:
    me = Owner.this_process()
    assert me.host == socket.gethostname() and me.pid == os.getpid()
    assert Owner.parse(str(me)) == me
    assert not is_dead(str(me))


def test_a_reused_pid_or_a_gone_process_is_dead() -> None:
    me = Owner.this_process()
    assert is_dead(str(Owner(me.host, me.pid, me.start + 1)))  # same pid, another process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert is_dead(str(Owner(me.host, child.pid, me.start)))
    assert is_dead(None)  # rows from before owners were recorded
    assert is_dead("not an owner")


def test_another_hosts_uploads_are_never_judged_here() -> None:
    assert not is_dead(str(Owner("elsewhere.example", 1, 1)))
    assert Owner.parse("elsewhere.example/12/34") == Owner("elsewhere.example", 12, 34)
