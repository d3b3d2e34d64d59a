"""``onestack service install|uninstall``: start the cloud at boot with systemd.

The unit runs ``onestack up`` in the foreground for one data directory. ``KillMode=process``:
stopping the unit stops the cloud, never its guests (detached QEMU processes) or dnsmasq in
the unit's cgroup; after a reboot the compute agent starts again the guests that were running
(``[compute] resume_guests_state_on_host_boot``). Where systemd is not the init system (a
container, a chroot, another init) nothing is written and the command says so plainly.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_DIR = Path("/etc/systemd/system")
SYSTEMD_RUNNING = Path("/run/systemd/system")  # exists only when systemd booted the machine


@dataclass(frozen=True)
class Unit:
    name: str  # e.g. onestack.service
    data_dir: Path
    executable: str  # the onestack entry point (the venv's bin/onestack)
    home: str
    host: str | None = None
    port: int | None = None
    config: str | None = None

    def exec_start(self) -> str:
        argv = [self.executable, "up", "--data-dir", str(self.data_dir)]
        for flag, value in (("--config", self.config), ("--host", self.host),
                            ("--port", self.port)):  # fmt: skip
            if value is not None:
                argv += [flag, str(value)]
        return shlex.join(argv)

    def text(self) -> str:
        return (
            "[Unit]\n"
            f"Description=OneStack cloud ({self.data_dir})\n"
            "Wants=network-online.target\n"
            "After=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=simple\n"
            f"Environment=HOME={self.home}\n"
            f"ExecStart={self.exec_start()}\n"
            "KillSignal=SIGINT\n"
            "# Guests and dnsmasq outlive the cloud process: stop only onestack itself.\n"
            "KillMode=process\n"
            "TimeoutStopSec=60\n"
            "Restart=on-failure\n"
            "RestartSec=5\n"
            "\n"
            "[Install]\n"
            "WantedBy=multi-user.target\n"
        )


def systemd_running(marker: Path = SYSTEMD_RUNNING) -> bool:
    return marker.is_dir() and shutil.which("systemctl") is not None


def not_running_message() -> str:
    try:
        init = Path("/proc/1/comm").read_text().strip()
    except OSError:
        init = "unknown"
    return (
        f"onestack: systemd is not running on this machine (PID 1 is {init}): no unit "
        "installed. Start the cloud at boot with your init system, e.g. run "
        "'onestack up --detach' from it."
    )


def systemctl(*args: str) -> None:
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"onestack: systemctl {' '.join(args)}: {done.stderr.strip()}")


def install(unit: Unit, *, now: bool, unit_dir: Path = UNIT_DIR) -> int:
    if not systemd_running():
        print(not_running_message(), file=sys.stderr)
        return 1
    path = unit_dir / unit.name
    path.write_text(unit.text())
    path.chmod(0o644)
    systemctl("daemon-reload")
    systemctl("enable", *(["--now"] if now else []), unit.name)
    started = " and started" if now else " (starts at boot; --now starts it too)"
    print(f"onestack: installed {path}, enabled{started}")
    return 0


def uninstall(name: str, unit_dir: Path = UNIT_DIR) -> int:
    path = unit_dir / name
    if not systemd_running():
        print(not_running_message(), file=sys.stderr)
        return 1
    if not path.exists():
        print(f"onestack: no unit {path}", file=sys.stderr)
        return 1
    systemctl("disable", "--now", name)
    path.unlink()
    systemctl("daemon-reload")
    print(f"onestack: removed {path}")
    return 0
