"""Stopping a dnsmasq (a restart after a port left): the process is gone when ``_kill``
returns, whether SIGTERM ends it or SIGKILL has to."""

from __future__ import annotations

import subprocess
import sys

from onestack.network.drivers.linuxbridge.dhcp import Dnsmasq, _running


def test_a_process_ended_by_sigterm_is_gone_when_kill_returns() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        Dnsmasq._kill(proc.pid)
        assert not _running(proc.pid)  # exited: a zombie until its parent reaps it
        assert proc.wait(timeout=5) == -15
    finally:
        proc.kill()


def test_a_process_ignoring_sigterm_is_killed() -> None:
    ignore = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(1, flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen([sys.executable, "-c", ignore], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline()  # SIGTERM ignored from now
        Dnsmasq._kill(proc.pid)
        assert not _running(proc.pid)
        assert proc.wait(timeout=5) == -9
    finally:
        proc.kill()


def test_a_process_already_gone_is_no_error() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait(timeout=5)
    Dnsmasq._kill(proc.pid)
